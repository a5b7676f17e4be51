/**
 * rnnc's public API. `compile` runs the whole compiler in-process and returns the same `Cell` a
 * module from `rnnc build` exports — for tests, notebooks and gradient checks of cells written at
 * run time.
 */
import { compileSource, type CompileOptions, type CompiledCell } from "../compiler/index.js";
import { nearest } from "../compiler/messages.js";
import { instantiate } from "./instantiate.js";
import { DTYPES, PRODUCTS_MODES, isOneOf } from "./runtime/abi.js";
import { DataError } from "./runtime/errors.js";
import type { Cell } from "./runtime/types.js";

export interface InProcessOptions extends Omit<CompileOptions, "runtime"> {
  /** Which cell of a file with several (default: the only one). */
  readonly cell?: string;
}

/** `"a", "b" or "c"`. */
const oneOf = (values: readonly string[]) => values.map((v) => JSON.stringify(v)).join(", ").replace(/, ([^,]*)$/, " or $1");

/** Each option `compile` takes, with the values it allows (undefined always means the default). */
const OPTIONS: Readonly<Record<keyof InProcessOptions, { readonly allowed: string; readonly ok: (v: unknown) => boolean }>> = {
  path: { allowed: "a string", ok: (v) => typeof v === "string" },
  cell: { allowed: "a string (a cell's name)", ok: (v) => typeof v === "string" },
  sizes: { allowed: "an object of size names to positive integers", ok: (v) => typeof v === "object" && v !== null && !Array.isArray(v) },
  dtype: { allowed: oneOf(DTYPES), ok: (v) => isOneOf(DTYPES, v) },
  products: { allowed: oneOf(PRODUCTS_MODES), ok: (v) => isOneOf(PRODUCTS_MODES, v) },
  optimize: { allowed: "true or false", ok: (v) => typeof v === "boolean" },
  onPass: { allowed: "a function", ok: (v) => typeof v === "function" },
  onWarnings: { allowed: "a function", ok: (v) => typeof v === "function" },
  layout: { allowed: '"backward", "all" or "none"', ok: (v) => v === "backward" || v === "all" || v === "none" },
};

const show = (v: unknown): string =>
  typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? "an array" : v !== null && typeof v === "object" ? "an object" : typeof v === "function" ? "a function" : String(v);

/** Rejects unknown options and values an option does not allow, naming the option. */
function checkOptions(options: unknown): InProcessOptions {
  if (typeof options !== "object" || options === null) throw new DataError(`options: expected an object, got ${show(options)}`);
  const known = Object.keys(OPTIONS);
  for (const [key, value] of Object.entries(options)) {
    if (!Object.prototype.hasOwnProperty.call(OPTIONS, key)) {
      const near = nearest(key, known);
      throw new DataError(`options.${key}: unknown option${near ? `; did you mean '${near}'?` : ""} (expected ${known.join(", ")})`);
    }
    const option = OPTIONS[key as keyof InProcessOptions];
    if (value !== undefined && !option.ok(value)) throw new DataError(`options.${key}: expected ${option.allowed}, got ${show(value)}`);
  }
  for (const [name, value] of Object.entries((options as InProcessOptions).sizes ?? {})) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
      throw new DataError(`options.sizes.${name}: expected a positive integer, got ${show(value)}`);
  }
  return options as InProcessOptions;
}

/** Rejects a size in `options.sizes` that none of `cells` declares, naming the cells' sizes. */
function checkSizeNames(sizes: InProcessOptions["sizes"], cells: readonly CompiledCell[]): void {
  const declared = [...new Set(cells.flatMap((c) => [...c.ir.sizes.keys()]))];
  for (const name of Object.keys(sizes ?? {})) {
    if (declared.includes(name)) continue;
    const near = nearest(name, declared);
    const whose = cells.length === 1 ? `cell '${cells[0]!.name}'` : "the cells";
    throw new DataError(
      `options.sizes.${name}: ${whose} ${cells.length === 1 ? "has" : "have"} no size '${name}'${near ? `; did you mean '${near}'?` : ""} (sizes: ${declared.join(", ") || "none"})`,
    );
  }
}

/** Every cell of `source` compiled (not yet loaded), by name, after checking the options. */
function compileCells(source: string, options: InProcessOptions): Map<string, CompiledCell> {
  const { cell: _, ...rest } = checkOptions(options);
  return new Map(compileSource(source, { ...rest, runtime: "rnnc/runtime" }).map((c) => [c.name, c]));
}

/** Compiles every cell of `source`, keyed by cell name. */
export function compileAll(source: string, options: InProcessOptions = {}): Map<string, Cell> {
  const compiled = compileCells(source, options);
  checkSizeNames(options.sizes, [...compiled.values()]);
  return new Map([...compiled].map(([name, c]) => [name, instantiate(c)]));
}

/** Compiles one cell of `source`: the only one, or the one named by `options.cell`. */
export function compile(source: string, options: InProcessOptions = {}): Cell {
  const cells = compileCells(source, options);
  const names = [...cells.keys()].join(", ");
  let picked: CompiledCell | undefined;
  if (options.cell !== undefined) {
    picked = cells.get(options.cell);
    if (!picked) throw new DataError(`cell: no cell named '${options.cell}' (have ${names})`);
  } else {
    if (cells.size !== 1) throw new DataError(`cell: the source has ${cells.size} cells (${names}); name one`);
    picked = cells.values().next().value!;
  }
  checkSizeNames(options.sizes, [picked]);
  return instantiate(picked);
}

export { CompileError } from "../compiler/diagnostics.js";
export { DataError } from "./runtime/errors.js";
export { bumpParams, trackParams } from "./runtime/params.js";
export type { CompileOptions };
export * from "./runtime/types.js";
export { emitModules, type EmitOptions, type EmitResult, type EmittedModule, type Diagnostic, type Location } from "./api.js";
