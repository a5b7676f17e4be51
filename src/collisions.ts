/**
 * `rnnc build` writes one module per cell, named after the cell. Two cells whose modules would be
 * one file (the same name in two files, or names that differ only in case, which are one file on
 * a case-insensitive file system such as macOS's or Windows') would lose one of them: each such
 * pair is an error naming both cells where they are defined.
 */
import { DiagnosticBag, location, renderDiagnostic, type Diagnostic } from "../compiler/diagnostics.js";
import { E } from "../compiler/messages.js";
import { parseFile } from "../compiler/parser.js";
import { Source, type Span } from "../compiler/source.js";

export interface PlannedModule {
  readonly file: { readonly path: string; readonly text: string };
  readonly cell: { readonly name: string };
  /** Where the module would be written. */
  readonly path: string;
}

/** One rendered error for each module that would overwrite an earlier one; empty when none does. */
export function collisions(modules: readonly PlannedModule[]): string[] {
  const first = new Map<string, PlannedModule>();
  const errors: string[] = [];
  for (const m of modules) {
    const key = m.path.normalize("NFC").toLowerCase();
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, m);
    else errors.push(render(m, earlier));
  }
  return errors;
}

function render(m: PlannedModule, earlier: PlannedModule): string {
  const here = cellAt(m);
  const there = cellAt(earlier);
  const name = m.cell.name;
  const sameName = earlier.cell.name === name;
  const message = sameName
    ? `cell '${name}' is also defined in '${earlier.file.path}': both would be written to '${m.path}'`
    : `cell '${name}' would be written to '${m.path}', which is '${earlier.path}' of cell '${earlier.cell.name}' on a case-insensitive file system`;
  const d: Diagnostic = {
    severity: "error",
    code: E.duplicateCell,
    message,
    span: here.span,
    notes: [{ message: `cell '${earlier.cell.name}' is first defined at ${location(there.source, there.span)}` }],
    hint: "rename one of the cells, or build the files into different --out directories",
  };
  return renderDiagnostic(d, here.source);
}

/** The span of the cell's name in its file (the file compiled cleanly, so the cell is there). */
function cellAt(m: PlannedModule): { source: Source; span: Span } {
  const source = new Source(m.file.path, m.file.text);
  const cell = parseFile(source, new DiagnosticBag(source)).cells.find((c) => c.name === m.cell.name);
  return { source, span: cell?.nameSpan ?? { start: 0, end: 0 } };
}
