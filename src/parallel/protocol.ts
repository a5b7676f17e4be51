/**
 * What the calling thread and the workers of a parallel cell say to each other. Every array in a
 * message is a view of shared memory (a `SharedArrayBuffer`), so posting one shares it: the
 * params, the whole batch's inputs and outputs, and each lane's gradient buffers are written in
 * place, never copied through a message. A lane is one worker's slice of the batch, rows
 * `[b0, b1)` of every `[T][B][n]` and `[B][n]` array.
 */
import type { Real } from "../runtime/types.js";

/** Where a cell comes from: an emitted module (its URL), or `.cell` source compiled in each thread. */
export type CellSource =
  | { readonly module: string | URL; readonly export?: string }
  | { readonly source: string; readonly options?: SourceOptions };

/** The options of `compile()` that can cross to a worker (no callbacks). */
export interface SourceOptions {
  readonly cell?: string;
  readonly path?: string;
  readonly sizes?: Readonly<Record<string, number>>;
  readonly dtype?: "f32" | "f64";
  readonly products?: "runtime" | "inline";
  readonly optimize?: boolean;
}

/** A cell source as it crosses to a worker: a module URL as a string. */
export type PortableSource = { readonly module: string; readonly export?: string } | { readonly source: string; readonly options?: SourceOptions };

export interface LoadTask {
  readonly op: "load";
  readonly id: number;
  readonly source: PortableSource;
}

export interface ForwardTask {
  readonly op: "forward";
  readonly id: number;
  /** Report a `TaskTiming` with the reply. */
  readonly timing?: boolean;
  /** The trace this lane keeps for the matching backward (none when `record` is false). */
  readonly trace: number;
  /** false: inference only (the cell's `record: false`): the lane keeps no trace. */
  readonly record: boolean;
  readonly T: number;
  readonly B: number;
  readonly b0: number;
  readonly b1: number;
  /** The params arrays, when they are not those this lane got last (absent: the same ones). */
  readonly params?: readonly Real[];
  /**
   * The params' generation: the same number as the task before while the caller passes the same
   * params object with the same arrays and version (so the lane's cell keeps its stacked weights).
   */
  readonly generation: number;
  /** Whole-batch inputs `[T][B][n]`, read. */
  readonly inputs: readonly Real[];
  /** Whole-batch initial states `[B][n]`, read; null where zero. */
  readonly initial: readonly (Real | null)[];
  readonly mask: Uint8Array | null;
  /** Whole-batch outputs `[T][B][n]` and final states `[B][n]`, written (this lane's rows). */
  readonly outputs: readonly Real[];
  readonly final: readonly Real[];
}

export interface BackwardTask {
  readonly op: "backward";
  readonly id: number;
  readonly timing?: boolean;
  readonly trace: number;
  readonly params?: readonly Real[];
  readonly generation: number;
  /** Whole-batch output gradients `[T][B][n]` and final-state gradients `[B][n]`; null where zero. */
  readonly outputGrads: readonly (Real | null)[];
  readonly finalGrads: readonly (Real | null)[];
  /** This lane's own param gradients: overwritten with the lane's sum. */
  readonly grads: readonly Real[];
  /** Whole-batch input gradients `[T][B][n]` and initial-state gradients `[B][n]`, written. */
  readonly inputGrads: readonly Real[];
  readonly initialGrads: readonly Real[];
  /** When the lanes add their sums into the caller's param gradients themselves (see `SumTask`). */
  readonly sum?: SumTask;
}

/**
 * The lanes' sums added into the caller's param gradients by the lanes themselves, once every
 * lane's backward is done (the caller's arrays in shared memory): lane k adds, to its own share
 * of each array's elements, every lane's sum in lane order, as the calling thread would add them.
 */
export interface SumTask {
  /** The caller's param gradients, added to. */
  readonly grads: readonly Real[];
  /** Every lane's param gradients, in lane order (a backward task's `grads`). */
  readonly lanes: readonly (readonly Real[])[];
  /** This lane's place in `lanes`. */
  readonly lane: number;
  /** [lanes done, lanes failed], zeroed by the caller before the tasks go out: the lanes wait on it for each other. */
  readonly barrier: Int32Array;
}

/** Forget a trace (released, or the caller's trace was garbage-collected); the worker does not answer it. */
export interface DropTask {
  readonly op: "drop";
  readonly id: number;
  readonly trace: number;
}

export type Task = LoadTask | ForwardTask | BackwardTask | DropTask;
/** The tasks a loaded lane runs. */
export type LaneTask = ForwardTask | BackwardTask | DropTask;

/**
 * Where a lane's time went in one task, when the task asks: wall-clock times in ms since the epoch
 * (`performance.timeOrigin + performance.now()`, comparable between threads), each with the
 * thread's CPU time in ms where the platform can read it (Linux; only differences mean anything).
 */
export interface TaskTiming {
  /** The task's message arrived (for a lane on the calling thread: the task was handed to it). */
  readonly received: number;
  /**
   * The task started, each of its phases ended, in order, and the task ended: `start`, `gather`,
   * `cell`, `scatter`, `end`; a backward whose lanes add their sums into the caller's grads
   * (`SumTask`) has `wait` (for the other lanes) and `sum` before `end`.
   */
  readonly marks: readonly Mark[];
}

export interface Mark {
  readonly phase: string;
  readonly at: number;
  readonly cpu?: number;
}

/** The epoch time in ms, as precise as `performance.now()`: comparable between threads. */
export const clock = (): number => performance.timeOrigin + performance.now();

/** A worker's answer to task `id`: what it reports, or the error it met. */
export type Reply =
  | { readonly id: number; readonly ok: true; readonly tapeBytes?: number; readonly timing?: TaskTiming }
  | { readonly id: number; readonly ok: false; readonly name: string; readonly message: string };

/**
 * The batch rows of each of `lanes` lanes, `[b0, b1)`: as even as can be, the first lanes one row
 * longer; lanes beyond B get no rows and are left out. Depends on B and `lanes` only.
 */
export function split(B: number, lanes: number): { b0: number; b1: number }[] {
  const n = Math.min(B, lanes);
  const base = Math.floor(B / n);
  const extra = B % n;
  const out: { b0: number; b1: number }[] = [];
  for (let k = 0, b0 = 0; k < n; k++) {
    const b1 = b0 + base + (k < extra ? 1 : 0);
    out.push({ b0, b1 });
    b0 = b1;
  }
  return out;
}
