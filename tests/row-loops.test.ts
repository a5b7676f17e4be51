/**
 * The runtime's row loops (`ROW_LOOPS`: `mm.add3`, `mm.colsum`), which float32 kernels with runtime
 * products call for a gate's pre-activation `(a + b) + c` and for a bias gradient's sum of a
 * chunk's rows instead of an element loop of their own: the WebAssembly functions against the
 * plain loops (the emitted loops' arithmetic) bit for bit, over odd row lengths, strides,
 * broadcast rows, operands in the arena and outside it; and whole cells whose kernels call them
 * against the same kernels with the loops they replace kept as JavaScript.
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
import { everything, firstDifference, sameBits } from "./helpers/bitwise.js";
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

  it("colsum takes the parameters the ABI gives it; float64 arenas and plain arenas use the plain loop", () => {
    expect(wasmRowLoopParams("colsum")).toEqual(["rows", "n", "A", "as", "G"]);
    expect(createArena("f64").products.colsum).toBe(plainRowLoops.colsum);
    expect(createArena("f32", { simd: false }).products.colsum).toBe(plainRowLoops.colsum);
    if (simdAvailable()) expect(createArena("f32").products.colsum).not.toBe(plainRowLoops.colsum);
  });

  it("the plain colsum is the emitted loop's arithmetic: each row added into the float32 sum in turn, each add rounded", () => {
    const G = Float32Array.of(1);
    plainRowLoops.colsum(2, 1, Float32Array.of(2 ** -24, 2 ** -24), 0, 1, G, 0);
    // 1 + 2⁻²⁴ rounds to 1 in float32, twice; the float64 sum rounded once would be 1 + 2⁻²³.
    expect(G[0]).toBe(1);
  });
});

/** A float32 of any exponent in [-40, 40], either sign, ±0 and subnormals among them: sums round at every magnitude. */
function wide(random: () => number): number {
  const r = random();
  if (r < 0.02) return r < 0.01 ? 0 : -0;
  if (r < 0.04) return Math.fround((random() - 0.5) * 2e-40);
  return Math.fround((random() < 0.5 ? -1 : 1) * (1 + random()) * 2 ** Math.floor(random() * 81 - 40));
}

/** Mostly `wide`, with NaN, ±∞ and the largest float32s (whose sums overflow) among them. */
function special(random: () => number): number {
  const r = random();
  if (r < 0.03) return NaN;
  if (r < 0.06) return r < 0.045 ? Infinity : -Infinity;
  if (r < 0.08) return (r < 0.07 ? 1 : -1) * 3.4028234663852886e38;
  return wide(random);
}

