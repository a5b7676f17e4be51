/**
 * An element loop's values as trees, beside their text: what a statement of an element loop
 * computes for element i of row m, in terms the WebAssembly element loops (`compiler/wasm/loops.ts`)
 * compile from. The text (`ir.ts`) stays what the JavaScript kernel runs; the tree says the same
 * thing structurally: reads of stored elements, locals and scalars by name, and ops applied.
 */
import type { Attrs } from "../../ir/graph.js";
import type { Ix } from "./index-expr.js";

export type Val =
  /**
   * An element of a stored value: row m's element i at `base + m·stride + i` (`element`), or its
   * row's one element at `base + m·stride` (a value of one element a row, the same for every i).
   * `base` is the flat index of row 0's first element; `stride` 0 for a value the same in every row.
   */
  | { readonly kind: "load"; readonly array: string; readonly base: Ix; readonly stride: number; readonly element: boolean }
  /** A local of the loop (a `const` before it), or a scalar of the kernel's. */
  | { readonly kind: "name"; readonly name: string }
  /** An elementwise op of `compiler/ops` applied to its arguments. */
  | { readonly kind: "op"; readonly op: string; readonly attrs: Attrs; readonly args: readonly Val[] };

export const load = (array: string, base: Ix, stride: number, element: boolean): Val => ({ kind: "load", array, base, stride, element });
export const named = (name: string): Val => ({ kind: "name", name });
export const applied = (op: string, attrs: Attrs, args: readonly Val[]): Val => ({ kind: "op", op, attrs, args });
