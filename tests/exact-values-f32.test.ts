/**
 * As tests/exact-values-f64.test.ts, for float32 builds: the kernels compute in float64 and round
 * where they store into Float32Array, so a rewrite must neither add nor remove such a store; the
 * value-level rewrites leave every bit as it was, forward and backward.
 */
import { it } from "vitest";
import { checkCells } from "./helpers/bitwise.js";

it("simplify, constant folding, CSE and DCE change no bit of a float32 build, forward or backward", () => {
  checkCells("values", "f32", 500, 102);
}, 600_000);
