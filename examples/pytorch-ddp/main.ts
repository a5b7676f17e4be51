/**
 * Scale-out, end to end: a custom cell designed in rnnc, trained in PyTorch on two processes,
 * served by rnnc again.
 *
 * 1. rnnc initializes the layer-norm LSTM (`examples/cells/lnlstm.cell`, I = 2) and a dense head,
 *    and exports the cell with those params as a Python module (`rnnc export --format pytorch`).
 * 2. `train.py` trains cell and head in PyTorch (float64) with DistributedDataParallel, gloo
 *    backend, two processes through `torch.multiprocessing`, on seed 003's task (the next
 *    [sin, cos] point from the previous 4; the first 80 % of the curve trains, the rest is held
 *    out), printing each process's loss per epoch, and saves the trained params as rnnc's JSON.
 * 3. rnnc loads them back and runs the held-out windows through its own kernels: every step's h
 *    and the predictions equal PyTorch's (the max difference is printed).
 *
 *   npm run example:pytorch-ddp -- [--quick] [--epochs N] [--seed N] [--hidden H] [--lr X]
 *
 * Needs a Python with PyTorch: `RNNC_PYTHON`, else `/usr/bin/python3`, `python3`, `python`.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportPytorchCell } from "../../src/export.js";
import { Dense, loadParams, meanSquaredError, saveParams, type ParamGroup } from "../../src/train/index.js";
import { type ExampleOptions, isMain, loadCell, numberFlag, outputFile, repoRoot, runCli, say, secondsSince } from "../common.js";
import { sineCosineCurve } from "../sine-cosine.js";
import { findPython } from "./python.js";

export interface DdpOptions extends ExampleOptions {
  /** Hidden size of the cell; default 16 (8 quick). */
  readonly hidden?: number;
  readonly lr?: number;
}

export interface DdpResult {
  /** Mean training loss per epoch, as each process printed it: `losses[rank][epoch]`. */
  readonly losses: readonly (readonly number[])[];
  readonly replicasIdentical: boolean;
  /** The largest |PyTorch − rnnc| over every step's h and every prediction on the held-out windows. */
  readonly maxDifference: number;
  readonly testMse: { readonly torch: number; readonly rnnc: number; readonly untrained: number };
  readonly lines: readonly string[];
  readonly seconds: number;
}

const [WINDOW, FEATURES] = [4, 2];

/** Time-major inputs `[WINDOW][n][2]` and targets `[n][2]` for the windows starting at `starts`. */
function windows(curve: Float64Array, starts: readonly number[]): { x: Float64Array; y: Float64Array } {
  const n = starts.length;
  const x = new Float64Array(WINDOW * n * FEATURES), y = new Float64Array(n * FEATURES);
  starts.forEach((start, b) => {
    for (let t = 0; t < WINDOW; t++) for (let k = 0; k < FEATURES; k++) x[(t * n + b) * FEATURES + k] = curve[(start + t) * FEATURES + k]!;
    for (let k = 0; k < FEATURES; k++) y[b * FEATURES + k] = curve[(start + WINDOW) * FEATURES + k]!;
  });
  return { x, y };
}

