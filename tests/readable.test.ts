/**
 * The emitted kernels read like the cell: values are named after what they are (never a node id),
 * each computed value has the equation or gradient it is above it, loop indices leave the cell's
 * names alone, the forward and the backward share one stacked copy of each weight group, mask work
 * runs only when a mask is given, and kernel bodies are the JavaScript `compile()` runs, with only
 * what strict TypeScript needs added (`!` on element reads, lists unpacked as tuples).
 */
import { readdirSync, readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";

const modules = readdirSync("generated").filter((f) => f.endsWith(".ts")).sort();
const source = (file: string) => ts.createSourceFile(file, readFileSync(`generated/${file}`, "utf8"), ts.ScriptTarget.ES2022, true);

function kernels(file: ts.SourceFile): ts.FunctionDeclaration[] {
  return file.statements.filter((s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.body !== undefined);
}

function each(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((c) => each(c, visit));
}

/** `WS[k]` (or `WS[k]!`, as the TypeScript module binds a workspace buffer): the index text. */
function workspaceIndex(init: ts.Expression | undefined): string | undefined {
  const access = init && ts.isNonNullExpression(init) ? init.expression : init;
  return access && ts.isElementAccessExpression(access) && access.expression.getText() === "WS" ? access.argumentExpression.getText() : undefined;
}

/** The `WS` index each workspace buffer of a kernel is bound to. */
function bindings(fn: ts.FunctionDeclaration): Map<string, string> {
  const out = new Map<string, string>();
  each(fn.body!, (n) => {
    const index = ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) ? workspaceIndex(n.initializer) : undefined;
    if (index !== undefined) out.set((n as ts.VariableDeclaration).name.getText(), index);
  });
  return out;
}

describe("emitted kernels", () => {
  for (const file of modules) {
    describe(`generated/${file}`, () => {
      const sf = source(file);

      it("names no value after a node id", () => {
        const ids: string[] = [];
        each(sf, (n) => ts.isIdentifier(n) && /^[tvs]\d+$/u.test(n.text) && ids.push(n.text));
        expect(ids).toEqual([]);
      });

      it("has kernel bodies in JavaScript but for `!` on element reads and lists unpacked `as Arrays<N>` (strict TypeScript)", () => {
        const typed: string[] = [];
        let reads = 0;
        for (const fn of kernels(sf)) {
          each(fn.body!, (n) => {
            if (ts.isNonNullExpression(n) && ts.isElementAccessExpression(n.expression)) return void reads++;
            const unpack = ts.isAsExpression(n) && ts.isVariableDeclaration(n.parent) && ts.isArrayBindingPattern(n.parent.name);
            if (unpack && /^Arrays<\d+>$/u.test(n.type.getText())) return;
            if (ts.isNonNullExpression(n) || ts.isAsExpression(n) || ts.isTypeAssertionExpression(n) || ts.isSatisfiesExpression(n)) typed.push(n.getText());
            if (ts.isVariableDeclaration(n) && n.type) typed.push(n.getText());
          });
        }
        expect(typed).toEqual([]);
        expect(reads).toBeGreaterThan(10);
      });

      it("has the kernels compile() runs: the same text without the `!` and `as Arrays<N>`", () => {
        const name = file.replace(/\.ts$/u, "");
        const [c] = compileSource(readFileSync(`examples/cells/${name}.cell`, "utf8"), { path: `examples/cells/${name}.cell` });
        for (const k of c!.module.kernels) {
          expect(k.typescript().replace(/\]!/gu, "]").replace(/ as Arrays<\d+>;/gu, ";"), k.name).toBe(k.body);
        }
      });

      it("puts the equation or gradient above every value an element loop computes", () => {
        const bare: string[] = [];
        const lines = readFileSync(`generated/${file}`, "utf8").split("\n");
        lines.forEach((line, k) => {
          const m = /^ {8,}const (\w+) =/u.exec(line);
          if (m && !/^ *\/\/ /u.test(lines[k - 1]!)) bare.push(`${k + 1}: ${line.trim()}`);
        });
        expect(bare).toEqual([]);
      });

      it("reads the mask only inside `if (M !== undefined)`", () => {
        const outside: string[] = [];
        each(sf, (n) => {
          if (!ts.isElementAccessExpression(n) || n.expression.getText() !== "M") return;
          let p: ts.Node | undefined = n.parent;
          while (p && !(ts.isIfStatement(p) && p.expression.getText() === "M !== undefined")) p = p.parent;
          if (!p) outside.push(n.getText());
        });
        expect(outside).toEqual([]);
      });
    });
  }

  it("lstm: gates keep their names, the equations are above them, forward and backward share the stacked weights", () => {
    const text = readFileSync("generated/lstm.ts", "utf8");
    expect(text).toContain("// f = σ(Wf·x + Uf·h + bf)   lstm.cell:13");
    // In float32 the gates' σ is one call of the runtime's map over every row of the step.
    expect(text).toContain("// f, i, o = σ(…), for each of B rows   lstm.cell:13, 14, 16\n      mm.sigmoid(B * 48, f_i_o, 0, f_i_o, 0);");
    expect(text).toContain("// df_pre = ∂L/∂(Wf·x + Uf·h + bf)   lstm.cell:13");
    expect(text).toContain("const df_pre =");
    expect(text).not.toMatch(/Uo_Ug_Ui_Uf|Wo_Wg_Wi_Wf/u);
    const [forward, backward] = kernels(source("lstm.ts")).map(bindings);
    for (const stacked of ["Uf_Ui_Ug_Uo", "Wf_Wi_Wg_Wo"]) {
      expect(forward!.get(stacked)).toBeDefined();
      expect(backward!.get(stacked)).toBe(forward!.get(stacked));
    }
  });

  it("a loop index never takes a name the cell uses", () => {
    const cell = `cell names {
  size n = 3
  input x[n]
  state h[n]
  param W[n, n], U[n, n]
  i = σ(W·x)
  j = tanh(U·h)
  b = i ⊙ j
  t = b + x
  h = tanh(t + b)
}`;
    const [compiled] = compileSource(cell, { path: "names.cell" });
    for (const name of ["i", "j", "b", "t"]) expect(compiled!.code).not.toMatch(new RegExp(`for \\(let ${name} = `, "u"));
    expect(compiled!.code).toMatch(/const b = /u);
    expect(compiled!.code).toMatch(/for \(let k = /u);
  });
});
