/**
 * The TypeScript module `rnnc build` writes, built with ts-morph from the description
 * `describeModule` gives (the JavaScript `compile()` runs comes from the same description). Only
 * `rnnc build` loads this file: checking and in-process compilation never load TypeScript.
 */
import type { StatementStructures } from "ts-morph";
import type * as TsMorph from "ts-morph";
import type { CellModule } from "./module.js";
import { typescriptParts, type TopStatement, type TypeScriptParts } from "./typescript-parts.js";

export { typescriptParts, type TypeScriptParts };

// ts-morph is a CommonJS package: required, not imported, so that Node does not scan its 0.9 MB
// for export names before running it, as it does for a named import from CommonJS. Node's
// built-ins come from `process.getBuiltinModule`, not imports, so a bundler building the compiler
// for a browser (where `compile()` never loads this file) has no Node built-in to resolve.
const { createRequire } = process.getBuiltinModule("node:module");
const { existsSync, readFileSync } = process.getBuiltinModule("node:fs");
const { fileURLToPath } = process.getBuiltinModule("node:url");

/**
 * ts-morph as `npm run build` bundled it beside this file (`scripts/bundle-cli.mjs`), compiled
 * with V8's code cache of it: most of loading ts-morph is V8 compiling the 13 MB of it and of the
 * TypeScript it carries, which the cache spares. Else (no bundle, as when run from the sources)
 * the package, as `require` loads it.
 */
function loadTsMorph(): typeof TsMorph {
  const bundle = fileURLToPath(new URL("./ts-morph.bundle.cjs", import.meta.url));
  if (!existsSync(bundle)) return createRequire(import.meta.url)("ts-morph") as typeof TsMorph;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(bundle.replace(/\.cjs$/, ".cache"));
  } catch {
    // no cache: compiled from the text alone
  }
  // The bundle is made into dist/compiler/codegen/ only, so bin/ is three directories up.
  const { loadBundle } = createRequire(import.meta.url)("../../../bin/bundle.js") as { loadBundle(file: string, cachedData?: Buffer): { exports: unknown } };
  return loadBundle(bundle, cachedData).exports as typeof TsMorph;
}

const { StructureKind, VariableDeclarationKind, printStructure } = loadTsMorph();

const structure = (s: TopStatement): StatementStructures => {
  switch (s.kind) {
    case "const":
      return {
        kind: StructureKind.VariableStatement,
        isExported: s.exported !== false,
        declarationKind: VariableDeclarationKind.Const,
        docs: [...s.docs],
        declarations: [{ name: s.name, initializer: s.initializer }],
      };
    case "function":
      return {
        kind: StructureKind.Function,
        name: s.name,
        docs: [...s.docs],
        parameters: s.parameters.map((p) => ({ name: p.name, type: p.type })),
        returnType: s.returnType,
        statements: s.body,
      };
    case "export default":
      return { kind: StructureKind.ExportAssignment, isExportEquals: false, expression: s.expression };
  }
};

/**
 * The module's text from its parts. The statements are one structure printed once by ts-morph's
 * structure printer: the text a `Project`'s `createSourceFile` would hold, without creating a
 * project or parsing the text back into a syntax tree (nothing here asks the tree anything).
 */
export function printTypeScript(parts: TypeScriptParts): string {
  return parts.head + printStructure({ kind: StructureKind.SourceFile, statements: parts.statements.map(structure) });
}

/** The module as TypeScript, unformatted (see `typescriptParts`). */
export function renderTypeScript(m: CellModule): string {
  return printTypeScript(typescriptParts(m));
}
