/**
 * Emitted TypeScript compiles in a project with the strictest common compiler settings: `strict`,
 * `noUncheckedIndexedAccess`, `noUnusedLocals`, `noUnusedParameters`, `exactOptionalPropertyTypes`
 * and `verbatimModuleSyntax`. Checked on every module in `generated/` and on every example cell
 * built with products inline, without the optimizing passes, and in float64, each importing the
 * runtime's declarations as a project gets them (`--runtime-copy`).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildModule } from "../compiler/build.js";
import { compileSource, type CompileOptions } from "../compiler/index.js";
import { runtimeModules } from "../src/runtime-copy.js";

const CELLS = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).sort();
const GENERATED = readdirSync("generated").filter((f) => f.endsWith(".ts")).sort();

/** Each build of the example cells, by folder name. */
const VARIANTS: Readonly<Record<string, CompileOptions>> = {
  inline: { products: "inline" },
  "no-opt": { optimize: false },
  f64: { dtype: "f64" },
  "f64-inline-no-opt": { dtype: "f64", products: "inline", optimize: false },
};

const STRICTEST: ts.CompilerOptions = {
  strict: true,
  noUncheckedIndexedAccess: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  exactOptionalPropertyTypes: true,
  verbatimModuleSyntax: true,
  noEmit: true,
  skipLibCheck: false,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: [],
};

let dir: string;
const files: string[] = [];

/** Writes the runtime copy (JavaScript and declarations) into `folder`. */
async function writeRuntime(folder: string): Promise<void> {
  for (const m of await runtimeModules(folder)) {
    mkdirSync(join(m.path, ".."), { recursive: true });
    writeFileSync(m.path, m.text);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rnnc-strict-ts-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  // generated/ imports `../src/runtime/index.js`: the same relative place in the folder.
  mkdirSync(join(dir, "generated"));
  for (const f of GENERATED) {
    cpSync(join("generated", f), join(dir, "generated", f));
    files.push(join(dir, "generated", f));
  }
  await writeRuntime(join(dir, "src"));
  cpSync(join(dir, "src", "rnnc-runtime"), join(dir, "src", "runtime"), { recursive: true });
  for (const [variant, options] of Object.entries(VARIANTS)) {
    const out = join(dir, variant);
    await writeRuntime(out);
    for (const file of CELLS) {
      const path = `examples/cells/${file}`;
      for (const cell of compileSource(readFileSync(path, "utf8"), { ...options, path, runtime: "./rnnc-runtime/index.js" })) {
        const target = join(out, `${cell.name}.ts`);
        writeFileSync(target, await buildModule(cell));
        files.push(target);
      }
    }
  }
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Every diagnostic tsc gives on `roots` under the strictest settings, as `file TScode: message`;
 * with `only`, those of that file (and the program's own), the rest of the program left unchecked.
 */
function strictErrors(roots: readonly string[], only?: string): string[] {
  const program = ts.createProgram(roots, STRICTEST);
  return ts.getPreEmitDiagnostics(program, only === undefined ? undefined : program.getSourceFile(only)).map((d) => {
    const where = d.file ? `${d.file.fileName.slice(dir.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : "";
    return `${where} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
  });
}

describe("emitted TypeScript under the strictest common settings", () => {
  it("builds what it checks: every module of generated/ and every example cell in each variant", () => {
    expect(GENERATED.length).toBeGreaterThanOrEqual(CELLS.length);
    expect(files.length).toBe(GENERATED.length + Object.keys(VARIANTS).length * CELLS.length);
    const inline = readFileSync(join(dir, "inline", "lstm.ts"), "utf8");
    // The inline products are there (their reads are checked too), and no runtime product is called.
    expect(inline).toMatch(/let s00 = 0/u);
    expect(inline).not.toMatch(/\bmm\.\w+\(/u);
  });

  it("type-checks every module with no error", () => {
    expect(strictErrors(files)).toEqual([]);
  }, 120_000);

  it("is not vacuous: the same modules with a read's `!` removed fail noUncheckedIndexedAccess", () => {
    const path = join(dir, "generated", "lstm.ts");
    const text = readFileSync(path, "utf8");
    const broken = join(dir, "generated", "broken.ts");
    writeFileSync(broken, text.replace(/(\[[^\]\n]*\])! \+/u, "$1 +"));
    try {
      // Only the broken module's own errors count (the runtime's declarations are checked above).
      expect(strictErrors([broken], broken).some((e) => /^generated\/broken\.ts:\d+ TS(2532|18048|2322|2345)/u.test(e))).toBe(true);
    } finally {
      rmSync(broken);
    }
  }, 60_000);
});
