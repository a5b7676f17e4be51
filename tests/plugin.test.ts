/**
 * The bundler plugin as a user runs it: the packed package, Vite, esbuild, Rollup and webpack
 * installed as devDependencies of a fresh project outside this checkout, real builds of a small app
 * that imports `.cell` files (sizes and dtype from plugin options and queries, a file of two
 * cells), the output run with node and compared with the in-process `compile`; a cell with an
 * error shows its located diagnostic in each bundler's own format; watch builds and Vite's dev
 * server compile a changed cell again; `rnnc/cell` types `.cell` imports.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { makeProject, packOnce, repo, run as runIn } from "./helpers/pack.js";

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

/** Rollup without a resolver plugin: the runtime stays an import, found in the project's node_modules. */
const ROLLUP_BUILD = `
import { rollup } from "rollup";
import rnnc from "rnnc/rollup";
const [entry, file] = process.argv.slice(2);
try {
  const bundle = await rollup({ input: entry, plugins: [rnnc({ dtype: "f64" })], external: [/^rnnc\\//] });
  await bundle.write({ file, format: "es" });
} catch (e) { console.log(JSON.stringify({ message: e.message, loc: e.loc, plugin: e.plugin })); process.exitCode = 1; }
`;
const WEBPACK_BUILD = `
import webpack from "webpack";
import rnnc from "rnnc/webpack";
import { resolve } from "node:path";
const [entry, out] = process.argv.slice(2);
webpack({ mode: "none", target: "node", entry: resolve(entry), output: { path: resolve(out), filename: "main.cjs" }, plugins: [rnnc({ dtype: "f64" })] }, (err, stats) => {
  if (err) { console.log(err.message); process.exitCode = 1; return; }
  if (stats.hasErrors()) { console.log(JSON.stringify(stats.toJson().errors.map((e) => e.message))); process.exitCode = 1; }
});
`;

/** The project's own type check of an app that imports a `.cell` file, with `"types": ["rnnc/cell"]`. */
const TYPECHECK = `
import { createRequire } from "node:module";
const { Project, ts } = createRequire(import.meta.resolve("rnnc"))("ts-morph");
const project = new Project({ compilerOptions: {
  strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: ["rnnc/cell"],
} });
project.addSourceFileAtPath("src/app.ts");
console.log(JSON.stringify(project.getPreEmitDiagnostics().map((d) => \`\${d.getSourceFile()?.getBaseName() ?? ""}:\${d.getLineNumber() ?? 0}: TS\${d.getCode()}\`)));
`;
const APP_TS = `
import rnn, { sizes, spec } from "./rnn.cell";
const params = rnn.initParams(1);
const H: number = sizes["H"] ?? 0;
const name: string = spec.name;
const wrong: number = rnn.name;
export { params, H, name, wrong };
`;