export function main(options: DdpOptions = {}): DdpResult {
  const started = performance.now();
  const quick = options.quick === true;
  const [seed, H] = [options.seed ?? 1, options.hidden ?? (quick ? 8 : 16)];
  const [epochs, lr] = [options.epochs ?? (quick ? 3 : 30), options.lr ?? 0.01];
  const python = findPython();
  if (!("path" in python)) throw new Error(python.missing);
  const work = outputFile(options, "pytorch-ddp");
  mkdirSync(work, { recursive: true });

  // 1. rnnc: the cell and its params, the head, the data.
  const sizes = { I: FEATURES, H };
  const cell = loadCell("lnlstm.cell", sizes, "f64");
  const params = cell.initParams(seed);
  const cellGroup: ParamGroup = { name: cell.name, params, grads: {}, shapes: Object.fromEntries(cell.params.map((p) => [p.name, p.shape])) };
  const head = new Dense(H, FEATURES, { name: "head", seed: seed + 1, dtype: "f64" });
  const groups = [cellGroup, ...head.groups()];
  const source = readFileSync(join(repoRoot(), "examples", "cells", "lnlstm.cell"), "utf8");
  const exported = exportPytorchCell(source, "lnlstm.cell", { sizes, params: { json: saveParams([cellGroup]), path: "rnnc" } });
  writeFileSync(join(work, "cell.py"), exported.text);
  writeFileSync(join(work, "initial.json"), saveParams(groups));
  const curve = sineCosineCurve();
  const count = curve.length / FEATURES - WINDOW;
  const trainCount = Math.floor(0.8 * count);
  const train = windows(curve, Array.from({ length: trainCount }, (_, i) => i));
  const testStarts = Array.from({ length: count - trainCount }, (_, i) => trainCount + i);
  const test = windows(curve, testStarts);
  const plain = (d: { x: Float64Array; y: Float64Array }) => ({ x: Array.from(d.x), y: Array.from(d.y) });
  writeFileSync(join(work, "data.json"), JSON.stringify({ T: WINDOW, features: FEATURES, train: plain(train), test: plain(test) }));
  const predict = () => {
    const trace = cell.forward(params, { x: test.x }, { T: WINDOW, B: testStarts.length });
    const h = trace.outputs["h"]!;
    return { h, prediction: head.forward(h.subarray((WINDOW - 1) * testStarts.length * H)) };
  };
  const untrained = meanSquaredError(predict().prediction, test.y).loss;

  // 2. PyTorch: two processes, DistributedDataParallel.
  say(options.silent, `pytorch-ddp: lnlstm.cell (I=${FEATURES}, H=${H}) exported to ${join(work, "cell.py")}; training in PyTorch ${python.torch} (${python.path}), 2 processes, gloo`);
  const run = spawnSync(python.path, [join(repoRoot(), "examples", "pytorch-ddp", "train.py"), work, String(epochs), String(lr), String(seed)], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`train.py failed (exit ${run.status}):\n${run.stderr}`);
  const lines = run.stdout.split("\n").filter((l) => l !== "");
  for (const line of lines) say(options.silent, `  ${line}`);
  const losses = [0, 1].map((rank) => lines.flatMap((l) => {
    const m = /^rank (\d) epoch (\d+) loss (\S+)$/.exec(l);
    return m && Number(m[1]) === rank ? [Number(m[3])] : [];
  }));

  // 3. rnnc: the trained params back, the held-out windows through rnnc's kernels.
  loadParams(readFileSync(join(work, "trained.json"), "utf8"), groups);
  const mine = predict();
  const theirs = JSON.parse(readFileSync(join(work, "torch.json"), "utf8")) as { h: number[]; prediction: number[]; mse: number };
  let maxDifference = 0;
  mine.h.forEach((v, i) => (maxDifference = Math.max(maxDifference, Math.abs(v - theirs.h[i]!))));
  mine.prediction.forEach((v, i) => (maxDifference = Math.max(maxDifference, Math.abs(v - theirs.prediction[i]!))));
  if (theirs.h.length !== mine.h.length || theirs.prediction.length !== mine.prediction.length) maxDifference = Infinity;
  const rnncMse = meanSquaredError(mine.prediction, test.y).loss;
  say(options.silent, `  held-out windows: ${testStarts.length}; test MSE PyTorch ${theirs.mse.toExponential(4)}, rnnc ${rnncMse.toExponential(4)} (untrained ${untrained.toExponential(4)})`);
  say(options.silent, `  max |PyTorch - rnnc| over every step's h and every prediction: ${maxDifference.toExponential(3)}`);
  const seconds = secondsSince(started);
  say(options.silent, `  wall time ${seconds.toFixed(1)} s`);
  return {
    losses, maxDifference, lines, seconds,
    replicasIdentical: lines.includes("replicas identical after training: True"),
    testMse: { torch: theirs.mse, rnnc: rnncMse, untrained },
  };
}

if (isMain(import.meta.url)) {
  runCli((args) =>
    main({
      quick: args.quick,
      epochs: args.epochs,
      seed: args.seed,
      hidden: args.flags["hidden"] === undefined ? undefined : numberFlag(args, "hidden", 16),
      lr: args.flags["lr"] === undefined ? undefined : numberFlag(args, "lr", 0.01),
    }),
  );
}
