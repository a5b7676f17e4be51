/**
 * No dead stores: in every kernel, each workspace buffer that is written is also read. A buffer is
 * per-call scratch (no kernel reads what another left there), so a store into one that the same
 * kernel never reads is wasted work and a wasted workspace slot. Checked on the committed modules
 * in `generated/` and on the example cells built the other ways (passes off, products inline).
 */
import { readdirSync, readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";

/** `buffer[…] = …` stores (and `buffer.set(…)`) into workspace buffers their kernel never reads, as `kernel: buffer`. */
function deadStores(text: string): string[] {
  const file = ts.createSourceFile("cell.ts", text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  file.forEachChild((fn) => {
    if (!ts.isFunctionDeclaration(fn) || !fn.body) return;
    const buffers = new Set<string>();
    const written = new Set<string>();
    const read = new Set<string>();
    const visit = (node: ts.Node) => {
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
        const init = ts.isNonNullExpression(node.initializer) ? node.initializer.expression : node.initializer;
        if (ts.isElementAccessExpression(init) && ts.isIdentifier(init.expression) && init.expression.text === "WS") buffers.add(node.name.text);
      }
      if (ts.isIdentifier(node) && !(ts.isVariableDeclaration(node.parent) && node.parent.name === node)) {
        const p = node.parent;
        const stored = ts.isElementAccessExpression(p) && p.expression === node && ts.isBinaryExpression(p.parent) && p.parent.left === p &&
          p.parent.operatorToken.kind === ts.SyntaxKind.EqualsToken;
        const setInto = ts.isPropertyAccessExpression(p) && p.expression === node && p.name.text === "set";
        (stored || setInto ? written : read).add(node.text);
      }
      node.forEachChild(visit);
    };
    fn.body.forEachChild(visit);
    for (const b of buffers) if (written.has(b) && !read.has(b)) found.push(`${fn.name?.text}: ${b}`);
  });
  return found;
}

const cells = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).sort();
const modules = readdirSync("generated").filter((f) => f.endsWith(".ts")).sort();

describe("dead stores", () => {
  it("are found where they are (the check can fail)", () => {
    const kernel = `function backward(WS) {
      const dh = WS[9]!;
      const kept = WS[3];
      for (let b = 0; b < 4; b++) { const dh_1 = 1; dh[b] = dh_1; kept[b] += dh_1; }
      for (let b = 0; b < 4; b++) out[b] = kept[b];
    }`;
    expect(deadStores(kernel)).toEqual(["backward: dh"]);
  });

  it("every module in generated/ has been checked", () => {
    expect(modules.length).toBe(cells.length);
  });

  for (const file of modules) {
    it(`generated/${file} writes no buffer it never reads`, () => {
      expect(deadStores(readFileSync(`generated/${file}`, "utf8"))).toEqual([]);
    });
  }

  for (const file of cells) {
    for (const [label, options] of [["passes off", { optimize: false }], ["products inline", { products: "inline" }]] as const) {
      it(`${file}, ${label}: no buffer written and never read`, () => {
        const path = `examples/cells/${file}`;
        const [compiled] = compileSource(readFileSync(path, "utf8"), { path, ...options });
        expect(deadStores(compiled!.code)).toEqual([]);
      });
    }
  }
});