/** Watch builds: each version of \`src/w.cell\` is written after the build before it ended. */
const WATCH_COMMON = `
// Shared by the watch scripts: write each version of the cell after the previous build ended, and
// record what each build gave (the app's output, or the first error).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
export async function drive(start, output, versions) {
  let resolve;
  const ended = () => new Promise((r) => (resolve = r));
  const timer = setTimeout(() => { console.log(JSON.stringify({ timedOut: true })); process.exit(2); }, 120_000);
  const results = [];
  let stop;
  for (const [k, text] of [null, ...versions].entries()) {
    const next = ended();
    if (k === 0) stop = await start((r) => resolve(r));
    else writeFileSync("src/w.cell", text);
    const r = await next;
    results.push(r.error ? { error: r.error } : { out: JSON.parse(execFileSync(process.execPath, [output], { encoding: "utf8" })) });
  }
  await stop();
  clearTimeout(timer);
  console.log(JSON.stringify(results));
}
`;
const WATCH_ESBUILD = `
import { context } from "esbuild";
import rnnc from "rnnc/esbuild";
import { drive } from "./watch-common.mjs";
await drive(async (done) => {
  const end = { name: "end", setup: (b) => b.onEnd((r) => done(r.errors.length ? { error: r.errors[0] } : {})) };
  const ctx = await context({ entryPoints: ["src/watch.js"], outfile: "out/watch-esbuild/main.js", bundle: true, format: "esm", logLevel: "silent", plugins: [rnnc(), end] });
  await ctx.watch();
  return () => ctx.dispose();
}, "out/watch-esbuild/main.js", JSON.parse(process.argv[2]));
`;
const WATCH_VITE = `
import { build } from "vite";
import rnnc from "rnnc/vite";
import { drive } from "./watch-common.mjs";
await drive(async (done) => {
  const end = { name: "end", writeBundle: () => done({}), buildEnd: (error) => error && done({ error: { text: error.message } }) };
  const watcher = await build({
    configFile: false, logLevel: "silent", plugins: [rnnc(), end],
    build: { outDir: "out/watch-vite", watch: {}, minify: false, lib: { entry: "src/watch.js", formats: ["es"], fileName: () => "main.js" } },
  });
  return () => watcher.close();
}, "out/watch-vite/main.js", JSON.parse(process.argv[2]));
`;
/** Vite's dev server: the module is loaded again until the change shows (no time is asserted). */
const DEV_VITE = `
import { writeFileSync, readFileSync } from "node:fs";
import { createServer } from "vite";
import rnnc from "rnnc/vite";
const timer = setTimeout(() => { console.log(JSON.stringify({ timedOut: true })); process.exit(2); }, 120_000);
const server = await createServer({ configFile: false, logLevel: "silent", plugins: [rnnc({ dtype: "f64" })], server: { middlewareMode: true, hmr: false } });
const load = async () => { try { return { sizes: (await server.ssrLoadModule("/src/w.cell?H=5")).default.sizes }; } catch (e) { return { error: e.message.split("\\n")[0] }; } };
const results = [await load()];
const original = readFileSync("src/w.cell", "utf8");
for (const text of [original.replace("I = 3", "I = 2"), original.replace("Wh·h", "Wx·h")]) {
  const before = JSON.stringify(results.at(-1));
  writeFileSync("src/w.cell", text);
  let now;
  do { await new Promise((r) => setTimeout(r, 100)); now = await load(); } while (JSON.stringify(now) === before);
  results.push(now);
}
await server.close();
clearTimeout(timer);
console.log(JSON.stringify(results));
`;

// The time allowed includes waiting for the run's one build of the package, when another file started it.
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rnnc-plugin-"));
  const { tarball } = await packOnce(inject("runDir"));
  project = makeProject(dir, [tarball, ...["vite", "esbuild", "rollup", "webpack"].map((name) => `${name}@${version(name)}`)], true);
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
  write("rollup-build.mjs", ROLLUP_BUILD);
  write("webpack-build.mjs", WEBPACK_BUILD);
  write("typecheck.mjs", TYPECHECK);
  write("src/app.ts", APP_TS);
  write("watch-common.mjs", WATCH_COMMON);
  write("watch-esbuild.mjs", WATCH_ESBUILD);
  write("watch-vite.mjs", WATCH_VITE);
  write("dev-vite.mjs", DEV_VITE);
  write("src/watch.js", `import w from "./w.cell";\nconsole.log(JSON.stringify(w.sizes));\n`);
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }), 120_000);

