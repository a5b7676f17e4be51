/** One-line helper for tests of the runtime's checks: `run` must throw a `DataError`. */
import { expect } from "vitest";
import { DataError } from "../../src/runtime/errors.js";

/** The message of the `DataError` that `run` throws (any other outcome fails the test). */
export function dataError(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  return expect.fail("expected a DataError, nothing was thrown");
}
