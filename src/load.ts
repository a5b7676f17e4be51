/**
 * Turns an emitted module's text (TypeScript or JavaScript, e.g. a file `rnnc build` wrote) into a
 * live `Cell`, giving it this package's runtime. Before any of it runs, the module is refused if
 * it does not parse or if it imports anything but the runtime: a static import from elsewhere, a
 * re-export, `import x = require(...)`, a dynamic `import(...)`, a `require(...)` call, or an
 * `import("...")` type. This needs the TypeScript compiler; a module just compiled in-process runs
 * without it (`instantiate.ts`).
 */
import { ts } from "ts-morph";
import { stringLiteral } from "../compiler/codegen/literal.js";
import * as runtime from "./runtime/index.js";
import type { Cell } from "./runtime/types.js";

export const RUNTIME_SPECIFIER = "rnnc/runtime";

const refuse = (why: string): never => {
  throw new Error(`emitted module refused: ${why}`);
};

/** A module specifier for a message: quoted and escaped, cut short. */
const shown = (node: ts.Node | undefined): string => {
  if (!node || !ts.isStringLiteralLike(node)) return "a computed specifier";
  return stringLiteral(node.text.length > 80 ? `${node.text.slice(0, 80)}…` : node.text);
};

/** Whether `id` names a property (`{ require: 1 }`, `o.require`) rather than referring to a binding. */
const namesProperty = (id: ts.Identifier, parent: ts.Node | undefined): boolean =>
  !!parent && (ts.isPropertyAssignment(parent) || ts.isPropertyAccessExpression(parent)) && parent.name === id;

/** Refuses every import of the module but those of the runtime (walks the whole tree, without recursion). */
function checkImports(file: ts.SourceFile): void {
  const pending: [ts.Node, ts.Node | undefined][] = [[file, undefined]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, parent] = next;
    if (ts.isImportDeclaration(node) || (ts.isExportDeclaration(node) && node.moduleSpecifier)) {
      const from = node.moduleSpecifier!;
      if (!ts.isStringLiteral(from) || from.text !== RUNTIME_SPECIFIER) refuse(`it imports ${shown(from)}, not '${RUNTIME_SPECIFIER}'`);
      if (ts.isExportDeclaration(node)) refuse("it re-exports from the runtime");
    } else if (ts.isImportEqualsDeclaration(node)) {
      refuse("it has an `import ... = ...` declaration");
    } else if (ts.isImportTypeNode(node)) {
      refuse(`it has an import type of ${shown(ts.isLiteralTypeNode(node.argument) ? node.argument.literal : undefined)}`);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      refuse(`it has a dynamic import of ${shown(node.arguments[0])}`);
    } else if (ts.isIdentifier(node) && node.text === "require" && !namesProperty(node, parent)) {
      refuse("it refers to `require`");
    }
    node.forEachChild((child) => void pending.push([child, node]));
  }
}

export function load(code: string): Cell {
  const { outputText: js, diagnostics } = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: true,
    transformers: { before: [() => (file) => (checkImports(file), file)] },
  });
  const error = diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (error) refuse(`it does not parse: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
  const exports: Record<string, unknown> = {};
  const require = (name: string) => {
    if (name !== RUNTIME_SPECIFIER) refuse(`it imports ${stringLiteral(String(name))}`);
    return runtime;
  };
  new Function("require", "exports", js)(require, exports);
  return exports["cell"] as Cell;
}
