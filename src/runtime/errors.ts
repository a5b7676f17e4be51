/** Errors the runtime reports about what a caller gave it. */

/** Wrong input to a cell — a missing tensor, a wrong length or type — naming the offending field. */
export class DataError extends Error {
  override name = "DataError";
}
