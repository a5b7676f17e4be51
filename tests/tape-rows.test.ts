/**
 * A taped value that the runtime's maps compute is computed in its tape row: the tape is laid out
 * as the map's buffer (one array for the taped values of one map call, `f_i_o_tape` of rows of
 * 3·H for the LSTM), the forward stores the map's arguments there and maps the row in place, and
 * the loops after it and the backward read the values from there. Nothing is copied onto the tape
 * from a map's buffer. `infer` and `step` record nothing and keep their buffers; float64 kernels
 * and `--products inline` tape each value in an array of its own.
 */
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { instantiate } from "../src/instantiate.js";
import { SMALL, build, closeTo, firstDifference, run } from "./helpers/bitwise.js";
import { expectMatchesReference } from "./helpers/compare.js";
import { randomCells } from "./helpers/random-cell.js";
import { propertySeed } from "./helpers/seed.js";

const CELLS = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).map((f) => f.replace(/\.cell$/u, "")).sort();
const source = (name: string) => readFileSync(`examples/cells/${name}.cell`, "utf8");
const compiled = (name: string, options: Parameters<typeof compileSource>[1]) => compileSource(source(name), { path: `${name}.cell`, ...options })[0]!;

/** The body of kernel `name` in an emitted JavaScript module, without its comments. */
function kernel(code: string, name: string): string {
  const start = code.indexOf(`function ${name}(`);
  return code.slice(start, code.indexOf("\n}\n", start)).replace(/\/\/.*$/gmu, "");
}

/** The arrays the runtime's maps compute in, in order of the calls. */
const mapped = (body: string) => [...body.matchAll(/mm\.(?:sigmoid|tanh|exp)\([^,]+, (\w+),/gu)].map((m) => m[1]!);

/**
 * Statements storing an element of a map's buffer onto the tape as it is: a mapped value copied
 * to its tape array. (A value read from a tape array into another, as a concatenation or a slice
 * of a taped value does, is that other value: each value is on the tape once.)
 */
function copiesOntoTape(body: string): string[] {
  const buffers = new Set(mapped(body).filter((array) => !array.endsWith("_tape")));
  return [...body.matchAll(/\b(\w+_tape)\[[^\]]+\] = (\w+)\[[^\]]+\];/gu)].filter((m) => buffers.has(m[2]!)).map((m) => m[0]);
}

describe("float32 forward with runtime maps: taped values computed in their tape rows", () => {
  it("lstm: f, i, o in one tape array mapped in place, g and tanh(c) in theirs; infer and step keep their buffers", () => {
    const { code, module } = compiled("lstm", { dtype: "f32" });
    expect(kernel(code, "forward").match(/mm\.(sigmoid|tanh|exp)\([^;]*\)/gu)).toEqual([
      "mm.sigmoid(B * 48, f_i_o_tape, t * B * 48, f_i_o_tape, t * B * 48)",
      "mm.tanh(B * 16, g_tape, t * B * 16, g_tape, t * B * 16)",
      "mm.tanh(B * 16, tanh_c_tape, t * B * 16, tanh_c_tape, t * B * 16)",
    ]);
    for (const name of ["infer", "step"]) expect(mapped(kernel(code, name))).toEqual(["f_i_o", "g", "tanh_c"]);
    expect(module.spec.tape).toEqual([
      { name: "f_i_o", shape: [48], size: 48 },
      { name: "g", shape: [16], size: 16 },
      { name: "tanh_c", shape: [16], size: 16 },
    ]);
    // The loop after the maps reads f and i from the tape row; the backward reads o at its offset.
    expect(kernel(code, "forward")).toContain("f_i_o_tape[(t * B + b) * 48 + j] * c_seq[(t * B + b) * 16 + j]");
    expect(kernel(code, "backward")).toMatch(/f_i_o_tape\[\([\w *+]+\) \* 48 \+ 32 \+ j\]/u);
  });

  it("minGRU: the gates hoisted out of the recurrence are mapped in their tape rows over a chunk", () => {
    const body = kernel(compiled("mingru", { dtype: "f32" }).code, "forward");
    expect(body.match(/mm\.sigmoid\([^;]*\)/gu)).toEqual(["mm.sigmoid(steps * B * 16, z_tape, start * B * 16, z_tape, start * B * 16)"]);
  });

  it("the check below finds a copy from a map's buffer onto the tape", () => {
    const body = "mm.tanh(B * 16, g, 0, g, 0);\n g_tape[(t * B + b) * 16 + j] = g[b * 16 + j];";
    expect(copiesOntoTape(body)).toEqual(["g_tape[(t * B + b) * 16 + j] = g[b * 16 + j];"]);
  });

  it.each([
    ["float64", { dtype: "f64" }],
    ["float32 with products inline", { dtype: "f32", products: "inline" }],
  ] as const)("%s: one tape array per taped value, as before", (_, options) => {
    const { module } = compiled("lstm", options);
    expect(module.spec.tape.map((a) => a.name)).toEqual(["f", "i", "g", "o", "tanh_c"]);
  });
});

