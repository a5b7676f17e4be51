/**
 * The TypeScript module `rnnc build` writes, built with ts-morph from the description
 * `describeModule` gives (the JavaScript `compile()` runs comes from the same description). Only
 * `rnnc build` loads this file: checking and in-process compilation never load TypeScript.
 */
import { Project, StructureKind, VariableDeclarationKind, type SourceFile, type StatementStructures } from "ts-morph";
import { KERNEL_PARAMETER_TYPES, MODULE_DECLARATIONS, RUNTIME_IMPORTS } from "../../src/runtime/abi.js";
import { stringLiteral, valueLiteral } from "./literal.js";
import { SIZES_DOC, SPEC_DOC, cellInitializer, importedValues, workspaceBindings, type CellModule } from "./module.js";

let project: Project | undefined;

function newFile(statements: StatementStructures[]): SourceFile {
  project ??= new Project({ useInMemoryFileSystem: true });
  return project.createSourceFile("cell.ts", { statements }, { overwrite: true });
}

const constant = (name: string, initializer: string, docs: string[] = []): StatementStructures => ({
  kind: StructureKind.VariableStatement,
  isExported: true,
  declarationKind: VariableDeclarationKind.Const,
  docs,
  declarations: [{ name, initializer }],
});

/**
 * The module as TypeScript: the spec is a literal (`as const`) checked against the runtime's
 * `CellSpec`, so `defineCell` gives the cell a type that knows its names and dtype.
 */
export function renderTypeScript(m: CellModule): string {
  const [sizes, spec] = MODULE_DECLARATIONS;
  const cell = MODULE_DECLARATIONS[MODULE_DECLARATIONS.length - 1]!;
  const imported = [...importedValues(m), ...RUNTIME_IMPORTS.types.map((t) => `type ${t}`)];
  // The whole module is one structure, printed and parsed once (each separate insertion would
  // parse the file again).
  const statements: StatementStructures[] = [
    constant(sizes, `${valueLiteral(m.sizes)} as const`, [SIZES_DOC(m.cellName)]),
    constant(spec, `${valueLiteral(m.spec)} as const satisfies Omit<CellSpec, "sizes">`, [SPEC_DOC]),
    ...m.kernels.map((k): StatementStructures => ({
      kind: StructureKind.Function,
      name: k.name,
      docs: [k.doc],
      parameters: k.parameters.map((p) => ({ name: p, type: KERNEL_PARAMETER_TYPES[p] })),
      returnType: "void",
      statements: [...workspaceBindings(k, true), k.body].join("\n"),
    })),
    constant(cell, cellInitializer()),
    { kind: StructureKind.ExportAssignment, isExportEquals: false, expression: cell },
  ];
  return `// ${m.header}\nimport { ${imported.join(", ")} } from ${stringLiteral(m.runtime)};\n\n${newFile(statements).getFullText()}`;
}
