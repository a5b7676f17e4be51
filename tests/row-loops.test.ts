/**
 * The runtime's row loops (`ROW_LOOPS`: `mm.add3`), which float32 kernels with runtime products
 * call for a gate's pre-activation `(a + b) + c` instead of an element loop of their own: the
 * WebAssembly function against the plain loop (the emitted loop's arithmetic) bit for bit, over
 * odd row lengths, strides, broadcast rows, operands in the arena and outside it; and whole cells
 * whose kernels call it against the same kernels with the loops it replaces kept as JavaScript.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { assembleRowLoops, rowLoopsModuleText } from "../compiler/wasm/build.js";
import { compileSource } from "../compiler/index.js";
import { describeModule } from "../compiler/codegen/module.js";
import { planKernels } from "../compiler/codegen/plan.js";
import { instantiate } from "../src/instantiate.js";
import { wasmRowLoopParams, type Real } from "../src/runtime/abi.js";
import { createArena, plainRowLoops, simdAvailable } from "../src/runtime/products.js";
import { mulberry32 } from "../src/runtime/random.js";
import type { Cell } from "../src/runtime/types.js";
import { firstDifference, sameBits } from "./helpers/bitwise.js";
import { propertySeed } from "./helpers/seed.js";

const sameArrayBits = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) return k;
  return a.length === b.length ? -1 : a.length;
};

describe("the row loops module", () => {
  it("src/runtime/row-loops-wasm.ts is what compiler/wasm/rows.ts assembles to (npm run generate)", async () => {
    const committed = readFileSync("src/runtime/row-loops-wasm.ts", "utf8");
    expect(committed).toBe(rowLoopsModuleText(await assembleRowLoops()));
  });

  it("add3 takes the parameters the ABI gives it; float64 arenas and plain arenas use the plain loop", () => {
    expect(wasmRowLoopParams("add3")).toEqual(["rows", "n", "A", "as", "B", "bs", "C", "cs", "Y", "ys"]);
    expect(createArena("f64").products.add3).toBe(plainRowLoops.add3);
    expect(createArena("f32", { simd: false }).products.add3).toBe(plainRowLoops.add3);
    if (simdAvailable()) expect(createArena("f32").products.add3).not.toBe(plainRowLoops.add3);
  });
});

/** A float32 of any exponent in [-40, 40], either sign, ±0 and subnormals among them: sums round at every magnitude. */
function wide(random: () => number): number {
  const r = random();
  if (r < 0.02) return r < 0.01 ? 0 : -0;
  if (r < 0.04) return Math.fround((random() - 0.5) * 2e-40);
  return Math.fround((random() < 0.5 ? -1 : 1) * (1 + random()) * 2 ** Math.floor(random() * 81 - 40));
}

describe.runIf(simdAvailable())("add3 as WebAssembly", () => {
  it("is the plain loop bit for bit: odd lengths, strides, broadcast rows, operands in the arena or staged, in chunks", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 17 }), fc.integer({ min: 1, max: 37 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (rows, n, inArena, broadcast, pads, seed) => {
          const random = mulberry32(seed);
          const arena = createArena("f32");
          const strides = [0, 1, 2, 3].map((k) => (k < 3 && broadcast[k] ? 0 : n + pads[k]!));
          const lengths = strides.map((s, k) => 3 + pads[k]! + (s === 0 ? n : rows * s));
          const inside = arena.layout(lengths.map((length) => ({ length })), 0);
          const arrays = lengths.map((length, k) => (inArena[k] ? inside[k]! : new Float32Array(length)));
          for (const a of arrays.slice(0, 3)) for (let e = 0; e < a.length; e++) a[e] = wide(random);
          const offsets = pads.map((p) => 3 + p - (p % 2));
          const [A, B, C, Y] = arrays as [Real, Real, Real, Real];
          const expected = new Float32Array(Y.length);
          const args = (out: Real) => [rows, n, A, offsets[0]!, strides[0]!, B, offsets[1]!, strides[1]!, C, offsets[2]!, strides[2]!, out, offsets[3]!, strides[3]!] as const;
          plainRowLoops.add3(...args(expected));
          arena.products.add3(...args(Y));
          const at = sameArrayBits(Y, expected);
          if (at >= 0) throw new Error(`rows ${rows}, n ${n}: element ${at} is ${Y[at]}, expected ${expected[at]}`);
        },
      ),
      { seed: propertySeed(61, "row loops: add3"), numRuns: 300 },
    );
  });

  it("runs rows that do not fit the staging room at once in chunks, and the same bits", () => {
    const rows = 17;
    const n = 9001;
    const random = mulberry32(5);
    const [A, B, C] = [0, 1, 2].map(() => Float32Array.from({ length: rows * n }, () => wide(random)));
    const arena = createArena("f32");
    arena.layout([{ length: 16 }], 0);
    const Y = new Float32Array(rows * n);
    const expected = new Float32Array(rows * n);
    plainRowLoops.add3(rows, n, A!, 0, n, B!, 0, n, C!, 0, n, expected, 0, n);
    arena.products.add3(rows, n, A!, 0, n, B!, 0, n, C!, 0, n, Y, 0, n);
    expect(sameArrayBits(Y, expected)).toBe(-1);
  });
});

