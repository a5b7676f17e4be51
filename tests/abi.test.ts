/**
 * The compiler–runtime contract (src/runtime/abi.ts) ties its users together: what emitted
 * modules import, declare and take as parameters, the runtime's exports, the WebAssembly
 * products' parameters, the reserved names, the header; the JavaScript `compile()` runs and the
 * TypeScript `rnnc build` writes compute the same bits; and the check/compile path never loads
 * TypeScript, ts-morph or prettier.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildModule } from "../compiler/build.js";
import { HASH_DIGITS, renderJavaScript } from "../compiler/codegen/module.js";
import { LANGUAGE_GLOBALS, isReserved } from "../compiler/codegen/names.js";
import { sha256 } from "../compiler/codegen/sha256.js";
import { compileSource } from "../compiler/index.js";
import { OPS } from "../compiler/ops/index.js";
import { RNNC_VERSION } from "../compiler/version.js";
import { instantiate } from "../src/instantiate.js";
import { load } from "../src/load.js";
import {
  KERNEL_PARAMETERS, KERNEL_PARAMETER_TYPES, KERNELS, LOADER_BINDINGS, MODULE_NAMES, PRODUCTS, PRODUCT_NAMES, RUNTIME_IMPORTS,
  productCall, wasmProductParams,
} from "../src/runtime/abi.js";
import * as runtime from "../src/runtime/index.js";
import { plainProducts } from "../src/runtime/products.js";
import { PRODUCTS_WASM } from "../src/runtime/products-wasm.js";
import type { Cell, Real } from "../src/runtime/types.js";

const CELLS = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).sort();
const HELPERS = [...new Set([...OPS.values()].flatMap((op) => op.helpers ?? []))];

/** `import { a, type B } from "…"` of a module's text: the names, types marked. */
function importedNames(text: string): { values: string[]; types: string[] } {
  const list = /^import \{([^}]*)\} from/m.exec(text)![1]!.split(",").map((s) => s.trim()).filter(Boolean);
  return { values: list.filter((n) => !n.startsWith("type ")), types: list.filter((n) => n.startsWith("type ")).map((n) => n.slice(5)) };
}

describe("what emitted modules import is in the ABI, and the runtime exports it", () => {
  it.each(CELLS)("generated/ module of %s", (file) => {
    const text = readFileSync(`generated/${file.replace(/\.cell$/, ".ts")}`, "utf8");
    const { values, types } = importedNames(text);
    expect(values.slice(0, RUNTIME_IMPORTS.values.length)).toEqual([...RUNTIME_IMPORTS.values]);
    for (const v of values) {
      expect([...RUNTIME_IMPORTS.values, ...HELPERS], v).toContain(v);
      expect(typeof (runtime as Record<string, unknown>)[v], v).toBe("function");
    }
    expect(types).toEqual([...RUNTIME_IMPORTS.types]);
  });

  it("every op helper is a function the runtime exports", () => {
    expect(HELPERS.length).toBeGreaterThan(0);
    for (const h of HELPERS) expect(typeof (runtime as Record<string, unknown>)[h], h).toBe("function");
  });

  it.each(CELLS)("the kernels of %s take the ABI's parameters, in order (JavaScript and TypeScript)", async (file) => {
    const [c] = compileSource(readFileSync(`examples/cells/${file}`, "utf8"), { path: file });
    const ts = await buildModule(c!);
    for (const k of KERNELS) {
      // A parameter the body never reads is declared `_Y` (strict TypeScript's noUnusedParameters).
      const js = new RegExp(`^function ${k}\\(([^)]*)\\)`, "m").exec(c!.code)![1]!.split(", ");
      expect(js.map((p) => p.replace(/^_/u, ""))).toEqual([...KERNEL_PARAMETERS[k]]);
      const body = c!.code.slice(c!.code.indexOf(`function ${k}(`)).split("\n}\n")[0]!.split("\n").slice(1).join("\n");
      for (const p of js) expect(new RegExp(`(?<![.\\w])${p.replace(/^_/u, "")}\\b`, "u").test(body), `${k}: ${p}`).toBe(!p.startsWith("_"));
      const typed = new RegExp(`^function ${k}\\(([^)]*)\\)`, "m").exec(ts)![1]!.split(",").map((p) => p.trim()).filter(Boolean);
      expect(typed).toEqual(KERNEL_PARAMETERS[k].map((p, n) => `${js[n]}: ${KERNEL_PARAMETER_TYPES[p]}`));
    }
  });
});

