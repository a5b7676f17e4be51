/**
 * The runtime's row loops (`ROW_LOOPS`: `mm.add3`), which float32 kernels with runtime products
 * call for a gate's pre-activation `(a + b) + c` instead of an element loop of their own: the
 * WebAssembly function against the plain loop (the emitted loop's arithmetic) bit for bit, over
 * odd row lengths, strides, broadcast rows, operands in the arena and outside it.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { assembleRowLoops, rowLoopsModuleText } from "../compiler/wasm/build.js";
import { wasmRowLoopParams, type Real } from "../src/runtime/abi.js";
import { createArena, plainRowLoops, simdAvailable } from "../src/runtime/products.js";
import { mulberry32 } from "../src/runtime/random.js";
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
