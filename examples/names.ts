/**
 * Seed 002: is a surname German or Italian? A character-level classifier: each name is a sequence
 * of one-hot characters, the recurrent cell reads it, and a dense head on the state after the last
 * character gives the two logits.
 *
 * Data: the German (`de`) and Italian (`it`) surname lists that @faker-js/faker ships
 * (`faker.definitions.person.last_name` of each locale), read in-process. As in the seed, names in
 * both lists are removed from both, and the rest is split 80/20 (seeded shuffle). The vocabulary
 * is every character of the lists plus the ASCII letters. Names of different lengths share a batch
 * through padding and a mask; batches are formed from names of similar length to pad little.
 *
 * Trains the Elman RNN (`examples/cells/rnn.cell`) and the LSTM (`examples/cells/lstm.cell`),
 * reports their test accuracy (the seed reaches ≈ 92–93 %), saves their params as
 * `examples/out/names-<cell>-h<H>-seed<S>.json`, and with `--classify NAME` classifies a name — from
 * the saved params when present, else after training.
 *
 *   npm run example:names -- [--quick] [--epochs N] [--seed N] [--cell rnn|lstm|both]
 *     [--hidden H] [--lr X] [--classify NAME] [--retrain]
 */

import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { faker as fakerDe } from "@faker-js/faker/locale/de";
import { faker as fakerIt } from "@faker-js/faker/locale/it";
import {
  Adam,
  CellLayer,
  Dense,
  Rng,
  accuracy,
  clipGradNorm,
  gatherLastSteps,
  linePlot,
  loadParamsFile,
  padSequences,
  saveParamsFile,
  scatterLastSteps,
  softmax,
  softmaxCrossEntropy,
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

export const LANGUAGES = ["German", "Italian"] as const;
export type CellKind = "rnn" | "lstm";

export interface NameData {
  readonly german: readonly string[];
  readonly italian: readonly string[];
  /** Names that were in both lists (removed from both). */
  readonly common: readonly string[];
  readonly vocabulary: readonly string[];
}

function surnames(entry: unknown): string[] {
  if (Array.isArray(entry)) return entry.map(String);
  if (typeof entry === "object" && entry !== null) return Object.values(entry).flatMap(surnames);
  return [];
}

/** The two surname lists of @faker-js/faker, without the names they share, and the vocabulary. */
export function loadNames(): NameData {
  const german = [...new Set(surnames(fakerDe.definitions.person.last_name))];
  const italian = [...new Set(surnames(fakerIt.definitions.person.last_name))];
  const italianSet = new Set(italian);
  const common = german.filter((name) => italianSet.has(name));
  const commonSet = new Set(common);
  const ascii = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const characters = new Set([...german, ...italian, ascii].join(""));
  return {
    german: german.filter((name) => !commonSet.has(name)),
    italian: italian.filter((name) => !commonSet.has(name)),
    common,
    vocabulary: [...characters].sort(),
  };
}

export interface Example {
  readonly name: string;
  /** 0 German, 1 Italian. */
  readonly label: number;
}

/** A recurrent name classifier: cell over the characters, dense head on the last real step. */
export class NameClassifier {
  readonly layer: CellLayer;
  readonly head: Dense;
  readonly groups: ParamGroup[];
  private readonly index: Map<string, number>;

  constructor(
    readonly kind: CellKind,
    readonly hidden: number,
    readonly vocabulary: readonly string[],
    seed: number,
  ) {
    const cell = loadCell(`${kind}.cell`, { I: vocabulary.length, H: hidden }, "f32");
    this.layer = new CellLayer(cell, { name: kind, init: { seed } });
    this.head = new Dense(hidden, LANGUAGES.length, { name: "head", seed: seed + 1 });
    this.groups = [...this.layer.groups(), ...this.head.groups()];
    this.index = new Map(vocabulary.map((c, i) => [c, i]));
  }

  /** One-hot rows of a name's known characters (unknown ones are skipped). */
  encode(name: string): Float32Array {
    const known = [...name].filter((c) => this.index.has(c));
    const data = new Float32Array(known.length * this.vocabulary.length);
    known.forEach((c, t) => (data[t * this.vocabulary.length + this.index.get(c)!] = 1));
    return data;
  }

  /** The logits for `names`; `record: false` for a forward no backward follows. */
  private run(names: readonly string[], record = true) {
    const batch = padSequences(
      names.map((n) => this.encode(n)),
      this.vocabulary.length,
      { dtype: "f32" },
    );
    const { T, B, mask, lengths } = batch;
    const trace = this.layer.forward(batch.data, { T, B, mask, record });
    const last = gatherLastSteps(trace.output, this.hidden, T, B, lengths);
    return { batch, trace, last, logits: this.head.forward(last) };
  }

  /** Accumulates the gradients of the mean cross-entropy over `examples`; returns the loss. */
  lossAndGradients(examples: readonly Example[]): number {
    const { batch, trace, last, logits } = this.run(examples.map((e) => e.name));
    const labels = Int32Array.from(examples, (e) => e.label);
    const { loss, grad } = softmaxCrossEntropy(logits, labels);
    const dLast = this.head.backward(last, grad);
    this.layer.backward(trace, { output: scatterLastSteps(dLast, this.hidden, batch.T, batch.B, batch.lengths) });
    return loss;
  }

  evaluate(examples: readonly Example[]): { loss: number; accuracy: number } {
    let loss = 0;
    let correct = 0;
    for (const batch of lengthBatches(examples, 256)) {
      const { logits } = this.run(batch.map((e) => e.name), false);
      const labels = Int32Array.from(batch, (e) => e.label);
      loss += softmaxCrossEntropy(logits, labels).loss * batch.length;
      correct += accuracy(logits, labels) * batch.length;
    }
    return { loss: loss / examples.length, accuracy: correct / examples.length };
  }

  /** P(German), P(Italian) for a name. */
  classify(name: string): [number, number] {
    if (this.encode(name).length === 0) throw new Error(`classify: '${name}' has no known character`);
    const { logits } = this.run([name], false);
    const p = softmax(logits, LANGUAGES.length);
    return [p[0]!, p[1]!];
  }
}

/** Batches of names of similar length: sorted by length, cut into batches, in a shuffled order. */
export function lengthBatches<E extends Example>(examples: readonly E[], size: number, rng?: Rng): E[][] {
  const sorted = [...examples];
  if (rng !== undefined) rng.shuffle(sorted); // ties in length in a random order
  sorted.sort((a, b) => a.name.length - b.name.length);
  const batches: E[][] = [];
  for (let i = 0; i < sorted.length; i += size) batches.push(sorted.slice(i, i + size));
  if (rng !== undefined) rng.shuffle(batches);
  return batches;
}

export interface NamesOptions extends ExampleOptions {
  readonly cells?: readonly CellKind[];
  readonly hidden?: number;
  readonly lr?: number;
  /** Names to classify after training (or with saved params). */
  readonly classify?: readonly string[];
  /** Train even when saved params exist. */
  readonly retrain?: boolean;
  /** Save the trained params (default: true in full mode, false in quick mode). */
  readonly save?: boolean;
}

export interface CellRecord {
  readonly kind: CellKind;
  readonly hidden: number;
  /** Empty when the params were loaded rather than trained. */
  readonly trainLoss: readonly number[];
  readonly testAccuracies: readonly number[];
  readonly initialTestAccuracy: number;
  readonly testAccuracy: number;
  readonly trainAccuracy: number;
  readonly loaded: boolean;
  readonly seconds: number;
  readonly classified: readonly { name: string; language: string; confidence: number }[];
}

export interface NamesResult {
  readonly counts: { german: number; italian: number; common: number; train: number; test: number };
  readonly cells: readonly CellRecord[];
  readonly seconds: number;
  readonly figures: readonly string[];
}

export function main(options: NamesOptions = {}): NamesResult {
  const started = performance.now();
  const quick = options.quick === true;
  const seed = options.seed ?? 1;
  const hidden = options.hidden ?? (quick ? 32 : 128);
  const lr = options.lr ?? (quick ? 0.005 : 0.002);
  const epochs = options.epochs ?? (quick ? 3 : 20);
  const batchSize = 32;
  const silent = options.silent;
  const save = options.save ?? !quick;
  const cells = options.cells ?? (["rnn", "lstm"] as const);

  const data = loadNames();
  const all: Example[] = [
    ...data.german.map((name) => ({ name, label: 0 })),
    ...data.italian.map((name) => ({ name, label: 1 })),
  ];
  new Rng(seed).shuffle(all);
  const trainCount = Math.floor(0.8 * all.length);
  const train = quick ? all.slice(0, 640) : all.slice(0, trainCount);
  const test = quick ? all.slice(trainCount, trainCount + 400) : all.slice(trainCount);
  say(
    silent,
    `names: ${data.german.length} German + ${data.italian.length} Italian surnames from @faker-js/faker ` +
      `(${data.common.length} in both lists removed: ${data.common.join(", ")}); ` +
      `${train.length} train / ${test.length} test, ${data.vocabulary.length} characters`,
  );

  const records: CellRecord[] = [];
  const figures: string[] = [];
  for (const kind of cells) {
    const cellStarted = performance.now();
    const model = new NameClassifier(kind, hidden, data.vocabulary, seed);
    const paramsFile = outputFile(options, `names-${kind}-h${hidden}-seed${seed}.json`);
    const initialTestAccuracy = model.evaluate(test).accuracy;
    let loaded = false;
    if (options.classify !== undefined && options.retrain !== true && existsSync(paramsFile)) {
      try {
        loadParamsFile(paramsFile, model.groups);
        loaded = true;
        say(silent, `${kind}: loaded ${paramsFile}`);
      } catch (error) {
        say(silent, `${kind}: cannot use ${paramsFile} (${(error as Error).message}); training`);
      }
    }
    const trainLoss: number[] = [];
    const testAccuracies: number[] = [];
    if (!loaded) {
      const optimizer = new Adam({ lr });
      const rng = new Rng(seed + 3);
      const perEpoch = Math.ceil(train.length / batchSize);
      const progress = new RunProgress(`names ${kind.padEnd(4)}`, epochs * perEpoch, silent);
      for (let epoch = 0; epoch < epochs; epoch++) {
        let sum = 0;
        let count = 0;
        for (const batch of lengthBatches(train, batchSize, rng)) {
          zeroGrads(model.groups);
          const loss = model.lossAndGradients(batch);
          clipGradNorm(model.groups, 1);
          optimizer.step(model.groups);
          sum += loss;
          count += 1;
          progress.tick({ epoch: `${epoch + 1}/${epochs}`, loss: sum / count });
        }
        trainLoss.push(sum / count);
        const { accuracy: acc } = model.evaluate(test);
        testAccuracies.push(acc);
        progress.show({ "test acc": percent(acc) });
      }
      progress.finish();
      if (save) {
        mkdirSync(dirname(paramsFile), { recursive: true });
        saveParamsFile(paramsFile, model.groups);
      }
    }
    const testAccuracy = model.evaluate(test).accuracy;
    const trainAccuracy = model.evaluate(train).accuracy;
    const classified = (options.classify ?? []).map((name) => {
      const p = model.classify(name);
      const k = p[1] > p[0] ? 1 : 0;
      return { name, language: LANGUAGES[k], confidence: p[k] };
    });
    const seconds = secondsSince(cellStarted);
    records.push({
      kind,
      hidden,
      trainLoss,
      testAccuracies,
      initialTestAccuracy,
      testAccuracy,
      trainAccuracy,
      loaded,
      seconds,
      classified,
    });
    say(
      silent,
      `  ${kind.padEnd(4)} H=${hidden}: test accuracy ${percent(testAccuracy)} (train ${percent(trainAccuracy)}, ` +
        `untrained ${percent(initialTestAccuracy)})${loaded ? " [saved params]" : `, ${epochs} epochs`}, ${seconds.toFixed(1)} s` +
        (save && !loaded ? `; saved ${paramsFile}` : ""),
    );
    for (const c of classified)
      say(silent, `    ${c.name}: ${c.language} (${(100 * c.confidence).toFixed(1)} %)`);
  }

  const trained = records.filter((r) => !r.loaded);
  if (trained.length > 0) {
    const file = outputFile(options, "names-loss.svg");
    writeSvg(
      file,
      linePlot(
        trained.flatMap((r) => [
          { name: `${r.kind} train loss`, values: r.trainLoss },
          { name: `${r.kind} test error`, values: r.testAccuracies.map((a) => 1 - a) },
        ]),
        { title: `German vs Italian surnames, H=${hidden}`, xLabel: "epoch", yLabel: "cross-entropy / error rate" },
      ),
    );
    figures.push(file);
  }
  const seconds = secondsSince(started);
  say(silent, `wall time ${seconds.toFixed(1)} s${figures.length > 0 ? `; figure: ${figures[0]}` : ""}`);
  return {
    counts: {
      german: data.german.length,
      italian: data.italian.length,
      common: data.common.length,
      train: train.length,
      test: test.length,
    },
    cells: records,
    seconds,
    figures,
  };
}

if (isMain(import.meta.url)) {
  runCli(
    (args) => {
      const cell = stringFlag(args, "cell", undefined);
      if (cell !== undefined && !["rnn", "lstm", "both"].includes(cell))
        throw new Error(`--cell is rnn, lstm or both, not '${cell}'`);
      const classify = stringFlag(args, "classify", undefined);
      const number = (name: string) => (args.flags[name] === undefined ? undefined : numberFlag(args, name, 0));
      return main({
        quick: args.quick,
        epochs: args.epochs,
        seed: args.seed,
        cells: cell === undefined || cell === "both" ? undefined : [cell as CellKind],
        hidden: number("hidden"),
        lr: number("lr"),
        classify: classify === undefined ? undefined : classify.split(",").map((n) => n.trim()),
        retrain: args.flags["retrain"] === true,
      });
    },
    ["retrain"],
  );
}
