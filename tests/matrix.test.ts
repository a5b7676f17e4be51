/**
 * Matrix values, slices and the tape budget end to end: the checker's rules (row scaling, dot
 * products, axis reductions, slice bounds), compiled kernels against the reference evaluator with
 * and without passes, gradients against float64 central differences, slices read in place, and
 * the tape planner recomputing values when the tape would exceed its budget.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkSource, compileSource } from "../compiler/index.js";
import { runReference } from "../compiler/ir/interpret.js";
import { gradcheck } from "../src/gradcheck.js";
import { instantiate } from "../src/instantiate.js";
import { expectMatchesReference, randomData } from "./helpers/compare.js";
import { randomCell } from "./helpers/random-cell.js";
import { rnncClean, tempFolder } from "./reference/harness.js";

const LINEAR_ATTENTION = readFileSync("examples/cells/linear_attention.cell", "utf8");

/** Exercises every matrix construct at once: outer, row scaling, M·v, M·N, Mᵀ, axis reductions, dot. */
const MATRICES = `cell mat {
  size I = 3, H = 4, K = 2
  input x[I]
  state S[H, K], n[K]
  param Wv[H, I], Wk[K, I], Wq[K, I], lam[H], P[K, H]
  v = Wv·x
  k = tanh(Wk·x)
  q = Wq·x
  S = σ(lam) ⊙ S + outer(v, k) * 0.5
  n = 0.9 * n + k
  d = n·q
  r = sum(S, 0) + mean(S ⊙ S, 0)
  M = P·S
  c = sum(tanh(M), 1) + transpose(S)·v + mean(Sᵀ + 1, 1)
  output y = S·q / (abs(d) + 1) + Pᵀ·([sum(r); sum(M ⊙ Mᵀ ⊙ 0.1)] ⊙ c)
}
`;

/** The cuDNN layout: one stacked pre-activation, split into gates by slices. */
const SLICED_LSTM = `cell lstm {
  size I = 3, H = 4
  input x[I]
  state h[H], c[H]
  param W[4*H, I], U[4*H, H], b[4*H]
  z = W·x + U·h + b
  i = σ(z[0:H])
  f = σ(z[H:2*H])
  g = tanh(z[2*H:3*H])
  o = σ(z[3*H:4*H])
  c = f ⊙ c + i ⊙ g
  h = o ⊙ tanh(c) + 0.1 * sum(h[t-1][1:H][0:2])
}
`;

/** A state-dependent outer product under tanh: taped [H, H] per step unless the budget says no. */
const FAST_WEIGHTS = `cell fastweights {
  size I = 3, H = 5
  input x[I]
  state S[H, H]
  param Wk[H, I], Wq[H, I], λ[H]
  k = tanh(Wk·x)
  u = tanh(S·(Wq·x))
  S = σ(λ) ⊙ S + tanh(outer(u, k))
  output y = S·u
}
`;

function expectExact(source: string, options: { tapeBudget?: number } = {}, T = 4, B = 3, seed = 5): void {
  let ref: ReturnType<typeof runReference> | undefined;
  for (const [optimize, products] of [[false, "inline"], [true, "runtime"], [true, "inline"]] as const) {
    const [compiled] = compileSource(source, { dtype: "f64", optimize, products, ...options });
    ref ??= runReference(compiled!.ir, { T, B, ...randomData(compiled!.ir, T, B, seed) });
    expectMatchesReference(compiled!.ir, instantiate(compiled!), T, B, seed, 1e-10, ref);
  }
  const [compiled] = compileSource(source, { dtype: "f64", ...options });
  const result = gradcheck(compiled!.ir, instantiate(compiled!), { steps: 3, batch: 2, seed: 3 });
  expect(result.rows.filter((r) => !r.ok).map((r) => `${r.kind} ${r.name}`)).toEqual([]);
}

const shapesOf = (source: string) => {
  const [cell] = checkSource(source);
  return Object.fromEntries(cell!.equations.map((eq) => [eq.target, eq.expr.shape]));
};

describe("matrix values", () => {
  it("shape outer products, row scalings, products of computed matrices, axis reductions and dot products", () => {
    expect(shapesOf(MATRICES)).toEqual({ v: [4], k: [2], q: [2], S: [4, 2], n: [2], d: [], r: [2], M: [2, 2], c: [2] });
  });

  it("declare a matrix state, with its shape in the spec and the initial and final states", () => {
    const [compiled] = compileSource(LINEAR_ATTENTION, { dtype: "f64" });
    const cell = instantiate(compiled!);
    expect(cell.states.map((s) => [s.name, s.shape])).toEqual([["S", [16, 16]]]);
    const [T, B] = [3, 2];
    const d = randomData(compiled!.ir, T, B, 1);
    const params = Object.fromEntries(cell.params.map((p, k) => [p.name, d.params[k]!]));
    const trace = cell.forward(params, { x: d.inputs[0]! }, { T, B });
    expect(trace.final["S"]!.length).toBe(B * 16 * 16);
    // Zero at t = 0: the first step's S is the outer product alone.
    expect(Array.from(trace.final["S"]!).some((v) => v !== 0)).toBe(true);
  });

  it("compile to kernels equal to the reference evaluator, with and without passes, and gradcheck", () => {
    expectExact(MATRICES);
    expectExact(LINEAR_ATTENTION);
  });

  it("keep the row rule for square matrices: v ⊙ M scales rows, not columns", () => {
    const source = `cell sq { size H = 3; input x[H]; state S[H, H]; param W[H, H]
  S = x ⊙ W
  output y = sum(S, 1) }`;
    const [compiled] = compileSource(source, { dtype: "f64" });
    const cell = instantiate(compiled!);
    const W = Float64Array.from({ length: 9 }, (_, i) => i + 1);
    const x = Float64Array.of(1, 10, 100);
    const trace = cell.forward({ W }, { x }, { T: 1, B: 1 });
    expect(Array.from(trace.outputs["y"]!)).toEqual([1 * 6, 10 * 15, 100 * 24]);
  });
});

