/**
 * Per-cell types: tsc on tests/types/cell-types.ts, against generated/lstm.ts. The lines after an
 * `@ts-expect-error` must each be one error of the expected kind, naming what is wrong; every
 * other line must compile.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const FILE = resolve("tests/types/cell-types.ts");

/** The errors tsc reports on `text` (as the file), by 1-based line: code and message. */
function errors(text: string): Map<number, { code: number; message: string }[]> {
  const options: ts.CompilerOptions = {
    strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: ["node"],
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (name) => (resolve(name) === FILE ? text : read(name));
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) =>
    resolve(name) === FILE ? ts.createSourceFile(name, text, version) : getSourceFile(name, version, onError, create);
  const program = ts.createProgram([FILE], options, host);
  const out = new Map<number, { code: number; message: string }[]>();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    expect(d.file && resolve(d.file.fileName), ts.flattenDiagnosticMessageText(d.messageText, "\n")).toBe(FILE);
    const line = d.file!.getLineAndCharacterOfPosition(d.start!).line + 1;
    out.set(line, [...(out.get(line) ?? []), { code: d.code, message: ts.flattenDiagnosticMessageText(d.messageText, "\n") }]);
  }
  return out;
}

describe("an emitted module's cell knows its names and dtype in its type", () => {
  const source = readFileSync(FILE, "utf8");
  const lines = source.split("\n");
  const expected = lines.flatMap((l, k) => (l.startsWith("// @ts-expect-error") ? [{ line: k + 2, what: l.slice(20) }] : []));
  const found = errors(source.replace(/^\/\/ @ts-expect-error/gm, "// (expected error)"));

  it("the file has the cases", () => expect(expected.map((e) => e.what)).toHaveLength(7));

  it("every line not marked compiles", () => {
    const marked = new Set(expected.map((e) => e.line));
    expect([...found].filter(([line]) => !marked.has(line))).toEqual([]);
  });

  const MESSAGES: Record<string, [number, RegExp]> = {
    "a misspelt input": [2353, /Object literal may only specify known properties, and 'xx' does not exist in type/s],
    "a missing param": [2345, /missing the following properties .*: bf, Wi, Ui, bi/s],
    "a typed array of the wrong dtype (the cell is float32)": [2322, /Float64Array.* is not assignable to type 'Float32Array/s],
    "an initial state the cell does not have": [2353, /'hh' does not exist in type/s],
    "an output the cell does not have": [2339, /Property 'y' does not exist on type/s],
    "gradients of the wrong dtype": [2322, /Float64Array.* is not assignable to type 'Float32Array/s],
    "an output array of the wrong dtype for into": [2322, /Float64Array.* is not assignable to type 'Float32Array/s],
  };

  for (const { line, what } of expected) {
    it(`is an error: ${what}`, () => {
      const [code, message] = MESSAGES[what]!;
      const errs = found.get(line) ?? [];
      expect(errs.map((e) => e.code), lines[line - 1]).toEqual([code]);
      expect(errs[0]!.message).toMatch(message);
    });
  }
});
