/**
 * The escaping module (`compiler/codegen/literal.ts`) and the name allocator: every hostile
 * character (tests/helpers/hostile.ts) and random full-Unicode text, lone surrogates included,
 * round-trips through a string literal (in plain JS, through TypeScript and through prettier),
 * stays one comment, stays inert in a template or a `<script>`; every allocated name is a plain
 * identifier that shadows nothing; `load` refuses modules that import anything but the runtime;
 * and `compile(source, { path })` with a hostile path runs no code from it.
 */
import fc from "fast-check";
import { Project, ts } from "ts-morph";
import { afterEach, describe, expect, it } from "vitest";
import { buildModule, formatModule } from "../compiler/build.js";
import { headerText } from "../compiler/codegen/module.js";
import { compileSource } from "../compiler/index.js";
import { commentText, identifier, integer, isPlainIdentifier, numberLiteral, stringLiteral, valueLiteral } from "../compiler/codegen/literal.js";
import { Names, isReserved } from "../compiler/codegen/names.js";
import { isIdentChar, isIdentStart, KEYWORDS } from "../compiler/lexer.js";
import { compile } from "../src/index.js";
import { instantiate } from "../src/instantiate.js";
import { load, RUNTIME_SPECIFIER } from "../src/load.js";
import { expectMatchesReference } from "./helpers/compare.js";
import { HOSTILE, LONE_SURROGATE } from "./helpers/hostile.js";

const CASES = Object.entries(HOSTILE);
/** Each hostile text alone, and inside a payload that runs if it gets out. */
const TEXTS = CASES.flatMap(([, h]) => [h, `a${h}globalThis.pwned=1//`, `${h}${h}`]);

/** Any code point (surrogate halves included), mostly hostile ones. */
const unit = fc.oneof(
  fc.constantFrom(...Object.values(HOSTILE)),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.constantFrom("*", "/", "$", "{", "<", "-", "!"),
);
const anyText = fc.string({ unit, maxLength: 12 });

/** Whether TypeScript reads `text` as one identifier. */
const isTsIdentifier = (text: string) =>
  [...text].every((ch, k) => (k === 0 ? ts.isIdentifierStart : ts.isIdentifierPart)(ch.codePointAt(0)!, ts.ScriptTarget.ES2022));

const evaluate = (expression: string): unknown => new Function(`"use strict"; return (${expression});`)();

/** The tokens TypeScript's scanner sees in `text`, trivia included. */
function tokens(text: string): { kind: ts.SyntaxKind; text: string }[] {
  const scanner = ts.createScanner(ts.ScriptTarget.ES2022, false, ts.LanguageVariant.Standard, text);
  const out: { kind: ts.SyntaxKind; text: string }[] = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) out.push({ kind, text: scanner.getTokenText() });
  return out;
}

/** Transpiles a TS module to CommonJS and runs it; returns its exports. */
function runModule(code: string): Record<string, unknown> {
  const { outputText, diagnostics } = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: true,
  });
  expect(diagnostics ?? []).toEqual([]);
  const exports: Record<string, unknown> = {};
  new Function("exports", outputText)(exports);
  return exports;
}

afterEach(() => {
  expect((globalThis as { pwned?: unknown }).pwned, "code from a name ran").toBeUndefined();
});

