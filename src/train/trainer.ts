/**
 * A small training loop with a progress bar on stderr. The bar redraws one line in place on a
 * terminal and prints plain lines (every tenth of the way) when stderr is a file or a pipe. Where
 * there is no `process` (a browser), the lines go to the console instead.
 */

import type { Rng } from "./init.js";

/**
 * Where the bar writes: stderr by default (the console where there is no `process`); anything with
 * `write` (and `isTTY` for a terminal).
 */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  readonly label?: string;
  readonly stream?: ProgressStream;
  /** Milliseconds clock for the rate and ETA; default `performance.now`. */
  readonly now?: () => number;
  /** Characters of the bar itself; default 24. */
  readonly barWidth?: number;
}

export type Metrics = Readonly<Record<string, number | string>>;

/** A single-line progress bar: `label [#####-----] 50/100 50% loss 0.693 eta 3s`. */
export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly started: number;
  private lastDraw = -Infinity;
  private lastTenth = -1;

  constructor(
    readonly total: number,
    private readonly options: ProgressOptions = {},
  ) {
    this.stream = options.stream ?? defaultStream();
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
  }

  /** Reports `done` of `total` units with the current metrics. */
  update(done: number, metrics: Metrics = {}): void {
    if (this.stream.isTTY === true) {
      const time = this.now();
      if (time - this.lastDraw < 50 && done < this.total) return; // at most 20 redraws a second
      this.lastDraw = time;
      this.stream.write(`\r${this.render(done, metrics)}\x1b[K`);
      return;
    }
    const tenth = this.total === 0 ? 10 : Math.floor((10 * done) / this.total);
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.stream.write(`${this.render(done, metrics)}\n`);
    }
  }

  /** Completes the bar with final metrics and ends its line. */
  finish(metrics: Metrics = {}): void {
    if (this.stream.isTTY === true) {
      this.stream.write(`\r${this.render(this.total, metrics, true)}\x1b[K\n`);
    } else if (this.lastTenth < 10 || Object.keys(metrics).length > 0) {
      this.lastTenth = 10;
      this.stream.write(`${this.render(this.total, metrics, true)}\n`);
    }
  }

  /** The bar's text for `done` units (no control characters). */
  render(done: number, metrics: Metrics = {}, finished = false): string {
    const width = this.options.barWidth ?? 24;
    const fraction = this.total === 0 ? 1 : Math.min(1, Math.max(0, done / this.total));
    const filled = Math.round(fraction * width);
    const parts = [
      this.options.label ?? "",
      `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`,
      `${done}/${this.total}`,
      `${Math.floor(fraction * 100)}%`,
      ...Object.entries(metrics).map(([name, value]) => `${name} ${formatMetric(value)}`),
    ];
    const elapsed = (this.now() - this.started) / 1000;
    if (finished) parts.push(formatSeconds(elapsed));
    else if (done > 0 && done < this.total)
      parts.push(`eta ${formatSeconds((elapsed / done) * (this.total - done))}`);
    return parts.filter((p) => p !== "").join("  ");
  }
}

/** Node's stderr where there is one; otherwise the console, one `console.info` per line. */
function defaultStream(): ProgressStream {
  const stderr = (globalThis as { process?: { stderr?: ProgressStream } }).process?.stderr;
  if (stderr !== undefined) return stderr;
  let line = "";
  return {
    write(text: string) {
      const lines = (line + text).split("\n");
      line = lines.pop()!;
      for (const complete of lines) console.info(complete);
    },
  };
}

function formatMetric(value: number | string): string {
  if (typeof value === "string") return value;
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e4 ? value.toFixed(4) : value.toExponential(3);
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds - 60 * minutes)).padStart(2, "0")}s`;
}

/** Index lists of consecutive batches over `count` items, shuffled when an `rng` is given. */
export function minibatches(count: number, batchSize: number, rng?: Rng): number[][] {
  const order = Array.from({ length: count }, (_, i) => i);
  if (rng !== undefined) rng.shuffle(order);
  const batches: number[][] = [];
  for (let start = 0; start < count; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}

export interface FitOptions<Batch> {
  readonly epochs: number;
  /** The batches of one epoch (called at the start of each, so it may reshuffle). */
  readonly batches: (epoch: number) => readonly Batch[];
  /**
   * One training step on a batch (forward, backward, optimizer step); returns its loss. Layers
   * write a step's outputs and gradients into the arrays the previous step at the same T and B
   * used (see `layers.ts`): copy what is kept across steps.
   */
  readonly step: (batch: Batch, epoch: number) => number;
  /**
   * Metrics measured after each epoch (test loss, accuracy…), shown and recorded. No backward
   * follows its forwards: run them with `record: false` (no tape, the same numbers).
   */
  readonly evaluate?: (epoch: number) => Readonly<Record<string, number>>;
  /** Progress bar options, or false for silence; the label defaults to "epoch k/N". */
  readonly progress?: ProgressOptions | false;
}

export interface EpochRecord {
  readonly epoch: number;
  /** Mean training loss over the epoch's batches. */
  readonly loss: number;
  /** Per-batch training losses, in order. */
  readonly batchLosses: readonly number[];
  readonly metrics: Readonly<Record<string, number>>;
}

/** Runs `epochs` epochs of `step` over `batches`, showing progress; returns one record per epoch. */
export function fit<Batch>(options: FitOptions<Batch>): EpochRecord[] {
  const history: EpochRecord[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const batches = options.batches(epoch);
    if (batches.length === 0) throw new Error(`fit: epoch ${epoch + 1} has no batches`);
    const progressOptions = options.progress === false ? undefined : options.progress;
    const label = `${progressOptions?.label ?? "epoch"} ${epoch + 1}/${options.epochs}`;
    const bar =
      options.progress === false ? undefined : new ProgressBar(batches.length, { ...progressOptions, label });
    const batchLosses: number[] = [];
    batches.forEach((batch, index) => {
      const loss = options.step(batch, epoch);
      if (!Number.isFinite(loss))
        throw new Error(`fit: loss became ${loss} at epoch ${epoch + 1}, batch ${index + 1}`);
      batchLosses.push(loss);
      bar?.update(index + 1, { loss: mean(batchLosses) });
    });
    const loss = mean(batchLosses);
    const metrics = options.evaluate?.(epoch) ?? {};
    bar?.finish({ loss, ...metrics });
    history.push({ epoch, loss, batchLosses, metrics });
  }
  return history;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