describe("the plugin in real builds", { timeout: 240_000 }, () => {
  let expected: unknown;
  beforeAll(() => {
    expected = JSON.parse(node("reference.mjs"));
  }, 120_000);

  it("Vite: the app's bundle runs and its cells compute what `compile` does, bit for bit", () => {
    node("vite-build.mjs", "src/main.js", "out/vite");
    const result = JSON.parse(node("out/vite/main.js")) as { sizes: unknown; cells: { name: string; dtype: string }[] };
    expect(result).toEqual(expected);
    expect(result.sizes).toEqual({ I: 3, H: 5 });
    expect(result.cells.map((c) => `${c.name} ${c.dtype}`)).toEqual(["rnn f64", "a f64", "b f64", "b f32"]);
    // The bundle holds the kernels and the runtime, not the compiler: no module of TypeScript,
    // ts-morph or prettier (the bundler names each module it takes in a comment), nor the code generator.
    const bundle = readFileSync(join(project, "out/vite/main.js"), "utf8");
    expect(bundle).toMatch(/^\/\/ node_modules\/rnnc\/dist\/src\/runtime\//mu);
    expect(bundle).not.toMatch(/^\/\/ node_modules\/(typescript|ts-morph|@ts-morph\/[^/]+|prettier)\//mu);
    expect(bundle).not.toMatch(/^\/\/ node_modules\/rnnc\/dist\/compiler\/(codegen|passes|ir)\//mu);
  });

  it("esbuild: the same app, the same numbers", () => {
    node("esbuild-build.mjs", "src/main.js", "out/esbuild/main.js");
    expect(JSON.parse(node("out/esbuild/main.js"))).toEqual(expected);
  });

  it("Rollup and webpack: the same app, the same numbers", () => {
    node("rollup-build.mjs", "src/main.js", "out/rollup/main.js");
    expect(JSON.parse(node("out/rollup/main.js"))).toEqual(expected);
    node("webpack-build.mjs", "src/main.js", "out/webpack");
    expect(JSON.parse(node("out/webpack/main.cjs"))).toEqual(expected);
  });

  it("Rollup and webpack: a cell with an error fails the build, located", () => {
    const file = join(project, "src/bad.cell");
    const rollup = nodeFailing("rollup-build.mjs", "src/bad.js", "out/rollup/bad.js");
    expect(rollup.code).toBe(1);
    const error = JSON.parse(rollup.out) as { message: string; loc: unknown; plugin: string };
    expect(error).toMatchObject({ plugin: "rnnc", loc: { file, line: 6, column: 20 } });
    expect(error.message).toContain(`[plugin rnnc] src/bad.cell (6:20): ${file}:6:21: error[E3002]: shape mismatch in '·'`);
    const webpack = nodeFailing("webpack-build.mjs", "src/bad.js", "out/webpack-bad");
    expect(webpack.code).toBe(1);
    const [message, ...rest] = JSON.parse(webpack.out) as string[];
    expect(rest).toEqual([]);
    expect(message).toContain(`${file}:6:21: error[E3002]: shape mismatch in '·': Wh is [4, 8] but h is [4]\n    6 |   h = tanh(Wx·x + σ(Wh·h) + b)`);
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

describe("TypeScript", { timeout: 240_000 }, () => {
  it("rnnc/cell declares `.cell` imports: the default export is a Cell (a misuse of it is the only error)", () => {
    // src/app.ts line 6 assigns the cell's name (a string) to a number.
    expect(JSON.parse(node("typecheck.mjs"))).toEqual(["app.ts:6: TS2322"]);
  });
});

describe("watch and dev mode: a changed cell is compiled again", { timeout: 240_000 }, () => {
  /** The cell grown, then broken (an error on line 6), then grown again. */
  const versions = JSON.stringify([RNN.replace("H = 4", "H = 6"), RNN.replace("Wh·h", "Wx·h"), RNN.replace("H = 4", "H = 7")]);
  type Step = { out?: unknown; error?: { text: string; location?: { line: number; column: number } } };

  it("esbuild's watch mode", () => {
    write("src/w.cell", RNN);
    const steps = JSON.parse(node("watch-esbuild.mjs", versions)) as Step[];
    expect(steps.map((s) => s.out ?? s.error?.text)).toEqual([
      { I: 3, H: 4 }, { I: 3, H: 6 }, "error[E3002]: shape mismatch in '·': Wx is [4, 3] but h is [4]", { I: 3, H: 7 },
    ]);
    expect(steps[2]!.error!.location).toMatchObject({ line: 6, column: 19 });
  });

  it("Vite's build --watch", () => {
    write("src/w.cell", RNN);
    const steps = JSON.parse(node("watch-vite.mjs", versions)) as Step[];
    expect(steps.map((s) => s.out ?? "error")).toEqual([{ I: 3, H: 4 }, { I: 3, H: 6 }, "error", { I: 3, H: 7 }]);
    expect(steps[2]!.error!.text).toContain(`${join(project, "src/w.cell")}:6:19: error[E3002]: shape mismatch in '·'`);
  });

  it("Vite's dev server", () => {
    write("src/w.cell", RNN);
    expect(JSON.parse(node("dev-vite.mjs"))).toEqual([
      { sizes: { I: 3, H: 5 } },
      { sizes: { I: 2, H: 5 } },
      { error: `${join(project, "src/w.cell")}:6:19: error[E3002]: shape mismatch in '·': Wx is [5, 3] but h is [5]` },
    ]);
  });
});
