/**
 * Seed 004's character-level generation with a stacked LSTM: two `examples/cells/lstm.cell` layers
 * (`Stack` of `CellLayer`s: the first layer's h is the second layer's input), a dense head to one
 * logit per character, softmax cross-entropy against the next character.
 *
 * Text: `examples/data/coriolanus.txt`, the opening of Shakespeare's *Coriolanus* (public domain,
 * 47 198 characters: the first 47 kB of the "tiny Shakespeare" corpus of karpathy/char-rnn). No
 * installed package ships a long English public-domain text, so this one is kept in the repo; it
 * is read from disk, nothing is downloaded. The first 90 % trains, the last 10 % validates.
 *
 * Training is seed 001's language-model recipe: the text is batch-ified into B columns and the
 * columns are cut into chunks of the BPTT period (`truncatedBptt`), the state carried across
 * chunks and the gradient cut at their borders. Reports bits per character (cross-entropy / ln 2)
 * on the validation text after every epoch — it falls from log2(vocabulary) ≈ 6 — and samples text
 * from the trained model at a few temperatures (below 1 sharpens the distribution, above 1
 * flattens it).
 *
 *   npm run example:char-lm -- [--quick] [--epochs N] [--seed N] [--hidden H] [--batch B]
 *     [--period T] [--lr X] [--temperature X] [--length N] [--prime TEXT]
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  Adam,
  CellLayer,
  Dense,
  Rng,
  Stack,
  batchify,
  clipGradNorm,
  linePlot,
  oneHot,
  sliceSteps,
  softmax,
  softmaxCrossEntropy,
  truncatedBptt,
  writeSvg,
  zeroGrads,
  type ParamGroup,
} from "../src/train/node.js";
import type { Tensors } from "../src/index.js";
import {
  type ExampleOptions,
  RunProgress,
  isMain,
  loadCell,
  numberFlag,
  outputFile,
  repoRoot,
  runCli,
  say,
  secondsSince,
  stringFlag,
} from "./common.js";

export interface CharLmOptions extends ExampleOptions {
  readonly hidden?: number;
  /** Columns of the batch-ified text. */
  readonly batch?: number;
  /** BPTT period: characters per chunk. */
  readonly period?: number;
  readonly lr?: number;
  /** Sampling temperatures (default 0.5, 0.8, 1.0). */
  readonly temperatures?: readonly number[];
  /** Characters per sample. */
  readonly sampleLength?: number;
  /** Text the samples start from. */
  readonly prime?: string;
  /** Characters of the text used (default all). */
  readonly textLength?: number;
}

export interface CharLmResult {
  readonly vocabulary: number;
  readonly trainChars: number;
  readonly validChars: number;
  /** Validation bits per character before training and after each epoch. */
  readonly validBpc: readonly number[];
  /** Training bits per character, mean per epoch. */
  readonly trainBpc: readonly number[];
  readonly samples: readonly { temperature: number; text: string }[];
  readonly seconds: number;
  readonly figures: readonly string[];
}

export function loadText(): string {
  return readFileSync(join(repoRoot(), "examples", "data", "coriolanus.txt"), "utf8");
}

/** The character model: a stack of recurrent layers (LSTM unless another cell is named) and a dense head. */
export class CharModel {
  readonly stack: Stack;
  readonly head: Dense;
  readonly groups: ParamGroup[];
  private readonly index: Map<string, number>;

  constructor(
    readonly vocabulary: readonly string[],
    readonly hidden: number,
    layers: number,
    seed: number,
    /** A cell of examples/cells/ with an input x[I] and a state h[H] that is its output. */
    cellFile = "lstm.cell",
  ) {
    const V = vocabulary.length;
    this.stack = new Stack(
      Array.from(
        { length: layers },
        (_, k) =>
          new CellLayer(loadCell(cellFile, { I: k === 0 ? V : hidden, H: hidden }, "f32"), {
            name: cellFile.replace(/\.cell$/, ""),
            init: { seed: seed + k },
          }),
      ),
    );
    this.head = new Dense(hidden, V, { name: "head", seed: seed + layers });
    this.groups = [...this.stack.groups(), ...this.head.groups()];
    this.index = new Map(vocabulary.map((c, i) => [c, i]));
  }