describe("slices", () => {
  it("split a stacked pre-activation, gradcheck and equal the reference", () => expectExact(SLICED_LSTM));

  it("are read in place: no loop copies a slice of z", () => {
    const [compiled] = compileSource(SLICED_LSTM, { dtype: "f64", optimize: true });
    const code = compiled!.code;
    expect(code).toMatch(/sigmoid\(z\[n \* 16 \+ 4 \+ j\]\)/u);
    expect(code).not.toMatch(/\w+\[n \* 4 \+ i\] = z\[/u);
  });

  it("print and re-parse to the same cell", async () => {
    const { parseFile } = await import("../compiler/parser.js");
    const { printFile } = await import("../compiler/printer.js");
    const { DiagnosticBag } = await import("../compiler/diagnostics.js");
    const { Source } = await import("../compiler/source.js");
    const source = new Source("s.cell", SLICED_LSTM);
    const printed = printFile(parseFile(source, new DiagnosticBag(source)));
    expect(printed).toContain("σ(z[H:2*H])");
    expect(printed).toContain("sum(h[t-1][1:H][0:2])");
    expect(shapesOf(printed)).toEqual(shapesOf(SLICED_LSTM));
  });
});

describe("the tape budget", () => {
  it("reports the tape per sample-step and recomputes the largest values over the budget", () => {
    const [plain] = compileSource(FAST_WEIGHTS, { dtype: "f64" });
    expect(plain!.tape).toEqual({ states: 25, taped: 40, budget: 65_536, recomputed: [] });
    const [tight] = compileSource(FAST_WEIGHTS, { dtype: "f64", tapeBudget: 12 });
    expect(tight!.tape).toEqual({ states: 25, taped: 10, budget: 12, recomputed: [{ name: "tanh(outer(u, k))", elements: 25 }, { name: "u", elements: 5 }] });
    expect(tight!.module.spec.tape.length).toBeLessThan(plain!.module.spec.tape.length);
  });

  it("gives the same values and gradients when it recomputes", () => {
    expectExact(FAST_WEIGHTS, { tapeBudget: 0 });
    expectExact(SLICED_LSTM, { tapeBudget: 0 });
  });

  it("recomputes nothing for cells under it, and keeps random cells exact at budget 0", () => {
    const [lstm] = compileSource(readFileSync("examples/cells/lstm.cell", "utf8"));
    expect(lstm!.tape.recomputed).toEqual([]);
    for (const source of fc.sample(fc.gen().map((g) => randomCell(g)), { seed: 11, numRuns: 12 })) expectExact(source, { tapeBudget: 0 }, 3, 2, 9);
  });
});

describe("the command line", () => {
  const folder = tempFolder();
  const CELL = `cell e { size H = 2; input x[H]; state S[H, H]; param W[H, H]
  S = 0.5 * S + outer(x, W·x)
  output y = S·x }
`;

  it("rnnc eval reads and writes a matrix state as lists of rows, and names a field that does not fit", async () => {
    const cell = folder.file("e.cell", CELL);
    const data = { T: 1, B: 1, params: { W: [[1, 0], [0, 1]] }, inputs: { x: [[[1, 2]]] }, initial: { S: [[[1, 2], [3, 4]]] }, finalGrads: { S: [[[1, 0], [0, 0]]] } };
    const run = await rnncClean("eval", cell, "--data", folder.file("in.json", JSON.stringify(data)), "--compact");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual({
      outputs: { y: [[[7.5, 15.5]]] }, final: { S: [[[1.5, 3], [3.5, 6]]] },
      grads: { params: { W: [[1, 2], [0, 0]] }, inputs: { x: [[[2, 0]]] }, initial: { S: [[[0.5, 0], [0, 0]]] } },
    });
    const flat = await rnncClean("eval", cell, "--data", folder.file("flat.json", JSON.stringify({ ...data, initial: { S: [[1, 2, 3, 4]] } })));
    expect(flat.code).toBe(1);
    expect(flat.err).toContain("initial.S[0]: expected 2 entries, got 4");
  });

  it("rnnc build reports the tape with --dump-ir and notes what the budget recomputes", async () => {
    const cell = folder.file("fw.cell", FAST_WEIGHTS);
    const plain = await rnncClean("build", cell, "--dump-ir", "--out", folder.path("out1"));
    expect(plain.out).toContain("# tape: cell fastweights: 65 numbers per sample-step: states 25, taped values 40 (budget 65,536)");
    expect(plain.err).not.toContain("note:");
    const tight = await rnncClean("build", cell, "--tape-budget", "12", "--out", folder.path("out2"));
    expect(tight.code).toBe(0);
    expect(tight.err).toContain("note: cell fastweights: the tape would hold 40 numbers per sample-step, over the budget of 12; " +
      "the backward recomputes tanh(outer(u, k)) (25), u (5) instead of storing them");
    expect((await rnncClean("build", cell, "--tape-budget", "lots", "--out", folder.path("out3"))).err).toContain("--tape-budget: expected a number of elements, got 'lots'");
  });
});
