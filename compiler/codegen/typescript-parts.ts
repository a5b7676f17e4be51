/**
 * The TypeScript module `rnnc build` writes, as plain data: its first lines (header comment and
 * runtime import) and its top-level statements, every piece of code already text. `typescript.ts`
 * prints it with ts-morph; this file loads neither ts-morph nor TypeScript, so the description can
 * be made on one thread and printed on another (`compiler/build-thread.ts`).
 */
import { KERNEL_PARAMETER_TYPES, MODULE_DECLARATIONS, RUNTIME_IMPORTS } from "../../src/runtime/abi.js";
import { stringLiteral, valueLiteral } from "./literal.js";
import { LOOPS, LOOPS_DOC, SIZES_DOC, SPEC_DOC, cellInitializer, importedValues, loopsLiteral, parameterName, workspaceBindings, type CellModule } from "./module.js";

/** A top-level statement of the module. */
export type TopStatement =
  /** A constant, exported unless `exported` is false. */
  | { readonly kind: "const"; readonly name: string; readonly initializer: string; readonly docs: readonly string[]; readonly exported?: boolean }
  | {
    readonly kind: "function";
    readonly name: string;
    readonly docs: readonly string[];
    readonly parameters: readonly { readonly name: string; readonly type: string }[];
    readonly returnType: string;
    readonly body: string;
  }
  | { readonly kind: "export default"; readonly expression: string };

/** The module: `head` (its first lines, ending in a blank line), then the statements. */
export interface TypeScriptParts {
  readonly head: string;
  readonly statements: readonly TopStatement[];
}

/**
 * The module's parts: the spec is a literal (`as const`) checked against the runtime's
 * `CellSpec`, so `defineCell` gives the cell a type that knows its names and dtype.
 */
export function typescriptParts(m: CellModule): TypeScriptParts {
  const [sizes, spec] = MODULE_DECLARATIONS;
  const cell = MODULE_DECLARATIONS[MODULE_DECLARATIONS.length - 1]!;
  const imported = [...importedValues(m), ...RUNTIME_IMPORTS.types.map((t) => `type ${t}`)];
  return {
    head: `// ${m.header}\nimport { ${imported.join(", ")} } from ${stringLiteral(m.runtime)};\n\n`,
    statements: [
      { kind: "const", name: sizes, initializer: `${valueLiteral(m.sizes)} as const`, docs: [SIZES_DOC(m.cellName)] },
      { kind: "const", name: spec, initializer: `${valueLiteral(m.spec)} as const satisfies Omit<CellSpec, "sizes">`, docs: [SPEC_DOC] },
      ...m.kernels.map((k): TopStatement => ({
        kind: "function",
        name: k.name,
        docs: [k.doc],
        parameters: k.parameters.map((p) => ({ name: parameterName(k, p), type: KERNEL_PARAMETER_TYPES[p] })),
        returnType: "void",
        body: [...workspaceBindings(k, true), k.typescript()].join("\n"),
      })),
      ...(m.loops ? [{ kind: "const", name: LOOPS, initializer: loopsLiteral(m.loops), docs: [LOOPS_DOC], exported: false } as const] : []),
      { kind: "const", name: cell, initializer: cellInitializer(m), docs: [] },
      { kind: "export default", expression: cell },
    ],
  };
}
