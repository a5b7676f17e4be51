/**
 * `rnnc build --runtime-copy`: the runtime written beside the modules, which import it relatively.
 * Here the copy is checked to be self-contained (every import inside it resolves inside it) and an
 * emitted module is run against it from a folder where no `rnnc` can be found; the installed
 * package with `npm install --omit=dev` is tests/package.test.ts.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ts } from "ts-morph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile, type Cell } from "../src/index.js";
import { RUNTIME_DIR, runtimeFiles } from "../src/runtime-copy.js";
import { makeTempDir, removeDir, rnnc, rnncClean } from "./reference/harness.js";

let dir = "";
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => removeDir(dir));

const relativeImports = (text: string): string[] => [...text.matchAll(/\b(?:from|import)\s*\(?\s*"(\.[^"]+)"/gu)].map((m) => m[1]!);

describe("rnnc build --runtime-copy", () => {
  it("writes the runtime into OUT/rnnc-runtime/ and the modules import ./rnnc-runtime/index.js", async () => {
    const out = join(dir, "kernels");
    const run = await rnncClean("build", "examples/cells/lstm.cell", "examples/cells/gru.cell", "--out", out, "--dtype", "f64", "--runtime-copy");
    expect(run.code).toBe(0);
    expect(run.out).toContain(`wrote ${join(out, RUNTIME_DIR)}/`);
    expect(readFileSync(join(out, "lstm.ts"), "utf8")).toMatch(/^import \{[^}]*\} from "\.\/rnnc-runtime\/index\.js";$/mu);
    const names = readdirSync(join(out, RUNTIME_DIR));
    expect(names).toEqual(expect.arrayContaining(["index.js", "index.d.ts", "cell.js", "products.js", "package.json"]));
    expect(JSON.parse(readFileSync(join(out, RUNTIME_DIR, "package.json"), "utf8"))).toEqual({ type: "module" });
  });

  it("the copy is self-contained: every relative import names a file of the copy, and nothing else is imported", async () => {
    const files = await runtimeFiles();
    for (const [name, text] of files) {
      for (const spec of relativeImports(text)) {
        expect(spec, `${name} imports ${spec}`).toMatch(/^\.\/[^/]+$/u);
        const target = spec.slice(2);
        const found = files.has(target) || (name.endsWith(".d.ts") && files.has(target.replace(/\.js$/u, ".d.ts")));
        expect(found, `${name} imports ${spec}, which is not in the copy`).toBe(true);
      }
      if (name.endsWith(".js")) expect(text, name).not.toMatch(/\bfrom\s*"(?!\.)|\bimport\s*\(\s*"(?!\.)|\brequire\(/u);
    }
  });

  it("a module built with the copy runs where no rnnc can be found, and computes what `compile` does", async () => {
    const out = join(dir, "kernels");
    // What the project's own TypeScript build does with the module.
    const js = ts.transpileModule(readFileSync(join(out, "gru.ts"), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(out, "gru.mjs"), js);
    expect(existsSync(join(dir, "node_modules"))).toBe(false);
    const { cell } = (await import(pathToFileURL(join(out, "gru.mjs")).href)) as { cell: Cell };
    const inProcess = compile(readFileSync("examples/cells/gru.cell", "utf8"), { dtype: "f64" });
    const run = (c: Cell) => {
      const state = c.createState(1);
      c.step(c.initParams(5), { x: Float64Array.from({ length: 8 }, (_, k) => Math.cos(k)) }, state);
      return Array.from(state.states["h"]!);
    };
    expect(run(cell)).toEqual(run(inProcess));
  });

  it("--runtime and --runtime-copy together are a usage error", async () => {
    const run = await rnnc("build", "examples/cells/rnn.cell", "--out", join(dir, "x"), "--runtime", "rnnc/runtime", "--runtime-copy");
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/--runtime and --runtime-copy: give one of them/u);
    expect(existsSync(join(dir, "x"))).toBe(false);
  });
});
