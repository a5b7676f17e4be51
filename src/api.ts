/**
 * The compiler as a function from text to text, for tools that build on it (the bundler plugin,
 * editors, build scripts): `emitModules` takes a `.cell` source and returns each cell's module
 * text and the diagnostics, located in the source, without reading or writing any file.
 */
import { compileSource, type CompileOptions } from "../compiler/index.js";
import { CompileError, renderDiagnostic, type Diagnostic as CompilerDiagnostic, type Note } from "../compiler/diagnostics.js";
import { nearest } from "../compiler/messages.js";
import { Source, type Span } from "../compiler/source.js";
import { DataError } from "./runtime/errors.js";

export interface EmitOptions {
  /** The source's file name, shown in diagnostics and the module header (default `<input>`). */
  readonly path?: string;
  /** Overrides of the cells' default sizes; a name no emitted cell declares is an error. */
  readonly sizes?: Readonly<Record<string, number>>;
  /** Overrides for whichever cells declare them, ignored by the others (a bundler plugin's sizes); `sizes` wins. */
  readonly commonSizes?: Readonly<Record<string, number>>;
  /** Typed arrays of the emitted module (default "f32"). */
  readonly dtype?: "f32" | "f64";
  /** Matrix products in the runtime (default) or inline in the module. */
  readonly products?: "runtime" | "inline";
  /** Run the optimizing passes (default true). */
  readonly optimize?: boolean;
  /** The specifier emitted modules import the runtime from (default `rnnc/runtime`). */
  readonly runtime?: string;
  /** Emit only this cell of the source (default: every cell). */
  readonly cell?: string;
  /** "ts" (default): the TypeScript module `rnnc build` writes; "js": the same module as JavaScript. */
  readonly lang?: "ts" | "js";
  /** Format with prettier, as `rnnc build` does (default false: the text as emitted). */
  readonly format?: boolean;
}

/** Where a diagnostic or note points. Lines and columns are 1-based; columns count code points, as rnnc prints them. */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The span as UTF-16 offsets into the source: `[start, end)`. */
  readonly start: number;
  readonly end: number;
  /** The whole source line the span starts on. */
  readonly lineText: string;
}

export interface Diagnostic {
  readonly severity: "error" | "warning";
  /** The catalog code, e.g. `E3002`. */
  readonly code: string;
  readonly message: string;
  readonly location: Location;
  readonly notes: readonly { readonly message: string; readonly location?: Location }[];
  readonly hint?: string;
  /** As the CLI prints it: `file:line:col: error[E…]: …`, the source line and a caret. */
  readonly rendered: string;
}

export interface EmittedModule {
  /** The cell's name, which is also the module's file name in `rnnc build` (`<cell>.ts`). */
  readonly cell: string;
  readonly code: string;
}

export interface EmitResult {
  /** Empty when the source has errors. */
  readonly modules: readonly EmittedModule[];
  /** Errors and warnings, in source order. */
  readonly diagnostics: readonly Diagnostic[];
  /** Whether no diagnostic is an error. */
  readonly ok: boolean;
}

function locate(source: Source, span: Span): Location {
  const { line, col } = source.position(span.start);
  return { file: source.path, line, column: col, start: span.start, end: span.end, lineText: source.lineText(line) };
}

function toDiagnostic(d: CompilerDiagnostic, source: Source): Diagnostic {
  const note = (n: Note) => (n.span ? { message: n.message, location: locate(source, n.span) } : { message: n.message });
  return {
    severity: d.severity,
    code: d.code,
    message: d.message,
    location: locate(source, d.span),
    notes: d.notes.map(note),
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
    rendered: renderDiagnostic(d, source),
  };
}

/** Options that are not data of the source: wrong ones are the caller's mistake, thrown as `DataError`. */
function checkOptions(options: EmitOptions): void {
  const oneOf = (name: string, value: unknown, allowed: readonly unknown[]) => {
    if (value !== undefined && !allowed.includes(value)) throw new DataError(`options.${name}: expected ${allowed.map((a) => JSON.stringify(a)).join(" or ")}, got ${JSON.stringify(value)}`);
  };
  oneOf("dtype", options.dtype, ["f32", "f64"]);
  oneOf("products", options.products, ["runtime", "inline"]);
  oneOf("lang", options.lang, ["ts", "js"]);
  oneOf("optimize", options.optimize, [true, false]);
  oneOf("format", options.format, [true, false]);
  for (const key of ["sizes", "commonSizes"] as const) {
    for (const [name, value] of Object.entries(options[key] ?? {})) {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
        throw new DataError(`options.${key}.${name}: expected a positive integer, got ${JSON.stringify(value)}`);
    }
  }
}

/**
 * Compiles `source` and returns each cell's module text (TypeScript as `rnnc build` writes it, or
 * JavaScript), or the source's diagnostics. Touches no file. Throws `DataError` for options that
 * are wrong whatever the source (an unknown dtype), and for a size or cell the source does not have.
 */
export async function emitModules(source: string, options: EmitOptions = {}): Promise<EmitResult> {
  checkOptions(options);
  const warnings: Diagnostic[] = [];
  const text = new Source(options.path ?? "<input>", source);
  const compileOptions: CompileOptions = {
    path: options.path ?? "<input>",
    sizes: { ...options.commonSizes, ...options.sizes },
    dtype: options.dtype ?? "f32",
    products: options.products ?? "runtime",
    optimize: options.optimize ?? true,
    runtime: options.runtime ?? "rnnc/runtime",
    onWarnings: (_, ds) => void warnings.push(...ds.map((d) => toDiagnostic(d, text))),
  };
  let cells;
  try {
    cells = compileSource(source, compileOptions);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return { modules: [], diagnostics: e.diagnostics.map((d) => toDiagnostic(d, e.source)), ok: false };
  }
  if (options.cell !== undefined) {
    const names = cells.map((c) => c.name);
    cells = cells.filter((c) => c.name === options.cell);
    if (cells.length === 0) throw new DataError(`options.cell: no cell named '${options.cell}' (have ${names.join(", ")})`);
  }
  const declared = [...new Set(cells.flatMap((c) => [...c.ir.sizes.keys()]))];
  for (const name of Object.keys(options.sizes ?? {})) {
    if (declared.includes(name)) continue;
    const near = nearest(name, declared);
    throw new DataError(`options.sizes.${name}: no size '${name}'${near ? `; did you mean '${near}'?` : ""} (sizes: ${declared.join(", ") || "none"})`);
  }
  // JavaScript comes straight from the compiler; TypeScript and formatting load ts-morph and
  // prettier, only when asked for.
  const js = options.lang === "js";
  const build = js && !options.format ? undefined : await import("../compiler/build.js");
  const modules = await Promise.all(
    cells.map(async (c) => {
      if (!build) return { cell: c.name, code: c.code };
      const text = js ? c.code : build.typescriptModule(c);
      return { cell: c.name, code: options.format ? await build.formatModule(text) : text };
    }),
  );
  return { modules, diagnostics: warnings, ok: true };
}
