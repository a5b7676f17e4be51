/**
 * `rnnc build --emit js`: a `.js` module and its `.d.ts` per cell. The JavaScript runs (beside a
 * runtime copy, with no rnnc installed) and computes what `compile()` computes, bit for bit; the
 * declarations give a project the cell's own types under the strictest common compiler settings,
 * so a misspelt input is an error there and a correct use compiles.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../src/index.js";
import type { Cell } from "../src/runtime/types.js";

const CELLS = ["lstm", "gru"];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "rnnc-emit-js-"));
  const files = CELLS.map((c) => `examples/cells/${c}.cell`);
  execFileSync(process.execPath, ["bin/rnnc.js", "build", ...files, "--emit", "js", "--runtime-copy", "--out", dir, "--dtype", "f64"]);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Forward and backward of `cell` on seeded numbers: every output, final state and gradient. */
function run(cell: Cell): number[] {
  const [T, B] = [3, 2];
  const params = cell.initParams(7);
  let seed = 11;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const fill = (n: number) => Float64Array.from({ length: n }, next);
  const inputs = Object.fromEntries(cell.inputs.map((x) => [x.name, fill(T * B * x.size)]));
  const trace = cell.forward(params, inputs, { T, B });
  const grads = cell.createGrads();
  const outputGrads = Object.fromEntries(cell.outputs.map((o) => [o.name, fill(T * B * o.size)]));
  const result = cell.backward(params, trace, { outputs: outputGrads }, grads);
  return [trace.outputs, trace.final, grads, result.inputs, result.initial].flatMap((group) => Object.values(group).flatMap((a) => [...(a as Float64Array)]));
}

describe("rnnc build --emit js", () => {
  it.each(CELLS)("%s.js runs beside its runtime copy and equals compile(), bit for bit", async (name) => {
    const module = (await import(pathToFileURL(join(dir, `${name}.js`)).href)) as { cell: Cell; default: Cell };
    expect(module.default).toBe(module.cell);
    const source = readFileSync(`examples/cells/${name}.cell`, "utf8");
    const reference = compile(source, { path: `examples/cells/${name}.cell`, dtype: "f64" });
    const [ours, theirs] = [run(module.cell), run(reference)];
    expect(ours.length).toBeGreaterThan(100);
    expect(ours.map((v) => Object.is(v, theirs.shift()))).not.toContain(false);
  });

  it("writes JavaScript and declarations only: no TypeScript syntax in the .js", () => {
    const js = readFileSync(join(dir, "lstm.js"), "utf8");
    const file = ts.createSourceFile("lstm.js", js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
    const typed: string[] = [];
    const visit = (n: ts.Node): void => {
      if (ts.isNonNullExpression(n) || ts.isAsExpression(n) || ts.isSatisfiesExpression(n) || ts.isTypeNode(n)) typed.push(n.getText());
      n.forEachChild(visit);
    };
    visit(file);
    expect((file as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics).toEqual([]);
    expect(typed).toEqual([]);
  });

  /** tsc under the strictest common settings on `text` as a file of the project that uses the modules. */
  function strictErrors(text: string): string[] {
    const main = join(dir, "use.ts");
    writeFileSync(main, text);
    const options: ts.CompilerOptions = {
      strict: true, noUncheckedIndexedAccess: true, noUnusedLocals: true, noUnusedParameters: true,
      exactOptionalPropertyTypes: true, verbatimModuleSyntax: true, noEmit: true, skipLibCheck: false,
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [],
    };
    const program = ts.createProgram([main], options);
    return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? d.file.fileName.slice(dir.length + 1) : ""} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
  }

  it("its declarations type-check under strict, noUncheckedIndexedAccess, noUnused*, exactOptionalPropertyTypes, verbatimModuleSyntax", () => {
    const good = `import { cell } from "./lstm.js";
const params = cell.initParams(1);
const x = new Float64Array(2 * 1 * 8);
const trace = cell.forward(params, { x }, { T: 2, B: 1 });
export const h: Float64Array = trace.outputs.h;
`;
    // The package.json the runtime copy carries makes the folder ESM; the project's own files need one too.
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    expect(strictErrors(good)).toEqual([]);
    const misspelt = good.replace("{ x }", "{ xx: x }");
    expect(strictErrors(misspelt).join("\n")).toMatch(/use\.ts TS2353: .*'xx'/u);
  });
});
