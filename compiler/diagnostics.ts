/**
 * Diagnostics: every user-visible error has a code from one catalog, one primary span, and notes
 * with their own spans. Rendering follows the form compilers use:
 *
 *   lstm.cell:7:15: error[E3002]: shape mismatch in '+': Wi·x is [16] but Ui·h is [32]
 *       7 |   i = σ(Wi·x + Ui·h + bi)
 *         |         ^^^^^^^^^^^
 *   note: Ui is declared [32, 16] at lstm.cell:3:9
 */
import { Source, type Span } from "./source.js";

export type Severity = "error" | "warning";

export interface Note {
  readonly message: string;
  readonly span?: Span;
}

export interface Diagnostic {
  readonly severity: Severity;
  readonly code: string;
  readonly message: string;
  readonly span: Span;
  readonly notes: readonly Note[];
  readonly hint?: string;
}

/** Collects diagnostics for one source, never two at the same spot. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  constructor(readonly source: Source) {}

  error(code: string, message: string, span: Span, notes: Note[] = [], hint?: string): void {
    if (this.items.some((d) => d.span.start === span.start && d.severity === "error")) return;
    this.items.push({ severity: "error", code, message, span, notes, hint });
  }

  warning(code: string, message: string, span: Span, notes: Note[] = []): void {
    this.items.push({ severity: "warning", code, message, span, notes });
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }

  sorted(): Diagnostic[] {
    return [...this.items].sort((a, b) => a.span.start - b.span.start);
  }
}

/** Thrown by compiler entry points when a source has errors; carries the rendered text. */
export class CompileError extends Error {
  constructor(
    readonly diagnostics: readonly Diagnostic[],
    readonly source: Source,
  ) {
    super(renderDiagnostics(diagnostics, source));
    this.name = "CompileError";
  }
}

export function location(source: Source, span: Span): string {
  const { line, col } = source.position(span.start);
  return `${source.path}:${line}:${col}`;
}

export function renderDiagnostic(d: Diagnostic, source: Source): string {
  const out: string[] = [];
  out.push(`${location(source, d.span)}: ${d.severity}[${d.code}]: ${d.message}`);
  out.push(...renderSnippet(source, d.span));
  for (const note of d.notes) {
    out.push(note.span ? `note: ${note.message} at ${location(source, note.span)}` : `note: ${note.message}`);
  }
  if (d.hint) out.push(`help: ${d.hint}`);
  return out.join("\n");
}

export function renderDiagnostics(ds: readonly Diagnostic[], source: Source): string {
  return ds.map((d) => renderDiagnostic(d, source)).join("\n\n");
}

/** The source line of `span` and a caret underline (clipped to that first line). */
function renderSnippet(source: Source, span: Span): string[] {
  const { line, col } = source.position(span.start);
  const text = source.lineText(line).replace(/\t/g, " ");
  const lineChars = [...text];
  const endPos = source.position(Math.max(span.start, span.end));
  const endCol = endPos.line === line ? endPos.col : lineChars.length + 1;
  const width = Math.max(1, endCol - col);
  const gutter = Math.max(5, String(line).length + 1);
  const pad = " ".repeat(gutter);
  return [
    `${String(line).padStart(gutter)} | ${text}`,
    `${pad} | ${" ".repeat(col - 1)}${"^".repeat(width)}`,
  ];
}
