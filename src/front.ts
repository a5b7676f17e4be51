/**
 * The compiler's front end for the commands that need no emitted code (`check`, `graph`,
 * `explain`): parsing, checking and, for drawing, lowering and differentiation. None of it loads
 * TypeScript, ts-morph or prettier; the commands that emit code import `compiler/index.js` lazily.
 */
import type { CheckedCell } from "../compiler/ast.js";
import { differentiate } from "../compiler/autodiff.js";
import { checkFile } from "../compiler/check.js";
import { DiagnosticBag, type Diagnostic } from "../compiler/diagnostics.js";
import type { CellIR } from "../compiler/ir/cell.js";
import { lowerCell } from "../compiler/lower.js";
import { parseFile } from "../compiler/parser.js";
import { Source } from "../compiler/source.js";

/** A checked file: its source, every diagnostic (errors and warnings, by position), and its cells if it has no error. */
export interface CheckedFile {
  readonly source: Source;
  readonly diagnostics: readonly Diagnostic[];
  readonly cells: readonly CheckedCell[];
  readonly ok: boolean;
}

/** Parses and checks `text` as `compileSource` does, keeping the warnings with the errors. */
export function checkText(path: string, text: string, sizes: ReadonlyMap<string, number> = new Map()): CheckedFile {
  const source = new Source(path, text);
  const bag = new DiagnosticBag(source);
  const file = parseFile(source, bag);
  const cells = bag.hasErrors ? [] : checkFile(file, source, bag, { sizes });
  return { source, diagnostics: bag.sorted(), cells: bag.hasErrors ? [] : cells, ok: !bag.hasErrors };
}

/** A checked cell lowered to IR, with its derived backward (before the optimizing passes). */
export function differentiated(cell: CheckedCell): CellIR {
  return differentiate(lowerCell(cell));
}
