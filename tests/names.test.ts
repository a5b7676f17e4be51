/**
 * Names in the emitted modules say what a value is: never an op's name with a counter (`add_1`,
 * `mul_2`, `concat`), never a node id (`t46`); loops that follow each other share one element
 * index (not `i_1`, `i_2`, `i_3`); and a workspace buffer is bound under the name of
 * what it holds, without a numeric suffix (buffers are keyed by their index, not their name, so a
 * buffer never takes a suffix because another kernel or a local has its name). Checked on every
 * module in `generated/`, so a regression fails here with the offending lines.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OPS } from "../compiler/ops/index.js";

const modules = readdirSync("generated").filter((f) => f.endsWith(".ts")).sort();

/** Op names a value could fall back to: every op of the table, and the binary arithmetic ones. */
const OP_NAMES = new Set([...OPS.keys(), "add", "sub", "mul", "div"]);

/** The identifiers a line of code declares: `const x =`, `let x =`, `for (let x =`, and `const [a, b] =`. */
function declared(line: string): string[] {
  const code = line.replace(/\/\/.*$/u, "");
  const out = [...code.matchAll(/\b(?:const|let) ([\p{L}_][\p{L}\p{N}_]*) =/gu)].map((m) => m[1]!);
  const unpack = /\bconst \[([^\]]*)\] =/u.exec(code);
  if (unpack) out.push(...unpack[1]!.split(",").map((s) => s.trim()).filter(Boolean));
  return out;
}

/** The names the cell itself gives (declarations and equation targets): those stay whatever they are. */
function cellNames(file: string): Set<string> {
  const text = readFileSync(`examples/cells/${file.replace(/\.ts$/u, ".cell")}`, "utf8").replace(/#.*$/gmu, "");
  const names = new Set<string>();
  for (const m of text.matchAll(/[\p{L}_][\p{L}\p{N}_]*/gu)) names.add(m[0]);
  return names;
}

/** Lines (`line: text`) declaring a name that `bad` rejects. */
function offending(text: string, bad: (name: string, line: string) => boolean): string[] {
  const out: string[] = [];
  text.split("\n").forEach((line, k) => {
    for (const name of declared(line)) if (bad(name, line)) out.push(`${k + 1}: ${line.trim()}`);
  });
  return out;
}

/** Whether a name is an op's name, alone or with a counter (`add`, `add_3`, `concat`), or a node id (`t46`). */
export function opLike(name: string, given: ReadonlySet<string>): boolean {
  if (given.has(name)) return false;
  const m = /^(.*?)(?:_\d+)?$/u.exec(name)!;
  return OP_NAMES.has(m[1]!) || /^t\d+$/u.test(name);
}

describe("names in generated/", () => {
  it("the checks find what they look for", () => {
    const given = new Set(["max"]);
    expect(["add_1", "mul_2", "concat", "div", "t46", "max_share"].filter((n) => opLike(n, given))).toEqual(["add_1", "mul_2", "concat", "div", "t46", "max_share"]);
    expect(["max", "r_h_prev", "addend", "dr_dz_dn_pre", "tanh_c", "sum_dh"].filter((n) => opLike(n, given))).toEqual([]);
    expect(declared("  const [Wf, , bf] = P as Arrays<3>; // const nope = 1")).toEqual(["Wf", "bf"]);
    expect(offending("  const Wx_x_1 = WS[3]!;\n  const Wx_x = WS[4]!;", (n, l) => /= WS\[/u.test(l) && /_\d+$/u.test(n))).toEqual(["1: const Wx_x_1 = WS[3]!;"]);
  });

  for (const file of modules) {
    describe(`generated/${file}`, () => {
      const text = readFileSync(`generated/${file}`, "utf8");

      it("names no value after its op (add_1, mul_2, concat) or a node id", () => {
        const given = cellNames(file);
        expect(offending(text, (name) => opLike(name, given))).toEqual([]);
      });

      it("uses one element index for loops that follow each other (no i_1, i_2 beside an unused i)", () => {
        expect(offending(text, (name, line) => /for \(let /u.test(line) && /^i_\d+$/u.test(name))).toEqual([]);
      });

      it("puts the equation or gradient above every local a loop computes and every product call, at any depth", () => {
        const bare: string[] = [];
        let checked = 0;
        const lines = text.split("\n");
        lines.forEach((line, k) => {
          // Locals of loops (the step kernel's and the T·B phases' loops are shallower than the
          // recurrence's), and product calls; not workspace bindings or the swaps of taking turns.
          const local = /^ {4,}const [\p{L}_][\p{L}\p{N}_]* =/u.test(line) && !/= WS\[|_was = /u.test(line);
          const product = /^ *mm\.\w+\(/u.test(line);
          if (local || product) checked++;
          if ((local || product) && !/^ *\/\/ /u.test(lines[k - 1]!)) bare.push(`${k + 1}: ${line.trim()}`);
        });
        expect(bare).toEqual([]);
        expect(checked).toBeGreaterThan(0);
      });

      it("binds every workspace buffer under its value's name, without a numeric suffix", () => {
        expect(offending(text, (name, line) => /= WS\[\d+\]/u.test(line) && /_\d+$/u.test(name))).toEqual([]);
      });
    });
  }
});
