/**
 * The `rnnc` command line, per SPEC §2: exit codes (0 ok, 1 cell or data errors or a wrong
 * gradient, 2 usage) and messages of every command, run in-process through `main` with captured
 * output. Every run also asserts that no stack trace and no "internal error" reaches the user.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { STACK_LINE, rnncClean, type Run, tempFolder } from "./reference/harness.js";
import { randomEvalData, rnnReference } from "./reference/index.js";

const RNN = "examples/cells/rnn.cell";
const LSTM = "examples/cells/lstm.cell";
const EXAMPLES = ["gru", "gru_torch", "lnlstm", "lstm", "peephole", "relu_rnn", "rnn"];

const tmp = tempFolder();
const temp = tmp.file;

const rnnc = rnncClean;

const BAD_CELL = `cell bad {
  size I = 2, H = 3
  input x[I]
  state h[H]
  param W[H, H], b[H]
  h = tanh(W·x + b)
  y = sigmoid(q)
}
`;

describe("usage", () => {
  it("an unknown command exits 2 and names it", async () => {
    const r = await rnnc("frobnicate", RNN);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command 'frobnicate'/);
    expect(r.err).toMatch(/^usage: rnnc/m);
  });

  it("no command prints the usage and exits 2; --help exits 0", async () => {
    expect((await rnnc()).code).toBe(2);
    const help = await rnnc("--help");
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: rnnc <command>/);
  });

  it.each([["check"], ["build"], ["gradcheck"], ["eval"], ["graph"]])("%s with an unknown flag exits 2 naming the flag", async (command) => {
    const r = await rnnc(command, RNN, "--bogus");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--bogus/);
  });

  it.each([["check"], ["build"], ["gradcheck"], ["eval"], ["graph"]])("%s without a file exits 2", async (command) => {
    expect((await rnnc(command)).code).toBe(2);
  });
});

describe("rnnc check", () => {
  it("a good cell: exit 0, says ok with the cell's name", async () => {
    const r = await rnnc("check", RNN);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toBe(`${RNN}: ok (rnn)\n`);
  });

  it("every example cell checks", async () => {
    const r = await rnnc("check", ...EXAMPLES.map((n) => `examples/cells/${n}.cell`));
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim().split("\n")).toHaveLength(EXAMPLES.length);
  });

  it("a bad cell: exit 1, stderr starts with file:line:col: error, and reports every error of the file", async () => {
    const path = temp("bad.cell", BAD_CELL);
    const r = await rnnc("check", path);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err.startsWith(`${path}:6:12: error`), r.err).toBe(true);
    const heads = r.err.split("\n").filter((l) => /^\S+:\d+:\d+: error/.test(l));
    expect(heads).toEqual([
      expect.stringMatching(/:6:12: error(\[E\d+\])?: shape mismatch/),
      expect.stringMatching(/:7:15: error(\[E\d+\])?: unknown name 'q'/),
    ]);
    expect(r.err).toMatch(/^\s+6 \|   h = tanh\(W·x \+ b\)$/m);
  });

  it("a good and a bad file together: exit 1, the good one still reported ok", async () => {
    const path = temp("bad2.cell", BAD_CELL);
    const r = await rnnc("check", RNN, path);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/rnn\.cell: ok/);
    expect(r.err).toMatch(/bad2\.cell:6:12: error/);
  });

  it("a missing file: exit 1 (a file-system error, not a usage error), names the file", async () => {
    const r = await rnnc("check", tmp.path("no-such.cell"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^rnnc: error: cannot read '.*no-such\.cell': no such file/);
  });
});

describe("rnnc eval: data errors name the field (exit 1), usage errors exit 2", () => {
  const good = () => randomEvalData(rnnReference(), 3, 2, 77) as unknown as {
    T: number; params: Record<string, unknown>; inputs: { x: number[][][] }; [k: string]: unknown;
  };
  const evalWith = async (data: unknown, name = "data.json") => {
    const path = temp(name, typeof data === "string" ? data : JSON.stringify(data));
    return rnnc("eval", RNN, "--data", path);
  };
  const expectDataError = (r: Run, message: RegExp) => {
    expect(r.code, r.err).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^rnnc: error: /);
    expect(r.err).toMatch(message);
  };

  it("good data: exit 0 and JSON on stdout", async () => {
    const r = await evalWith(good());
    expect(r.code, r.err).toBe(0);
    expect(Object.keys(JSON.parse(r.out) as object).sort()).toEqual(["final", "grads", "outputs"]);
  });

  it("malformed JSON", async () => {
    expectDataError(await evalWith('{ "T": 3, "B": ', "broken.json"), /broken\.json: malformed JSON/);
  });

  it("a missing param names params.Wh", async () => {
    const d = good();
    delete d.params["Wh"];
    expectDataError(await evalWith(d), /params\.Wh: missing/);
  });

  it("a wrong length names the field and the index", async () => {
    const d = good();
    (d.params["Wx"] as number[][])[3]!.pop();
    expectDataError(await evalWith(d), /params\.Wx\[3\]: expected 8 entries, got 7/);
  });

  it("a wrong number of rows names the field", async () => {
    const d = good();
    (d.params["Wh"] as number[][]).pop();
    expectDataError(await evalWith(d), /params\.Wh: expected 16 entries, got 15/);
  });

  it("a wrong length deep in an input sequence names [t][b]", async () => {
    const d = good();
    d.inputs.x[2]![1]!.push(0);
    expectDataError(await evalWith(d), /inputs\.x\[2\]\[1\]: expected 8 entries, got 9/);
  });

  it("T that disagrees with the inputs names inputs.x", async () => {
    const d = good();
    d.T = 4;
    expectDataError(await evalWith(d), /inputs\.x: expected 4 entries, got 3/);
  });

  it.each([["a string", "x", /"x"/], ["null", null, /null/], ["a list", [1], /a list/]])("a non-number (%s) names the field", async (_, bad, shown) => {
    const d = good();
    (d.params["b"] as unknown[])[2] = bad;
    const r = await evalWith(d);
    expectDataError(r, /params\.b\[2\]: expected a finite number/);
    expect(r.err).toMatch(shown);
  });

  it("an unknown param name", async () => {
    const d = good();
    d.params["Wz"] = [1, 2];
    expectDataError(await evalWith(d), /params\.Wz: no such tensor \(expected: Wx, Wh, b\)/);
  });

  it("an unknown top-level field", async () => {
    expectDataError(await evalWith({ ...good(), extra: 1 }), /extra: unknown field/);
  });

  it("T that is not a positive integer", async () => {
    expectDataError(await evalWith({ ...good(), T: 0 }), /\bT: expected a positive integer/);
  });

  it("--data missing: exit 2, says --data is required", async () => {
    const r = await rnnc("eval", RNN);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--data .*required/);
  });

  it("--data naming a file that does not exist: exit 1, names the file", async () => {
    const r = await rnnc("eval", RNN, "--data", tmp.path("absent.json"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/absent\.json/);
  });

  it("a file with two cells needs --cell (exit 2 naming the choice); with it, that cell's outputs", async () => {
    const two = temp("two-e.cell", `${readFileSync(LSTM, "utf8")}\n${readFileSync(RNN, "utf8")}`);
    const data = temp("two-e.json", JSON.stringify(good()));
    const without = await rnnc("eval", two, "--data", data);
    expect(without.code).toBe(2);
    expect(without.err).toMatch(/--cell/);
    const picked = await rnnc("eval", two, "--data", data, "--cell", "rnn");
    expect(picked.code, picked.err).toBe(0);
    expect(Object.keys((JSON.parse(picked.out) as { outputs: object }).outputs)).toEqual(["h"]);
  });

  it("a cell file with errors: exit 1 with a diagnostic", async () => {
    const r = await rnnc("eval", temp("bad3.cell", BAD_CELL), "--data", temp("ok.json", JSON.stringify(good())));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad3\.cell:6:12: error/);
  });
});

describe("rnnc build", () => {
  const read = (d: string) => Object.fromEntries(readdirSync(d).sort().map((f) => [f, readFileSync(join(d, f), "utf8")]));

  it("writes one file per cell, named after the cell, headed 'Generated by rnnc', byte-identical on a rebuild", async () => {
    const files = EXAMPLES.map((n) => `examples/cells/${n}.cell`);
    const [a, b] = [tmp.path("build-a"), tmp.path("build-b")];
    const first = await rnnc("build", ...files, "--out", a);
    expect(first.code, first.err).toBe(0);
    expect(first.out.trim().split("\n")).toEqual(EXAMPLES.map((n) => `wrote ${join(a, `${n}.ts`)}`));
    expect((await rnnc("build", ...files, "--out", b)).code).toBe(0);
    const [builtA, builtB] = [read(a), read(b)];
    expect(Object.keys(builtA)).toEqual(EXAMPLES.map((n) => `${n}.ts`).sort());
    expect(builtB).toEqual(builtA);
    for (const [name, text] of Object.entries(builtA)) {
      expect(text, name).toMatch(/^\/\/ Generated by rnnc/);
      expect(text, name).toContain(`; cell "${name.replace(/\.ts$/, "")}", f32)`);
    }
  });

  it("--products: calls into the runtime's products by default, the module's own tiled loops with inline", async () => {
    const [runtime, inline] = [tmp.path("build-products-runtime"), tmp.path("build-products-inline")];
    expect((await rnnc("build", LSTM, "--out", runtime)).code).toBe(0);
    expect((await rnnc("build", LSTM, "--out", inline, "--products", "inline")).code).toBe(0);
    const [a, b] = [readFileSync(join(runtime, "lstm.ts"), "utf8"), readFileSync(join(inline, "lstm.ts"), "utf8")];
    expect(a).toMatch(/mm\.nt\(/);
    expect(b).not.toMatch(/mm\.(nt|nn|tn)\(/);
    expect(b).toMatch(/s00 \+= w0 \* v0;/);
    const bad = await rnnc("build", LSTM, "--out", inline, "--products", "gpu");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--products: expected runtime or inline, got 'gpu'/);
  });

  it("a file with two cells gives two files", async () => {
    const two = temp("two.cell", `${readFileSync(RNN, "utf8")}\n${readFileSync(LSTM, "utf8")}`);
    const out = tmp.path("build-two");
    expect((await rnnc("build", two, "--out", out)).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["lstm.ts", "rnn.ts"]);
  });

  it("--size H=4 is respected in the emitted sizes and shapes; --dtype f64 in the arrays", async () => {
    const out = tmp.path("build-size");
    const r = await rnnc("build", RNN, "--out", out, "--size", "H=4", "--dtype", "f64");
    expect(r.code, r.err).toBe(0);
    const text = readFileSync(join(out, "rnn.ts"), "utf8");
    expect(text).toMatch(/export const sizes = \{ I: 8, H: 4 \} as const;/);
    expect(text).toContain(`{ name: "Wh", shape: [4, 4], size: 16 }`);
    expect(text).toContain(`; cell "rnn", f64)`);
    expect(text).toMatch(/dtype: "f64"/);
    expect(text).not.toMatch(/f32|Float32Array/);
  });

  it("--size Q=3 (no cell declares Q) exits 2 naming Q, and writes nothing", async () => {
    const out = tmp.path("build-q");
    const r = await rnnc("build", RNN, "--out", out, "--size", "Q=3");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/'Q'/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  // SPEC §2 applies --size to every cell built; a size is a usage error only when no cell declares
  // it. O is declared by relu_rnn, not by rnn: building both with O=2 should work.
  it("--size O=2 over two files, one of which declares O: exit 0, relu_rnn gets O=2", async () => {
    const out = tmp.path("build-o");
    const r = await rnnc("build", RNN, "examples/cells/relu_rnn.cell", "--out", out, "--size", "O=2");
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(join(out, "relu_rnn.ts"), "utf8")).toMatch(/export const sizes = \{ I: 8, H: 16, O: 2 \} as const;/);
    expect(readFileSync(join(out, "rnn.ts"), "utf8")).toMatch(/export const sizes = \{ I: 8, H: 16 \} as const;/);
  });

  it.each([["H=0"], ["H"], ["H=x"]])("a malformed --size %s exits 2", async (size) => {
    expect((await rnnc("build", RNN, "--out", tmp.path("build-bad"), "--size", size)).code).toBe(2);
  });

  it("--dtype f16 exits 2", async () => {
    expect((await rnnc("build", RNN, "--out", tmp.path("build-bad"), "--dtype", "f16")).code).toBe(2);
  });

  it("a cell with errors exits 1 and writes nothing (not even the --out directory)", async () => {
    const out = tmp.path("build-err");
    const r = await rnnc("build", temp("bad4.cell", BAD_CELL), "--out", out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad4\.cell:6:12: error/);
    expect(existsSync(out)).toBe(false);
  });
});

describe("rnnc gradcheck", () => {
  const LSTM_ROWS = [
    ...["f", "i", "g", "o"].flatMap((k) => [`param W${k}`, `param U${k}`, `param b${k}`]),
    "input x", "initial h", "initial c",
  ];

  it("lstm: exit 0, one row per tensor (12 params, x, initial h and c), all ok", async () => {
    const r = await rnnc("gradcheck", LSTM);
    expect(r.code, r.out + r.err).toBe(0);
    const rows = r.out.split("\n").filter((l) => /^(param|input|initial) /.test(l));
    expect(rows.map((l) => l.split(/\s{2,}/)[0])).toEqual(LSTM_ROWS);
    for (const row of rows) expect(row).toMatch(/ ok$/);
    expect(r.out).toMatch(/all 15 gradients match/);
  });

  it("--json parses, with the same 15 rows", async () => {
    const r = await rnnc("gradcheck", LSTM, "--json", "--steps", "2", "--batch", "1", "--seed", "3");
    expect(r.code).toBe(0);
    const results = JSON.parse(r.out) as { cell: string; T: number; B: number; ok: boolean; rows: { kind: string; name: string; ok: boolean; maxRelError: number }[] }[];
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ cell: "lstm", T: 2, B: 1, ok: true });
    expect(results[0]!.rows.map((row) => `${row.kind} ${row.name}`)).toEqual(LSTM_ROWS);
    for (const row of results[0]!.rows) expect(row.maxRelError).toBeLessThan(1e-5);
  });

  it("--cell picks a cell; an unknown --cell exits 2 naming the cells there are", async () => {
    const two = temp("two-g.cell", `${readFileSync(RNN, "utf8")}\n${readFileSync(LSTM, "utf8")}`);
    const r = await rnnc("gradcheck", two, "--cell", "rnn", "--json");
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { cell: string }[]).map((x) => x.cell)).toEqual(["rnn"]);
    const bad = await rnnc("gradcheck", two, "--cell", "gru");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/no cell 'gru' \(it has: rnn, lstm\)/);
  });

  it.each([["--steps", "0"], ["--batch", "x"], ["--seed", "-1"]])("%s %s exits 2", async (flag, value) => {
    expect((await rnnc("gradcheck", RNN, flag, value)).code).toBe(2);
  });
});

describe("rnnc graph", () => {
  const LSTM_EQUATIONS = ["f", "i", "g", "o", "c", "h"];

  it("dot (the default): exit 0, a digraph naming every equation", async () => {
    const r = await rnnc("graph", LSTM);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^digraph "lstm" \{/);
    for (const name of LSTM_EQUATIONS) expect(r.out).toMatch(new RegExp(`"${name} = `));
  });

  it("mermaid: exit 0, a flowchart naming every equation", async () => {
    const r = await rnnc("graph", LSTM, "--format", "mermaid");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^flowchart /);
    for (const name of LSTM_EQUATIONS) expect(r.out).toMatch(new RegExp(`"${name} = `));
  });

  it("--backward draws a larger graph than the forward", async () => {
    const [fwd, bwd] = [await rnnc("graph", RNN), await rnnc("graph", RNN, "--backward")];
    expect(bwd.code).toBe(0);
    expect(bwd.out.length).toBeGreaterThan(fwd.out.length);
  });

  it("svg: exit 0, an <svg> document", async () => {
    const r = await rnnc("graph", RNN, "--format", "svg");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/<svg/);
    expect(r.out).toMatch(/<\/svg>\s*$/);
  });

  it("an unknown --format exits 2", async () => {
    const r = await rnnc("graph", RNN, "--format", "png");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--format/);
  });

  it("two files exit 2 (graph takes one)", async () => {
    expect((await rnnc("graph", RNN, LSTM)).code).toBe(2);
  });
});

describe("the real binary (bin/rnnc.js over dist/)", () => {
  const node = (...args: string[]) => spawnSync(process.execPath, ["bin/rnnc.js", ...args], { encoding: "utf8" });

  it("sets the process exit code and prints no stack trace", () => {
    expect(existsSync("dist/src/cli.js"), "dist/ is missing: run npx tsc -p tsconfig.build.json").toBe(true);
    const good = node("check", RNN);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toBe(`${RNN}: ok (rnn)\n`);
    const missing = node("check", tmp.path("no-such.cell"));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no such file/);
    for (const r of [good, missing]) expect(r.stdout + r.stderr).not.toMatch(STACK_LINE);
  });
});
