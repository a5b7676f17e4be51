/** The hand-fused plain-JS LSTM and GRU (bench/hand-fused.ts, bench/hand-fused-gru.ts), float32. */

import type { Contestant, Prepared } from "../harness.js";
import { FusedLstm, FusedLstmStep, initLstmParams, zeroLstmParams } from "../hand-fused.js";
import { FusedGru, initGruParams, zeroGruParams } from "../hand-fused-gru.js";
import { inputData, outputSeed, PARAM_SEED, type Workload } from "../workloads.js";

export const handFused: Contestant = {
  id: "hand-fused",
  label: "hand-fused JS",
  unsupported: (w) => (w.cell === "gru" && w.kind === "step" ? "hand-fused: no GRU step" : null),
  async prepare(w: Workload): Promise<Prepared> {
    const lstm = w.cell === "lstm";
    const p = (lstm ? initLstmParams : initGruParams)(w.I, w.H, PARAM_SEED);
    const x = inputData(w);
    if (w.kind === "step") {
      const s = new FusedLstmStep(w.I, w.H, w.B);
      return { run: () => s.step(p, x) };
    }
    const net = lstm ? new FusedLstm(w.I, w.H, w.T, w.B) : new FusedGru(w.I, w.H, w.T, w.B);
    const info = () => ({ tapeBytesPerStep: net.tapeBytes / (w.T * w.B) });
    if (w.kind === "forward") return { run: () => net.forward(p, x), info };
    const dY = outputSeed(w);
    const grads = (lstm ? zeroLstmParams : zeroGruParams)(w.I, w.H);
    return {
      run: () => {
        grads.W.fill(0);
        grads.b.fill(0);
        net.forward(p, x);
        net.backward(p, dY, grads);
      },
      info,
    };
  },
};
