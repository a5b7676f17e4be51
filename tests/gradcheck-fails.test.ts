/**
 * `rnnc gradcheck` can fail: with tanh's derivative rule in the op table swapped for a wrong one
 * (the `1 − out²` factor dropped), the compiled gradient of the Elman cell is wrong and gradcheck
 * must say so (exit 1, rows marked WRONG); with the rule restored, it passes again.
 */
import { describe, expect, it } from "vitest";
import { OPS, type ComputedDef, type OpDef, type VjpContext } from "../compiler/ops/index.js";
import { rnnc } from "./reference/harness.js";

const RNN = "examples/cells/rnn.cell";
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Runs `body` with `op`'s VJP replaced by `vjp`, restoring the original afterwards. */
async function withVjp<R>(op: string, vjp: ComputedDef["vjp"], body: () => Promise<R>): Promise<R> {
  const def = OPS.get(op) as Mutable<OpDef> | undefined;
  if (!def || def.kind === "leaf") throw new Error(`no op '${op}' with a vjp`);
  const original = def.vjp;
  def.vjp = vjp;
  try {
    return await body();
  } finally {
    def.vjp = original;
  }
}

/** d tanh(a) = g, not g·(1 − tanh²(a)). */
const wrongTanh = ({ g }: VjpContext) => [g];

describe("gradcheck catches a wrong derivative rule", () => {
  it("with tanh' = 1 the rnn's gradients are WRONG: exit 1", async () => {
    const r = await withVjp("tanh", wrongTanh, () => rnnc("gradcheck", RNN));
    expect(r.code, r.out + r.err).toBe(1);
    const rows = r.out.split("\n").filter((l) => /^(param|input|initial) /.test(l));
    expect(rows).toHaveLength(5);
    // Every gradient of this cell flows through the one tanh, so every row is wrong.
    for (const row of rows) expect(row).toMatch(/ WRONG$/);
    expect(r.out).toMatch(/5 of 5 gradients are WRONG/);
  });

  it("the same in --json: ok is false", async () => {
    const r = await withVjp("tanh", wrongTanh, () => rnnc("gradcheck", RNN, "--json"));
    expect(r.code).toBe(1);
    const [result] = JSON.parse(r.out) as { ok: boolean; rows: { ok: boolean; maxRelError: number }[] }[];
    expect(result!.ok).toBe(false);
    expect(result!.rows.every((row) => !row.ok && row.maxRelError > 1e-3)).toBe(true);
  });

  it("a subtler error (the factor's sign flipped, 1 + out²) is caught too", async () => {
    const plusSquare = ({ graph, g, out }: VjpContext) => [graph.mul(g, graph.add(graph.const(1), graph.mul(out, out)))];
    const r = await withVjp("tanh", plusSquare, () => rnnc("gradcheck", RNN));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/WRONG/);
  });

  it("with the rule restored: exit 0, every row ok", async () => {
    const r = await rnnc("gradcheck", RNN);
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toMatch(/WRONG/);
    expect(r.out).toMatch(/all 5 gradients match/);
  });
});
