/**
 * The front end alone: source text to checked cells, with every diagnostic. Commands that only
 * check (`rnnc check`) load this and what it imports, not the rest of the pipeline (`index.ts`).
 */
import type { CheckedCell } from "./ast.js";
import { checkFile } from "./check.js";
import { DiagnosticBag, type Diagnostic } from "./diagnostics.js";
import { parseFile } from "./parser.js";
import { Source } from "./source.js";

/** A checked file: its source, every diagnostic (errors and warnings, by position), and its cells if it has no error. */
export interface CheckedFile {
  readonly source: Source;
  readonly diagnostics: readonly Diagnostic[];
  readonly cells: readonly CheckedCell[];
  readonly ok: boolean;
}

/** Parses and checks `text`, keeping the warnings with the errors; throws nothing for a wrong cell. */
export function checkText(path: string, text: string, sizes: ReadonlyMap<string, number> = new Map()): CheckedFile {
  const source = new Source(path, text);
  const bag = new DiagnosticBag(source);
  const file = parseFile(source, bag);
  const cells = bag.hasErrors ? [] : checkFile(file, source, bag, { sizes });
  return { source, diagnostics: bag.sorted(), cells: bag.hasErrors ? [] : cells, ok: !bag.hasErrors };
}
