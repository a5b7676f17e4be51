/**
 * Seed 001's signal echoing: the target is the input bit stream delayed by 3 steps
 * (`y[t] = x[t − 3]`), a synchronized many-to-many task that needs a short working memory.
 *
 * Training follows the seed's recipe for long sequences: one long random bit stream is
 * batch-ified into B columns (`batchify`), and the columns are cut into chunks of the BPTT period
 * T (`truncatedBptt`). Each chunk starts from the state the previous chunk ended in, and the
 * gradient stops at the chunk borders (`.detach()` in PyTorch). The first 3 steps of each column
 * have no echo inside that column and are masked out of the loss and the accuracy. Every epoch
 * draws a fresh stream; the test stream is drawn once, apart.
 *
 * Model: `examples/cells/lstm.cell` (or `--cell rnn|gru`) over one-hot bits, a dense head to 2
 * logits per step, softmax cross-entropy, Adam. Reports the bit accuracy on the test stream.
 *
 *   npm run example:echo -- [--quick] [--epochs N] [--seed N] [--cell lstm|rnn|gru] [--hidden H]
 *     [--period T] [--delay D] [--lr X]
 */

import {
  Adam,
  CellLayer,
  Dense,
  Rng,
  accuracy,
  batchify,
  clipGradNorm,
  linePlot,
  oneHot,
  sliceSteps,
  softmaxCrossEntropy,
  truncatedBptt,
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
  percent,
  runCli,
  say,
  secondsSince,
  stringFlag,
} from "./common.js";

export interface EchoOptions extends ExampleOptions {
  readonly cell?: "lstm" | "rnn" | "gru";
  readonly hidden?: number;
  /** The BPTT period T: steps per chunk. */
  readonly period?: number;
  /** How many steps later the stream is echoed (default 3). */
  readonly delay?: number;
  /** Columns of the batch-ified stream. */
  readonly batch?: number;
  /** Steps per column per epoch. */
  readonly steps?: number;
  readonly lr?: number;
}

export interface EchoResult {
  /** Bit accuracy on the test stream (masked steps excluded). */
  readonly testAccuracy: number;
  readonly initialTestAccuracy: number;
  /** Mean training loss per epoch and test accuracy after each epoch. */
  readonly trainLoss: readonly number[];
  readonly testAccuracies: readonly number[];
  /** Per-chunk training losses, in order. */
  readonly chunkLosses: readonly number[];
  readonly seconds: number;
  readonly figures: readonly string[];
}

/** A random bit stream and its echo `y[i] = x[i − delay]` (0 before the start). */
export function echoStream(length: number, delay: number, rng: Rng): { x: Int32Array; y: Int32Array } {
  const x = Int32Array.from({ length }, () => (rng.next() < 0.5 ? 0 : 1));
  const y = new Int32Array(length);
  for (let i = delay; i < length; i++) y[i] = x[i - delay]!;
  return { x, y };
}

