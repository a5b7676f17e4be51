/**
 * Run-time limits. One typed array — a param, an input or output sequence, a state history, a
 * tape, a workspace buffer — holds at most `MAX_ELEMENTS` numbers (4 GiB in float32, 8 GiB in
 * float64): what a call needs at its T and B is checked against it before anything is allocated.
 * The compiler's own limits on declared sizes can share this number.
 */
import { DataError } from "./errors.js";

/** The most numbers one typed array may hold: 2^30. */
export const MAX_ELEMENTS = 2 ** 30;

/**
 * Throws a `DataError` when `what` needs more than `MAX_ELEMENTS` numbers. `count` is the element
 * count, `formula` how it follows from the call's sizes (e.g. `(T+1)·B·16`), `at` those sizes.
 */
export function checkElements(what: string, count: number, formula: string, at: string): void {
  if (count <= MAX_ELEMENTS) return;
  const n = count < 1e15 ? count.toLocaleString("en-US") : count.toExponential(2);
  throw new DataError(
    `${at}: ${what} needs ${n} numbers (${formula}), more than the limit of ${MAX_ELEMENTS.toLocaleString("en-US")} (2^30) numbers per array`,
  );
}
