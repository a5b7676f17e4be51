/**
 * Each optimization pass on its own preserves what the cell computes — forward values and every
 * gradient — on random cells (checked with the reference evaluator, no code generation) and leaves
 * valid IR (ir/verify.ts), and the
 * optimized IR of the example LSTM is a golden file a reviewer can read.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkSource } from "../compiler/index.js";
import { differentiate } from "../compiler/autodiff.js";
import type { CellIR } from "../compiler/ir/cell.js";
import { dumpIR } from "../compiler/ir/dump.js";
import { assertValidIR } from "../compiler/ir/verify.js";
import { runReference } from "../compiler/ir/interpret.js";
import { lowerCell } from "../compiler/lower.js";
import { cse } from "../compiler/passes/cse.js";
import { dce } from "../compiler/passes/dce.js";
import { optimize } from "../compiler/passes/index.js";
import { planKernels } from "../compiler/codegen/plan.js";
import { simplify } from "../compiler/passes/simplify.js";
import { stack } from "../compiler/passes/stack.js";
import { randomData } from "./helpers/compare.js";
import { randomCells } from "./helpers/random-cell.js";
import { propertySeed } from "./helpers/seed.js";

const differentiated = (source: string): CellIR => differentiate(lowerCell(checkSource(source)[0]!));

const PASSES: Record<string, (ir: CellIR) => CellIR> = {
  simplify: (ir) => simplify(ir).ir,
  stack,
  cse,
  dce,
  all: (ir) => optimize(ir),
};

function expectSameResults(before: CellIR, after: CellIR, seed: number): void {
  const data = randomData(before, 3, 2, seed);
  const a = runReference(before, { T: 3, B: 2, ...data });
  const b = runReference(after, { T: 3, B: 2, ...data });
  const close = (x: ArrayLike<number>, y: ArrayLike<number>, what: string) => {
    for (let i = 0; i < x.length; i++)
      if (!(Math.abs(x[i]! - y[i]!) <= 1e-12 * Math.max(1, Math.abs(x[i]!)))) expect.fail(`${what}[${i}]: ${x[i]} before, ${y[i]} after`);
  };
  a.outputs.forEach((o, k) => close(o, b.outputs[k]!, `outputs[${k}]`));
  a.final.forEach((s, k) => close(s, b.final[k]!, `final[${k}]`));
  a.grads!.params.forEach((g, k) => close(g, b.grads!.params[k]!, `grads.params[${k}]`));
  a.grads!.inputs.forEach((g, k) => close(g, b.grads!.inputs[k]!, `grads.inputs[${k}]`));
  a.grads!.initial.forEach((g, k) => close(g, b.grads!.initial[k]!, `grads.initial[${k}]`));
}

describe("passes", () => {
  for (const [name, pass] of Object.entries(PASSES)) {
    it(`${name} preserves forward values and gradients on random cells`, () => {
      fc.assert(
        fc.property(randomCells, fc.integer({ min: 1, max: 1000 }), (source, seed) => {
          const ir = differentiated(source);
          assertValidIR(ir, "autodiff");
          const after = pass(ir);
          assertValidIR(after, name);
          expectSameResults(ir, after, seed);
        }),
        { seed: propertySeed(42, `passes: ${name}`), numRuns: 40 },
      );
    });
  }

  it("simplify runs to a fixed point and says so", () => {
    const { stats } = simplify(differentiated(readFileSync("examples/cells/lstm.cell", "utf8")));
    expect(stats.stopped).toBe("fixed point");
  });

  it("stack turns the LSTM's four W·x and four U·h into one product each", () => {
    const ir = optimize(differentiated(readFileSync("examples/cells/lstm.cell", "utf8")));
    const forward = ir.graph.nodes.filter((n) => n.op === "matmul" && n.attrs["ta"] === false);
    expect(forward.map((n) => ir.graph.shape(n.id))).toEqual([[64], [64]]);
  });

  it("the optimized IR of the example LSTM matches its golden dump", async () => {
    const ir = optimize(differentiated(readFileSync("examples/cells/lstm.cell", "utf8")));
    // A file snapshot: a change shows as a diff; `npx vitest run tests/passes.test.ts --update` rewrites it.
    await expect(dumpIR(ir, "optimized")).toMatchFileSnapshot("golden/lstm.ir");
  });

  it("the tape holds what the backward cannot recompute in one flop: the GRU tapes u, r, h̃ but not 1 − u nor r ⊙ h", () => {
    const [cell] = checkSource(readFileSync("examples/cells/gru.cell", "utf8"));
    const ir = optimize(differentiate(lowerCell(cell!)), {});
    const taped = (on: boolean) => planKernels(ir, on).taped.map((id) => ir.graph.names.get(id) ?? ir.graph.node(id).op);
    expect(taped(true)).toEqual(["u", "r", "h_tilde"]);
    expect(taped(false)).toHaveLength(5);
  });
});
