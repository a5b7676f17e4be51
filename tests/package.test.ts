/**
 * The package as a user gets it: `npm pack`, the tarball installed into a fresh project outside
 * this checkout as a devDependency (as one installs a compiler), and there every export imported
 * (ESM and CommonJS), `npx rnnc build` and `npx rnnc gradcheck` run, and the emitted module loaded
 * against the installed runtime. Last, `rnnc build --runtime-copy` and `npm prune --omit=dev`:
 * the kernels run with no rnnc installed.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { makeProject, npm, packOnce, run as runIn, type Packed } from "./helpers/pack.js";

let dir = "";
let project = "";
let packed: Packed;
let files: readonly string[] = [];

const run = (cmd: string, args: string[]) => runIn(cmd, args, project);
const node = (...args: string[]) => run(process.execPath, args);
/** Bytes under `path`, as `du` counts them (apparent sizes). */
const bytes = (path: string): number => Number(execFileSync("du", ["-sb", path], { encoding: "utf8" }).split("\t")[0]);
const MB = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

const CELL = `cell rnn {
  size I = 3, H = 4
  input x[I]
  state h[H]
  param Wx[H, I], Wh[H, H], b[H]
  h = tanh(Wx·x + Wh·h + b)
}
`;

const EXPORTS = ["rnnc", "rnnc/runtime", "rnnc/train", "rnnc/train/node", "rnnc/parallel", "rnnc/plugin", "rnnc/vite", "rnnc/rollup", "rnnc/esbuild", "rnnc/webpack"];

// The time allowed includes waiting for the run's one build of the package, when another file started it.
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rnnc-package-"));
  packed = await packOnce(inject("runDir"));
  files = packed.files;
  project = makeProject(dir, [packed.tarball], true);
  writeFileSync(join(project, "rnn.cell"), CELL);
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }), 120_000);

