/**
 * Matrix products over many rows at once: `W·v` for every row (a matrix-matrix product), and
 * `Σ_rows a ⊗ b` accumulated into a param gradient. The op says which of the ABI's products
 * (`PRODUCTS` in `src/runtime/abi.ts`) a node is and with which sizes; the code generator makes it
 * one product node of the loop IR (`codegen/loops/product.ts`), rendered as a call into the
 * runtime or as register-tiled loops in the module, as `--products` asks.
 */
import type { RowWriter } from "./types.js";

/** out[row][r] = Σ_k A[r][k] · v[row][k] (A stored transposed when `ta`). Needs A uniform, v varying. */
export function emitMatvecRows(w: RowWriter, R: number, K: number, ta: boolean): boolean {
  if (w.argVarying[0] || !w.argVarying[1] || w.intoUniform || w.argShapes[1]!.length !== 1) return false;
  // Y[m][r] = Σ_k v[m][k]·A[r][k] is `nt`; with A stored [K][R], Y[m][r] = Σ_k v[m][k]·A[k][r] is `nn`.
  w.product({ op: ta ? "nn" : "nt", dims: ta ? [K, R] : [R, K], args: [1, 0] });
  return true;
}

/** G[r][c] += Σ_row a[row][r] · b[row][c], into a param gradient. Needs a and b varying. */
export function emitOuterRows(w: RowWriter, R: number, C: number): boolean {
  if (!w.intoUniform || !w.argVarying[0] || !w.argVarying[1]) return false;
  w.product({ op: "tn", dims: [R, C], args: [0, 1] });
  return true;
}
