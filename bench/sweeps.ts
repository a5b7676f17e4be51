/**
 * Sweeps of the LSTM train step (forward over T + full BPTT) in GFLOP/s: the batch at H = 128
 * (I = 32, T = 32, as s2) and H at B = 32 (I = 64, T = 32, as s3 but T = 32). Each point is a
 * workload of its own, measured as the others are (interleaved rounds, medians) on a smaller budget.
 */

import type { Settings } from "./harness.js";
import { makeWorkload, type Workload } from "./workloads.js";

export interface Sweep {
  readonly id: "batch" | "hidden";
  readonly title: string;
  /** The swept size: B or H. */
  readonly axis: "B" | "H";
  readonly points: readonly Workload[];
}

const BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const HIDDEN = [32, 64, 128, 256, 512, 1024];
const QUICK_BATCHES = [1, 16, 64];
const QUICK_HIDDEN = [64, 256];

export function sweeps(quick: boolean): Sweep[] {
  return [
    {
      id: "batch", axis: "B", title: "Batch sweep: LSTM train step, I32 H128 T32",
      points: (quick ? QUICK_BATCHES : BATCHES).map((B) => makeWorkload("lstm", "train", `b${B}`, { I: 32, H: 128, B, T: 32 })),
    },
    {
      id: "hidden", axis: "H", title: "H sweep: LSTM train step, I64 B32 T32",
      points: (quick ? QUICK_HIDDEN : HIDDEN).map((H) => makeWorkload("lstm", "train", `h${H}`, { I: 64, H, B: 32, T: 32 })),
    },
  ];
}

/** Every sweep point, for looking one up by id (the memory children do). */
export const SWEEP_WORKLOADS: readonly Workload[] = sweeps(false).flatMap((s) => s.points);

/** Per point: a couple of seconds, fewer rounds; the H = 1024 train step takes seconds per call. */
export const SWEEP_FULL: Settings = {
  warmCalls: 2, warmMs: 150, sampleMs: 20, budgetMs: 1500,
  minRounds: 5, maxRounds: 15, slowCallMs: 1000, slowRounds: 3,
};
export const SWEEP_QUICK: Settings = {
  warmCalls: 1, warmMs: 30, sampleMs: 5, budgetMs: 300,
  minRounds: 3, maxRounds: 5, slowCallMs: 300, slowRounds: 1,
};