describe("float32 example cells with the tape in map rows", () => {
  // Optimized (values hoisted and mapped over chunks, deferred gradients reading the tape at
  // offsets; at B = 3, 90 steps are two chunks) and not.
  it.each(CELLS)("%s: no forward copies a mapped value onto the tape; forward and backward match the reference evaluator", (name) => {
    for (const optimize of [true, false]) {
      const cell = compiled(name, { dtype: "f32", optimize });
      expect(copiesOntoTape(kernel(cell.code, "forward"))).toEqual([]);
      const runs = optimize ? [[3, 2], [90, 3]] as const : [[3, 2]] as const;
      for (const [T, B] of runs) expectMatchesReference(cell.ir, instantiate(cell), T, B, 11, 2e-4);
    }
  });
});

describe("a cell mixing the cases: stacked, hoisted, sliced, at several depths, beside a mapped value not taped", () => {
  const MIX = `cell mix {
    size I = 3, H = 4
    input x[I]
    state h[H], c[H], g[H]
    param Wa[H, I], Ua[H, H], Wb[H, I], Wz[2*H, I], Uz[2*H, H], Wg[H, I], Ug[H, H], Wy[H, H]
    a = σ(Wa·x + Ua·h)
    b = σ(Wb·x)
    z = σ(Wz·x + Uz·h)
    g = σ(Wg·x + Ug·h)
    e = exp(a ⊙ h)
    k = tanh(h + b)
    c = a ⊙ c + z[0:H] ⊙ k + e ⊙ b ⊙ g
    h = z[H:2*H] ⊙ tanh(c)
    output y = σ(Wy·h) + tanh(Wy·h)
  }`;

  it.each([true, false])("optimize %s: the taped gates share a tape array, the state g is mapped in a buffer of its own; forward and backward match the reference evaluator", (optimize) => {
    const cell = compileSource(MIX, { dtype: "f32", path: "mix.cell", optimize })[0]!;
    const tape = cell.module.spec.tape.map((a) => `${a.name}[${a.size}]`);
    // Hoisted out of the recurrence (input only), b is mapped over a chunk's rows of its own array.
    expect(tape.slice(0, optimize ? 2 : 1)).toEqual(optimize ? ["a_z[12]", "b[4]"] : ["a_b_z[16]"]);
    const forward = kernel(cell.code, "forward");
    expect(copiesOntoTape(forward)).toEqual([]);
    // g is a state, not taped: its σ is a call over a buffer, apart from the gates' tape row.
    expect(mapped(forward)).toContain("g");
    for (const [T, B] of [[3, 2], [90, 3]] as const) expectMatchesReference(cell.ir, instantiate(cell), T, B, 5, 2e-4);
  });
});

describe("random float32 cells: the tape in map rows", () => {
  it("no forward copies a mapped value onto the tape, and forward and backward agree with the kernels that tape each value apart (products inline)", () => {
    // Inline products compute σ, tanh and exp per element with one tape array per value: the
    // same numbers within the maps' rounding (1 ulp), so a value read at a wrong offset of a
    // shared tape array shows as a difference far beyond it.
    const same = closeTo(1e-3);
    fc.assert(
      fc.property(randomCells, fc.constantFrom("on", "off") as fc.Arbitrary<"on" | "off">, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 1000 }), (text, how, T, B, data) => {
        const [compiledCell] = compileSource(text, { dtype: "f32", sizes: SMALL, optimize: how === "on", path: "random.cell" });
        const copies = copiesOntoTape(kernel(compiledCell!.code, "forward"));
        if (copies.length) throw new Error(`${how}: copied onto the tape: ${copies.join(" ")}\n${text}`);
        const maps = run(instantiate(compiledCell!), T, B, data);
        const perValue = run(build(text, how, "f32", "inline"), T, B, data);
        const difference = firstDifference(maps.forward, perValue.forward, same) ?? firstDifference(maps.backward, perValue.backward, same);
        if (difference) throw new Error(`${how}, T = ${T}, B = ${B}: ${difference}\n${text}`);
      }),
      { seed: propertySeed(47, "tape rows: float32 cells"), numRuns: 30, endOnFailure: true },
    );
  }, 300_000);
});
