/**
 * Diagnostics: every user-visible error has a code from one catalog, one primary span, and notes
 * with their own spans. Rendering follows the form compilers use:
 *
 *   lstm.cell:7:15: error[E3002]: shape mismatch in '+': Wi·x is [16] but Ui·h is [32]
 *       7 |   i = σ(Wi·x + Ui·h + bi)
 *         |         ^^^^^^^^^^^
 *   note: Ui is declared [32, 16] at lstm.cell:3:9
 */
import { MAX_ERRORS, SNIPPET_WIDTH } from "./limits.js";
import { E } from "./messages.js";
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

/**
 * Collects diagnostics for one source, never two at the same spot, and at most `MAX_ERRORS`
 * errors: the next one is replaced by a last diagnostic saying the rest are not reported, and
 * `full` tells the stages to stop looking for more.
 */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  private readonly errorStarts = new Set<number>();
  private errors = 0;
  private warnings = 0;
  private stopped: Diagnostic | undefined;

  constructor(readonly source: Source) {}

  /** Whether no further error will be reported (the limit is reached). */
  get full(): boolean {
    return this.stopped !== undefined;
  }

  error(code: string, message: string, span: Span, notes: Note[] = [], hint?: string): void {
    if (this.stopped || this.errorStarts.has(span.start)) return;
    if (this.errors === MAX_ERRORS) {
      const message = `too many errors; stopping after ${MAX_ERRORS}`;
      this.stopped = { severity: "error", code: E.tooManyErrors, message, span, notes: [] };
      return;
    }
    this.errors++;
    this.errorStarts.add(span.start);
    this.items.push({ severity: "error", code, message, span, notes, hint });
  }

  warning(code: string, message: string, span: Span, notes: Note[] = [], hint?: string): void {
    if (this.stopped || this.warnings === MAX_ERRORS) return;
    this.warnings++;
    this.items.push({ severity: "warning", code, message, span, notes, hint });
  }

  get hasErrors(): boolean {
    return this.errors > 0;
  }

  /** By position, then the note that errors were left out, if any. */
  sorted(): Diagnostic[] {
    const ordered = [...this.items].sort((a, b) => a.span.start - b.span.start);
    return this.stopped ? [...ordered, this.stopped] : ordered;
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

/** How rendered diagnostics are styled: plain text, or ANSI colours on a terminal. */
export interface Paint {
  readonly severity: (severity: Severity, text: string) => string;
  readonly bold: (text: string) => string;
  readonly note: (text: string) => string;
  readonly help: (text: string) => string;
  readonly gutter: (text: string) => string;
}

const same = (text: string): string => text;
export const PLAIN: Paint = { severity: (_, t) => t, bold: same, note: same, help: same, gutter: same };

const ansi = (code: string) => (text: string): string => `\x1b[${code}m${text}\x1b[0m`;
/** rustc's colours: errors red, warnings yellow, notes and gutters blue, help cyan, the header bold. */
export const ANSI: Paint = {
  severity: (severity, t) => ansi(severity === "error" ? "1;31" : "1;33")(t),
  bold: ansi("1"), note: ansi("1;34"), help: ansi("1;36"), gutter: ansi("34"),
};

export function renderDiagnostic(d: Diagnostic, source: Source, paint: Paint = PLAIN): string {
  const out: string[] = [];
  out.push(`${paint.bold(`${location(source, d.span)}:`)} ${paint.severity(d.severity, `${d.severity}[${d.code}]`)}${paint.bold(`: ${d.message}`)}`);
  out.push(...renderSnippet(source, d.span, d.severity, paint));
  for (const note of d.notes) {
    out.push(`${paint.note("note:")} ${note.message}${note.span ? ` at ${location(source, note.span)}` : ""}`);
  }
  if (d.hint) out.push(`${paint.help("help:")} ${d.hint}`);
  return out.join("\n");
}

export function renderDiagnostics(ds: readonly Diagnostic[], source: Source, paint: Paint = PLAIN): string {
  return ds.map((d) => renderDiagnostic(d, source, paint)).join("\n\n");
}

/** A position as the Language Server Protocol counts it: 0-based line, UTF-16 code units into the line. */
export interface LspPosition {
  readonly line: number;
  readonly character: number;
}
export interface LspRange {
  readonly start: LspPosition;
  readonly end: LspPosition;
}

/** A diagnostic in the shape of LSP's `Diagnostic` (severity 1 error, 2 warning), `help` kept apart for tools. */
export interface LspDiagnostic {
  readonly range: LspRange;
  readonly severity: 1 | 2;
  readonly code: string;
  readonly source: "rnnc";
  readonly message: string;
  readonly relatedInformation: readonly { readonly location: { readonly uri: string; readonly range: LspRange }; readonly message: string }[];
  readonly help?: string;
}

export function lspRange(source: Source, span: Span): LspRange {
  const at = (offset: number): LspPosition => {
    const line = source.lineIndex(offset);
    return { line, character: offset - source.lineSpan(line + 1).start };
  };
  return { start: at(span.start), end: at(Math.max(span.start, span.end)) };
}

/**
 * `d` for an editor: notes with a span become related information at `uri`; notes without one,
 * and the help, are added to the message as lines of their own (as editors show them).
 */
export function lspDiagnostic(d: Diagnostic, source: Source, uri: string): LspDiagnostic {
  const lines = [d.message, ...d.notes.filter((n) => !n.span).map((n) => `note: ${n.message}`), ...(d.hint ? [`help: ${d.hint}`] : [])];
  return {
    range: lspRange(source, d.span),
    severity: d.severity === "error" ? 1 : 2,
    code: d.code,
    source: "rnnc",
    message: lines.join("\n"),
    relatedInformation: d.notes.flatMap((n) => (n.span ? [{ location: { uri, range: lspRange(source, n.span) }, message: n.message }] : [])),
    ...(d.hint ? { help: d.hint } : {}),
  };
}

/**
 * The source line of `span` and a caret underline (clipped to that first line). A line longer than
 * `SNIPPET_WIDTH` is shown around the caret, its cut ends marked with `…`.
 */
function renderSnippet(source: Source, span: Span, severity: Severity = "error", paint: Paint = PLAIN): string[] {
  const { line } = source.position(span.start);
  const { from, to, cutStart, cutEnd } = snippetWindow(source, line, span.start);
  const columns = (end: number) => source.codePoints(from, end);
  const lead = cutStart ? 1 : 0;
  const col = lead + columns(span.start) + 1;
  const endCol = span.end <= to && source.position(span.end).line === line ? lead + columns(span.end) + 1 : lead + columns(to) + 1;
  const width = Math.max(1, endCol - col);
  const text = source.text.slice(from, to).replace(/\t/g, " ");
  const gutter = Math.max(5, String(line).length + 1);
  const pad = " ".repeat(gutter);
  return [
    `${paint.gutter(`${String(line).padStart(gutter)} |`)} ${cutStart ? "…" : ""}${text}${cutEnd ? "…" : ""}`,
    `${paint.gutter(`${pad} |`)} ${" ".repeat(col - 1)}${paint.severity(severity, "^".repeat(width))}`,
  ];
}

/** The part of line `line` shown around `offset`: at most `SNIPPET_WIDTH` code units, whole characters. */
function snippetWindow(source: Source, line: number, offset: number) {
  const { start, end } = source.lineSpan(line);
  if (end - start <= SNIPPET_WIDTH) return { from: start, to: end, cutStart: false, cutEnd: false };
  let from = Math.max(start, Math.min(offset - SNIPPET_WIDTH / 4, end - SNIPPET_WIDTH));
  let to = Math.min(end, from + SNIPPET_WIDTH);
  if (from > start && isLowSurrogate(source.text.charCodeAt(from))) from++;
  if (to < end && isLowSurrogate(source.text.charCodeAt(to))) to--;
  return { from, to, cutStart: from > start, cutEnd: to < end };
}

const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;
