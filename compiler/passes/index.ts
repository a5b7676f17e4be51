/** The optimization passes, in the order they run. Each takes and returns a `CellIR`. */
import type { CellIR } from "../ir/cell.js";
import { assertValidIR, verifyByDefault } from "../ir/verify.js";
import { cse } from "./cse.js";
import { dce } from "./dce.js";
import { simplify, type Layout } from "./simplify.js";
import { stack } from "./stack.js";

export interface PassOptions {
  /** Run the optimizing passes (default true). */
  readonly optimize?: boolean;
  readonly onPass?: (label: string, ir: CellIR) => void;
  /**
   * Verify the IR (ir/verify.ts) handed in and after every pass, throwing on a broken invariant
   * (default: on when the environment has `RNNC_VERIFY=1`).
   */
  readonly verify?: boolean;
  /** Stack matrix products that share an operand (default true). */
  readonly stack?: boolean;
  /**
   * Where transposes are folded into the products that read them: "backward" (the default), "all",
   * or "none". Like stacking, this hands a sum to another product kernel, which may add its terms
   * in another order, so by default the forward keeps its transposes and every bit; with stacking
   * and layout both off, the passes change no bit of any result (every value rewrite is exact in
   * IEEE 754). An exported model, which no unoptimized build is compared with, folds them all.
   */
  readonly layout?: Layout;
}

export function optimize(ir: CellIR, options: PassOptions = {}): CellIR {
  const verify = options.verify ?? verifyByDefault();
  const seen = (label: string, next: CellIR) => {
    if (verify) assertValidIR(next, label);
    options.onPass?.(label, next);
    return next;
  };
  if (verify) assertValidIR(ir, "autodiff");
  if (options.optimize === false) return seen("dce", dce(ir));
  let out = seen("simplify", simplify(ir, { layout: options.layout ?? "backward" }).ir);
  if (options.stack !== false) out = seen("stack", stack(out));
  out = seen("cse", cse(out));
  return seen("dce", dce(out));
}
