/** The training part of the browser workload: a few seeded steps with `rnnc/train`. */

import { cell as lstm } from "../../generated/lstm.js";
import type { Real } from "../../src/runtime/types.js";
import {
  Adam,
  CellLayer,
  Dense,
  fit,
  meanSquaredError,
  saveParams,
  zeroGrads,
  type ProgressOptions,
} from "../../src/train/index.js";
import { B, named, T, uniform, type Numbers } from "./kernel.js";

/**
 * Three epochs of two batches: the generated LSTM and a dense head learn a running sum with Adam,
 * through `fit` (whose progress goes where `progress` says, or to its default stream); the losses,
 * the head's params and all params as `saveParams` writes them.
 */
export function trainingNumbers(progress?: ProgressOptions): { numbers: Numbers; saved: string } {
  const layer = new CellLayer(lstm, { init: { seed: 2 } });
  const head = new Dense(layer.outputSize, 1, { seed: 3 });
  const groups = [...layer.groups(), ...head.groups()];
  const adam = new Adam({ lr: 0.01 });
  const batches = [0, 1].map((k) => {
    const input = Float32Array.from(uniform(T * B * layer.inputSize, 100 + k));
    const target = new Float32Array(T * B);
    for (let b = 0; b < B; b++) {
      let sum = 0;
      for (let t = 0; t < T; t++) target[t * B + b] = sum += 0.25 * input[(t * B + b) * layer.inputSize]!;
    }
    return { input, target };
  });
  const history = fit({
    epochs: 3,
    batches: () => batches,
    step: ({ input, target }) => {
      zeroGrads(groups);
      const trace = layer.forward(input, { T, B });
      const prediction: Real = head.forward(trace.output);
      const { loss, grad } = meanSquaredError(prediction, target);
      layer.backward(trace, { output: head.backward(trace.output, grad) });
      adam.step(groups);
      return loss;
    },
    ...(progress === undefined ? {} : { progress }),
  });
  const losses = history.flatMap((epoch) => epoch.batchLosses);
  return { numbers: { losses, ...named("head", { W: head.W, b: head.b }) }, saved: saveParams(groups) };
}
