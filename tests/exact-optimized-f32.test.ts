/**
 * Fully optimized float32 builds against unoptimized ones: forward outputs and final states agree
 * on every bit. Their gradients are sums in another order (see tests/exact-optimized-f64.test.ts),
 * each partial sum rounded to float32, so they are not compared here; the value-level rewrites
 * keep float32 gradients bit for bit (tests/exact-values-f32.test.ts).
 */
import { it } from "vitest";
import { checkCells } from "./helpers/bitwise.js";

it("optimized float32 builds give the same forward bits as unoptimized ones", () => {
  checkCells("on", "f32", 500, 104);
}, 600_000);