/** What a string literal must be, whatever it holds (also as a TypeScript module unless `quick`). */
function expectInertLiteral(text: string, quick = false): void {
  const literal = stringLiteral(text);
  expect(evaluate(literal)).toBe(text);
  // One line, one token, well formed, nothing that means anything in another context.
  expect(literal).toMatch(/^"[^"]*"$/);
  expect(literal).not.toMatch(/[\n\r\u2028\u2029\u0085'`<>&]|\$\{|\*\//);
  expect(literal).not.toMatch(LONE_SURROGATE);
  for (const ch of literal) expect(ch === " " || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch), `raw ${JSON.stringify(ch)} in ${literal}`).toBe(true);
  expect(tokens(literal).map((t) => t.kind)).toEqual([ts.SyntaxKind.StringLiteral]);
  // Inside a template literal it is text, with the same escapes.
  expect(new Function(`return \`${literal}\`;`)()).toBe(`"${text}"`);
  // As a comment: a line comment and a block comment stay one comment, in JS and for TypeScript.
  const comment = commentText(text);
  expect(evaluate(comment)).toBe(text);
  expect(new Function(`// ${comment}\nreturn 1;`)()).toBe(1);
  expect(new Function(`/* ${comment} */ return 1;`)()).toBe(1);
  expect(new Function(`/** ${comment} */ return 1;`)()).toBe(1);
  expect(tokens(`// ${comment}`).map((t) => t.kind)).toEqual([ts.SyntaxKind.SingleLineCommentTrivia]);
  expect(tokens(`/* ${comment} */`).map((t) => t.kind)).toEqual([ts.SyntaxKind.MultiLineCommentTrivia]);
  // Through TypeScript, as a module.
  if (!quick) expect(runModule(`export const x = ${literal};`)["x"]).toBe(text);
}

describe("stringLiteral and commentText", () => {
  it.each(CASES)("%s: round-trips, and stays one token, one comment, inert in a template", (_, h) => {
    for (const text of [h, `a${h}globalThis.pwned=1//`, `${h}${h}`]) expectInertLiteral(text);
  });

  it("any text, lone surrogates included, round-trips and stays inert", () => {
    fc.assert(fc.property(anyText, (text) => expectInertLiteral(text, true)), { seed: 8, numRuns: 300 });
  });

  it("keeps what reads well: paths, letters, Greek, non-BMP symbols", () => {
    expect(stringLiteral("examples/cells/lstm.cell")).toBe('"examples/cells/lstm.cell"');
    expect(stringLiteral("αβ é 😀")).toBe('"αβ é 😀"');
    expect(stringLiteral("a\u2028b")).toBe('"a\\u2028b"');
    expect(stringLiteral("\ud800\u{1f600}")).toBe('"\\ud800😀"');
    expect(stringLiteral("\0" + "1")).toBe('"\\u00001"');
  });

  it("survives prettier: the formatted literal is still the same string", async () => {
    const texts = [...TEXTS, "\ud800\udc00\ud800", "a'b\"c"];
    const code = texts.map((t, k) => `export const x${k} = ${stringLiteral(t)};\n// ${commentText(t)}\n`).join("");
    const formatted = await formatModule(code);
    const exports = runModule(formatted);
    texts.forEach((t, k) => expect(exports[`x${k}`]).toBe(t));
    expect(formatted.split("\n").filter((l) => l.startsWith("// ")).length).toBe(texts.length);
  });

  it("a JSDoc written by ts-morph from commentText stays one comment", () => {
    const file = new Project({ useInMemoryFileSystem: true }).createSourceFile("docs.ts", "");
    TEXTS.forEach((text, k) => file.addVariableStatement({ docs: [`Cell ${commentText(text)}.`], declarations: [{ name: `x${k}`, initializer: "1" }] }));
    const parsed = ts.createSourceFile("docs.ts", file.getFullText(), ts.ScriptTarget.ES2022, true);
    expect(parsed.statements.length).toBe(TEXTS.length);
    parsed.statements.forEach((statement, k) => {
      const docs = ts.getJSDocCommentsAndTags(statement);
      expect(docs.length).toBe(1);
      expect(ts.getTextOfJSDocComment((docs[0] as ts.JSDoc).comment)).toBe(`Cell ${commentText(TEXTS[k]!)}.`);
    });
  });
});

describe("numbers", () => {
  const VALUES = [0, -0, 1, -1, 0.1, -2.5, 1e-7, 5e-324, -5e-324, 1.7976931348623157e308, 2 ** 53 + 2, 1e21, NaN, Infinity, -Infinity];

  it("numberLiteral is exact, keeps -0, and never merges with an operator before it", () => {
    for (const v of VALUES) {
      const lit = numberLiteral(v);
      expect(Object.is(evaluate(lit), v), `${v} as ${lit}`).toBe(true);
      expect(Object.is(evaluate(`1 -${lit}`), 1 - v), `1 -${lit}`).toBe(true);
      expect(Object.is(evaluate(`-${lit}`), -v), `-${lit}`).toBe(true);
    }
  });

  it("anything but a number is an internal error, never pasted", () => {
    for (const bad of ["3;globalThis.pwned=1", "3", null, undefined, {}, 3n]) {
      expect(() => numberLiteral(bad as number)).toThrow(/internal error/);
      expect(() => integer(bad as number)).toThrow(/internal error/);
    }
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) expect(() => integer(bad)).toThrow(/internal error/);
    expect(integer(0)).toBe("0");
    expect(integer(4096)).toBe("4096");
  });
});

