/**
 * What `rnnc build` adds to the pipeline: the TypeScript module, built with ts-morph and formatted
 * with prettier. Kept apart from `index.ts` so that checking, lowering and in-process compilation
 * never load TypeScript, ts-morph or prettier.
 */
import { formatModule } from "./codegen/format.js";
import { renderTypeScript } from "./codegen/typescript.js";
import type { CompiledCell } from "./index.js";

/** The TypeScript module of a compiled cell, unformatted. */
export function typescriptModule(cell: Pick<CompiledCell, "module">): string {
  return renderTypeScript(cell.module);
}

/** The TypeScript module of a compiled cell as `rnnc build` writes it: formatted. */
export function buildModule(cell: Pick<CompiledCell, "module">): Promise<string> {
  return formatModule(typescriptModule(cell));
}

export { formatModule, renderTypeScript };
