/** Seeded random data for a cell: params, inputs, initial states and the gradients fed back. */
import type { CellIR } from "../../compiler/ir/cell.js";
import { sizeOf } from "../../compiler/ir/graph.js";
import { mulberry32 } from "../../src/runtime/random.js";

export interface Data {
  readonly params: Float64Array[];
  readonly inputs: Float64Array[];
  readonly initial: Float64Array[];
  readonly outputGrads: Float64Array[];
  readonly finalGrads: Float64Array[];
}

export function randomData(ir: CellIR, T: number, B: number, seed: number, scale = 0.5): Data {
  const random = mulberry32(seed);
  const fill = (n: number) => Float64Array.from({ length: n }, () => (2 * random() - 1) * scale);
  const n = (d: { shape: readonly number[] }) => sizeOf(d.shape);
  return {
    params: ir.params.map((p) => fill(n(p))),
    inputs: ir.inputs.map((x) => fill(T * B * n(x))),
    initial: ir.states.map((s) => fill(B * n(s))),
    outputGrads: ir.outputs.map((o) => fill(T * B * n(o))),
    finalGrads: ir.states.map((s) => fill(B * n(s))),
  };
}
