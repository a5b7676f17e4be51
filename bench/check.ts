/**
 * `--check`: the self-checks the benchmark's numbers rest on.
 * 1. gemm against the textbook triple loop, over odd shapes and all three layouts.
 * 2. The hand-fused LSTM's gradients (W, b, x) in float64 against central finite differences.
 * 3. float32 against float64, and the one-step kernel against the sequence forward.
 * 4. TF.js cpu's LSTM (the TF.js contestants' code) against the hand-fused one: same outputs and
 *    gradients, so both compute the same math.
 * 5. rnnc's compiled LSTM (all passes and passes off), when compile() is available, against the
 *    hand-fused one.
 * 6. PyTorch (float64, outputs and gradients) and ONNX Runtime (float32 forward) against rnnc
 *    (bench/check-native.ts); skipped with the reason when torch or onnxruntime-node is missing.
 */

import { checkGemm, checkGradients, type Row } from "./check-hand.js";
import { checkNative } from "./check-native.js";
import { checkRnnc, checkTfjs } from "./check-peers.js";

/** Runs every check, prints one row each; returns the exit code. */
export async function runCheck(): Promise<number> {
  const rows: Row[] = [checkGemm(), ...checkGradients(), ...(await checkTfjs()), ...(await checkRnnc()), ...(await checkNative())];
  let failed = 0;
  for (const r of rows) {
    if (r.skipped !== undefined) {
      console.log(`skip  ${r.name.padEnd(58)} ${r.skipped}`);
      continue;
    }
    const ok = r.error <= r.tol;
    if (!ok) failed++;
    const err = Number.isFinite(r.error) ? r.error.toExponential(2) : "n/a";
    console.log(`${ok ? "ok  " : "FAIL"}  ${r.name.padEnd(58)} ${err.padStart(9)}  (tol ${r.tol.toExponential(0)})${r.note ? "  " + r.note : ""}`);
  }
  console.log(failed === 0 ? "all checks passed" : `${failed} check(s) failed`);
  return failed === 0 ? 0 : 1;
}
