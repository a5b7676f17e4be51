import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assembleProducts, productsModuleText } from "../compiler/wasm/build.js";
import { createArena, placeBuffers, plainProducts, simdAvailable, type Products } from "../src/runtime/products.js";
import type { DType } from "../src/runtime/abi.js";
import type { Real } from "../src/runtime/types.js";
import { mulberry32 } from "../src/runtime/random.js";

const SEED = 42;

/** A product case: sizes, strides and offsets, and whether each operand lives in the arena. */
const caseArb = fc.record({
  kind: fc.constantFrom("nt", "nn", "tn"),
  rows: fc.integer({ min: 1, max: 9 }),
  N: fc.integer({ min: 1, max: 19 }),
  K: fc.integer({ min: 1, max: 19 }),
  padA: fc.integer({ min: 0, max: 3 }),
  padY: fc.integer({ min: 0, max: 3 }),
  offA: fc.integer({ min: 0, max: 5 }),
  offW: fc.integer({ min: 0, max: 5 }),
  offY: fc.integer({ min: 0, max: 5 }),
  acc: fc.constantFrom(0, 1),
  inArena: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
  seed: fc.integer({ min: 0, max: 1 << 20 }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer C> ? C : never;

/** Operand lengths: A `[rows][aw]`, W `[N][K]` (tn: B `[rows][bw]`), Y. */
function shapes(c: Case) {
  if (c.kind === "tn") {
    const [R, C] = [c.N, c.K];
    const as = R + c.padA;
    const bs = C + c.padY;
    return { a: c.offA + c.rows * as, w: c.offW + c.rows * bs, y: c.offY + R * C, as, ws: bs, ys: C };
  }
  const aw = c.kind === "nt" ? c.K : c.N;
  const yw = c.kind === "nt" ? c.N : c.K;
  const as = aw + c.padA;
  const ys = yw + c.padY;
  return { a: c.offA + c.rows * as, w: c.offW + c.N * c.K, y: c.offY + c.rows * ys, as, ws: 0, ys };
}

function run(p: Products, c: Case, A: Real, W: Real, Y: Real) {
  const s = shapes(c);
  if (c.kind === "tn") p.tn(c.rows, c.N, c.K, A, c.offA, s.as, W, c.offW, s.ws, Y, c.offY, c.acc);
  else p[c.kind](c.rows, c.N, c.K, A, c.offA, s.as, W, c.offW, Y, c.offY, s.ys, c.acc);
}

function check(precision: DType, c: Case): void {
  const Arr = precision === "f32" ? Float32Array : Float64Array;
  const s = shapes(c);
  const random = mulberry32(c.seed);
  const fill = (n: number) => new Arr(n).map(() => 2 * random() - 1);
  const [A, W, Y] = [fill(s.a), fill(s.w), fill(s.y)];
  // The expected result, in float64 from the same (rounded) operands.
  const want = Float64Array.from(Y);
  run(plainProducts, c, Float64Array.from(A), Float64Array.from(W), want);
  const arena = createArena(precision);
  const [a, w, y] = arena.layout([{ length: s.a }, { length: s.w }, { length: s.y }], 4 * (s.a + s.w + s.y));
  const place = (inside: boolean, from: Real, buf: Real) => (inside ? (buf.set(from), buf) : from.slice());
  const [A2, W2, Y2] = [place(c.inArena[0], A, a!), place(c.inArena[1], W, w!), place(c.inArena[2], Y, y!)];
  run(arena.products, c, A2, W2, Y2);
  const tol = precision === "f32" ? 1e-5 : 1e-13;
  // Every element within tolerance (NaN fails); one expect names the first that is not.
  const bad = want.findIndex((w, i) => !(Math.abs(Y2[i]! - w) <= tol * (1 + Math.abs(w))));
  expect(bad < 0 ? "" : `${c.kind} element ${bad}: ${Y2[bad]} vs ${want[bad]}`).toBe("");
  // Operands are read, never written.
  const changed = (x: Real, y: Real) => x.findIndex((v, i) => !Object.is(v, y[i]));
  expect([changed(A2, A), changed(W2, W)]).toEqual([-1, -1]);
}

describe("runtime products", () => {
  it("runs as WebAssembly SIMD on this Node", () => {
    expect(simdAvailable()).toBe(true);
    expect(createArena("f32").simd).toBe(true);
    expect(createArena("f32", { simd: false }).simd).toBe(false);
  });

  for (const precision of ["f32", "f64"] as const) {
    it(`nt, nn and tn in ${precision} equal float64 loops for any sizes, strides and offsets`, () => {
      fc.assert(fc.property(caseArb, (c) => check(precision, c)), { seed: SEED, numRuns: 300 });
    });
  }

  it("tiles of every width: sizes around the vector and tile widths", () => {
    for (const precision of ["f32", "f64"] as const)
      for (const kind of ["nt", "nn", "tn"] as const)
        for (const rows of [1, 2, 3, 130])
          for (const N of [1, 4, 5, 8, 9])
            for (const K of [1, 2, 3, 4, 7, 8, 16, 17, 33])
              check(precision, { kind, rows, N, K, padA: 1, padY: 2, offA: 1, offW: 2, offY: 3, acc: 1, inArena: [true, true, true], seed: rows * 100 + N * 10 + K });
  });

  it("blocks and tiles of every edge: sizes across the nt panel, the nn and tn blocks, packed and in place", () => {
    const base = { padA: 3, padY: 1, offA: 1, offW: 3, offY: 2, inArena: [true, true, true] as [boolean, boolean, boolean] };
    // nt panels hold 128 KiB of W rows (32 rows of K = 1000 in f32, 16 in f64), and those of 16
    // rows or more read A's rows from the scratch area, copied there 4 at a time; nn blocks are 256
    // rows of W, in strips of 4 vectors of outputs packed from 16 rows of A; tn blocks are
    // 128 rows × 128 columns of B × 64 columns of A, each packed when its rows are 1 KiB apart.
    const cases: [string, number, number, number][] = [
      ["nt", 5, 37, 1000], ["nt", 1, 70, 1000], ["nt", 6, 33, 1001], ["nt", 3, 17, 2049],
      ["nn", 5, 300, 70], ["nn", 4, 257, 257], ["nn", 3, 257, 257], ["nn", 7, 513, 131], ["nn", 6, 2, 300], ["nn", 1, 300, 129], ["nn", 5, 260, 520], ["nn", 16, 257, 131], ["nn", 19, 300, 70],
      ["tn", 131, 6, 130], ["tn", 257, 5, 257], ["tn", 1, 9, 129], ["tn", 131, 300, 9], ["tn", 130, 260, 131], ["tn", 3, 257, 300],
    ];
    for (const precision of ["f32", "f64"] as const)
      for (const [kind, rows, N, K] of cases)
        for (const acc of [0, 1] as const) check(precision, { ...base, kind: kind as Case["kind"], rows, N, K, acc, seed: rows + N + K });
  });

  it("large sizes, strides and offsets, sampled", () => {
    const big = caseArb.chain((c) =>
      fc.record({ rows: fc.integer({ min: 1, max: 12 }), N: fc.integer({ min: 1, max: 300 }), K: fc.integer({ min: 1, max: 300 }) }).map((s) => ({ ...c, ...s })),
    );
    for (const precision of ["f32", "f64"] as const) fc.assert(fc.property(big, (c) => check(precision, c)), { seed: SEED, numRuns: 25 });
  });

  it("nt gives each output the same sum in the same order, whatever the rows, the outputs and the tile", () => {
    // The promise the optimizer's forward exactness rests on: stacking products (more outputs) or
    // hoisting them over T·B rows (more rows) changes no bit of any output.
    for (const precision of ["f32", "f64"] as const) {
      const Arr = precision === "f32" ? Float32Array : Float64Array;
      // K a multiple of the lanes sums L outputs' lanes at once by shuffles; with a k tail, one by one.
      for (const [rows, N, K] of [[7, 13, 37], [9, 70, 1001], [5, 11, 3], [7, 19, 64], [6, 21, 36], [3, 70, 1000], [1, 19, 8], [2, 9, 2]] as const) {
        const random = mulberry32(rows * N * K);
        const arena = createArena(precision);
        const [A, W, Y, y1] = arena.layout([{ length: rows * K }, { length: N * K }, { length: rows * N }, { length: 1 }], 0);
        for (const a of [A!, W!]) for (let i = 0; i < a.length; i++) a[i] = (2 * random() - 1) * 10 ** Math.floor(6 * random() - 3);
        arena.products.nt(rows, N, K, A!, 0, K, W!, 0, Y!, 0, N, 0);
        const all = Arr.from(Y!);
        for (let m = 0; m < rows; m++)
          for (let n = 0; n < N; n++) {
            arena.products.nt(1, 1, K, A!, m * K, K, W!, n * K, y1!, 0, 1, 0);
            expect(Object.is(y1![0], all[m * N + n]), `row ${m}, output ${n}`).toBe(true);
          }
      }
    }
  });

  it("the committed module is the assembled text of compiler/wasm/products.ts", async () => {
    const committed = readFileSync(new URL("../src/runtime/products-wasm.ts", import.meta.url), "utf8");
    expect(committed).toBe(productsModuleText(await assembleProducts()));
  });

  it("buffers of different kernels share memory, shared buffers and one kernel's own do not overlap", () => {
    const { starts, end } = placeBuffers(
      [{ length: 5 }, { length: 3, group: "forward" }, { length: 7, group: "backward" }, { length: 2, group: "forward" }, { length: 4 }],
      4,
    );
    // shared: [0, 8) and [8, 12); forward from 12: [12, 16), [16, 20); backward from 12: [12, 20).
    expect(starts).toEqual([0, 12, 12, 16, 8]);
    expect(end).toBe(20);
  });

  it("a layout the WebAssembly memory cannot hold falls back to plain arrays and loops, and back", () => {
    const arena = createArena("f32", { maxPages: 4 }); // 256 KiB
    const small = arena.layout([{ length: 1000 }], 1000);
    expect(arena.simd).toBe(true);
    expect(small[0]!.length).toBe(1000);
    const [W, x, y] = arena.layout([{ length: 300 * 300 }, { length: 300 }, { length: 300 }], 300 * 302);
    expect(arena.simd).toBe(false);
    W!.fill(1), x!.fill(2);
    arena.products.nt(1, 300, 300, x!, 0, 300, W!, 0, y!, 0, 300, 0);
    expect(y![0]).toBe(600);
    arena.layout([{ length: 1000 }], 1000);
    expect(arena.simd).toBe(true);
  });
});
