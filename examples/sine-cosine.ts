/**
 * Seed 003: an LSTM reads the previous 4 points of the curve [sin t, cos t] and predicts the next
 * one. The curve is sampled as the seed does (`x = linspace(0, 100, 1000)`); windows of 4 points
 * are the inputs, the point after each window the target. The first 80 % of the curve trains, the
 * last 20 % tests, so the test points are later in time than anything seen in training.
 *
 * Model: `examples/cells/lstm.cell` (I = 2) → h at the last step → dense head (H → 2), MSE loss,
 * Adam. Prints the test MSE and writes the loss curve and a prediction-vs-truth plot.
 *
 *   npm run example:sine-cosine -- [--quick] [--epochs N] [--seed N] [--hidden H] [--lr X]
 */

import {
  Adam,
  CellLayer,
  Dense,
  Rng,
  fit,
  linePlot,
  meanSquaredError,
  minibatches,
  writeSvg,
  zeroGrads,
  type ParamGroup,
} from "../src/train/node.js";
import {
  type ExampleOptions,
  RunProgress,
  isMain,
  loadCell,
  numberFlag,
  outputFile,
  runCli,
  say,
  secondsSince,
} from "./common.js";

export interface SineCosineOptions extends ExampleOptions {
  /** LSTM hidden size; default 32. */
  readonly hidden?: number;
  readonly lr?: number;
}

export interface SineCosineResult {
  readonly testMse: number;
  /** Test MSE of the model before training (the same params, untrained). */
  readonly initialTestMse: number;
  /** Mean training loss per epoch. */
  readonly trainLoss: readonly number[];
  readonly testLoss: readonly number[];
  readonly seconds: number;
  readonly figures: readonly string[];
}

const WINDOW = 4;
const FEATURES = 2; // [sin, cos]

/** The seed's data: 1000 points of [sin x, cos x] for x in linspace(0, 100, 1000). */
export function sineCosineCurve(points = 1000): Float64Array {
  const data = new Float64Array(points * FEATURES);
  for (let i = 0; i < points; i++) {
    const x = (100 * i) / (points - 1);
    data[i * FEATURES] = Math.sin(x);
    data[i * FEATURES + 1] = Math.cos(x);
  }
  return data;
}

