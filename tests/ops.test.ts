/**
 * One loop over the op table: every op's symbolic VJP, evaluated by the reference evaluator,
 * equals central finite differences of the op's own evaluator, in float64.
 */
import { describe, expect, it } from "vitest";
import type { Shape } from "../compiler/ast.js";
import { unbroadcast } from "../compiler/autodiff.js";
import { Graph, type Attrs, type NodeId, sizeOf } from "../compiler/ir/graph.js";
import { evaluateNodes } from "../compiler/ir/interpret.js";
import { OPS } from "../compiler/ops/index.js";
import { mulberry32 } from "../src/runtime/random.js";

interface Case {
  readonly args: readonly Shape[];
  readonly attrs?: Attrs;
  /** The shape the node is built with (broadcasts). */
  readonly shape?: Shape;
  /** Arguments drawn from (lo, hi) — positive for log and sqrt. */
  readonly range?: readonly [number, number];
}

const unary: Case[] = [{ args: [[5]] }, { args: [[2, 3]] }];
const binary: Case[] = [{ args: [[4], [4]] }, { args: [[], [4]] }, { args: [[4], []] }, { args: [[2, 3], [2, 3]] }];
const positive = (cases: Case[]): Case[] => cases.map((c) => ({ ...c, range: [0.5, 2] }));

/** Sample argument shapes per op. A new op without an entry here fails the test. */
const CASES: Record<string, Case[]> = {
  add: binary, sub: binary, mul: binary, div: positive(binary),
  neg: unary, sigmoid: unary, tanh: unary, relu: unary, exp: unary, log: positive(unary),
  softplus: unary, sqrt: positive(unary), abs: unary, sin: unary, cos: unary, step: unary, sign: unary,
  broadcast: [{ args: [[]], shape: [4] }, { args: [[]], shape: [2, 3] }],
  const: [{ args: [], attrs: { value: 2.5 } }],
  matmul: [
    { args: [[3, 4], [4]], attrs: { ta: false, tb: false } },
    { args: [[4, 3], [4]], attrs: { ta: true, tb: false } },
    { args: [[3, 4], [4, 2]], attrs: { ta: false, tb: false } },
    { args: [[4, 3], [2, 4]], attrs: { ta: true, tb: true } },
    { args: [[3, 4], [2, 4]], attrs: { ta: false, tb: true } },
  ],
  transpose: [{ args: [[2, 3]] }],
  outer: [{ args: [[3], [2]] }],
  concat: [{ args: [[2], [3]] }, { args: [[2], [], [1]] }, { args: [[2, 3], [1, 3]] }],
  slice: [{ args: [[6]], attrs: { start: 2, length: 3 } }, { args: [[4, 3]], attrs: { start: 1, length: 2 } }],
  pad: [{ args: [[3]], attrs: { start: 1, total: 6 } }, { args: [[2, 3]], attrs: { start: 1, total: 4 } }],
  sum: [{ args: [[5]] }, { args: [[2, 3]] }],
  mean: [{ args: [[5]] }, { args: [[2, 3]] }],
  square: unary, rsqrt: positive(unary), softsign: unary, gelu: unary, erf: unary,
  pow: [2, 3, -1, -2, 0, 1, 9].map((n) => ({ args: [[4]], attrs: { n }, range: [0.5, 2] as const })),
  elu: [{ args: [[5]] }, { args: [[2, 3]], attrs: { alpha: 0.5 } }],
  elu_grad: [{ args: [[5]], attrs: { alpha: 0.7 } }],
  leaky_relu: [{ args: [[5]] }, { args: [[2, 3]], attrs: { slope: 0.2 } }],
  clip: [{ args: [[6]], attrs: { lo: -0.5, hi: 0.7 } }],
  inside: [{ args: [[4]], attrs: { lo: -0.5, hi: 0.5 } }],
  maximum: binary, minimum: binary, max_share: binary, equal: binary,
  max: [{ args: [[5]] }, { args: [[2, 3]] }],
  min: [{ args: [[5]] }, { args: [[2, 3]] }],
  softmax: [{ args: [[5]] }],
};

function checkCase(name: string, c: Case, seed: number): void {
  const random = mulberry32(seed);
  const [lo, hi] = c.range ?? [-1.5, 1.5];
  const draw = (s: Shape) => Float64Array.from({ length: sizeOf(s) }, () => {
    const v = lo + (hi - lo) * random();
    return Math.abs(v) < 0.05 ? v + 0.1 : v; // keep clear of relu/abs/step kinks
  });
  const g = new Graph();
  const leaves = c.args.map((s, k) => g.leaf("input", k, s));
  const out = g.apply(name, leaves, c.attrs ?? {}, c.shape);
  const seedNode = g.leaf("seed", 0, g.shape(out), "output");
  const def = OPS.get(name)!;
  if (def.kind === "leaf") throw new Error(`${name} is a leaf`);
  const rule = def.vjp;
  const adjoints = rule({ graph: g, node: g.node(out), out, args: leaves, g: seedNode }).map((a, k) =>
    a == null ? null : unbroadcast(g, a, leaves[k]!),
  );
  const inputs = c.args.map(draw);
  const weights = draw(g.shape(out));
  const loss = (xs: Float64Array[]) => {
    const y = evaluateNodes(g, { params: [], inputs: xs, states: [] }, [out]).get(out)!;
    return y.reduce((s, v, i) => s + v * weights[i]!, 0);
  };
  const wanted = adjoints.filter((a): a is NodeId => a !== null);
  const values = evaluateNodes(g, { params: [], inputs, states: [], outputSeeds: [weights] }, wanted);
  c.args.forEach((shape, k) => {
    const adj = adjoints[k];
    const analytic = adj == null ? new Float64Array(sizeOf(shape)) : values.get(adj)!;
    for (let i = 0; i < sizeOf(shape); i++) {
      const eps = 1e-6;
      const keep = inputs[k]![i]!;
      inputs[k]![i] = keep + eps;
      const up = loss(inputs);
      inputs[k]![i] = keep - eps;
      const down = loss(inputs);
      inputs[k]![i] = keep;
      const numeric = (up - down) / (2 * eps);
      const a = analytic[i]!;
      expect(Math.abs(a - numeric), `${name} arg ${k}[${i}]: vjp ${a} vs numeric ${numeric}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
    }
  });
}

describe("op table", () => {
  it("has sample shapes for every differentiable op", () => {
    const missing = [...OPS.values()].filter((op) => op.kind !== "leaf" && !CASES[op.name]).map((op) => op.name);
    expect(missing).toEqual([]);
  });
  for (const [name, cases] of Object.entries(CASES)) {
    cases.forEach((c, k) => {
      it(`${name}: derivative equals finite differences for ${c.args.map((s) => `[${s}]`).join(", ")}`, () => {
        for (let seed = 1; seed <= 3; seed++) checkCase(name, c, seed * 100 + k);
      });
    });
  }
});