describe("valueLiteral", () => {
  it("writes plain data that evaluates back to itself, hostile keys and `__proto__` included", () => {
    const keys = ["__proto__", "constructor", "a b", "1", "", ...TEXTS];
    const value = Object.fromEntries(keys.map((k, i) => [k, { name: k, shape: [i, 2], ok: i % 2 === 0, none: null }]));
    const back = evaluate(valueLiteral(value)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(Object.keys(value));
    for (const k of keys) expect(back[k]).toEqual(value[k]);
    expect(valueLiteral({ I: 8, H: 16 })).toBe("{ I: 8, H: 16 }");
  });

  it("leaves out undefined properties and refuses what is not data", () => {
    expect(valueLiteral({ a: 1, b: undefined })).toBe("{ a: 1 }");
    for (const bad of [undefined, () => 1, new Date(0), [1, , 2], Symbol("s"), 1n, new Map()]) {
      expect(() => valueLiteral(bad)).toThrow(/internal error/);
    }
  });
});

describe("identifiers", () => {
  it("identifier() makes any text a plain identifier, keeping ASCII and Greek letters", () => {
    fc.assert(fc.property(anyText, (text) => {
      const id = identifier(text);
      expect(isPlainIdentifier(id)).toBe(true);
      expect(isTsIdentifier(id)).toBe(true);
    }), { seed: 9, numRuns: 400 });
    expect(identifier("Wf_2")).toBe("Wf_2");
    expect(identifier("αβγ_Ω")).toBe("αβγ_Ω");
    expect(identifier("2x")).toBe("_2x");
    expect(identifier("a\u2028b")).toBe("a_b");
    expect(identifier("\u0374")).toBe("_");
  });

  it("every identifier the lexer accepts stays itself (names read as the cell wrote them)", () => {
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      if (isIdentChar(ch) && c !== 0x0374) expect(identifier(`x${ch}`), `U+${c.toString(16)}`).toBe(`x${ch}`);
      if (isIdentStart(ch) && c !== 0x0374) expect(identifier(ch), `U+${c.toString(16)}`).toBe(ch);
    }
  });

  it("the allocator gives out only plain identifiers that bind in strict mode, never twice, never a reserved word", () => {
    const names = new Names();
    const words = [
      "class", "let", "yield", "await", "arguments", "eval", "static", "enum", "implements", "require", "exports", "module",
      "undefined", "NaN", "Infinity", "Math", "globalThis", "__proto__", "constructor", "sigmoid", "softplus", "cell", "forward",
      ...TEXTS, "", "0", "x", "x", "x_1",
    ];
    const given = new Set<string>();
    for (const w of words) {
      const name = names.fresh(w);
      expect(isPlainIdentifier(name), name).toBe(true);
      expect(isReserved(name) || name === "cell" || name === "forward", name).toBe(false);
      expect(given.has(name), name).toBe(false);
      given.add(name);
      expect(() => new Function(`"use strict"; let ${name} = 1; return ${name};`)).not.toThrow();
    }
    const exports = runModule([...given].map((name) => `export const ${name} = ${stringLiteral(name)};`).join("\n"));
    for (const name of given) expect(exports[name]).toBe(name);
  });

  it("every runtime helper an op calls is reserved", async () => {
    const { OPS } = await import("../compiler/ops/index.js");
    const helpers = [...OPS.values()].flatMap((op) => op.helpers ?? []);
    expect(helpers.length).toBeGreaterThan(0);
    for (const h of helpers) expect(isReserved(h), h).toBe(true);
  });
});

/**
 * The words an emitted module uses (imports, parameters, globals, the compiler's own locals and
 * buffers), and names JavaScript gives a meaning, each used in a cell as a size, an input, a state,
 * a param and a local: the cells must still compute what they declare (compared with the reference
 * evaluator, forward and backward, products in the runtime and in the module).
 */
