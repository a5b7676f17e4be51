/**
 * Where a command's diagnostics go: rendered to stderr (coloured on a terminal), or collected as
 * LSP-shaped JSON for `--json`; counted either way for the closing summary (`2 errors, 1 warning`)
 * and for `--deny-warnings`.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ANSI, lspDiagnostic, PLAIN, renderDiagnostics, type Diagnostic, type LspDiagnostic } from "../compiler/diagnostics.js";
import type { Source } from "../compiler/source.js";
import type { Io } from "./args.js";

export interface FileDiagnostics {
  readonly path: string;
  readonly uri: string;
  readonly diagnostics: LspDiagnostic[];
}

/** `2 errors, 1 warning`; empty for none. */
export function countsLine(errors: number, warnings: number): string {
  const part = (n: number, word: string) => (n === 0 ? [] : [`${n} ${word}${n === 1 ? "" : "s"}`]);
  return [...part(errors, "error"), ...part(warnings, "warning")].join(", ");
}

export class Reporter {
  errors = 0;
  warnings = 0;
  readonly files: FileDiagnostics[] = [];
  /** What the command adds to its JSON document (`wrote` for build). */
  readonly extra: Record<string, unknown> = {};

  constructor(
    private readonly io: Io,
    readonly json: boolean,
  ) {}

  /** Reports the diagnostics of one file (in JSON mode every checked file is listed, even a clean one). */
  report(source: Source, diagnostics: readonly Diagnostic[]): void {
    for (const d of diagnostics) d.severity === "error" ? this.errors++ : this.warnings++;
    if (this.json) {
      const uri = pathToFileURL(resolve(source.path)).href;
      this.files.push({ path: source.path, uri, diagnostics: diagnostics.map((d) => lspDiagnostic(d, source, uri)) });
    } else if (diagnostics.length > 0) {
      this.io.err(`${renderDiagnostics(diagnostics, source, this.io.color ? ANSI : PLAIN)}\n`);
    }
  }

  /** The JSON document of `--json`. */
  document(): Record<string, unknown> {
    return { files: this.files, errors: this.errors, warnings: this.warnings, ...this.extra };
  }

  summary(): string {
    return countsLine(this.errors, this.warnings);
  }
}

/** The Io a command runs with: output streams and the reporter of its diagnostics. */
export interface Context extends Io {
  readonly report: Reporter;
}