  ids(text: string): Int32Array {
    return Int32Array.from(text, (c) => {
      const id = this.index.get(c);
      if (id === undefined) throw new Error(`character ${JSON.stringify(c)} is not in the vocabulary`);
      return id;
    });
  }

  /**
   * Runs a text stream batch-ified into B columns, chunk by chunk; with an optimizer each chunk also
   * takes a step. Returns the mean cross-entropy per character in bits.
   */
  runStream(
    text: Int32Array,
    B: number,
    period: number,
    train?: { optimizer: Adam; clip: number; onChunk: (bits: number) => void },
  ): number {
    const V = this.vocabulary.length;
    const inputs = batchify(text.subarray(0, text.length - 1), B);
    const targets = batchify(text.subarray(1), B).data;
    const { steps } = inputs;
    let bits = 0;
    let counted = 0;
    const record = train !== undefined; // validation runs record no tape
    for (const chunk of truncatedBptt(this.stack, oneHot(inputs.data, V, "f32"), { steps, B, period, record })) {
      const logits = this.head.forward(chunk.output);
      const { loss, grad } = softmaxCrossEntropy(logits, sliceSteps(targets, 1, B, chunk.start, chunk.T));
      bits += (loss / Math.LN2) * chunk.T * B;
      counted += chunk.T * B;
      if (train !== undefined) {
        zeroGrads(this.groups);
        chunk.backward(this.head.backward(chunk.output, grad));
        clipGradNorm(this.groups, train.clip);
        train.optimizer.step(this.groups);
        train.onChunk(loss / Math.LN2);
      }
    }
    return bits / counted;
  }

  /** Generates `length` characters after `prime`, sampling at `temperature`. */
  sample(prime: string, length: number, temperature: number, rng: Rng): string {
    const V = this.vocabulary.length;
    let states: readonly Tensors[] | undefined;
    let logits: Float32Array | Float64Array = new Float32Array(V);
    const feed = (id: number) => {
      const trace = this.stack.forward(oneHot([id], V, "f32"), { T: 1, B: 1, initial: states, record: false });
      states = trace.final;
      logits = this.head.forward(trace.output);
    };
    for (const id of this.ids(prime)) feed(id);
    let text = "";
    for (let i = 0; i < length; i++) {
      const p = softmax(logits, V, temperature);
      let u = rng.next();
      let id = 0;
      while (id < V - 1 && u >= p[id]!) u -= p[id++]!;
      text += this.vocabulary[id];
      feed(id);
    }
    return text;
  }
}

/** What training a `CharModel` leaves: bits per character by chunk and by epoch, and seconds per epoch. */
export interface CharTraining {
  /** Validation bits per character before training and after each epoch. */
  readonly validBpc: number[];
  readonly trainBpc: number[];
  readonly chunkBpc: number[];
  /** Wall time of each epoch, training plus validation. */
  readonly epochSeconds: number[];
  readonly chunksPerEpoch: number;
}

/**
 * Truncated BPTT over `train` (Adam, gradients clipped at 5), `epochs` times, validating on a few
 * long columns of `valid` after each epoch.
 */
export function trainChars(
  model: CharModel,
  train: Int32Array,
  valid: Int32Array,
  o: { B: number; period: number; lr: number; epochs: number; label: string; silent?: boolean | undefined },
): CharTraining {
  const validB = 4; // a few columns so that the state runs over long stretches of the text
  const optimizer = new Adam({ lr: o.lr });
  const validBpc = [model.runStream(valid, validB, 64)];
  const trainBpc: number[] = [];
  const chunkBpc: number[] = [];
  const epochSeconds: number[] = [];
  const chunksPerEpoch = Math.ceil(Math.floor((train.length - 1) / o.B) / o.period);
  const progress = new RunProgress(o.label, o.epochs * chunksPerEpoch, o.silent);
  progress.show({ "valid bpc": validBpc[0]! });
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const epochStart = performance.now();
    // Each epoch starts the columns at a different offset, so chunk borders move through the text.
    const offset = (epoch * 7) % o.period;
    const bpc = model.runStream(train.subarray(offset), o.B, o.period, {
      optimizer,
      clip: 5,
      onChunk: (bits) => {
        chunkBpc.push(bits);
        progress.tick({ epoch: `${epoch + 1}/${o.epochs}`, bpc: bits });
      },
    });
    trainBpc.push(bpc);
    validBpc.push(model.runStream(valid, validB, 64));
    epochSeconds.push(secondsSince(epochStart));
    progress.show({ "valid bpc": validBpc[validBpc.length - 1]! });
  }
  progress.finish();
  return { validBpc, trainBpc, chunkBpc, epochSeconds, chunksPerEpoch };
}