export function main(options: SineCosineOptions = {}): SineCosineResult {
  const started = performance.now();
  const quick = options.quick === true;
  const seed = options.seed ?? 1;
  const epochs = options.epochs ?? (quick ? 8 : 100);
  const H = options.hidden ?? (quick ? 16 : 32);
  const lr = options.lr ?? 0.01;
  const batchSize = 32;
  const silent = options.silent;

  const curve = sineCosineCurve();
  const windows = curve.length / FEATURES - WINDOW; // window i: points i..i+3, target point i+4
  const trainCount = Math.floor(0.8 * windows);
  const train = Array.from({ length: trainCount }, (_, i) => i);
  const test = Array.from({ length: windows - trainCount }, (_, i) => trainCount + i);

  const cell = loadCell("lstm.cell", { I: FEATURES, H }, "f32");
  const lstm = new CellLayer(cell, { name: "lstm", init: { seed } });
  const head = new Dense(H, FEATURES, { name: "head", seed: seed + 1 });
  const groups: ParamGroup[] = [...lstm.groups(), ...head.groups()];
  const optimizer = new Adam({ lr });

  /** Time-major inputs `[WINDOW][B][2]` and targets `[B][2]` for the windows `batch`. */
  const makeBatch = (batch: readonly number[]) => {
    const B = batch.length;
    const input = new Float32Array(WINDOW * B * FEATURES);
    const target = new Float32Array(B * FEATURES);
    batch.forEach((start, b) => {
      for (let t = 0; t < WINDOW; t++) {
        for (let k = 0; k < FEATURES; k++) input[(t * B + b) * FEATURES + k] = curve[(start + t) * FEATURES + k]!;
      }
      for (let k = 0; k < FEATURES; k++) target[b * FEATURES + k] = curve[(start + WINDOW) * FEATURES + k]!;
    });
    return { B, input, target };
  };

  /** Forward pass: the prediction from h at the last step; `record: false` where no backward follows. */
  const predict = (batch: readonly number[], record = true) => {
    const { B, input, target } = makeBatch(batch);
    const trace = lstm.forward(input, { T: WINDOW, B, record });
    const last = trace.output.subarray((WINDOW - 1) * B * H); // [B][H], a view of the last step
    const prediction = head.forward(last);
    return { B, trace, last, prediction, target };
  };

  const evaluate = (indices: readonly number[]) => {
    const { prediction, target } = predict(indices, false);
    return { mse: meanSquaredError(prediction, target).loss, prediction };
  };

  const initialTestMse = evaluate(test).mse;
  const rng = new Rng(seed + 2);
  const testLoss: number[] = [];
  const progress = new RunProgress("sine-cosine", epochs * Math.ceil(train.length / batchSize), silent);
  const history = fit({
    epochs,
    batches: () => minibatches(train.length, batchSize, rng).map((b) => b.map((i) => train[i]!)),
    step: (batch, epoch) => {
      const { B, trace, last, prediction, target } = predict(batch);
      const { loss, grad } = meanSquaredError(prediction, target);
      zeroGrads(groups);
      const dLast = head.backward(last, grad);
      const dOutput = new Float32Array(WINDOW * B * H);
      dOutput.set(dLast, (WINDOW - 1) * B * H); // only the last step feeds the head
      lstm.backward(trace, { output: dOutput });
      optimizer.step(groups);
      progress.tick({ epoch: `${epoch + 1}/${epochs}`, loss });
      return loss;
    },
    evaluate: () => {
      const mse = evaluate(test).mse;
      testLoss.push(mse);
      progress.show({ "test mse": mse });
      return { "test mse": mse };
    },
    progress: false,
  });
  const trainLoss = history.map((r) => r.loss);
  const { mse: testMse, prediction } = evaluate(test);
  progress.finish({ "test mse": testMse });

  const lossFile = outputFile(options, "sine-cosine-loss.svg");
  writeSvg(
    lossFile,
    linePlot(
      [
        { name: "train MSE", values: trainLoss },
        { name: "test MSE", values: testLoss },
      ],
      { title: `sine-cosine: LSTM H=${H}`, xLabel: "epoch", yLabel: "MSE (log)", logY: true },
    ),
  );
  const shown = Math.min(test.length, 150);
  const column = (data: ArrayLike<number>, k: number) =>
    Array.from({ length: shown }, (_, i) => data[i * FEATURES + k]!);
  const { target } = makeBatch(test);
  const predictionFile = outputFile(options, "sine-cosine-prediction.svg");
  writeSvg(
    predictionFile,
    linePlot(
      [
        { name: "sin (truth)", values: column(target, 0), color: "#1f77b4" },
        { name: "sin (LSTM)", values: column(prediction, 0), color: "#9ecae1" },
        { name: "cos (truth)", values: column(target, 1), color: "#d62728" },
        { name: "cos (LSTM)", values: column(prediction, 1), color: "#fc9272" },
      ],
      { title: `next-point prediction on the test span (MSE ${testMse.toExponential(2)})`, xLabel: "test step" },
    ),
  );

  const seconds = secondsSince(started);
  say(silent, `sine-cosine: LSTM H=${H}, ${epochs} epochs, ${train.length} train / ${test.length} test windows`);
  say(silent, `  test MSE ${testMse.toExponential(3)} (untrained: ${initialTestMse.toExponential(3)})`);
  say(silent, `  wall time ${seconds.toFixed(1)} s`);
  say(silent, `  figures: ${lossFile}, ${predictionFile}`);
  return { testMse, initialTestMse, trainLoss, testLoss, seconds, figures: [lossFile, predictionFile] };
}

if (isMain(import.meta.url)) {
  runCli((args) =>
    main({
      quick: args.quick,
      epochs: args.epochs,
      seed: args.seed,
      hidden: args.flags["hidden"] === undefined ? undefined : numberFlag(args, "hidden", 32),
      lr: args.flags["lr"] === undefined ? undefined : numberFlag(args, "lr", 0.01),
    }),
  );
}