describe("the packed package, installed in a fresh project", { timeout: 240_000 }, () => {
  it("ships the built code and the CLI, and nothing of tests, bench, examples or generated modules", () => {
    expect(files).toContain("dist/src/index.js");
    expect(files).toContain("dist/src/runtime/index.d.ts");
    expect(files).toContain("dist/src/train/index.js");
    expect(files).toContain("bin/rnnc.js");
    expect(files).toContain("dist/src/launch.bundle.cjs");
    expect(files).toContain("dist/src/launch.bundle.cache");
    // ts-morph's bundle and code cache (23 MB, for `rnnc build` in a checkout) stay out: an
    // installed package loads ts-morph from its dependency.
    expect(files.filter((f) => f.includes("ts-morph.bundle"))).toEqual([]);
    expect(files).toContain("dist/src/plugin/vite.js");
    expect(files).toContain("dist/src/runtime-copy.js");
    expect(files.filter((f) => /^(tests|bench|examples|generated|src|compiler)\//u.test(f) || /^dist\/(tests|bench|examples|generated)\//u.test(f))).toEqual([]);
  });

  it("imports every export as ESM and through require", () => {
    const script = `
      const names = ${JSON.stringify(EXPORTS)};
      const esm = await Promise.all(names.map((m) => import(m)));
      const { createRequire } = await import("node:module");
      const require = createRequire(import.meta.url);
      const cjs = names.map((m) => require(m));
      const shape = (m) => [m.compile, m.emitModules, m.defineCell, m.Adam, m.unplugin, m.default].map((f) => typeof f).join(" ");
      console.log(JSON.stringify({ esm: esm.map(shape), cjs: cjs.map(shape) }));`;
    const plugin = "undefined undefined undefined undefined undefined function";
    const shapes = [
      "function function undefined undefined undefined undefined",
      "undefined undefined function undefined undefined undefined",
      "undefined undefined undefined function undefined undefined",
      "undefined undefined undefined function undefined undefined",
      "undefined undefined undefined undefined undefined undefined",
      "undefined undefined undefined undefined object object",
      plugin, plugin, plugin, plugin,
    ];
    expect(JSON.parse(node("--input-type=module", "-e", script))).toEqual({ esm: shapes, cjs: shapes });
  });

  it("compiles in-process and runs forward and backward", () => {
    const script = `
      import { compile } from "rnnc";
      import { readFileSync } from "node:fs";
      const cell = compile(readFileSync("rnn.cell", "utf8"), { dtype: "f64" });
      const params = cell.initParams(1);
      const trace = cell.forward(params, { x: new Float64Array(2 * 3) }, { T: 2, B: 1 });
      const grads = cell.createGrads();
      cell.backward(params, trace, { outputs: { h: new Float64Array(2 * 4).fill(1) } }, grads);
      console.log(JSON.stringify({ h: trace.outputs.h.length, finite: [...grads.Wh].every(Number.isFinite) }));`;
    writeFileSync(join(project, "inprocess.mjs"), script);
    expect(JSON.parse(node("inprocess.mjs"))).toEqual({ h: 8, finite: true });
  });

  it("runs a cell in two worker threads through rnnc/parallel, as compile() runs it", () => {
    const script = `
      import { compile } from "rnnc";
      import { parallel } from "rnnc/parallel";
      import { readFileSync } from "node:fs";
      const source = readFileSync("rnn.cell", "utf8");
      const cell = compile(source, { dtype: "f64" });
      const par = await parallel({ source, options: { dtype: "f64" } }, { threads: 2 });
      const params = par.initParams(1);
      const x = new Float64Array(2 * 3 * 3).map((_, i) => Math.sin(i));
      const a = cell.forward(params, { x }, { T: 2, B: 3 });
      const b = await par.forward(params, { x }, { T: 2, B: 3 });
      await par.close();
      console.log(JSON.stringify({ workers: par.workers, same: a.outputs.h.every((v, i) => v === b.outputs.h[i]) }));`;
    writeFileSync(join(project, "parallel.mjs"), script);
    expect(JSON.parse(node("parallel.mjs"))).toEqual({ workers: true, same: true });
  });

  it("runs `npx rnnc build` and `npx rnnc gradcheck`; the emitted module runs on the installed runtime", () => {
    expect(run("npx", ["--no-install", "rnnc", "check", "rnn.cell"])).toBe("rnn.cell: ok (rnn)\n");
    expect(run("npx", ["--no-install", "rnnc", "build", "rnn.cell", "--out", "gen"])).toContain("gen/rnn.ts");
    expect(run("npx", ["--no-install", "rnnc", "gradcheck", "rnn.cell"])).toMatch(/all 5 gradients match/u);
    // The user's own TypeScript toolchain would compile the module; here the TypeScript compiler
    // that came with the package's dependencies does.
    const transpile = `
      import { createRequire } from "node:module";
      import { readFileSync, writeFileSync } from "node:fs";
      const { ts } = createRequire(import.meta.resolve("rnnc"))("ts-morph");
      const out = ts.transpileModule(readFileSync("gen/rnn.ts", "utf8"), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
      writeFileSync("gen/rnn.js", out.outputText);`;
    writeFileSync(join(project, "transpile.mjs"), transpile);
    node("transpile.mjs");
    const use = `
      import { cell } from "./gen/rnn.js";
      const state = cell.createState(1);
      cell.step(cell.initParams(3), { x: new Float32Array([1, 2, 3]) }, state);
      console.log(JSON.stringify({ name: cell.name, h: state.states.h.length, finite: [...state.outputs.h].every(Number.isFinite) }));`;
    writeFileSync(join(project, "use.mjs"), use);
    expect(JSON.parse(node("use.mjs"))).toEqual({ name: "rnn", h: 4, finite: true });
    expect(readFileSync(join(project, "gen/rnn.ts"), "utf8")).toMatch(/from "rnnc\/runtime"/u);
  });

  it("with --runtime-copy, the kernels run after `npm prune --omit=dev`, with no rnnc installed", () => {
    expect(run("npx", ["--no-install", "rnnc", "build", "rnn.cell", "--out", "kernels", "--runtime-copy"])).toContain("kernels/rnnc-runtime/");
    // The project's TypeScript build, done while its devDependencies are installed.
    const transpile = `
      import { createRequire } from "node:module";
      import { readFileSync, writeFileSync } from "node:fs";
      const { ts } = createRequire(import.meta.resolve("rnnc"))("ts-morph");
      const out = ts.transpileModule(readFileSync("kernels/rnn.ts", "utf8"), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
      writeFileSync("kernels/rnn.js", out.outputText);`;
    writeFileSync(join(project, "transpile-kernels.mjs"), transpile);
    node("transpile-kernels.mjs");
    const withDev = bytes(join(project, "node_modules"));
    run(npm, ["prune", "--omit=dev", "--no-audit", "--no-fund"]);
    const withoutDev = existsSync(join(project, "node_modules")) ? bytes(join(project, "node_modules")) : 0;
    expect(existsSync(join(project, "node_modules/rnnc"))).toBe(false);
    expect(existsSync(join(project, "node_modules/ts-morph"))).toBe(false);
    const use = `
      import { cell } from "./kernels/rnn.js";
      const state = cell.createState(1);
      cell.step(cell.initParams(3), { x: new Float32Array([1, 2, 3]) }, state);
      const trace = cell.forward(cell.initParams(3), { x: new Float32Array(2 * 3).fill(0.5) }, { T: 2, B: 1 });
      console.log(JSON.stringify({ name: cell.name, h: state.states.h.length, finite: [...state.outputs.h, ...trace.outputs.h].every(Number.isFinite) }));`;
    writeFileSync(join(project, "use-kernels.mjs"), use);
    expect(JSON.parse(node("use-kernels.mjs"))).toEqual({ name: "rnn", h: 4, finite: true });
    const kernels = bytes(join(project, "kernels"));
    // What a project ships: the sizes are reported, not asserted (they follow dependency releases).
    console.log(`tarball ${MB(packed.size)} (${files.length} files, ${MB(packed.unpackedSize)} unpacked); ` +
      `node_modules with dev dependencies ${MB(withDev)}, after npm prune --omit=dev ${(withoutDev / 1e3).toFixed(1)} kB; ` +
      `kernels/ with the runtime copy ${(kernels / 1e3).toFixed(0)} kB (${readdirSync(join(project, "kernels/rnnc-runtime")).length} runtime files)`);
    expect(withoutDev).toBeLessThan(withDev);
  });
});
