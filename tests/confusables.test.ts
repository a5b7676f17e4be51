/**
 * Look-alike names (UTS #39 skeletons, `compiler/confusables.ts`): `bo` beside `bο` (Greek
 * omicron) is a warning — `file:line:col: warning[W3001]: 'bο' looks like 'bo' …` — that
 * `rnnc check` prints while still exiting 0; names that differ visibly, or only in ASCII, are not.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COVERED, confusable, difference, skeleton } from "../compiler/confusables.js";
import { CompileError, compileSource } from "../compiler/index.js";
import { isIdentChar } from "../compiler/lexer.js";
import { STACK_LINE, makeTempDir, removeDir, rnnc } from "./reference/harness.js";

let dir = "";
beforeAll(() => void (dir = makeTempDir()));
afterAll(() => removeDir(dir));

const OMICRON = "\u03BF";

/** A cell with params named `a` and `b` (and whatever else `extra` declares). */
const cell = (a: string, b: string, extra = "") =>
  `cell c {\n  size H = 2\n  state h[H]\n  param ${a}[H], ${b}[H]${extra}\n  h = tanh(h + ${a} + ${b})\n}\n`;

/** Rendered warnings of compiling `source` in-process (it must compile). */
function warnings(source: string): string {
  let text = "";
  compileSource(source, { path: "w.cell", onWarnings: (rendered) => (text += rendered) });
  return text;
}

describe("skeletons", () => {
  it.each([
    [`b${OMICRON}`, "bo"], ["\u03B1", "a"], ["\u0391", "A"], ["\u03BD", "v"], ["\u03C1", "p"], ["\u03B9", "i"], ["\u03C5", "u"],
    ["\u0392\u0395\u0397", "BEH"], ["\u03A7", "X"], ["W\u039F", "WO"], ["\u03F2", "c"], ["\u03B8", "\u03D1"], ["\u03C6", "\u03D5"], ["\u03B5", "\u03F5"],
  ])("%s and %s have one skeleton", (a, b) => {
    expect(skeleton(a)).toBe(skeleton(b));
    expect(confusable(a, b)).toBe(true);
  });

  it.each([["bo", "bO"], ["\u03B1", "\u03B2"], ["\u03AC", "\u03B1"], ["h", "\u03B7"], ["x", "\u03C7x"]])("%s and %s do not", (a, b) => {
    expect(confusable(a, b)).toBe(false);
  });

  it("two plain ASCII names are never reported (as rustc does), though their skeletons may agree", () => {
    expect(skeleton("l")).toBe(skeleton("I"));
    expect(skeleton("W0")).toBe(skeleton("WO"));
    expect(skeleton("rn")).toBe(skeleton("m"));
    expect(confusable("l", "I")).toBe(false);
    expect(confusable("W0", "WO")).toBe(false);
  });

  it("a name is not confusable with itself; a decomposed and a precomposed accent are one name", () => {
    expect(confusable("bo", "bo")).toBe(false);
    expect(skeleton("\u03AC")).toBe(skeleton("\u03B1\u0301"));
  });

  it("the table covers every character the lexer accepts in an identifier", () => {
    const outside: string[] = [];
    for (let code = 0; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const c = String.fromCodePoint(code);
      if (isIdentChar(c) && !COVERED.test(c)) outside.push(`U+${code.toString(16).toUpperCase()}`);
    }
    expect(outside).toEqual([]);
  });

  it("the difference is described by script and code point", () => {
    expect(difference(`b${OMICRON}`, "bo")).toBe("Greek 'ο' U+03BF where 'bo' has Latin 'o' U+006F");
    expect(difference("\u0391x", "Ax")).toBe("Greek 'Α' U+0391 where 'Ax' has Latin 'A' U+0041");
  });
});

describe("the checker warns, the cell still compiles", () => {
  it("bo and bο: one warning at the later one, with a note at the earlier", () => {
    const text = warnings(cell("bo", `b${OMICRON}`));
    expect(text).toBe([
      `w.cell:4:16: warning[W3001]: 'b${OMICRON}' looks like 'bo' (Greek 'ο' U+03BF where 'bo' has Latin 'o' U+006F)`,
      `    4 |   param bo[H], b${OMICRON}[H]`,
      `      | ${" ".repeat(15)}^^`,
      "note: 'bo' is defined at w.cell:4:9",
    ].join("\n"));
  });

  it("every kind of name counts: a size, an input, a local, an output", () => {
    const source = "cell c {\n  size H = 2, Η = 2\n  input x[H], χ[H]\n  state h[H]\n  param p[H]\n  a = x + χ\n  α = a\n  h = tanh(α + h + p)\n  output ρ = h\n}\n";
    const text = warnings(source);
    expect(text).toMatch(/^w\.cell:2:15: warning\[W3001\]: 'Η' looks like 'H'/);
    expect(text).toMatch(/^w\.cell:7:3: warning\[W3001\]: 'α' looks like 'a'/m);
    expect(text).toMatch(/^w\.cell:9:10: warning\[W3001\]: 'ρ' looks like 'p'/m);
    expect(text.match(/warning\[W3001\]/g)).toHaveLength(3);
    expect(text).toMatch(/^w\.cell:2:15: warning\[W3007\]: size 'Η' is never used/m);
    expect(text).not.toMatch(/'χ' looks like/); // χ is Greek chi, which looks like X, not x
  });

  it("no warning for plain ASCII look-alikes, or for names that merely share letters", () => {
    expect(warnings(cell("l", "I"))).toBe("");
    expect(warnings(cell("W0", "WO"))).toBe("");
    expect(warnings(cell("\u03B1", "\u03B2"))).toBe("");
  });

  it("no example cell has a look-alike pair", () => {
    for (const name of ["gru", "gru_torch", "lnlstm", "lstm", "peephole", "relu_rnn", "rnn"]) {
      expect(warnings(readFileSync(`examples/cells/${name}.cell`, "utf8"))).toBe("");
    }
  });

  it("in a file with errors, the warning is part of the CompileError's text", () => {
    const source = cell("bo", `b${OMICRON}`).replace("h = tanh(", "h = tanh(q + ");
    expect(() => compileSource(source, { path: "w.cell" })).toThrow(CompileError);
    try {
      compileSource(source, { path: "w.cell" });
    } catch (e) {
      expect((e as Error).message).toMatch(/warning\[W3001\]: 'bο' looks like 'bo'/);
      expect((e as Error).message).toMatch(/error\[E3001\]: unknown name 'q'/);
    }
  });
});

describe("rnnc prints the warning", () => {
  it("rnnc check: the warning on stderr, ok on stdout, exit 0", async () => {
    const path = join(dir, "lookalike.cell");
    writeFileSync(path, cell("bo", `b${OMICRON}`));
    const r = await rnnc("check", path);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${path}: ok (c)\n`);
    expect(r.err).toMatch(new RegExp(`^${path}:4:16: warning\\[W3001\\]: 'b${OMICRON}' looks like 'bo'`));
    expect(r.err).not.toMatch(STACK_LINE);
  });

  it("rnnc build: the warning, and the module is written (exit 0)", async () => {
    const path = join(dir, "lookalike2.cell");
    writeFileSync(path, cell("bo", `b${OMICRON}`));
    const r = await rnnc("build", path, "--out", join(dir, "out"));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`wrote ${join(dir, "out", "c.ts")}\n`);
    expect(r.err).toMatch(/warning\[W3001\]/);
  });
});
