/**
 * Types of `.cell` imports compiled by rnnc's bundler plugin (`rnnc/vite`, `rnnc/esbuild`, ...).
 * Add `"types": ["rnnc/cell"]` to tsconfig.json, or `/// <reference types="rnnc/cell" />`.
 * A file of one cell (or an import with `?cell=NAME`); a file of several exports each cell under
 * its own name, which a pattern cannot declare.
 */
declare module "*.cell" {
  import type { Cell, CellSpec } from "rnnc";
  /** The compiled cell. */
  const cell: Cell;
  export default cell;
  export { cell };
  /** The sizes it was compiled with. */
  export const sizes: Readonly<Record<string, number>>;
  /** Names and shapes of its params, inputs, states and outputs. */
  export const spec: Omit<CellSpec, "sizes">;
}
