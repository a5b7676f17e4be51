/**
 * Runs a compiled cell's module in-process: its JavaScript, in function form, given this
 * package's runtime. No TypeScript is involved — the module comes from the compiler's own
 * description (`CompiledCell.module`), not from text of unknown origin (`load` takes that).
 */
import { renderJavaScript, type CellModule } from "../compiler/codegen/module.js";
import { LOADER_BINDINGS } from "./runtime/abi.js";
import * as runtime from "./runtime/index.js";
import type { Cell } from "./runtime/types.js";

const [RUNTIME] = LOADER_BINDINGS;

/** The live `Cell` of a compiled module. */
export function instantiate(compiled: { readonly module: CellModule }): Cell {
  const run = new Function(RUNTIME, renderJavaScript(compiled.module, "function")) as (r: typeof runtime) => Cell;
  return run(runtime);
}