export function main(options: EchoOptions = {}): EchoResult {
  const started = performance.now();
  const quick = options.quick === true;
  const seed = options.seed ?? 1;
  const kind = options.cell ?? "lstm";
  const H = options.hidden ?? 8;
  const period = options.period ?? 10;
  const delay = options.delay ?? 3;
  const B = options.batch ?? 32;
  const steps = options.steps ?? (quick ? 400 : 2000);
  const epochs = options.epochs ?? (quick ? 3 : 5);
  const lr = options.lr ?? 0.01;
  const silent = options.silent;

  const layer = new CellLayer(loadCell(`${kind}.cell`, { I: 2, H }, "f32"), { name: kind, init: { seed } });
  const head = new Dense(H, 2, { name: "head", seed: seed + 1 });
  const groups: ParamGroup[] = [...layer.groups(), ...head.groups()];
  const optimizer = new Adam({ lr });

  /** A stream of B·steps bits batch-ified into B columns: inputs one-hot `[steps][B][2]`, targets `[steps][B]`. */
  const makeData = (rng: Rng) => {
    const { x, y } = echoStream(B * steps, delay, rng);
    const inputs = batchify(x, B);
    const targets = batchify(y, B).data;
    // A column's first `delay` targets echo the previous column's end, which it never sees.
    const mask = new Uint8Array(steps * B).fill(1);
    mask.fill(0, 0, delay * B);
    return { input: oneHot(inputs.data, 2, "f32"), targets, mask };
  };

  /** Runs the stream chunk by chunk; with `train`, each chunk also takes an optimizer step. */
  const run = (data: ReturnType<typeof makeData>, train: boolean, onChunk?: (loss: number) => void) => {
    let correct = 0;
    let counted = 0;
    let lossSum = 0;
    let chunks = 0;
    for (const chunk of truncatedBptt(layer, data.input, { steps, B, period, record: train })) {
      const targets = sliceSteps(data.targets, 1, B, chunk.start, chunk.T);
      const rows = data.mask.subarray(chunk.start * B, (chunk.start + chunk.T) * B); // [T][B]
      const logits = head.forward(chunk.output);
      const { loss, grad } = softmaxCrossEntropy(logits, targets, { mask: rows });
      const counting = rows.reduce((n, m) => n + m, 0);
      correct += accuracy(logits, targets, { mask: rows }) * counting;
      counted += counting;
      lossSum += loss;
      chunks += 1;
      if (train) {
        zeroGrads(groups);
        chunk.backward(head.backward(chunk.output, grad));
        clipGradNorm(groups, 1);
        optimizer.step(groups);
        onChunk?.(loss);
      }
    }
    return { loss: lossSum / chunks, accuracy: counted === 0 ? 0 : correct / counted };
  };

  const test = makeData(new Rng(seed + 1000));
  const initialTestAccuracy = run(test, false).accuracy;
  const rng = new Rng(seed + 2);
  const chunksPerEpoch = Math.ceil(steps / period);
  const progress = new RunProgress(`echo ${kind}`, epochs * chunksPerEpoch, silent);
  const trainLoss: number[] = [];
  const testAccuracies: number[] = [];
  const chunkLosses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const { loss } = run(makeData(rng), true, (chunkLoss) => {
      chunkLosses.push(chunkLoss);
      progress.tick({ epoch: `${epoch + 1}/${epochs}`, loss: chunkLoss });
    });
    trainLoss.push(loss);
    const { accuracy: acc } = run(test, false);
    testAccuracies.push(acc);
    progress.show({ "test bit acc": percent(acc) });
  }
  const testAccuracy = testAccuracies[testAccuracies.length - 1] ?? initialTestAccuracy;
  progress.finish();

  const lossFile = outputFile(options, "echo-loss.svg");
  // Smoothed chunk losses (mean over 20 chunks) show the fall within the first epoch too.
  const window = 20;
  const smoothed = chunkLosses.map((_, i) => {
    const from = Math.max(0, i - window + 1);
    return chunkLosses.slice(from, i + 1).reduce((a, b) => a + b, 0) / (i + 1 - from);
  });
  writeSvg(
    lossFile,
    linePlot([{ name: "train loss (20-chunk mean)", values: smoothed }], {
      title: `echo ${delay} steps: ${kind} H=${H}, BPTT period ${period}`,
      xLabel: "chunk (optimizer step)",
      yLabel: "cross-entropy (log)",
      logY: true,
    }),
  );

  const seconds = secondsSince(started);
  say(
    silent,
    `echo: ${kind} H=${H}, delay ${delay}, BPTT period ${period}, ${B} columns × ${steps} steps per epoch, ${epochs} epochs`,
  );
  say(silent, `  test bit accuracy ${percent(testAccuracy)} (untrained: ${percent(initialTestAccuracy)})`);
  say(silent, `  wall time ${seconds.toFixed(1)} s; figure: ${lossFile}`);
  return { testAccuracy, initialTestAccuracy, trainLoss, testAccuracies, chunkLosses, seconds, figures: [lossFile] };
}

if (isMain(import.meta.url)) {
  runCli((args) => {
    const cell = stringFlag(args, "cell", undefined);
    if (cell !== undefined && !["lstm", "rnn", "gru"].includes(cell))
      throw new Error(`--cell is lstm, rnn or gru, not '${cell}'`);
    const number = (name: string) => (args.flags[name] === undefined ? undefined : numberFlag(args, name, 0));
    return main({
      quick: args.quick,
      epochs: args.epochs,
      seed: args.seed,
      cell: cell as EchoOptions["cell"],
      hidden: number("hidden"),
      period: number("period"),
      delay: number("delay"),
      batch: number("batch"),
      steps: number("steps"),
      lr: number("lr"),
    });
  });
}
