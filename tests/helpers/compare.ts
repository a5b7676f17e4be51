/** Runs a cell's compiled kernels and the reference evaluator on the same random data. */
import { expect } from "vitest";
import type { CellIR } from "../../compiler/ir/cell.js";
import { type ReferenceResult, runReference } from "../../compiler/ir/interpret.js";
import type { Cell, Tensors } from "../../src/runtime/types.js";
import { randomData } from "./data.js";

export { randomData, type Data } from "./data.js";

const named = (specs: readonly { name: string }[], arrays: readonly Float64Array[]): Tensors =>
  Object.fromEntries(specs.map((s, k) => [s.name, arrays[k]!]));

/**
 * Compiled (float64) forward and backward agree with the reference evaluator to `tol`. `ref`, when
 * given, is the reference's result for this data (from `runReference` on any build of the cell).
 */
export function expectMatchesReference(ir: CellIR, cell: Cell, T: number, B: number, seed: number, tol = 1e-10, ref?: ReferenceResult): void {
  const d = randomData(ir, T, B, seed);
  ref ??= runReference(ir, { T, B, ...d });
  const params = named(cell.params, d.params);
  const trace = cell.forward(params, named(cell.inputs, d.inputs), { T, B, initial: named(cell.states, d.initial) });
  const grads = cell.createGrads();
  const back = cell.backward(params, trace, { outputs: named(cell.outputs, d.outputGrads), final: named(cell.states, d.finalGrads) }, grads);
  const close = (what: string, a: ArrayLike<number>, b: ArrayLike<number>) => {
    expect(a.length, what).toBe(b.length);
    for (let i = 0; i < a.length; i++) {
      const err = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
      if (!(err <= tol)) expect.fail(`${what}[${i}]: compiled ${a[i]} vs reference ${b[i]}`);
    }
  };
  cell.outputs.forEach((o, k) => close(`outputs.${o.name}`, trace.outputs[o.name]!, ref.outputs[k]!));
  cell.states.forEach((s, k) => close(`final.${s.name}`, trace.final[s.name]!, ref.final[k]!));
  cell.params.forEach((p, k) => close(`grads.${p.name}`, grads[p.name]!, ref.grads!.params[k]!));
  cell.inputs.forEach((x, k) => close(`grads.inputs.${x.name}`, back.inputs[x.name]!, ref.grads!.inputs[k]!));
  cell.states.forEach((s, k) => close(`grads.initial.${s.name}`, back.initial[s.name]!, ref.grads!.initial[k]!));
}
