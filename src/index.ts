/**
 * rnnc's public API. `compile` runs the whole compiler in-process and returns the same `Cell` a
 * module from `rnnc build` exports — for tests, notebooks and gradient checks of cells written at
 * run time.
 */
import { compileSource, type CompileOptions } from "../compiler/index.js";
import { load } from "./load.js";
import type { Cell } from "./runtime/types.js";

export interface InProcessOptions extends Omit<CompileOptions, "runtime"> {
  /** Which cell of a file with several (default: the only one). */
  readonly cell?: string;
}

/** Compiles every cell of `source`, keyed by cell name. */
export function compileAll(source: string, options: InProcessOptions = {}): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  for (const compiled of compileSource(source, { ...options, runtime: "rnnc/runtime" })) {
    cells.set(compiled.name, load(compiled.code));
  }
  return cells;
}

/** Compiles one cell of `source`: the only one, or the one named by `options.cell`. */
export function compile(source: string, options: InProcessOptions = {}): Cell {
  const cells = compileAll(source, options);
  if (options.cell !== undefined) {
    const cell = cells.get(options.cell);
    if (!cell) throw new Error(`cell: no cell named '${options.cell}' (have ${[...cells.keys()].join(", ")})`);
    return cell;
  }
  if (cells.size !== 1) throw new Error(`cell: the source has ${cells.size} cells (${[...cells.keys()].join(", ")}); name one`);
  return cells.values().next().value!;
}

export { CompileError } from "../compiler/diagnostics.js";
export type { CompileOptions };
export * from "./runtime/types.js";