/** The float32 cell of `compiled`'s optimized IR, its fused loops calling the runtime's row loops or (rowLoops false) kept as loops. */
function built(text: string, sizes: Record<string, number>, rowLoops: boolean): Cell {
  const [compiled] = compileSource(text, { dtype: "f32", sizes, path: "cell.cell" });
  const ir = compiled!.ir;
  const plan = planKernels(ir, true);
  const options = { dtype: "f32", products: "runtime", runtime: "rnnc/runtime", sourcePath: "cell.cell", sourceText: text, rowLoops } as const;
  return instantiate({ module: describeModule(ir, plan, options, { ir, plan }) });
}

/** Forward (recorded and not), backward and T steps of `cell` on seeded data, every array they leave. */
function everything(cell: Cell, T: number, B: number, seed: number, mask: boolean): Map<string, Real> {
  const random = mulberry32(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => 2 * random() - 1);
  const named = (specs: readonly { name: string; size: number }[], per: number) => Object.fromEntries(specs.map((s) => [s.name, fill(per * s.size)]));
  const params = named(cell.params, 1);
  const inputs = named(cell.inputs, T * B);
  const initial = named(cell.states, B);
  const M = mask ? Uint8Array.from({ length: T * B }, () => (random() < 0.7 ? 1 : 0)) : undefined;
  const out = new Map<string, Real>();
  const trace = cell.forward(params, inputs, { T, B, initial, ...(M ? { mask: M } : {}) });
  for (const o of cell.outputs) out.set(`forward ${o.name}`, trace.outputs[o.name]!);
  for (const s of cell.states) out.set(`final ${s.name}`, trace.final[s.name]!);
  const inferred = cell.forward(params, inputs, { T, B, initial, record: false, ...(M ? { mask: M } : {}) });
  for (const o of cell.outputs) out.set(`infer ${o.name}`, inferred.outputs[o.name]!);
  const grads = cell.createGrads();
  const back = cell.backward(params, trace, { outputs: named(cell.outputs, T * B) }, grads);
  for (const p of cell.params) out.set(`grad ${p.name}`, grads[p.name]!);
  for (const x of cell.inputs) out.set(`grad ${x.name}`, back.inputs[x.name]!);
  const state = cell.createState(B, initial);
  for (let t = 0; t < T; t++) {
    cell.step(params, Object.fromEntries(cell.inputs.map((x) => [x.name, inputs[x.name]!.subarray(t * B * x.size, (t + 1) * B * x.size)])), state);
    for (const o of cell.outputs) out.set(`step ${t} ${o.name}`, state.outputs[o.name]!.slice());
  }
  return out;
}

const source = (name: string) => readFileSync(`examples/cells/${name}.cell`, "utf8");

