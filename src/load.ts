/** Turns an emitted module's text into a live `Cell`, giving it this package's runtime. */
import { ts } from "ts-morph";
import * as runtime from "./runtime/index.js";
import type { Cell } from "./runtime/types.js";

export const RUNTIME_SPECIFIER = "rnnc/runtime";

export function load(code: string): Cell {
  const js = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const exports: Record<string, unknown> = {};
  const require = (name: string) => {
    if (name !== RUNTIME_SPECIFIER) throw new Error(`emitted module imports unknown '${name}'`);
    return runtime;
  };
  new Function("require", "exports", js)(require, exports);
  return exports["cell"] as Cell;
}
