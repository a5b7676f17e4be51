/**
 * minGRU against the LSTM on the character-level task of char-lm (seed 004): the same text, the
 * same 2-layer stack with a dense head, the same hidden size, optimizer, BPTT period, epochs and
 * seed — only the cell differs (`examples/cells/mingru.cell` or `examples/cells/lstm.cell`).
 *
 * minGRU (Feng et al. 2024, "Were RNNs all we needed?") computes its gate and candidate from the
 * input alone, so rnnc hoists both products out of the recurrence: the per-step work left inside
 * is elementwise (h = (1 − z) ⊙ h + z ⊙ h̃), while the LSTM's four recurrent products U·h stay in
 * it. Its price is expressiveness: a minGRU layer's state is a gated running average of its input,
 * so the two layers must do what one LSTM layer's recurrent products do.
 *
 * Prints both cells' validation bits per character after each epoch and the wall time of each
 * epoch (training plus validation), and writes both loss curves into one SVG,
 * `char-mingru-loss.svg`.
 *
 *   npm run example:char-mingru -- [--quick] [--epochs N] [--seed N] [--hidden H] [--batch B]
 *     [--period T] [--lr X]
 */

import { linePlot, writeSvg } from "../src/train/node.js";
import { CharModel, loadText, movingMean, trainChars } from "./char-lm.js";
import { type ExampleOptions, isMain, numberFlag, outputFile, runCli, say, secondsSince } from "./common.js";

export interface CharMingruOptions extends ExampleOptions {
  readonly hidden?: number;
  /** Columns of the batch-ified text. */
  readonly batch?: number;
  /** BPTT period: characters per chunk. */
  readonly period?: number;
  readonly lr?: number;
  /** Characters of the text used (default all). */
  readonly textLength?: number;
}

export interface CharMingruRun {
  readonly kind: "mingru" | "lstm";
  /** Trained numbers: both layers and the head. */
  readonly params: number;
  /** Validation bits per character before training and after each epoch. */
  readonly validBpc: readonly number[];
  /** Training bits per character, mean per epoch. */
  readonly trainBpc: readonly number[];
  /** Wall time of each epoch (training and validation), in seconds. */
  readonly epochSeconds: readonly number[];
}

export interface CharMingruResult {
  readonly runs: readonly CharMingruRun[];
  readonly seconds: number;
  readonly figures: readonly string[];
}

const CELLS = [
  { kind: "mingru", file: "mingru.cell", label: "minGRU" },
  { kind: "lstm", file: "lstm.cell", label: "LSTM" },
] as const;

export function main(options: CharMingruOptions = {}): CharMingruResult {
  const started = performance.now();
  const quick = options.quick === true;
  const seed = options.seed ?? 1;
  const hidden = options.hidden ?? (quick ? 24 : 128);
  const B = options.batch ?? 8;
  const period = options.period ?? (quick ? 16 : 32);
  const lr = options.lr ?? (quick ? 0.01 : 0.005);
  const epochs = options.epochs ?? (quick ? 2 : 8);
  const silent = options.silent;

  const fullText = loadText();
  const text = fullText.slice(0, options.textLength ?? (quick ? 6000 : fullText.length));
  const vocabulary = [...new Set(fullText)].sort();
  say(
    silent,
    `char-mingru: 2-layer minGRU vs 2-layer LSTM, H=${hidden}, ${vocabulary.length} characters, ` +
      `${text.length} chars (90 % train), B=${B}, BPTT period ${period}, Adam lr ${lr}, ${epochs} epochs each`,
  );

  const runs: CharMingruRun[] = [];
  const curves: { label: string; chunkBpc: number[]; validBpc: number[]; chunksPerEpoch: number }[] = [];
  for (const cell of CELLS) {
    const model = new CharModel(vocabulary, hidden, 2, seed, cell.file);
    const ids = model.ids(text);
    const split = Math.floor(0.9 * ids.length);
    const [train, valid] = [ids.subarray(0, split), ids.subarray(split)];
    const { validBpc, trainBpc, chunkBpc, epochSeconds, chunksPerEpoch } =
      trainChars(model, train, valid, { B, period, lr, epochs, label: `char-mingru ${cell.kind}`, silent });
    const params = model.groups.reduce((n, g) => n + Object.values(g.params).reduce((m, a) => m + a.length, 0), 0);
    runs.push({ kind: cell.kind, params, validBpc, trainBpc, epochSeconds });
    curves.push({ label: cell.label, chunkBpc, validBpc, chunksPerEpoch });
    say(
      silent,
      `  ${cell.label.padEnd(6)} (${params} params): validation bits per character ` +
        `${validBpc.map((b) => b.toFixed(3)).join(" → ")}; seconds per epoch ` +
        `${epochSeconds.map((s) => s.toFixed(2)).join(", ")}`,
    );
  }

  const file = outputFile(options, "char-mingru-loss.svg");
  const window = 10;
  const smooth = (values: readonly number[]) => movingMean(values, window);
  writeSvg(
    file,
    linePlot(
      curves.flatMap((c) => [
        {
          name: `${c.label} train (10-chunk mean)`,
          values: smooth(c.chunkBpc),
          x: c.chunkBpc.map((_, i) => (i + 1) / c.chunksPerEpoch),
        },
        { name: `${c.label} validation`, values: c.validBpc, x: c.validBpc.map((_, i) => i) },
      ]),
      {
        title: `char-mingru: 2-layer minGRU vs LSTM, H=${hidden}, on Coriolanus`,
        xLabel: "epoch",
        yLabel: "bits per character",
      },
    ),
  );
  const seconds = secondsSince(started);
  say(silent, `wall time ${seconds.toFixed(1)} s; figure: ${file}`);
  return { runs, seconds, figures: [file] };
}

if (isMain(import.meta.url)) {
  runCli((args) => {
    const number = (name: string) => (args.flags[name] === undefined ? undefined : numberFlag(args, name, 0));
    return main({
      quick: args.quick,
      epochs: args.epochs,
      seed: args.seed,
      hidden: number("hidden"),
      batch: number("batch"),
      period: number("period"),
      lr: number("lr"),
    });
  });
}
