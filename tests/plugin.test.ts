/**
 * The bundler plugin as a user runs it: the packed package, Vite and esbuild installed as
 * devDependencies of a fresh project outside this checkout, real builds of a small app that
 * imports `.cell` files (sizes and dtype from plugin options and queries, a file of two cells),
 * the output run with node and compared with the in-process `compile`; a cell with an error shows
 * its located diagnostic in each bundler's own format; a watch build recompiles a changed cell.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, packPackage, repo, run as runIn } from "./helpers/pack.js";

let dir = "";
let project = "";
const node = (...args: string[]) => runIn(process.execPath, args, project);
/** Runs node on a script that is expected to fail: its exit code and both streams. */
const nodeFailing = (...args: string[]) => {
  const r = spawnSync(process.execPath, args, { cwd: project, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const write = (path: string, text: string) => writeFileSync(join(project, path), text);
const version = (name: string) => (JSON.parse(readFileSync(join(repo, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

const RNN = `cell rnn {
  size I = 3, H = 4
  input x[I]
  state h[H]
  param Wx[H, I], Wh[H, H], b[H]
  h = tanh(Wx·x + Wh·h + b)
}
`;
const TWO = `${RNN.replace("cell rnn", "cell a")}\n${RNN.replace("cell rnn", "cell b").replace("H = 4", "H = 2")}`;
const BAD = `cell bad {
  size I = 3, H = 4
  input x[I]
  state h[H]
  param Wx[H, I], Wh[H, 2*H], b[H]
  h = tanh(Wx·x + σ(Wh·h) + b)
}
`;

/** What the app prints for each imported cell: name, dtype, sizes and the state after one step. */
const SUMMARY = `
export function summary(cell) {
  const Real = cell.dtype === "f64" ? Float64Array : Float32Array;
  const state = cell.createState(1);
  cell.step(cell.initParams(1), { x: Real.from([1, -2, 0.5]) }, state);
  return { name: cell.name, dtype: cell.dtype, sizes: cell.sizes, h: Array.from(state.states.h) };
}
`;
const MAIN = `
import rnn, { sizes } from "./rnn.cell?H=5";
import { a, b } from "./two.cell";
import onlyB from "./two.cell?cell=b&dtype=f32";
import { summary } from "./summary.js";
console.log(JSON.stringify({ sizes, cells: [rnn, a, b, onlyB].map(summary) }));
`;
/** The same cells compiled in-process with the same options, for comparison. */
const REFERENCE = `
import { readFileSync } from "node:fs";
import { compile } from "rnnc";
import { summary } from "./src/summary.js";
const rnn = compile(readFileSync("src/rnn.cell", "utf8"), { dtype: "f64", sizes: { H: 5 } });
const two = readFileSync("src/two.cell", "utf8");
const cells = [rnn, compile(two, { dtype: "f64", cell: "a" }), compile(two, { dtype: "f64", cell: "b" }), compile(two, { dtype: "f32", cell: "b" })];
console.log(JSON.stringify({ sizes: rnn.sizes, cells: cells.map(summary) }));
`;
const VITE_BUILD = `
import { build } from "vite";
import rnnc from "rnnc/vite";
const [entry, outDir] = process.argv.slice(2);
await build({
  configFile: false, logLevel: "silent", plugins: [rnnc({ dtype: "f64" })],
  build: { outDir, minify: false, lib: { entry, formats: ["es"], fileName: () => "main.js" } },
});
`;
const VITE_CONFIG = `
import { defineConfig } from "vite";
import rnnc from "rnnc/vite";
export default defineConfig({ plugins: [rnnc({ dtype: "f64" })], build: { outDir: "out/vite-cli", lib: { entry: "src/bad.js", formats: ["es"], fileName: () => "main.js" } } });
`;
const ESBUILD_BUILD = `
import { build } from "esbuild";
import rnnc from "rnnc/esbuild";
const [entry, outfile] = process.argv.slice(2);
try {
  await build({ entryPoints: [entry], outfile, bundle: true, format: "esm", platform: "neutral", logLevel: "error", plugins: [rnnc({ dtype: "f64" })] });
} catch (e) {
  console.log(JSON.stringify(e.errors));
  process.exitCode = 1;
}
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "rnnc-plugin-"));
  const { tarball } = packPackage(dir);
  project = makeProject(dir, [tarball, `vite@${version("vite")}`, `esbuild@${version("esbuild")}`], true);
  mkdirSync(join(project, "src"));
  write("src/rnn.cell", RNN);
  write("src/two.cell", TWO);
  write("src/bad.cell", BAD);
  write("src/summary.js", SUMMARY);
  write("src/main.js", MAIN);
  write("src/bad.js", `import bad from "./bad.cell";\nconsole.log(bad.name);\n`);
  write("reference.mjs", REFERENCE);
  write("vite-build.mjs", VITE_BUILD);
  write("vite.config.mjs", VITE_CONFIG);
  write("esbuild-build.mjs", ESBUILD_BUILD);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the plugin in real builds", () => {
  let expected: unknown;
  beforeAll(() => {
    expected = JSON.parse(node("reference.mjs"));
  });

  it("Vite: the app's bundle runs and its cells compute what `compile` does, bit for bit", () => {
    node("vite-build.mjs", "src/main.js", "out/vite");
    const result = JSON.parse(node("out/vite/main.js")) as { sizes: unknown; cells: { name: string; dtype: string }[] };
    expect(result).toEqual(expected);
    expect(result.sizes).toEqual({ I: 3, H: 5 });
    expect(result.cells.map((c) => `${c.name} ${c.dtype}`)).toEqual(["rnn f64", "a f64", "b f64", "b f32"]);
    // The bundle holds the kernels and the runtime, not the compiler.
    const bundle = readFileSync(join(project, "out/vite/main.js"), "utf8");
    expect(bundle).not.toMatch(/ts-morph|prettier|typescript/iu);
  });

  it("esbuild: the same app, the same numbers", () => {
    node("esbuild-build.mjs", "src/main.js", "out/esbuild/main.js");
    expect(JSON.parse(node("out/esbuild/main.js"))).toEqual(expected);
  });

  it("Vite: a cell with an error fails the build with the diagnostic located in the .cell file", () => {
    const r = nodeFailing("node_modules/vite/bin/vite.js", "build", "--config", "vite.config.mjs");
    expect(r.code).toBe(1);
    const text = r.out + r.err;
    const file = join(project, "src/bad.cell");
    // Vite's header names the plugin and the location (Rollup's 0-based column); rnnc's own text follows.
    expect(text).toContain(`[plugin rnnc] ${file}:6:20`);
    expect(text).toContain(`${file}:6:21: error[E3002]: shape mismatch in '·': Wh is [4, 8] but h is [4]`);
    expect(text).toContain("    6 |   h = tanh(Wx·x + σ(Wh·h) + b)\n      |                     ^^^^");
  });

  it("esbuild: the error as esbuild reports its own: location, source line, and located notes", () => {
    const r = nodeFailing("esbuild-build.mjs", "src/bad.js", "out/esbuild/bad.js");
    expect(r.code).toBe(1);
    const [error, ...rest] = JSON.parse(r.out) as { text: string; location: Record<string, unknown>; notes: { text: string; location: Record<string, unknown> | null }[] }[];
    expect(rest).toEqual([]);
    expect(error!.text).toBe("error[E3002]: shape mismatch in '·': Wh is [4, 8] but h is [4]");
    // esbuild counts columns and lengths in UTF-8 bytes, columns from 0: "·" and "σ" take two bytes each.
    expect(error!.location).toMatchObject({ file: "src/bad.cell", line: 6, column: 22, length: 5, lineText: "  h = tanh(Wx·x + σ(Wh·h) + b)" });
    expect(error!.notes.find((n) => n.text.startsWith("Wh is declared"))?.location).toMatchObject({ line: 5, column: 18 });
    // What the user sees on the terminal.
    expect(r.err).toContain("✘ [ERROR] error[E3002]: shape mismatch in '·': Wh is [4, 8] but h is [4] [plugin rnnc]");
    expect(r.err).toMatch(/src\/bad\.cell:6:22:\n\s+6 │ {3}h = tanh\(Wx·x \+ σ\(Wh·h\) \+ b\)\n\s+╵ +~~~~/u);
  });

  it("a size the cell does not have, asked for in the query, is an error naming the import", () => {
    write("src/nosize.js", `import c from "./rnn.cell?Q=3";\nconsole.log(c.name);\n`);
    const r = nodeFailing("esbuild-build.mjs", "src/nosize.js", "out/esbuild/nosize.js");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/rnn\.cell\?Q=3: options\.sizes\.Q: no size 'Q'/u);
  });
});
