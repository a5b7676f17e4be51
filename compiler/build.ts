/**
 * What `rnnc build` adds to the pipeline: the TypeScript module, built with ts-morph and formatted
 * with prettier. Kept apart from `index.ts` so that checking, lowering and in-process compilation
 * never load TypeScript, ts-morph or prettier.
 */
import { formatModule } from "./codegen/format.js";
import { renderDeclarations, renderJavaScript } from "./codegen/module.js";
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

/** What `rnnc build --emit` writes for a cell: TypeScript (`.ts`), or JavaScript with its declarations (`.js` and `.d.ts`). */
export type EmitKind = "ts" | "js";

/** The files `rnnc build --emit KIND` writes for a compiled cell, by extension, formatted. */
export async function buildFiles(cell: Pick<CompiledCell, "module">, emit: EmitKind): Promise<{ readonly extension: string; readonly text: string }[]> {
  if (emit === "ts") return [{ extension: ".ts", text: await buildModule(cell) }];
  return [
    { extension: ".js", text: await formatModule(renderJavaScript(cell.module, "module")) },
    { extension: ".d.ts", text: await formatModule(renderDeclarations(cell.module)) },
  ];
}

export { formatModule, renderTypeScript };
