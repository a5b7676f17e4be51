/**
 * One thread against two in a process of their own: the `rnnc` and `rnnc-2t` contestants
 * (bench/contestants/rnnc.ts, prepared and driven exactly as in the main run) side by side in a
 * fresh Node process that loads rnnc and `rnnc/parallel` and nothing else (`run.js --threads-child
 * W,… [--quick]`), in the harness's interleaved rounds, at the workloads of `THREAD_WORKLOADS` that
 * the run selected. In the main process the two threads share it with every peer's library and
 * heap, and have been much slower there than alone; this phase gives the figure issue 10's
 * "two threads ≥ 1.7× at train s3" asks about, next to the in-run one. The child reports the
 * 1-minute load average at its start and end: other work on the machine takes the second core.
 */

import os from "node:os";
import { runJsonChild } from "./child.js";
import { measure, type Contestant, type Result, type Settings } from "./harness.js";
import type { Workload } from "./workloads.js";

/** What the phase runs, in this order (train s3 first: the figure). */
export const THREAD_WORKLOADS: readonly string[] = ["lstm-train-s3", "lstm-train-s2", "lstm-forward-s3", "lstm-forward-s2"];
/** The two contestants compared: one thread, then two. */
export const THREAD_CONTESTANTS: readonly [string, string] = ["rnnc", "rnnc-2t"];

export interface ThreadRow {
  readonly workload: string;
  /** `measure`'s results for the two contestants, one thread first. */
  readonly results: readonly Result[];
}

export interface ThreadsResult {
  /** 1-minute load average when the child started and when it ended. */
  readonly loadStart?: number;
  readonly loadEnd?: number;
  readonly rows: readonly ThreadRow[];
  /** Peak RSS of the child, bytes (the kernel's high-water mark). */
  readonly maxRss?: number;
  readonly error?: string;
}

/** The phase's workloads among those the run selected, or none when the run left out either contestant. */
export function threadWorkloads(selected: readonly Workload[], contestants: readonly Contestant[]): Workload[] {
  if (!THREAD_CONTESTANTS.every((id) => contestants.some((c) => c.id === id))) return [];
  return THREAD_WORKLOADS.flatMap((id) => selected.filter((w) => w.id === id));
}

/** Body of the child: measures `workloads` for the two contestants, prints one JSON line (ThreadsResult). */
export async function threadsChild(workloads: readonly Workload[], contestants: readonly Contestant[], settings: Settings, log: (s: string) => void): Promise<void> {
  const loadStart = os.loadavg()[0];
  const rows: ThreadRow[] = [];
  for (const w of workloads) {
    log(`threads: ${w.id} ...`);
    rows.push({ workload: w.id, results: await measure(w, contestants, settings, log) });
  }
  const r: ThreadsResult = { loadStart, loadEnd: os.loadavg()[0], rows, maxRss: process.resourceUsage().maxRSS * 1024 };
  process.stdout.write(JSON.stringify(r) + "\n");
}

/** Runs the child of `script` (run.js) on `workloads`; its progress goes to `log`. */
export async function runThreads(script: string, workloads: readonly Workload[], quick: boolean, log: (s: string) => void): Promise<ThreadsResult> {
  const args = ["--threads-child", workloads.map((w) => w.id).join(","), ...(quick ? ["--quick"] : [])];
  const reply = await runJsonChild(script, args, process.env, (line) => log(`  [child] ${line}`));
  return "json" in reply ? (reply.json as ThreadsResult) : { rows: [], error: reply.error };
}
