/**
 * The product node of the loop IR (`compiler/codegen/loops/product.ts`): its two renderings — a
 * call into the runtime's products and register-tiled loops — compute the same product, for each
 * of `nt`, `nn` and `tn`, over row counts and sizes that reach every tile and every odd tail, and
 * both match a float64 reference.
 */
import { describe, expect, it } from "vitest";
import type { ProductName } from "../src/runtime/abi.js";
import { renderProduct, type ProductNode } from "../compiler/codegen/loops/product.js";
import { plainProducts } from "../src/runtime/products.js";
import { mulberry32 } from "../src/runtime/random.js";

/** A node over arrays named A, W (or B) and Y, row-major with the strides a kernel would use. */
function node(op: ProductName, rows: number, dims: [number, number], rendering: ProductNode["rendering"], accumulate: boolean): ProductNode {
  const [d0, d1] = dims;
  // nt: A [rows][K], W [N][K], Y [rows][N]; nn: A [rows][N], W [N][K], Y [rows][K]; tn: A [rows][R], B [rows][C], G [R][C].
  const aWidth = op === "nt" ? d1 : d0;
  const yWidth = op === "nt" ? d0 : d1;
  const given = new Map<string, string>();
  return {
    op, rows: "rows", dims, accumulate, rendering,
    operands: [
      { stored: { array: "A", base: "0", stride: aWidth }, read: (row, i) => `A[(${row}) * ${aWidth} + ${i}]` },
      op === "tn"
        ? { stored: { array: "W", base: "0", stride: d1 }, read: (row, i) => `W[(${row}) * ${d1} + ${i}]` }
        : { stored: { array: "W", base: "0", stride: 0 }, read: (_, i) => `W[${i}]` },
    ],
    out: op === "tn"
      ? { stored: { array: "Y", base: "0", stride: 0 }, store: (_, i, v) => `Y[${i}] ${accumulate ? "+=" : "="} ${v};` }
      : { stored: { array: "Y", base: "0", stride: yWidth }, store: (row, i, v) => `Y[(${row}) * ${yWidth} + ${i}] ${accumulate ? "+=" : "="} ${v};` },
    local: (base) => given.get(base) ?? (given.set(base, `${base}_`), `${base}_`),
  };
}

/** Runs the rendered node on fresh seeded operands; returns Y. */
function run(p: ProductNode, rows: number, sizes: { a: number; w: number; y: number }, seed: number): Float64Array {
  const random = mulberry32(seed);
  const fill = (n: number) => Float64Array.from({ length: n }, () => random() * 2 - 1);
  const [A, W, Y] = [fill(sizes.a), fill(sizes.w), fill(sizes.y)];
  new Function("mm", "rows", "A", "W", "Y", renderProduct(p).join("\n"))(plainProducts, rows, A, W, Y);
  return Y;
}

/** The product in float64 by its definition (see `PRODUCTS`). */
function reference(op: ProductName, rows: number, [d0, d1]: [number, number], accumulate: boolean, seed: number): Float64Array {
  const random = mulberry32(seed);
  const sizes = extents(op, rows, [d0, d1]);
  const fill = (n: number) => Float64Array.from({ length: n }, () => random() * 2 - 1);
  const [A, W, Y] = [fill(sizes.a), fill(sizes.w), fill(sizes.y)];
  const out = accumulate ? Float64Array.from(Y) : new Float64Array(sizes.y);
  for (let m = 0; m < rows; m++) {
    if (op === "nt") for (let n = 0; n < d0; n++) for (let k = 0; k < d1; k++) out[m * d0 + n]! += A[m * d1 + k]! * W[n * d1 + k]!;
    if (op === "nn") for (let k = 0; k < d1; k++) for (let n = 0; n < d0; n++) out[m * d1 + k]! += A[m * d0 + n]! * W[n * d1 + k]!;
    if (op === "tn") for (let r = 0; r < d0; r++) for (let c = 0; c < d1; c++) out[r * d1 + c]! += A[m * d0 + r]! * W[m * d1 + c]!;
  }
  return out;
}

function extents(op: ProductName, rows: number, [d0, d1]: [number, number]) {
  if (op === "tn") return { a: rows * d0, w: rows * d1, y: d0 * d1 };
  return op === "nt" ? { a: rows * d1, w: d0 * d1, y: rows * d0 } : { a: rows * d0, w: d0 * d1, y: rows * d1 };
}

const CASES: [ProductName, number, [number, number], boolean][] = [];
for (const op of ["nt", "nn", "tn"] as const) {
  for (const rows of [1, 2, 3, 7, 130]) {
    for (const dims of [[1, 1], [3, 5], [4, 8], [9, 6], [17, 3]] as [number, number][]) CASES.push([op, rows, dims, op === "tn" || rows % 2 === 1]);
  }
}

describe("a product node's two renderings", () => {
  it("render one call with exactly the ABI's arguments, or loops without any call", () => {
    const call = renderProduct(node("nt", 2, [4, 3], "call", false));
    expect(call).toEqual(["mm.nt(rows, 4, 3, A, 0, 3, W, 0, Y, 0, 4, 0); // Y[m] = W · A[m], for all rows rows"]);
    const loops = renderProduct(node("nt", 2, [4, 3], "loops", false)).join("\n");
    expect(loops).not.toMatch(/\bmm\./u);
    expect(loops).toMatch(/let s00_ = 0/u);
    // A tiled tn sums block by block into a param gradient: it only accumulates.
    expect(() => renderProduct(node("tn", 2, [4, 3], "loops", false))).toThrow(/only accumulate/u);
  });

  it.each(CASES)("%s over %i rows, sizes %j (accumulating: %s): call and tiled loops equal the reference", (op, rows, dims, accumulate) => {
    const seed = 1000 + rows * 31 + dims[0] * 7 + dims[1];
    const sizes = extents(op, rows, dims);
    const expected = reference(op, rows, dims, accumulate, seed);
    for (const rendering of ["call", "loops"] as const) {
      const got = run(node(op, rows, dims, rendering, accumulate), rows, sizes, seed);
      expect(got.length).toBe(expected.length);
      got.forEach((v, k) => expect(Math.abs(v - expected[k]!), `${rendering} [${k}]`).toBeLessThan(1e-12));
    }
  });
});
