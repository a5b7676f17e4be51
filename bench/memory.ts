/**
 * Peak memory of a train step: each (workload, contestant) runs alone in a fresh Node process
 * (`run.js --memory-child W C`), so one library's heap (TF.js's wasm memory never shrinks) does
 * not count against another. The child samples process.memoryUsage().rss at start (baseline: Node
 * plus the bench code, no library loaded yet), after prepare (the library loaded — for rnnc the
 * whole compiler, TypeScript included — params and data made) and after every call, and also
 * reports the kernel's high-water mark (process.resourceUsage().maxRSS), which catches peaks
 * inside a call. Peak minus prepared is what the train step itself holds.
 *
 * That growth over T·B spreads what is set up once (workspace, compiled code, what the allocator
 * keeps) over the sample-steps of one call, so it says less the shorter the call. A second child
 * runs the workload at `LONGER`·T (same B, `longer` in the result): its growth less the first one's,
 * per sample-step added, is what each more sample-step costs, without the fixed costs.
 */

import { runJsonChild } from "./child.js";
import { callSeconds, Unavailable, type Contestant, type Prepared } from "./harness.js";
import type { Workload } from "./workloads.js";

/** How many times T the second child of `measureMemory` runs the workload at. */
export const LONGER = 4;
/** How the parent tells a child to run its workload at `LONGER`·T (the child's other arguments are run.ts's). */
const LONGER_ENV = "RNNC_BENCH_MEMORY_LONGER";

/** The second child's figures: the workload at `T` = LONGER × the first's, same B. */
export interface LongerRun {
  readonly T: number;
  readonly preparedRss: number;
  readonly peakRss: number;
  readonly calls: number;
  readonly tapeBytesPerStep?: number;
}

export interface MemoryResult {
  readonly workload: string;
  readonly contestant: string;
  /** RSS of the child before the contestant loads anything, bytes. */
  readonly baselineRss: number;
  /** RSS after prepare (libraries loaded, cell compiled, params and data made), before any call. */
  readonly preparedRss: number;
  /** Max RSS sampled after prepare and after every call, bytes. */
  readonly peakRss: number;
  /** The kernel's RSS high-water mark of the child, bytes. */
  readonly maxRssKernel: number;
  readonly calls: number;
  /** What the forward keeps for the backward per sample-step, bytes, when the contestant says. */
  readonly tapeBytesPerStep?: number;
  /** The same workload at LONGER·T, in a child of its own (absent if it failed). */
  readonly longer?: LongerRun;
  readonly error?: string;
  /** Why the contestant could not run here (a missing dependency or API): not a failure. */
  readonly skipped?: string;
}

/** Body of the child process: prepare, run for about `seconds` (at least 2 calls), print JSON. */
export async function memoryChild(given: Workload, c: Contestant, seconds: number): Promise<void> {
  const w = process.env[LONGER_ENV] === "1" ? { ...given, T: given.T * LONGER } : given;
  const baselineRss = process.memoryUsage().rss;
  let peakRss = baselineRss;
  const sample = (): number => {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    return rss;
  };
  let p: Prepared;
  try {
    p = await c.prepare(w);
  } catch (e) {
    if (!(e instanceof Unavailable)) throw e;
    const r: MemoryResult = { workload: w.id, contestant: c.id, baselineRss, preparedRss: 0, peakRss: 0, maxRssKernel: 0, calls: 0, skipped: e.message };
    return void process.stdout.write(JSON.stringify(r) + "\n");
  }
  await p.activate?.();
  // A contestant whose calls run in another process reports that process's RSS instead.
  const own = p.rss;
  const sampleOther = async (): Promise<number> => {
    const rss = await own!();
    peakRss = Math.max(peakRss, rss);
    return rss;
  };
  if (own) peakRss = 0;
  const preparedRss = own ? await sampleOther() : sample();
  const t0 = process.hrtime.bigint();
  let calls = 0;
  while (calls < 2 || (Number(process.hrtime.bigint() - t0) / 1e9 < seconds && calls < 50)) {
    await callSeconds(p, 1);
    calls++;
    if (own) await sampleOther();
    else sample();
  }
  const maxRssKernel = process.resourceUsage().maxRSS * 1024;
  const tape = p.info?.()["tapeBytesPerStep"];
  p.dispose?.();
  const r: MemoryResult = { workload: w.id, contestant: c.id, baselineRss, preparedRss, peakRss, maxRssKernel, calls, ...(tape === undefined ? {} : { tapeBytesPerStep: tape }) };
  process.stdout.write(JSON.stringify(r) + "\n");
}

/** Runs the child of `w` and, when it ran, the child at LONGER·T; parses their reports. */
export async function measureMemory(script: string, w: Workload, c: Contestant, seconds: number): Promise<MemoryResult> {
  const first = await runChild(script, w, c, seconds, false);
  if (first.error !== undefined || first.skipped !== undefined) return first;
  const second = await runChild(script, w, c, seconds, true);
  if (second.error !== undefined || second.skipped !== undefined) return first;
  const { preparedRss, peakRss, calls, tapeBytesPerStep } = second;
  return { ...first, longer: { T: w.T * LONGER, preparedRss, peakRss, calls, ...(tapeBytesPerStep === undefined ? {} : { tapeBytesPerStep }) } };
}

/** Runs one child (at LONGER·T if `longer`) and parses its report. */
async function runChild(script: string, w: Workload, c: Contestant, seconds: number, longer: boolean): Promise<MemoryResult> {
  const args = ["--memory-child", w.id, c.id, "--seconds", String(seconds)];
  const reply = await runJsonChild(script, args, { ...process.env, [LONGER_ENV]: longer ? "1" : "0" });
  if ("json" in reply) return reply.json as MemoryResult;
  return { workload: w.id, contestant: c.id, baselineRss: 0, preparedRss: 0, peakRss: 0, maxRssKernel: 0, calls: 0, error: reply.error };
}
