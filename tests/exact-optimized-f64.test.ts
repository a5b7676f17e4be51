/**
 * Fully optimized float64 builds against unoptimized ones, on random cells with special constants.
 *
 * Forward outputs and final states agree on every bit: stacked and hoisted products give each
 * output the same sum in the same order, one row or T·B rows at a time; a sink adds its terms in
 * the IR's order (codegen/body.ts); sums of transposed products are stacked, and transposes folded
 * into products, only in the backward (passes/stack.ts, passes/simplify.ts). 1,000 cells, so that
 * with the value-rewrite files 2,000 cells are compared bit for bit in every run.
 *
 * Gradients cannot agree on every bit without giving up two optimizations, because both add the
 * same terms in another order:
 * - deferral: a param gradient is one product over all T·B rows after the recurrence, summing the
 *   rows in ascending steps, in blocks, from zero, and added to the gradient once; unoptimized, each
 *   step adds its own B-row sum to the gradient as the recurrence runs from step T−1 down to 0;
 * - stacking in the backward: Σ_g U_gᵀ·d_g (the gradient reaching h from every gate) is one product over the
 *   stacked rows, one running sum across all gates; unoptimized, each gate's product is its own
 *   sum and the sums are added afterwards. Folding a transpose into a product (`Aᵀ·v` read from A)
 *   likewise hands the sum to another product kernel with its own order (the runtime's SIMD `nt`
 *   sums k in lanes, `nn` sums k in sequence).
 * Summing in the unoptimized order would mean one running sum per element in the recurrence's
 * order and one product per gate, which is what those optimizations exist to avoid. So gradients
 * must be finite where finite, within 1e-12 relative, and non-finite where non-finite: which of NaN,
 * +∞ and −∞ an overflowing sum ends at depends on the order of its terms (random cells reach it:
 * −1e308 − 1e308 + ∞ is NaN where −1e308 + ∞ − 1e308 is +∞). The value-level rewrites alone are
 * bit-exact backward too (tests/exact-values-f64.test.ts).
 */
import { it } from "vitest";
import { checkCells } from "./helpers/bitwise.js";

it("optimized float64 builds give the same forward bits and the same gradients to 1e-12 as unoptimized ones", () => {
  checkCells("on", "f64", 1000, 103);
}, 600_000);
