/**
 * The compiler's front end for the commands that need no emitted code (`check`, `graph`,
 * `explain`): parsing, checking and, for drawing, lowering and differentiation. None of it loads
 * TypeScript, ts-morph or prettier (`checkText` is `compiler/front.js`'s: the front end without the rest of the pipeline).
 */
import type { CheckedCell } from "../compiler/ast.js";
import { differentiate } from "../compiler/autodiff.js";
import type { CellIR } from "../compiler/ir/cell.js";
import { lowerCell } from "../compiler/lower.js";

export { checkText, type CheckedFile } from "../compiler/front.js";

/** A checked cell lowered to IR, with its derived backward (before the optimizing passes). */
export function differentiated(cell: CheckedCell): CellIR {
  return differentiate(lowerCell(cell));
}
