/**
 * Float32 kernels with runtime products hand sigmoid, tanh and exp over vectors to the runtime's
 * elementwise maps (`mm.sigmoid(n, A, a0, Y, y0)`): each map argument is stored into a workspace
 * buffer, one call per function and map depth maps every row in place, and the loops after it read
 * the results. Float64 kernels and `--products inline` keep computing them per element.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { compile } from "../src/index.js";
import { build, closeTo, firstDifference, run, sameBits } from "./helpers/bitwise.js";
import { randomCells } from "./helpers/random-cell.js";
import { propertySeed } from "./helpers/seed.js";

const source = (name: string) => readFileSync(`examples/cells/${name}.cell`, "utf8");
const emitted = (name: string, options: Parameters<typeof compileSource>[1]) => compileSource(source(name), { path: `${name}.cell`, ...options })[0]!.code;

/** The body of kernel `name` in an emitted JavaScript module, without its comments. */
function kernel(code: string, name: string): string {
  const start = code.indexOf(`function ${name}(`);
  const end = code.indexOf("\n}\n", start);
  return code.slice(start, end).replace(/\/\/.*$/gmu, "");
}

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;
/** A transcendental computed per element in JavaScript (not a map call). */
const PER_ELEMENT = /(?<![.\w])sigmoid\(|Math\.(tanh|exp)\(/gu;

describe("float32 kernels with runtime products", () => {
  const lstm = emitted("lstm", { dtype: "f32" });

  it.each(["infer", "step"])("lstm %s: one σ map (f, i, o), a tanh map for g and one for tanh(c), no per-element σ or tanh", (name) => {
    const body = kernel(lstm, name);
    expect(count(body, PER_ELEMENT)).toBe(0);
    expect(body.match(/mm\.(sigmoid|tanh|exp)\([^;]*\)/gu)).toEqual([
      "mm.sigmoid(B * 48, f_i_o, 0, f_i_o, 0)",
      "mm.tanh(B * 16, g, 0, g, 0)",
      "mm.tanh(B * 16, tanh_c, 0, tanh_c, 0)",
    ]);
  });

  it("lstm forward: the same three maps, each over the step's rows of its tape array (tests/tape-rows.test.ts), no per-element σ or tanh", () => {
    const body = kernel(lstm, "forward");
    expect(count(body, PER_ELEMENT)).toBe(0);
    expect(body.match(/mm\.(sigmoid|tanh|exp)\([^,]*, \w+/gu)).toEqual(["mm.sigmoid(B * 48, f_i_o_tape", "mm.tanh(B * 16, g_tape", "mm.tanh(B * 16, tanh_c_tape"]);
  });

  it("lstm forward step: the arguments by one row loop call each (tests/row-loops.test.ts), the two maps of depth 1, one loop for c, the map of tanh(c), one loop for h", () => {
    const body = kernel(lstm, "forward");
    const step = body.slice(body.indexOf("for (let t = start;"), body.indexOf("if (M !== undefined)"));
    const order = step.match(/mm\.\w+|for \(let b = 0;/gu);
    // Each loop is tried as the cell's WebAssembly first (tests/element-loops.test.ts).
    expect(order).toEqual(["mm.nt", "mm.add3", "mm.add3", "mm.add3", "mm.add3", "mm.sigmoid", "mm.tanh", "mm.loop", "for (let b = 0;", "mm.tanh", "mm.loop", "for (let b = 0;"]);
  });

  it("minGRU's gates, hoisted out of the recurrence, are one map over a chunk's rows", () => {
    const body = kernel(emitted("mingru", { dtype: "f32" }), "forward");
    expect(count(body, PER_ELEMENT)).toBe(0);
    expect(body.match(/mm\.sigmoid\([^;]*\)/gu)).toEqual(["mm.sigmoid(steps * B * 16, z_tape, start * B * 16, z_tape, start * B * 16)"]);
    expect(body.indexOf("mm.sigmoid")).toBeLessThan(body.indexOf("for (let t = start;"));
  });

  it.each([
    ["float64", { dtype: "f64" }],
    ["float32 with products inline", { dtype: "f32", products: "inline" }],
  ] as const)("%s kernels call no map and compute σ and tanh per element", (_, options) => {
    for (const name of ["lstm", "gru", "minlstm"]) {
      const code = emitted(name, options);
      expect(code).not.toMatch(/mm\.(sigmoid|tanh|exp)\(/u);
      expect(count(code, PER_ELEMENT)).toBeGreaterThan(0);
    }
  });
});

describe("float32 example cells through the maps", () => {
  /** Forward's outputs, T steps of `step`, and `forward(…, { record: false })`, on the same inputs. */
  function runs(name: string, T: number, B: number) {
    const cell = compile(source(name), { dtype: "f32" });
    const params = cell.initParams(3);
    const x = Object.fromEntries(cell.inputs.map((s) => [s.name, new Float32Array(T * B * s.size).map((_, k) => Math.sin(k * 0.7))]));
    const forward = cell.forward(params, x, { T, B }).outputs;
    const inferred = cell.forward(params, x, { T, B, record: false }).outputs;
    const state = cell.createState(B);
    const stepped = Object.fromEntries(cell.outputs.map((o) => [o.name, new Float32Array(T * B * o.size)]));
    for (let t = 0; t < T; t++) {
      cell.step(params, Object.fromEntries(cell.inputs.map((s) => [s.name, x[s.name]!.subarray(t * B * s.size, (t + 1) * B * s.size)])), state);
      for (const o of cell.outputs) stepped[o.name]!.set(state.outputs[o.name]!, t * B * o.size);
    }
    return { forward, inferred, stepped };
  }
  const largest = (a: Record<string, Float32Array | Float64Array>, b: Record<string, Float32Array | Float64Array>) =>
    Math.max(...Object.keys(a).flatMap((k) => [...a[k]!].map((v, i) => Math.abs(v - b[k]![i]!))));

  it.each(["lstm", "gru", "lnlstm"])("%s: step repeated gives forward's outputs bit for bit; infer within 1e-6", (name) => {
    const { forward, inferred, stepped } = runs(name, 4, 3);
    expect(stepped).toEqual(forward);
    expect(largest(inferred, forward)).toBeLessThan(1e-6);
  });

  it.each(["mingru", "minlstm"])("%s (values hoisted out of the recurrence are stored in float32 by forward only): step and infer within 1e-6 of forward", (name) => {
    const { forward, inferred, stepped } = runs(name, 4, 3);
    expect(largest(stepped, forward)).toBeLessThan(1e-6);
    expect(largest(inferred, forward)).toBeLessThan(1e-6);
  });
});

describe("random float32 cells through the maps", () => {
  it("a value the rewrites make one, read by a map's argument and by a later loop, is computed again there, not read rounded: every forward bit as unoptimized", () => {
    // Unoptimized, x ⊙ x and x ⊙ (x ⊙ 1) are two values, each computed where it is read, in
    // float64; simplified, they are one, which the loop after the map computes again rather than
    // read from a float32 buffer.
    const text = `cell shared {
      size H = 3
      input x[H]
      state h[H]
      h = tanh(x ⊙ x + h) + x ⊙ (x ⊙ 1)
    }`;
    for (const [T, B] of [[3, 2], [2, 5]] as const) {
      const off = run(build(text, "off", "f32", "runtime"), T, B, 7);
      const values = run(build(text, "values", "f32", "runtime"), T, B, 7);
      expect(firstDifference(off.forward, values.forward, sameBits)).toBeNull();
    }
  });

  it("agree with the unoptimized build, with float32 kernels that compute per element (products inline) and with float64 kernels", () => {
    const sameForward = closeTo(1e-4);
    fc.assert(
      fc.property(randomCells, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 1000 }), (text, T, B, data) => {
        const maps = run(build(text, "on", "f32", "runtime"), T, B, data);
        const off = run(build(text, "off", "f32", "runtime"), T, B, data);
        const perElement = run(build(text, "on", "f32", "inline"), T, B, data);
        const f64 = run(build(text, "on", "f64", "runtime"), T, B, data);
        const difference = firstDifference(maps.forward, off.forward, sameForward) ?? firstDifference(maps.forward, perElement.forward, sameForward) ??
          firstDifference(maps.forward, f64.forward, sameForward);
        if (difference) throw new Error(`T = ${T}, B = ${B}: ${difference}\n${text}`);
      }),
      { seed: propertySeed(31, "maps: float32 cells"), numRuns: 30, endOnFailure: true },
    );
  }, 300_000);
});
