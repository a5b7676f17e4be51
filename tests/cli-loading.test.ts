/**
 * What a command loads. `bin/rnnc.js` runs the bundled CLI (`dist/src/launch.bundle.cjs`, made by
 * `npm run build` with its V8 code cache, which V8 takes); `rnnc check` runs with every other
 * module of rnnc's dist/ and TypeScript, ts-morph and prettier refused by hooks on `import` and
 * `require`, and prints what the unbundled CLI prints; the other commands run from the unbundled
 * modules (their usage errors are still usage errors); the command table's names are the names of
 * the commands it loads.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { COMMAND_NAMES, loadCommand, loadCommands } from "../src/commands.js";

const dir = mkdtempSync(join(tmpdir(), "rnnc-loading-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Run = { status: number | null; stdout: string; stderr: string };

/**
 * `node bin/rnnc.js ...args` refusing modules whose path matches `refused`: a resolve hook for ES
 * modules and a wrapped `require` loader (bin/rnnc.js and the bundle are CommonJS).
 */
function refusing(refused: RegExp, args: readonly string[]): Run {
  const name = `${refused.source.length}`;
  const hooks = join(dir, `hooks-${name}.mjs`);
  writeFileSync(hooks, [
    `const refused = new RegExp(${JSON.stringify(refused.source)});`,
    "export async function resolve(specifier, context, next) {",
    "  const r = await next(specifier, context);",
    "  if (refused.test(r.url)) throw new Error(`refused: ${r.url}`);",
    "  return r;",
    "}",
  ].join("\n"));
  const register = join(dir, `register-${name}.mjs`);
  writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const cjs = join(dir, `require-${name}.cjs`);
  writeFileSync(cjs, [
    'const Module = require("node:module");',
    `const refused = new RegExp(${JSON.stringify(refused.source)});`,
    "const load = Module._load;",
    "Module._load = function (request, parent, isMain) {",
    "  const path = Module.isBuiltin(request) ? request : Module._resolveFilename(request, parent, isMain);",
    "  if (refused.test(path)) throw new Error(`refused: ${path}`);",
    "  return load.apply(this, arguments);",
    "};",
  ].join("\n"));
  return spawnSync(process.execPath, ["--require", cjs, "--import", pathToFileURL(register).href, "bin/rnnc.js", ...args], { encoding: "utf8" });
}

/** The same command through the unbundled CLI (`dist/src/cli.js`). */
function unbundled(args: readonly string[]): Run {
  const script = `import { main } from ${JSON.stringify(pathToFileURL("dist/src/cli.js").href)};\nprocess.exitCode = await main(${JSON.stringify(args)});`;
  return spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
}

const bin = (args: readonly string[]): Run => spawnSync(process.execPath, ["bin/rnnc.js", ...args], { encoding: "utf8" });

/** Any module of rnnc's dist/ but the bundle, and the back end's packages. */
const ALL_BUT_BUNDLE = /\/dist\/(?!src\/launch\.bundle\.cjs$)|node_modules\/(typescript|ts-morph|@ts-morph|prettier)\//;

describe("rnnc check loads one module of rnnc: the bundle", () => {
  it("the hooks refuse what they should (rnnc build is refused; a built-in bin/rnnc.js requires, when it is refused)", () => {
    expect(existsSync("dist/src/launch.bundle.cjs"), "the bundled CLI is missing: run npm run build").toBe(true);
    const r = refusing(ALL_BUT_BUNDLE, ["build", "examples/cells/rnn.cell", "--out", join(dir, "out")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/refused: .*dist\/src\/cli\.js/);
    const required = refusing(/^node:vm$/, ["check", "examples/cells/rnn.cell"]);
    expect(required.status).not.toBe(0);
    expect(required.stderr).toMatch(/refused: node:vm/);
  });

  it("V8 takes the bundle's code cache", () => {
    const script = `const { Script } = require("node:vm"), { readFileSync } = require("node:fs"), { wrap } = require("node:module");
      const file = "dist/src/launch.bundle.cjs";
      const s = new Script(wrap(readFileSync(file, "utf8")), { filename: file, cachedData: readFileSync("dist/src/launch.bundle.cache") });
      console.log(s.cachedDataRejected);`;
    expect(spawnSync(process.execPath, ["-e", script], { encoding: "utf8" }).stdout).toBe("false\n");
  });

  it("rnnc check runs with every other module refused", () => {
    const r = refusing(ALL_BUT_BUNDLE, ["check", "examples/cells/lstm.cell", "examples/cells/gru.cell"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("examples/cells/lstm.cell: ok (lstm)\nexamples/cells/gru.cell: ok (gru)\n");
    expect(r.status).toBe(0);
  });

  it("prints what the unbundled CLI prints: diagnostics, JSON, usage errors, version", () => {
    const bad = join(dir, "bad.cell");
    writeFileSync(bad, "cell bad {\n  size H = 4\n  state h[H]\n  param W[H, 2*H]\n  h = tanh(W·h + q)\n}\n");
    const cases: [args: string[], status: number][] = [
      [["check", bad, "examples/cells/rnn.cell"], 1],
      [["check", bad, "--json"], 1],
      [["check", "examples/cells/rnn.cell", "--size", "Q=3"], 2],
      [["--version"], 0],
    ];
    for (const [args, status] of cases) {
      const [a, b] = [bin(args), unbundled(args)];
      expect({ args, status: a.status, stdout: a.stdout, stderr: a.stderr }).toEqual({ args, status: b.status, stdout: b.stdout, stderr: b.stderr });
      expect(a.status, args.join(" ")).toBe(status);
    }
  });
});

describe("commands the bundle hands on", () => {
  it("run from the unbundled modules, their errors reported as theirs", () => {
    const graph = bin(["graph", "examples/cells/rnn.cell", "--format", "png"]);
    expect(graph.stderr).toMatch(/^rnnc graph: error: --format: expected dot, svg or mermaid, got 'png'/);
    expect(graph.status).toBe(2);
    const explain = bin(["explain", "E3002"]);
    expect(explain.stdout).toMatch(/^E3002: /);
    expect(explain.status).toBe(0);
  });
});

describe("the command table", () => {
  it("lists each command under its own name, in the order of the overview", async () => {
    expect((await loadCommands()).map((c) => c.name)).toEqual(COMMAND_NAMES);
    for (const name of COMMAND_NAMES) expect((await loadCommand(name))?.name).toBe(name);
    expect(await loadCommand("chek")).toBeUndefined();
  });
});
