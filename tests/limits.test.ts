/**
 * The limits of `compiler/limits.ts`: every stage survives a cell exactly at each limit (compiled,
 * formatted, loaded and run forward and backward in Node's default stack), a cell past one gets a
 * located error, and hostile input costs bounded time, memory and message length.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildModule } from "../compiler/build.js";
import { checkSource, compileSource, lowerSource } from "../compiler/index.js";
import { CompileError, type Diagnostic } from "../compiler/diagnostics.js";
import type { Graph, NodeId } from "../compiler/ir/graph.js";
import * as L from "../compiler/limits.js";
import { nearest } from "../compiler/messages.js";
import { evaluate } from "../src/eval.js";
import { compile, type Cell } from "../src/index.js";

const HEAD = "cell k {\n  size H = 3\n  input x[H]\n  param U[H, H]\n  state h[H]\n";
/** `n` equations `a{i} = op(a{i-1})`, the last one assigned to `h`: a chain `n` operations deep. */
const chain = (n: number, op = (p: string) => `sqrt(${p})`) =>
  `${HEAD}  a0 = ${op("h")}\n${Array.from({ length: n - 1 }, (_, i) => `  a${i + 1} = ${op(`a${i}`)}\n`).join("")}  h = a${n - 1}\n}\n`;
/** `(a + b) + (c + d)`: a sum of `items` no deeper than needed. */
const balanced = (items: string[]): string =>
  items.length === 1 ? items[0]! : `(${balanced(items.slice(0, items.length >> 1))} + ${balanced(items.slice(items.length >> 1))})`;

function errors(text: string, sizes?: Record<string, number>): Diagnostic[] {
  try {
    checkSource(text, { path: "t.cell", sizes });
    return [];
  } catch (e) {
    if (e instanceof CompileError) return [...e.diagnostics];
    throw e;
  }
}
/** `line:col code` of each error. */
function located(text: string, sizes?: Record<string, number>): string[] {
  return errors(text, sizes).map((d) => {
    const lines = text.slice(0, d.span.start).split("\n");
    return `${lines.length}:${lines[lines.length - 1]!.length + 1} ${d.code}`;
  });
}

/** Runs two steps of two sequences forward and backward; every gradient must be finite. */
function runs(cell: Cell): void {
  const [T, B] = [2, 2];
  const params = cell.initParams(1);
  const inputs = Object.fromEntries(cell.inputs.map((s) => [s.name, new Float32Array(T * B * s.size).fill(0.5)]));
  const trace = cell.forward(params, inputs, { T, B, initial: { h: new Float32Array(B * 3).fill(0.25) } });
  const grads = cell.createGrads();
  const final = Object.fromEntries(cell.states.map((s) => [s.name, new Float32Array(B * s.size).fill(1)]));
  const back = cell.backward(params, trace, { final }, grads);
  for (const g of [...Object.values(grads), ...Object.values(back.initial)]) expect(g.every(Number.isFinite)).toBe(true);
}

/** The longest path from a leaf to `root`, counted in nodes with arguments. */
function depth(graph: Graph, root: NodeId): number {
  const memo = new Map<NodeId, number>();
  for (const node of graph.nodes) memo.set(node.id, node.args.length === 0 ? 0 : 1 + Math.max(...node.args.map((a) => memo.get(a)!)));
  return memo.get(root)!;
}