describe("no cell name shadows what the emitted code uses", () => {
  /** Every op, with names that mark what derives from them (`qq`), so the rest is the compiler's own. */
  const VOCABULARY_CELL = `cell qqcell {
  size qqI = 3, qqH = 4
  input qqx[qqI]
  state qqh[qqH], qqc[qqH]
  param qqW[qqH, qqI], qqU[qqH, qqH], qqb[qqH], qqV[qqH, qqI + qqH]
  qqa = σ(qqW·qqx + qqU·qqh + qqb)
  qqg = tanh(qqV·[qqx; qqh]) ⊙ relu(qqa) + softplus(qqa) * exp(-abs(qqa))
  qqm = (qqg - mean(qqg)) / sqrt(mean(qqg ⊙ qqg) + 1e-5) + sum(sin(qqg)) * cos(qqa) + log(1 + exp(qqa))
  qqc = qqm + transpose(qqU)·qqc
  qqh = tanh(qqc)
  output qqy = qqh
}
`;
  const EXTRA = `__proto__ constructor prototype toString valueOf hasOwnProperty require exports module eval arguments
    undefined NaN Infinity globalThis Math Object Array Function let yield await static this super new
    import export default async of from as type declare abstract α Ω`.split(/\s+/);

  let cached: string[] | undefined;
  function vocabulary(): string[] {
    if (cached) return cached;
    const words = new Set(EXTRA);
    for (const products of ["runtime", "inline"] as const) {
      for (const optimize of [true, false]) {
        for (const { code } of compileSource(VOCABULARY_CELL, { path: "v.cell", products, optimize })) {
          for (const t of tokens(code)) if (/^[A-Za-z_]\w*$/.test(t.text) && !/qq|\d/.test(t.text)) words.add(t.text);
        }
      }
    }
    cached = [...words].filter((w) => [...w].every((ch, k) => (k === 0 ? isIdentStart : isIdentChar)(ch)) && !KEYWORDS.has(w));
    return cached;
  }

  /** A cell declaring every word in one role (its own names start with `qq`, so they never collide). */
  const cellOf = (words: string[], role: "size" | "input" | "state" | "param" | "local"): string => {
    const lines = ["size qqn = 2", "input qqx[qqn]", "state qqh[qqn]", "param qqU[qqn, qqn]"];
    const vectors = words.map((w) => `${w}[qqn]`).join(", ");
    let into = "qqx";
    switch (role) {
      case "size":
        lines.push(`size ${words.map((w) => `${w} = 1`).join(", ")}`, `param qqP[${words.join(" + ")}]`);
        into = "qqx + sum(qqP)";
        break;
      case "input":
        lines.push(`input ${vectors}`);
        into = words.join(" + ");
        break;
      case "param":
        lines.push(`param ${vectors}`);
        into = words.map((w) => `${w} ⊙ qqx`).join(" + ");
        break;
      case "state":
        lines.push(`state ${vectors}`, ...words.map((w) => `${w} = tanh(qqU·${w} + qqh)`));
        into = words.join(" + ");
        break;
      case "local":
        lines.push(...words.map((w, k) => `${w} = tanh(${k === 0 ? "qqU·qqx" : words[k - 1]})`));
        into = words.at(-1)!;
        break;
    }
    return ["cell c {", ...[...lines, `qqh = tanh(qqU·qqh + ${into})`].map((l) => `  ${l}`), "}", ""].join("\n");
  };

  it("the vocabulary holds the compiler's own words", () => {
    expect(vocabulary()).toEqual(expect.arrayContaining(["defineCell", "sigmoid", "softplus", "mm", "WS", "acc", "forward", "spec", "Math", "GP", "loops"]));
  });

  /** The vocabulary in groups that keep a cell's chains of ops (a sum of every word) within the depth limit. */
  const groups = (): string[][] => {
    const words = vocabulary();
    const count = Math.ceil(words.length / 100);
    return Array.from({ length: count }, (_, k) => words.filter((_, j) => j % count === k));
  };

  it.each(["size", "input", "state", "param", "local"] as const)("each word as a %s", (role) => {
    for (const words of groups()) {
      const source = cellOf(words, role);
      for (const products of ["runtime", "inline"] as const) {
        const [compiled] = compileSource(source, { dtype: "f64", products, path: "words.cell" });
        expectMatchesReference(compiled!.ir, load(compiled!.code), 3, 2, 5, 1e-9);
        expectMatchesReference(compiled!.ir, instantiate(compiled!), 3, 2, 5, 1e-9);
      }
    }
  });

  it("each word as a cell name", async () => {
    const words = vocabulary().filter((_, k) => k % 4 === 0);
    const source = words.map((w) => `cell ${w} {\n  input x[2]\n  state h[2]\n  h = tanh(x + h)\n}\n`).join("");
    const compiled = compileSource(source, { dtype: "f64", path: "names.cell" });
    expect(compiled.map((c) => c.name)).toEqual(words);
    for (const [k, c] of compiled.entries()) {
      const cell = k === 0 ? load(await buildModule(c)) : k === 1 ? instantiate(c) : load(c.code);
      expect(cell.name).toBe(c.name);
      expectMatchesReference(c.ir, cell, 2, 2, 3, 1e-9);
    }
  });
});

