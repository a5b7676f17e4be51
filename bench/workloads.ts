/** The benchmark workloads of issue 3: what is computed, at which sizes, and its matmul flop count. */

import { fillUniform } from "./rng.js";

export type CellKind = "lstm" | "gru";
/** `train`: forward over T steps + full BPTT (all param and input grads), loss = sum of outputs.
 *  `forward`: forward over T steps only.  `step`: one step of online inference. */
export type Kind = "train" | "forward" | "step";

export interface Workload {
  readonly id: string;
  readonly cell: CellKind;
  readonly kind: Kind;
  readonly I: number;
  readonly H: number;
  readonly B: number;
  readonly T: number;
  /** Matmul flops of one call: forward 2·G·H·(I+H) per sample-step (G = 4 gates for the LSTM,
   *  3 for the GRU); the backward counts as twice the forward. */
  readonly flops: number;
  /** Unit the table prints times in. */
  readonly unit: "ms" | "µs";
}

export const DATA_SEED = 1234;
export const PARAM_SEED = 42;

const SIZES = {
  s1: { I: 32, H: 64, B: 1, T: 32 },
  s2: { I: 32, H: 128, B: 16, T: 32 },
  s3: { I: 64, H: 256, B: 32, T: 64 },
} as const;

export function gates(cell: CellKind): number {
  return cell === "lstm" ? 4 : 3;
}

export function makeWorkload(cell: CellKind, kind: Kind, name: string, s: { I: number; H: number; B: number; T: number }): Workload {
  const perSampleStep = 2 * gates(cell) * s.H * (s.I + s.H);
  const passes = kind === "train" ? 3 : 1;
  return {
    id: `${cell}-${kind}-${name}`,
    cell,
    kind,
    ...s,
    flops: perSampleStep * s.B * s.T * passes,
    unit: kind === "step" ? "µs" : "ms",
  };
}

export const WORKLOADS: readonly Workload[] = [
  makeWorkload("lstm", "train", "s1", SIZES.s1),
  makeWorkload("lstm", "train", "s2", SIZES.s2),
  makeWorkload("lstm", "train", "s3", SIZES.s3),
  makeWorkload("lstm", "forward", "s1", SIZES.s1),
  makeWorkload("lstm", "forward", "s2", SIZES.s2),
  makeWorkload("lstm", "forward", "s3", SIZES.s3),
  makeWorkload("lstm", "step", "h64", { I: 32, H: 64, B: 1, T: 1 }),
  makeWorkload("lstm", "step", "h256", { I: 64, H: 256, B: 1, T: 1 }),
  makeWorkload("gru", "train", "s1", SIZES.s1),
  makeWorkload("gru", "train", "s2", SIZES.s2),
];

/** The input sequence `[T][B][I]`, time-major, uniform in [-1, 1). Same for every contestant. */
export function inputData(w: Workload): Float32Array {
  return fillUniform(new Float32Array(w.T * w.B * w.I), DATA_SEED) as Float32Array;
}

/** dLoss/d(output) for loss = sum of all outputs h: ones `[T][B][H]`. */
export function outputSeed(w: Workload): Float32Array {
  return new Float32Array(w.T * w.B * w.H).fill(1);
}
