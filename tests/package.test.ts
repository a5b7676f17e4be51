/**
 * The package as a user gets it: `npm pack`, the tarball installed into a fresh project outside
 * this checkout, and there every export imported (ESM and CommonJS), `npx rnnc build` and
 * `npx rnnc gradcheck` run, and the emitted module loaded against the installed runtime.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = resolve(import.meta.dirname, "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
let dir = "";
let project = "";
let files: string[] = [];

const run = (cmd: string, args: string[], cwd = project) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_fund: "false", npm_config_audit: "false" } });
const node = (...args: string[]) => run(process.execPath, args);

const CELL = `cell rnn {
  size I = 3, H = 4
  input x[I]
  state h[H]
  param Wx[H, I], Wh[H, H], b[H]
  h = tanh(Wx·x + Wh·h + b)
}
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "rnnc-package-"));
  // Packed from a staging copy built fresh, so this checkout's dist/ (which other tests read) is
  // never rewritten under them, and what is packed is the code as it is now.
  const stage = join(dir, "stage");
  run(process.execPath, [join(repo, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", join(stage, "dist")], repo);
  for (const entry of ["package.json", "README.md", "bin"]) cpSync(join(repo, entry), join(stage, entry), { recursive: true });
  const packed = JSON.parse(run(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], stage)) as { filename: string; files: { path: string }[] }[];
  files = packed[0]!.files.map((f) => f.path);
  project = join(dir, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", version: "1.0.0", private: true, type: "module" }));
  run(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund", join(dir, packed[0]!.filename)]);
  writeFileSync(join(project, "rnn.cell"), CELL);
}, 240_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the packed package, installed in a fresh project", () => {
  it("ships the built code and the CLI, and nothing of tests, bench, examples or generated modules", () => {
    expect(files).toContain("dist/src/index.js");
    expect(files).toContain("dist/src/runtime/index.d.ts");
    expect(files).toContain("dist/src/train/index.js");
    expect(files).toContain("bin/rnnc.js");
    expect(files.filter((f) => /^(tests|bench|examples|generated|src|compiler)\//u.test(f) || /^dist\/(tests|bench|examples|generated)\//u.test(f))).toEqual([]);
  });

  it("imports every export as ESM and through require", () => {
    const script = `
      const esm = await Promise.all(["rnnc", "rnnc/runtime", "rnnc/train"].map((m) => import(m)));
      const { createRequire } = await import("node:module");
      const require = createRequire(import.meta.url);
      const cjs = ["rnnc", "rnnc/runtime", "rnnc/train"].map((m) => require(m));
      console.log(JSON.stringify({
        compile: typeof esm[0].compile, defineCell: typeof esm[1].defineCell, Adam: typeof esm[2].Adam,
        cjs: [typeof cjs[0].compile, typeof cjs[1].defineCell, typeof cjs[2].Adam],
      }));`;
    expect(JSON.parse(node("--input-type=module", "-e", script))).toEqual({
      compile: "function", defineCell: "function", Adam: "function", cjs: ["function", "function", "function"],
    });
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

  it("runs `npx rnnc build` and `npx rnnc gradcheck`; the emitted module runs on the installed runtime", () => {
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
});