/** At each point, the mean of the last `window` values up to it. */
export const movingMean = (values: readonly number[], window: number): number[] =>
  values.map((_, i) => {
    const from = Math.max(0, i - window + 1);
    return values.slice(from, i + 1).reduce((a, b) => a + b, 0) / (i + 1 - from);
  });

export function main(options: CharLmOptions = {}): CharLmResult {
  const started = performance.now();
  const quick = options.quick === true;
  const seed = options.seed ?? 1;
  const hidden = options.hidden ?? (quick ? 24 : 128);
  const B = options.batch ?? 8;
  const period = options.period ?? (quick ? 16 : 32);
  const lr = options.lr ?? (quick ? 0.01 : 0.005);
  const epochs = options.epochs ?? (quick ? 2 : 8);
  const temperatures = options.temperatures ?? [0.5, 0.8, 1.0];
  const sampleLength = options.sampleLength ?? (quick ? 40 : 300);
  const prime = options.prime ?? "MENENIUS:\n";
  const silent = options.silent;

  const fullText = loadText();
  const text = fullText.slice(0, options.textLength ?? (quick ? 6000 : fullText.length));
  const vocabulary = [...new Set(fullText)].sort();
  const model = new CharModel(vocabulary, hidden, 2, seed);
  const ids = model.ids(text);
  const split = Math.floor(0.9 * ids.length);
  const train = ids.subarray(0, split);
  const valid = ids.subarray(split);
  say(
    silent,
    `char-lm: 2-layer LSTM H=${hidden}, ${vocabulary.length} characters, ${train.length} train / ` +
      `${valid.length} validation chars, B=${B}, BPTT period ${period}, Adam lr ${lr}`,
  );

  const { validBpc, trainBpc, chunkBpc, chunksPerEpoch } = trainChars(model, train, valid, { B, period, lr, epochs, label: "char-lm", silent });

  const rng = new Rng(seed + 99);
  const samples = temperatures.map((temperature) => ({
    temperature,
    text: model.sample(prime, sampleLength, temperature, rng),
  }));

  const file = outputFile(options, "char-lm-loss.svg");
  const window = 10;
  const smoothed = movingMean(chunkBpc, window);
  writeSvg(
    file,
    linePlot(
      [
        { name: "train (10-chunk mean)", values: smoothed, x: smoothed.map((_, i) => (i + 1) / chunksPerEpoch) },
        { name: "validation", values: validBpc, x: validBpc.map((_, i) => i) },
      ],
      { title: `char-lm: 2-layer LSTM H=${hidden} on Coriolanus`, xLabel: "epoch", yLabel: "bits per character" },
    ),
  );

  const seconds = secondsSince(started);
  say(silent, `  validation bits per character: ${validBpc.map((b) => b.toFixed(3)).join(" → ")}`);
  for (const s of samples) {
    say(silent, `--- sample at temperature ${s.temperature} ---`);
    say(silent, prime + s.text);
  }
  say(silent, `---\nwall time ${seconds.toFixed(1)} s; figure: ${file}`);
  return {
    vocabulary: vocabulary.length,
    trainChars: train.length,
    validChars: valid.length,
    validBpc,
    trainBpc,
    samples,
    seconds,
    figures: [file],
  };
}

if (isMain(import.meta.url)) {
  runCli((args) => {
    const number = (name: string) => (args.flags[name] === undefined ? undefined : numberFlag(args, name, 0));
    const temperature = number("temperature");
    return main({
      quick: args.quick,
      epochs: args.epochs,
      seed: args.seed,
      hidden: number("hidden"),
      batch: number("batch"),
      period: number("period"),
      lr: number("lr"),
      temperatures: temperature === undefined ? undefined : [temperature],
      sampleLength: number("length"),
      prime: stringFlag(args, "prime", undefined)?.replace(/\\n/g, "\n"),
    });
  });
}