describe("depth of a step", () => {
  // sqrt's derivative, 0.5 · (g / sqrt(a)), nests twice per level: the deepest emitted code per level.
  it(`a chain exactly ${L.MAX_DEPTH} operations deep compiles, formats, loads and runs, optimized or not`, async () => {
    const text = chain(L.MAX_DEPTH);
    expect(located(text)).toEqual([]);
    await buildModule(compileSource(text)[0]!);
    runs(compile(text));
    runs(compile(text, { optimize: false, products: "inline" }));
  });

  it("one operation more is an error at the equation that passes the limit, naming the local it comes through", () => {
    const [d] = errors(chain(L.MAX_DEPTH + 1));
    expect(located(chain(L.MAX_DEPTH + 1))).toEqual([`${L.MAX_DEPTH + 6}:10 E4003`]);
    expect(d!.notes[0]!.message).toBe(`the chain comes through 'a${L.MAX_DEPTH - 1}', assigned`);
  });

  it("counts within one equation too, at the operation past the limit", () => {
    const sum = (n: number) => `${HEAD}  h = h${" + x".repeat(n - 1)} + h\n}\n`;
    expect(located(sum(L.MAX_DEPTH))).toEqual([]);
    runs(compile(sum(L.MAX_DEPTH), { optimize: false }));
    expect(located(sum(L.MAX_DEPTH + 1))).toEqual(["6:7 E4003"]);
  });

  it("rejects, with a located error and no crash, the chains that used to overflow the stack", () => {
    const plus = `${HEAD}  h = ${Array(400).fill("tanh(x)").join(" + ")}\n}\n`;
    const product = chain(L.MAX_EQUATIONS - 1, (p) => `U·${p}`);
    expect(located(plus).map((e) => e.split(" ")[1])).toEqual(["E4003"]);
    expect(located(chain(800, (p) => `tanh(${p})`)).map((e) => e.split(" ")[1])).toEqual(["E4005"]);
    expect(located(product).map((e) => e.split(" ")[1])).toEqual(["E4003"]);
    expect(located(chain(4000, (p) => `U·${p}`))).toEqual([`${L.MAX_EQUATIONS + 6}:3 E4005`]);
  });

  it("keeps the gradient of a value read many times shallow", () => {
    const uses = L.MAX_EQUATIONS - 2;
    const text = `${HEAD}  a = tanh(x + h)\n${Array.from({ length: uses }, (_, i) => `  b${i} = a ⊙ (x + ${i + 1})\n`).join("")}` +
      `  h = ${balanced(Array.from({ length: uses }, (_, i) => `b${i}`))}\n}\n`;
    expect(located(text)).toEqual([]);
    const [ir] = lowerSource(text, { optimize: false });
    expect(depth(ir!.graph, ir!.grads!.inputs[0]!)).toBeLessThan(40);
    runs(compile(text));
  });
});

describe("equations in a cell", () => {
  it(`${L.MAX_EQUATIONS} compile and run; one more is an error at the first one too many`, () => {
    const locals = Array.from({ length: L.MAX_EQUATIONS - 1 }, (_, i) => `a${i}`);
    const at = `${HEAD}${locals.map((a, i) => `  ${a} = tanh(h + ${i})\n`).join("")}  h = ${balanced(locals)}\n}\n`;
    expect(located(at)).toEqual([]);
    runs(compile(at));
    expect(located(chain(L.MAX_EQUATIONS, (p) => `tanh(${p})`))).toEqual([`${L.MAX_EQUATIONS + 6}:3 E4005`]);
  });
});

describe("sizes and elements", () => {
  const matrix = (h: string) => `cell c {\n  size H = ${h}\n  param W[H, H]\n  state s[H]\n  s = W·s\n}\n`;
  it("a size above the limit is an error at its declaration", () => {
    expect(located("cell c {\n  size H = 1000000000\n  state s[H]\n}\n")).toEqual(["2:12 E3015"]);
    expect(located(`cell c {\n  size H = ${L.MAX_SIZE}\n  state s[H]\n}\n`)).toEqual([]);
    expect(located(`cell c {\n  state s[${L.MAX_SIZE + 1}]\n}\n`)).toEqual(["2:11 E3015"]);
  });
  it("a tensor with too many elements is an error at its declaration, also with a size given at compile time", () => {
    expect(located(matrix("100000"))).toEqual(["3:9 E4004"]);
    expect(located(matrix("8192"))).toEqual([]);
    expect(located(matrix("3"), { H: 8193 })).toEqual(["3:9 E4004"]);
    expect(located(matrix("3"), { H: 2 ** 27 })).toEqual(["2:8 E3015"]);
  });
  it("so is a computed value with too many elements, at its expression", () => {
    const outer = "cell c {\n  size H = 10000\n  param a[H, 1], b[1, H]\n  state s[H]\n  s = (a·b)·s\n}\n";
    expect(located(outer)).toEqual(["5:7 E4004"]);
  });
  it("size arithmetic past 2^53 is an error, not a rounded number", () => {
    // 99999999² + 3 rounds to 99999999² + 4: without the check, H would be 4 instead of 3.
    expect(located("cell c {\n  size H = (99999999 * 99999999 + 3) - 99999999 * 99999999\n  state s[H]\n}\n")).toEqual(["2:13 E3015", "2:40 E3015"]);
  });
});

