/**
 * `emitModules` (src/api.ts): the module text `rnnc build` writes, as TypeScript or JavaScript,
 * and the diagnostics located in the source, returned rather than written or thrown.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { CompileError, DataError, compile, emitModules, type Cell } from "../src/index.js";
import { queryOptions } from "../src/plugin/index.js";

const RNN = readFileSync("examples/cells/rnn.cell", "utf8");
const BAD = `cell bad {
  size I = 3, H = 4
  input x[I]
  state h[H]
  param Wx[H, I], Wh[H, 2*H], b[H]
  h = tanh(Wx·x + σ(Wh·h) + b)
}
`;
const dir = mkdtempSync(join(tmpdir(), "rnnc-emit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("emitModules", () => {
  it("formatted TypeScript is the module `rnnc build` wrote into generated/, byte for byte", async () => {
    const result = await emitModules(RNN, { path: "examples/cells/rnn.cell", runtime: "../src/runtime/index.js", format: true });
    expect(result.ok).toBe(true);
    expect(result.diagnostics).toEqual([]);
    expect(result.modules.map((m) => m.cell)).toEqual(["rnn"]);
    expect(result.modules[0]!.code).toBe(readFileSync("generated/rnn.ts", "utf8"));
  });

  it("JavaScript runs, and computes what the in-process `compile` does, bit for bit", async () => {
    const runtime = pathToFileURL(resolve("src/runtime/index.ts")).href;
    const { modules } = await emitModules(RNN, { lang: "js", dtype: "f64", sizes: { H: 5 }, runtime });
    const code = modules[0]!.code;
    expect(code).not.toMatch(/\btype Real\b|: Real\b|as const/u);
    writeFileSync(join(dir, "rnn.mjs"), code);
    const emitted = (await import(pathToFileURL(join(dir, "rnn.mjs")).href)) as { default: Cell; sizes: Record<string, number> };
    expect(emitted.sizes).toEqual({ I: 8, H: 5 });
    const inProcess = compile(RNN, { dtype: "f64", sizes: { H: 5 } });
    const run = (cell: Cell) => {
      const state = cell.createState(2);
      cell.step(cell.initParams(7), { x: Float64Array.from({ length: 16 }, (_, k) => Math.sin(k)) }, state);
      return Array.from(state.states["h"]!);
    };
    expect(run(emitted.default)).toEqual(run(inProcess));
  });

  it("a source with errors: every diagnostic located (line, column, line text) as the CLI renders it; no module", async () => {
    const result = await emitModules(BAD, { path: "bad.cell" });
    expect(result.ok).toBe(false);
    expect(result.modules).toEqual([]);
    const [d] = result.diagnostics;
    expect(d).toMatchObject({ severity: "error", code: "E3002", location: { file: "bad.cell", line: 6, column: 21, lineText: "  h = tanh(Wx·x + σ(Wh·h) + b)" } });
    expect(BAD.slice(d!.location.start, d!.location.end)).toBe("Wh·h");
    expect(d!.notes.some((n) => n.location?.line === 5)).toBe(true);
    let thrown: unknown;
    try {
      compile(BAD, { path: "bad.cell" });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(CompileError);
    expect(result.diagnostics.map((x) => x.rendered).join("\n\n")).toBe((thrown as CompileError).message);
  });

  it("commonSizes apply to the cells that declare them and are ignored by the others; sizes win", async () => {
    const two = `${RNN}\n${RNN.replace("cell rnn", "cell other").replaceAll("H", "K")}`;
    const { modules } = await emitModules(two, { commonSizes: { H: 3, K: 2 }, sizes: { K: 5 } });
    expect(modules.map((m) => /export const sizes = (\{[^}]*\})/u.exec(m.code)![1])).toEqual(["{ I: 8, H: 3 }", "{ I: 8, K: 5 }"]);
    expect((await emitModules(RNN, { commonSizes: { Q: 3 } })).ok).toBe(true);
  });

  it("warnings come back with the modules", async () => {
    // `bo` and `bο` (a Greek omicron) look alike: warning W3001.
    const lookalike = RNN.replace("param Wx[H, I], Wh[H, H], b[H]", "param Wx[H, I], Wh[H, H], bo[H], bο[H]").replace("+ b)", "+ bo + bο)");
    const result = await emitModules(lookalike, { path: "w.cell" });
    expect(result.ok).toBe(true);
    expect(result.modules).toHaveLength(1);
    expect(result.diagnostics.map((d) => [d.severity, d.code])).toEqual([["warning", "W3001"]]);
  });

  it("one cell of several by `cell`; wrong options are a DataError naming the option", async () => {
    const two = `${RNN}\n${RNN.replace("cell rnn", "cell other")}`;
    expect((await emitModules(two)).modules.map((m) => m.cell)).toEqual(["rnn", "other"]);
    expect((await emitModules(two, { cell: "other" })).modules.map((m) => m.cell)).toEqual(["other"]);
    await expect(emitModules(two, { cell: "nope" })).rejects.toThrow(/options\.cell: no cell named 'nope' \(have rnn, other\)/u);
    await expect(emitModules(RNN, { sizes: { Q: 3 } })).rejects.toThrow(/options\.sizes\.Q: no size 'Q'/u);
    await expect(emitModules(RNN, { sizes: { H: 0 } })).rejects.toThrow(DataError);
    await expect(emitModules(RNN, { commonSizes: { H: 1.5 } })).rejects.toThrow(/options\.commonSizes\.H: expected a positive integer/u);
    await expect(emitModules(RNN, { dtype: "f16" as "f32" })).rejects.toThrow(/options\.dtype: expected "f32" or "f64", got "f16"/u);
    await expect(emitModules(RNN, { lang: "py" as "js" })).rejects.toThrow(/options\.lang/u);
  });
});

describe("the plugin's import queries", () => {
  it("sizes and options from the query override the plugin's; bundler keys are ignored", () => {
    expect(queryOptions("/a/lstm.cell?H=64&dtype=f64&import&t=123", { dtype: "f32", sizes: { H: 8, I: 4 } })).toMatchObject({
      path: "/a/lstm.cell", dtype: "f64", sizes: { H: 64 }, commonSizes: { H: 8, I: 4 },
    });
    expect(queryOptions("/a/x.cell?optimize=false&products=inline&cell=gru", {})).toMatchObject({ optimize: false, products: "inline", cell: "gru" });
  });

  it("a size that is not a positive integer, or a key that is neither size nor option, is an error naming it", () => {
    expect(() => queryOptions("/a/x.cell?H=0", {})).toThrow(/query 'H=0': a size must be a positive integer/u);
    expect(() => queryOptions("/a/x.cell?H=1e3", {})).toThrow(/a size must be a positive integer/u);
    expect(() => queryOptions("/a/x.cell?optimize=yes", {})).toThrow(/expected true or false/u);
    expect(() => queryOptions("/a/x.cell?a-b=1", {})).toThrow(/query 'a-b': not a size/u);
  });
});