describe("the products: one signature for codegen, the runtime and the WebAssembly functions", () => {
  it("each has 12 arguments, and the plain products take them all", () => {
    for (const name of PRODUCT_NAMES) {
      expect(PRODUCTS[name].args.length).toBe(12);
      expect(plainProducts[name].length, name).toBe(12);
    }
  });

  it("the WebAssembly module's functions take the parameters the ABI derives, in both dtypes", () => {
    const bytes = Uint8Array.from(atob(PRODUCTS_WASM), (c) => c.charCodeAt(0));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: new WebAssembly.Memory({ initial: 1 }) } });
    expect(wasmProductParams("nt")).toEqual(["rows", "N", "K", "A", "as", "W", "Y", "ys", "acc"]);
    expect(wasmProductParams("tn")).toEqual(["rows", "R", "C", "A", "as", "B", "bs", "G"]);
    for (const name of PRODUCT_NAMES)
      for (const dtype of ["f32", "f64"]) expect((instance.exports[`${name}_${dtype}`] as Function).length).toBe(wasmProductParams(name).length);
  });

  it("a product call in emitted code has exactly the ABI's arguments", () => {
    expect(productCall("nt", [1, 2, 3, "A", 0, 3, "W", 0, "Y", 0, 2, 0])).toBe("mm.nt(1, 2, 3, A, 0, 3, W, 0, Y, 0, 2, 0)");
    expect(() => productCall("tn", [1, 2, 3])).toThrow(/product tn takes 12 arguments/);
    const [c] = compileSource(readFileSync("examples/cells/lstm.cell", "utf8"));
    const calls = [...c!.code.matchAll(/\bmm\.(nt|nn|tn)\((.*)\); \/\//g)];
    expect(calls.length).toBeGreaterThan(0);
    for (const [, , args] of calls) {
      let depth = 0, commas = 0;
      for (const ch of args!) (depth += ch === "(" ? 1 : ch === ")" ? -1 : 0), (commas += ch === "," && depth === 0 ? 1 : 0);
      expect(commas + 1, args).toBe(12);
    }
  });
});

describe("reserved names come from the ABI, the op table and the language", () => {
  it("every name a module imports, declares or binds, every helper and loader binding is reserved", () => {
    for (const name of [...MODULE_NAMES, ...HELPERS, ...LOADER_BINDINGS, ...KERNELS, ...Object.keys(KERNEL_PARAMETER_TYPES)])
      expect(isReserved(name), name).toBe(true);
  });

  it("the language's globals are the engine's own (a fresh realm has each), all reserved", () => {
    const realm = new Set(runInNewContext("Object.getOwnPropertyNames(globalThis)") as string[]);
    for (const g of LANGUAGE_GLOBALS) {
      expect(realm.has(g), g).toBe(true);
      expect(isReserved(g), g).toBe(true);
    }
    // Host globals are not: a cell's `name`, `process` or `path` keeps its name on every host.
    for (const host of ["process", "name", "path", "window", "console"]) expect(isReserved(host), host).toBe(false);
  });

  it("every global emitted code reads is reserved", () => {
    const globals = new Set<string>();
    for (const file of CELLS) {
      for (const products of ["runtime", "inline"] as const) {
        const [c] = compileSource(readFileSync(`examples/cells/${file}`, "utf8"), { products });
        for (const [, g] of c!.code.matchAll(/(?<![.\w])(Math|NaN|Infinity|undefined|Float32Array|Float64Array|Uint8Array)\b/g)) globals.add(g!);
      }
    }
    expect([...globals]).toEqual(expect.arrayContaining(["Math", "undefined"]));
    for (const g of globals) expect(isReserved(g), g).toBe(true);
  });
});

describe("the header names the rnnc version and the source's hash", () => {
  it("the version is package.json's", () => {
    expect(RNNC_VERSION).toBe((JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version);
  });

  it("sha256 is SHA-256 of the UTF-8 text (around every block boundary, any Unicode)", () => {
    const node = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
    expect(sha256("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    for (let n = 0; n < 200; n++) expect(sha256("a".repeat(n)), `length ${n}`).toBe(node("a".repeat(n)));
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), (s) => sha256(s) === node(s)), { seed: 9, numRuns: 200 });
  });

  it.each(CELLS)("%s: its module's first line, in JavaScript and TypeScript", async (file) => {
    const text = readFileSync(`examples/cells/${file}`, "utf8");
    const [c] = compileSource(text, { path: `examples/cells/${file}`, dtype: "f64" });
    const hash = createHash("sha256").update(text).digest("hex").slice(0, HASH_DIGITS);
    const line = `// Generated by rnnc ${RNNC_VERSION} from "examples/cells/${file}" (sha-256 ${hash}; cell "${c!.name}", f64). Do not edit.`;
    expect(c!.code.split("\n")[0]).toBe(line);
    expect((await buildModule(c!)).split("\n")[0]).toBe(line);
  });
});

