/**
 * `rnnc gradcheck` on cells whose numbers are hard: a forward pass that is not finite is reported
 * where it happens (step, batch row, output or state) instead of a table of NaN rows; near a pole
 * a fixed finite-difference step gives a false alarm, so the step is refined (and reported per
 * row) before a gradient is called wrong; and a wrong derivative near the pole is still caught.
 */
import { describe, expect, it } from "vitest";
import { opDef, type ElementwiseDef, type VjpContext } from "../compiler/ops/index.js";
import { mulberry32 } from "../src/runtime/random.js";
import { STACK_LINE, rnnc, tempFolder } from "./reference/harness.js";

const tmp = tempFolder();
const temp = tmp.file;

interface JsonRow { kind: string; name: string; ok: boolean; maxRelError: number; step: number; refined: number; unsettled: number }
interface JsonResult { cell: string; ok: boolean; eps: number; rows: JsonRow[]; nonFinite?: { kind: string; name: string; t: number; b: number; index: number; value: string } }

describe("a forward pass that is not finite", () => {
  // log of inputs drawn from [-1, 1]: NaN at the first step.
  const LOG = `cell lg {
  size N = 3
  input x[N]
  state h[N]
  param w[N]
  h = tanh(w ⊙ h) + log(x)
}
`;
  // exp(20·h) overflows at the second step for an initial state above 0.
  const BLOWUP = `cell blow {
  size N = 3
  input x[N]
  state h[N]
  h = exp(20 * h) + 0 * x
}
`;

  it("is reported with its step, batch row and value, exit 1, no table of NaN rows", async () => {
    const r = await rnnc("gradcheck", temp("log.cell", LOG));
    expect(r.code).toBe(1);
    expect(r.out).not.toMatch(/NaN|WRONG/);
    expect(r.out).not.toMatch(/^(param|input|initial) /m);
    expect(r.err).toMatch(/^rnnc: error: gradcheck lg: the forward pass is not finite: state 'h' after step t=0, batch row 0, element \d is NaN/);
    expect(r.err).not.toMatch(STACK_LINE);
  });

  it("at a later step: t=1, and the value is Infinity", async () => {
    const r = await rnnc("gradcheck", temp("blow.cell", BLOWUP));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/the forward pass is not finite: state 'h' after step t=1, batch row \d, element \d is Infinity/);
  });

  it("an output that is not finite is named as an output", async () => {
    const path = temp("out.cell", "cell o {\n  size N = 2\n  input x[N]\n  state h[N]\n  h = tanh(h + x)\n  output y = sqrt(x)\n}\n");
    const r = await rnnc("gradcheck", path);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/output 'y' at step t=0, batch row \d, element \d is NaN/);
  });

  it("--json: nonFinite says where, rows are empty, ok is false", async () => {
    const r = await rnnc("gradcheck", temp("log2.cell", LOG), "--json");
    expect(r.code).toBe(1);
    const [result] = JSON.parse(r.out) as JsonResult[];
    expect(result).toMatchObject({ cell: "lg", ok: false, rows: [], nonFinite: { kind: "state", name: "h", t: 0, b: 0, value: "NaN" } });
  });
});

/** The first input gradcheck draws for seed 0 when the cell has no params (see `drawData`). */
const firstInput = 2 * mulberry32(0)() - 1;
/** y = 1 / (x + c), with x + c = `distance` at the one checked point (T = B = 1). */
const pole = (distance: number) =>
  `cell pole {\n  size N = 1\n  input x[N]\n  output y = 1 / (x + ${(distance - firstInput).toPrecision(17)})\n}\n`;

describe("near a pole: the step is refined before a gradient is called wrong", () => {
  it.each([[1e-5], [3e-6], [5e-7]])("1/(x + c) at distance %s: ok, with a step smaller than eps reported", async (distance) => {
    const path = temp(`pole-${distance}.cell`, pole(distance));
    const r = await rnnc("gradcheck", path, "--steps", "1", "--batch", "1", "--json");
    expect(r.code, r.out).toBe(0);
    const [result] = JSON.parse(r.out) as JsonResult[];
    const [row] = result!.rows;
    expect(row).toMatchObject({ kind: "input", name: "x", ok: true, refined: 1, unsettled: 0 });
    expect(row!.step).toBeLessThan(result!.eps);
    expect(row!.maxRelError).toBeLessThan(1e-5);
  });

  it("the table has a step column, and rows far from any pole use eps", async () => {
    const r = await rnnc("gradcheck", temp("pole-table.cell", pole(1e-5)), "--steps", "1", "--batch", "1");
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toMatch(/^gradcheck pole: T=1 B=1 seed=0 eps=1\.0e-6, float64 central differences$/);
    expect(lines[1]).toMatch(/^tensor\s+size\s+checked\s+max abs err\s+max rel err\s+step$/);
    expect(lines[2]).toMatch(/^input x\s+1\s+1\s+\S+\s+\S+\s+2\.5e-7\s+ok$/);
    expect(r.out).toMatch(/all 1 gradients match/);
    const lstm = await rnnc("gradcheck", "examples/cells/lstm.cell", "--json");
    const [l] = JSON.parse(lstm.out) as JsonResult[];
    for (const row of l!.rows) expect(row).toMatchObject({ step: l!.eps, refined: 0, unsettled: 0, ok: true });
  });
});

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

describe("a wrong derivative near the pole is still caught", () => {
  it("with d(a/b)/db = −g·out (the 1/b factor dropped): WRONG, exit 1", async () => {
    const def = opDef("div", "elementwise") as Mutable<ElementwiseDef>;
    const original = def.vjp;
    def.vjp = ({ graph, g, out, args: [, b] }: VjpContext) => [graph.div(g, b!), graph.neg(graph.mul(g, out))];
    try {
      const r = await rnnc("gradcheck", temp("pole-wrong.cell", pole(1e-5)), "--steps", "1", "--batch", "1", "--json");
      expect(r.code).toBe(1);
      const [result] = JSON.parse(r.out) as JsonResult[];
      expect(result!.rows[0]).toMatchObject({ ok: false });
      expect(result!.rows[0]!.maxRelError).toBeGreaterThan(0.5);
    } finally {
      def.vjp = original;
    }
  });
});