describe("float32 cells whose kernels call add3", () => {
  it("the LSTM's forward, infer and step store each gate's pre-activation with one add3 call a gate, in place of their element loop", () => {
    const [lstm] = compileSource(source("lstm"), { dtype: "f32", path: "lstm.cell" });
    for (const name of ["forward", "infer", "step"]) {
      const start = lstm!.code.indexOf(`function ${name}(`);
      const body = lstm!.code.slice(start, lstm!.code.indexOf("\n}\n", start));
      expect(body.match(/mm\.add3\(/gu)).toHaveLength(4);
    }
  });

  it.each([
    ["float64", { dtype: "f64" }],
    ["float32 with products inline", { dtype: "f32", products: "inline" }],
  ] as const)("%s kernels never call add3", (_, options) => {
    for (const name of ["lstm", "gru", "peephole"]) expect(compileSource(source(name), options)[0]!.code).not.toMatch(/mm\.add3\(/u);
  });

  it("compute every bit as the same kernels with those loops kept as JavaScript: example cells at odd sizes, B = 1, 3, 17, with and without masks", () => {
    const cells = ["lstm", "gru", "peephole", "lnlstm", "gru_torch"];
    fc.assert(
      fc.property(
        fc.constantFrom(...cells), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 13 }), fc.constantFrom(1, 3, 17), fc.integer({ min: 1, max: 4 }),
        fc.boolean(), fc.integer({ min: 1, max: 1_000_000 }),
        (name, I, H, B, T, mask, seed) => {
          const calls = everything(built(source(name), { I, H }, true), T, B, seed, mask);
          const loops = everything(built(source(name), { I, H }, false), T, B, seed, mask);
          const difference = firstDifference(calls, loops, sameBits);
          if (difference) throw new Error(`${name} I ${I} H ${H} B ${B} T ${T}${mask ? " masked" : ""}: ${difference}`);
        },
      ),
      { seed: propertySeed(62, "row loops: example cells"), numRuns: 40 },
    );
  }, 300_000);

  it("random gated cells (gates of sums of products and biases in any order and number): every bit as with the loops kept as JavaScript", () => {
    const sums = ["W{k}·x + U{k}·h + b{k}", "U{k}·h + W{k}·x + b{k}", "b{k} + W{k}·x + U{k}·h", "W{k}·x + b{k} + U{k}·h", "W{k}·x + U{k}·h", "W{k}·x + U{k}·h + b{k} + b{k}", "(W{k}·x + U{k}·h) ⊙ b{k} + b{k}"];
    const gate = fc.record({ f: fc.constantFrom("σ", "tanh", "exp"), sum: fc.constantFrom(...sums) });
    let called = 0;
    let runs = 0;
    fc.assert(
      fc.property(fc.array(gate, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 7 }), fc.constantFrom(1, 3, 17), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.integer({ min: 1, max: 1000 }),
        (gates, I, H, B, T, mask, seed) => {
          const lines = gates.map((g, k) => `  g${k} = ${g.f}(${g.sum.replaceAll("{k}", String(k))})`);
          const update = gates.length === 1 ? "g0" : `g0 ⊙ h + ${gates.slice(1).map((_, k) => `g${k + 1}`).join(" ⊙ ")}`;
          const text = [
            "cell gated {",
            "  size I = 2, H = 2",
            "  input x[I]",
            "  state h[H]",
            ...gates.map((_, k) => `  param W${k}[H, I], U${k}[H, H], b${k}[H]`),
            ...lines,
            `  h = ${update}`,
            "}",
          ].join("\n");
          const sizes = { I, H };
          runs++;
          if (/mm\.add3\(/u.test(compileSource(text, { dtype: "f32", sizes })[0]!.code)) called++;
          const difference = firstDifference(everything(built(text, sizes, true), T, B, seed, mask), everything(built(text, sizes, false), T, B, seed, mask), sameBits);
          if (difference) throw new Error(`B = ${B}, T = ${T}: ${difference}\n${text}`);
        }),
      { seed: propertySeed(63, "row loops: gated cells"), numRuns: 60, endOnFailure: true },
    );
    // Many draws have a gate add3 computes (a quarter with this seed): the property compares the two paths, not only loops with loops.
    expect(called).toBeGreaterThan(runs / 6);
  }, 300_000);
});