describe("diagnostics cost", () => {
  it("a name longer than the limit is an error whose message quotes a bounded part of it", () => {
    const text = `${HEAD}  h = ${"q".repeat(20000)}\n}\n`;
    expect(errors(text).map((d) => d.code)).toEqual(["E4002"]);
    expect(() => checkSource(text)).toThrow(/^<input>:6:7: error\[E4002\]: name 'q{39}…' is too long/);
    try {
      checkSource(text);
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(1000);
    }
  });

  it("suggestions cost bounded work: long names get none, far candidates are skipped", () => {
    expect(nearest("q".repeat(100), ["q".repeat(99)])).toBeUndefined();
    expect(nearest("hidden_statf", Array.from({ length: 20000 }, (_, i) => `name${i}`).concat("hidden_state"))).toBe("hidden_state");
  });

  it(`reports at most ${L.MAX_ERRORS} errors, then says it stopped`, () => {
    const unknown = Array.from({ length: 40 }, (_, e) => `  a${e} = ${Array.from({ length: 250 }, (_, i) => `zz${e}_${i}`).join(" ⊙ ")}\n`);
    for (const text of [`${HEAD}${unknown.join("")}}\n`, `${HEAD}  h = ${"1a ".repeat(20000)}\n}\n`]) {
      const ds = errors(text);
      expect(ds).toHaveLength(L.MAX_ERRORS + 1);
      expect(ds[L.MAX_ERRORS]!.code).toBe("E4001");
    }
  });

  it("shows a window of a long line around the caret", () => {
    let message = "";
    try {
      checkSource(`${HEAD}  h = h + q ${" ".repeat(1_000_000)}+ ${"x + ".repeat(20)}x\n}\n`, { path: "t.cell" });
    } catch (e) {
      message = (e as Error).message;
    }
    const [first, line, caret] = message.split("\n");
    expect(first).toBe("t.cell:6:11: error[E3001]: unknown name 'q'");
    expect(line!.length).toBeLessThan(L.SNIPPET_WIDTH + 20);
    expect(line!.endsWith("…")).toBe(true);
    expect(caret!.indexOf("^")).toBe(line!.indexOf("q"));
  });

  // Scanned quadratically, these newlines took minutes, past the test's time-out.
  it("newlines inside brackets are scanned once", () => {
    const text = `${HEAD}  h = (h${"\n".repeat(300_000)} + x)\n  y = (h${"\n".repeat(300_000)}\n  h = x\n}\n`;
    expect(located(text).map((e) => e.split(" ")[1])).toEqual(["E2002"]);
  });
});

describe("hostile input in a child process with 256 MB", () => {
  const dir = mkdtempSync(join(tmpdir(), "rnnc-limits-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const check = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return spawnSync(process.execPath, ["--max-old-space-size=256", "bin/rnnc.js", "check", path], { encoding: "utf8" });
  };
  it("a misspelt 20,000-character name, 20,000 errors on one line, a 12 MB line: located errors, bounded output", () => {
    const cases = [
      `${HEAD}  h = ${"q".repeat(20000)}\n}\n`,
      `${HEAD}  h = ${"1a ".repeat(20000)}\n}\n`,
      `${HEAD}  h = h + q ${" ".repeat(12_000_000)}\n}\n`,
    ];
    cases.forEach((text, k) => {
      const run = check(`case${k}.cell`, text);
      expect(run.status, run.stderr.slice(0, 500)).toBe(1);
      expect(run.stderr + run.stdout).toMatch(/case\d\.cell:6:7: error\[E\d+\]|case\d\.cell:6:11: error\[E3001\]/);
      expect((run.stderr + run.stdout).length).toBeLessThan(50_000);
      expect(run.stderr).not.toContain("    at ");
    });
  });
});

describe("rnnc eval", () => {
  const noInputs = compile("cell c {\n  size H = 3\n  state h[H]\n  param b[H]\n  h = tanh(h + b)\n}\n");
  const fails = (data: unknown) => {
    try {
      evaluate(noInputs, data);
      return "";
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  };
  it("T and B beyond their limits, or more numbers than allowed, are data errors naming the field", () => {
    expect(fails({ T: 1e300, B: 1, params: { b: [0, 0, 0] } })).toMatch(/^DataError: T: .* at most 16777216/);
    expect(fails({ T: 1, B: 2 ** 25, params: { b: [0, 0, 0] } })).toMatch(/^DataError: B: /);
    expect(fails({ T: 1e7, B: 1, params: { b: [0, 0, 0] } })).toMatch(/^DataError: T: 10000000 steps of 1 sequences need \d+ numbers/);
    expect(fails({ T: 1000, B: 2, params: { b: [0, 0, 0] } })).toBe("");
  });
});

describe("the README lists the limits", () => {
  const readme = readFileSync("README.md", "utf8");
  const section = readme.slice(readme.indexOf("## Limits"));
  for (const [name, value] of Object.entries(L)) {
    it(`${name} = ${value}`, () => expect(section).toContain(value.toLocaleString("en-US")));
  }
});