/** Forward and backward of `cell` on seeded data: every number it returns. */
function run(cell: Cell, T = 3, B = 2): number[] {
  const fill = (n: number, k: number): Real => {
    const a = cell.dtype === "f32" ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = Math.sin(1.3 * i + k);
    return a;
  };
  const params = cell.initParams(5);
  const inputs = Object.fromEntries(cell.inputs.map((x, k) => [x.name, fill(T * B * x.size, k)]));
  const mask = new Uint8Array(T * B).fill(1);
  mask[T * B - 1] = 0;
  const trace = cell.forward(params, inputs, { T, B, mask });
  const grads = cell.createGrads();
  const outputs = Object.fromEntries(cell.outputs.map((o, k) => [o.name, fill(T * B * o.size, 7 + k)]));
  const back = cell.backward(params, trace, { outputs }, grads);
  const state = cell.createState(B);
  cell.step(params, Object.fromEntries(cell.inputs.map((x, k) => [x.name, fill(B * x.size, k)])), state);
  return [trace.outputs, trace.final, grads, back.inputs, back.initial, state.states, state.outputs].flatMap((t) => Object.values(t).flatMap((a) => [...a]));
}

describe("the JavaScript compile() runs and the TypeScript build writes are one module", () => {
  it.each(CELLS.flatMap((f) => (["runtime", "inline"] as const).map((p) => [f, p] as const)))("%s, products %s: the same bits", async (file, products) => {
    const [c] = compileSource(readFileSync(`examples/cells/${file}`, "utf8"), { dtype: "f64", products });
    const direct = run(instantiate(c!));
    expect(direct.length).toBeGreaterThan(0);
    expect(run(load(await buildModule(c!)))).toEqual(direct);
    expect(run(load(c!.code))).toEqual(direct);
  });

  it("the function form is the module form with the runtime as a parameter", () => {
    const [c] = compileSource(readFileSync("examples/cells/gru.cell", "utf8"));
    const asModule = renderJavaScript(c!.module, "module").split("\n");
    const asFunction = renderJavaScript(c!.module, "function").split("\n");
    expect(asFunction.slice(1, 3)).toEqual(['"use strict";', `const { ${importedNames(asModule.join("\n")).values.join(", ")} } = runtime;`]);
    expect(asFunction.slice(3, -3)).toEqual(asModule.slice(2, -3).map((l) => l.replace(/^export /, "")));
  });
});

describe("checking and compiling in-process load no TypeScript, ts-morph or prettier", () => {
  const dist = (p: string) => join(process.cwd(), "dist", p);

  /** Imports `entry` (under dist/) in a fresh Node with a resolve hook that refuses the heavy packages. */
  function importRefusing(entry: string, then = ""): { status: number | null; stderr: string } {
    const dir = mkdtempSync(join(tmpdir(), "rnnc-graph-"));
    writeFileSync(join(dir, "hooks.mjs"), [
      "export async function resolve(specifier, context, next) {",
      "  const r = await next(specifier, context);",
      "  if (/node_modules\\/(typescript|ts-morph|@ts-morph|prettier)\\//.test(r.url)) throw new Error(`refused: ${r.url}`);",
      "  return r;",
      "}",
    ].join("\n"));
    writeFileSync(join(dir, "register.mjs"), `import { register } from "node:module";\nregister(${JSON.stringify(`file://${join(dir, "hooks.mjs")}`)});\n`);
    const script = `const m = await import(${JSON.stringify(`file://${dist(entry)}`)});\n${then}`;
    const r = spawnSync(process.execPath, ["--import", `file://${join(dir, "register.mjs")}`, "--input-type=module", "-e", script], { encoding: "utf8" });
    return { status: r.status, stderr: r.stderr };
  }

  it("the refusing hook works (compiler/build.js is refused)", () => {
    expect(existsSync(dist("compiler/index.js")), "dist/ is missing: run npm run build").toBe(true);
    const r = importRefusing("compiler/build.js");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/refused: .*node_modules\/(prettier|ts-morph)/);
  });

  it("compiler/index.js (check, lower, compile to a module) and compile() from the package", () => {
    const cell = JSON.stringify(readFileSync("examples/cells/lstm.cell", "utf8"));
    for (const [entry, then] of [
      ["compiler/index.js", `m.checkSource(${cell}); m.compileSource(${cell});`],
      ["src/index.js", `const c = m.compile(${cell}); if (c.forward(c.initParams(1), { x: new Float32Array(8) }, { T: 1, B: 1 }).final.h.length !== 16) process.exit(3);`],
    ] as const) {
      const r = importRefusing(entry, then);
      expect(r.stderr, entry).toBe("");
      expect(r.status, entry).toBe(0);
    }
  });
});