describe.runIf(simdAvailable())("colsum as WebAssembly", () => {
  it("is the plain loop bit for bit: widths across the blocks of 32, 16 and 4 columns and the last columns, strides, broadcast rows, offsets, operands in the arena or staged", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 75 }), fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }), fc.boolean(),
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 2, maxLength: 2 }), fc.boolean(), fc.integer({ min: 1, max: 1_000_000 }),
        (rows, n, inArena, broadcast, pads, specials, seed) => {
          const random = mulberry32(seed);
          const value = specials ? () => special(random) : () => wide(random);
          const arena = createArena("f32");
          const as = broadcast ? 0 : n + pads[0]!;
          const lengths = [3 + pads[0]! + (as === 0 ? n : rows * as), 3 + pads[1]! + n];
          const inside = arena.layout(lengths.map((length) => ({ length })), 0);
          const [A, G] = lengths.map((length, k) => (inArena[k] ? inside[k]! : new Float32Array(length))) as [Real, Real];
          for (const a of [A, G]) for (let e = 0; e < a.length; e++) a[e] = value();
          const [a0, g0] = pads.map((p) => 3 + p - (p % 2)) as [number, number];
          const expected = Float32Array.from(G);
          plainRowLoops.colsum(rows, n, A, a0, as, expected, g0);
          const before = Float32Array.from(A);
          arena.products.colsum(rows, n, A, a0, as, G, g0);
          const at = sameArrayBits(G, expected);
          if (at >= 0) throw new Error(`rows ${rows}, n ${n}, stride ${as}: element ${at} is ${G[at]}, expected ${expected[at]}`);
          if (sameArrayBits(A, before) >= 0) throw new Error("colsum wrote A");
        },
      ),
      { seed: propertySeed(64, "row loops: colsum"), numRuns: 400 },
    );
  });

  it("keeps NaN, ±∞ and −0 as the float32 adds do: −0 + −0 is −0, +0 + −0 is +0, ∞ − ∞ is NaN, overflow is ∞", () => {
    const arena = createArena("f32");
    const [A, G] = arena.layout([{ length: 3 * 6 }, { length: 6 }], 0) as [Real, Real];
    const max = 3.4028234663852886e38;
    A.set([-0, -0, 1, Infinity, max, NaN, -0, 0, -1, -Infinity, max, 1, -0, -0, 0, 1, -max, 2]);
    G.set([-0, -0, -0, 0, 0, 0]);
    arena.products.colsum(3, 6, A, 0, 6, G, 0);
    expect(Object.is(G[0], -0)).toBe(true);
    expect(Object.is(G[1], 0)).toBe(true);
    expect(Object.is(G[2], 0)).toBe(true);
    expect(G[3]).toBeNaN();
    expect(G[4]).toBe(Infinity);
    expect(G[5]).toBeNaN();
  });

  it("adds rows that do not fit the staging room at once in chunks, in order, with the same bits; zero rows or columns change nothing", () => {
    const rows = 23;
    const n = 9001;
    const random = mulberry32(7);
    const A = Float32Array.from({ length: rows * (n + 3) }, () => wide(random));
    const arena = createArena("f32");
    arena.layout([{ length: 16 }], 0);
    const G = Float32Array.from({ length: n + 1 }, () => wide(random));
    const expected = Float32Array.from(G);
    plainRowLoops.colsum(rows, n, A, 2, n + 3, expected, 1);
    arena.products.colsum(rows, n, A, 2, n + 3, G, 1);
    expect(sameArrayBits(G, expected)).toBe(-1);
    arena.products.colsum(0, n, A, 0, n, G, 0);
    arena.products.colsum(rows, 0, A, 0, n, G, 0);
    expect(sameArrayBits(G, expected)).toBe(-1);
  });
});

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

const source = (name: string) => readFileSync(`examples/cells/${name}.cell`, "utf8");

describe("float32 cells whose kernels call add3 and colsum", () => {
  it("the LSTM's forward, infer and step store each gate's pre-activation with one add3 call a gate, in place of their element loop", () => {
    const [lstm] = compileSource(source("lstm"), { dtype: "f32", path: "lstm.cell" });
    for (const name of ["forward", "infer", "step"]) {
      const start = lstm!.code.indexOf(`function ${name}(`);
      const body = lstm!.code.slice(start, lstm!.code.indexOf("\n}\n", start));
      expect(body.match(/mm\.add3\(/gu)).toHaveLength(4);
    }
  });

  it("the LSTM's backward adds each bias gradient's rows with one colsum call a gate, and no loop of its own", () => {
    const [lstm] = compileSource(source("lstm"), { dtype: "f32", path: "lstm.cell" });
    const start = lstm!.code.indexOf("function backward(");
    const body = lstm!.code.slice(start, lstm!.code.indexOf("\n}\n", start));
    expect(body.match(/mm\.colsum\(/gu)).toHaveLength(4);
    const statements = body.split("\n").filter((line) => !line.trim().startsWith("//")).join("\n");
    expect(statements).not.toMatch(/\bdb[figo]\[j\]!? \+=/u);
    expect(body).toContain("mm.colsum(steps * B, 16, df_di_dg_do_pre, 48, 64, dbo, 0);");
  });

  it("a bias gradient whose rows the same loop computes (held in a local, not yet rounded) stays in the loop", () => {
    const [mingru] = compileSource(source("mingru"), { dtype: "f32", path: "mingru.cell" });
    expect(mingru!.code).not.toMatch(/mm\.colsum\(/u);
    expect(mingru!.code).toMatch(/dbh\[i\]!? \+= d_Wh_x_1;/u);
  });

  it.each([
    ["float64", { dtype: "f64" }],
    ["float32 with products inline", { dtype: "f32", products: "inline" }],
  ] as const)("%s kernels never call add3 or colsum", (_, options) => {
    for (const name of ["lstm", "gru", "peephole", "relu_rnn", "slstm"]) expect(compileSource(source(name), options)[0]!.code).not.toMatch(/mm\.(add3|colsum)\(/u);
  });

  it("compute every bit as the same kernels with those loops kept as JavaScript: example cells at odd sizes, B = 1, 3, 17, with and without masks", () => {
    const cells = ["lstm", "gru", "peephole", "lnlstm", "gru_torch", "relu_rnn", "slstm"];
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
