/**
 * brain.js 1.6 `brain.recurrent.LSTM` / `GRU`, float32 (its matrices are Float32Array).
 *
 * brain.js has no batch dimension and no public "forward + BPTT" call, so this adapter drives the
 * two halves of its own per-sequence training call: `trainPattern(seq)` is
 * `trainInput(seq)` (forward) + `backpropagate(seq)` (BPTT) + `adjustWeights()` (RMSprop update).
 * Exactly what is measured:
 * - train: for each of B sequences, `trainInput(seq)` + `backpropagate(seq)` with seq = T−1
 *   tokens, which brain.js runs as T equation steps (a start token, then the T−1 tokens) forward
 *   and the same T steps backward. Each step: the input x[I] is a row plucked from brain.js's
 *   input matrix (its embedding, [2 × I] here), the cell with its 8 (LSTM) or 6 (GRU) separate
 *   matrix–vector products, and its output layer ([2 × H] product + softmax over 2 — 0.5 % of the
 *   LSTM's matmul flops at H = 64). The backward fills the deltas of every weight matrix and of
 *   the plucked input row (the input gradient). `adjustWeights` is not called (no contestant
 *   updates weights).
 * - forward: `trainInput(seq)` only, for each of B sequences.
 * - step: `equations[1].runIndex(0)`: one step of brain.js's per-step equation graph from the
 *   state left by step 0 — what brain.js's own `run()` executes per generated character.
 * Caveat: brain.js 1.6's LSTM multiplies the forget gate with the previous *hidden* output, not a
 * separate cell state; it does the same number of matrix products as a textbook LSTM.
 */

import { createRequire } from "node:module";
import type { Contestant, Prepared } from "../harness.js";
import type { Workload } from "../workloads.js";

interface BrainEquation {
  runIndex(rowIndex?: number): unknown;
}
interface BrainRecurrent {
  initialize(): void;
  bindEquation(): void;
  trainInput(input: number[]): number;
  backpropagate(input: number[]): void;
  model: { equations: BrainEquation[] };
}
type BrainCtor = new (options: Record<string, unknown>) => BrainRecurrent;
interface BrainModule {
  recurrent: { LSTM: BrainCtor; GRU: BrainCtor };
}

let brainModule: BrainModule | null = null;
function brain(): BrainModule {
  brainModule ??= createRequire(import.meta.url)("brain.js") as BrainModule;
  return brainModule;
}

function build(w: Workload): BrainRecurrent {
  const Ctor = w.cell === "lstm" ? brain().recurrent.LSTM : brain().recurrent.GRU;
  // One input token (inputRange 1) and a 2-way output layer: the smallest model around the cell.
  const net = new Ctor({ inputSize: w.I, inputRange: 1, hiddenLayers: [w.H], outputSize: 1 });
  net.initialize();
  return net;
}

export const brainJs: Contestant = {
  id: "brain",
  label: "brain.js 1.6",
  unsupported: () => null,
  async prepare(w: Workload): Promise<Prepared> {
    const net = build(w);
    const seq: number[] = new Array<number>(w.T - 1).fill(0);
    if (w.kind === "step") {
      net.bindEquation();
      net.bindEquation();
      const eq = net.model.equations[1];
      eq.runIndex(0);
      return { run: () => void eq.runIndex(0) };
    }
    if (w.kind === "forward") {
      return { run: () => { for (let b = 0; b < w.B; b++) net.trainInput(seq); } };
    }
    return {
      run: () => {
        for (let b = 0; b < w.B; b++) {
          net.trainInput(seq);
          net.backpropagate(seq);
        }
      },
    };
  },
};