describe("load refuses a module that imports anything but the runtime, before running any of it", () => {
  const ok = `import { defineCell } from "${RUNTIME_SPECIFIER}";\nexport const cell = 1;\n`;
  const before = "globalThis.pwned = 1;\n";
  it.each([
    ["a static import", `${before}import { readFileSync } from "node:fs";\n${ok}`],
    ["a side-effect import", `${before}import "node:fs";\n${ok}`],
    ["a specifier one character off", `${before}import { defineCell } from "${RUNTIME_SPECIFIER}\u2028";\nexport const cell = 1;`],
    ["a re-export", `${before}export * from "node:fs";\n${ok}`],
    ["a re-export of the runtime", `${before}export { defineCell } from "${RUNTIME_SPECIFIER}";\n${ok}`],
    ["import = require", `${before}import fs = require("node:fs");\n${ok}`],
    ["a dynamic import", `${before}void import("node:fs");\n${ok}`],
    ["a require call", `${before}const fs = require("node:fs");\n${ok}`],
    ["an import type", `${before}type F = import("node:fs").Stats;\n${ok}`],
    ["a syntax error", `${before}${ok}\nconst = ;`],
  ])("%s", (_, code) => {
    expect(() => load(code)).toThrow(/emitted module refused/);
    expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
  });

  it("and loads one that imports only the runtime", () => {
    expect(load(ok)).toBe(1);
  });
});

describe("compile(source, { path }) with a hostile path runs no code from it", () => {
  const SOURCE = "cell rnn {\n size I = 2, H = 3\n input x[I]\n state h[H]\n param W[H, I], U[H, H], b[H]\n h = tanh(W·x + U·h + b)\n}\n";

  it.each(CASES)("%s", (_, h) => {
    const path = `a${h}globalThis.pwned=1//.cell`;
    const [compiled] = compileSource(SOURCE, { path, dtype: "f64" });
    expect(compiled!.code.split("\n")[0]).toBe(`// ${headerText({ sourcePath: path, sourceText: SOURCE, dtype: "f64" }, "rnn")}`);
    expect(compiled!.code.split("\n")[0]).toContain(`from ${commentText(path)} (sha-256 `);
    const cell = compile(SOURCE, { path });
    const trace = cell.forward(cell.initParams(1), { x: new Float32Array(2 * 2 * 2).fill(0.5) }, { T: 2, B: 2 });
    expect(trace.final["h"]!.every(Number.isFinite)).toBe(true);
  });

  it("every hostile text in one path, formatted by prettier, loaded and run", async () => {
    const path = Object.values(HOSTILE).map((h) => `${h}globalThis.pwned=1;`).join("") + "//*/";
    for (const dtype of ["f32", "f64"] as const) {
      const [compiled] = compileSource(SOURCE, { path, dtype });
      const formatted = await buildModule(compiled!);
      expect(formatted.split("\n")[0]).toBe(`// ${headerText({ sourcePath: path, sourceText: SOURCE, dtype }, "rnn")}`);
      expect(tokens(formatted.split("\n")[0]!).map((t) => t.kind)).toEqual([ts.SyntaxKind.SingleLineCommentTrivia]);
      expectMatchesReference(compiled!.ir, load(formatted), 3, 2, 1, dtype === "f64" ? 1e-9 : 1e-4);
    }
  });
});
