/**
 * Peak memory of a train step: each (workload, contestant) runs alone in a fresh Node process
 * (`run.js --memory-child W C`), so one library's heap (TF.js's wasm memory never shrinks) does
 * not count against another. The child samples process.memoryUsage().rss at start (baseline: Node
 * plus the bench code, no library loaded yet), after prepare (the library loaded — for rnnc the
 * whole compiler, TypeScript included — params and data made) and after every call, and also
 * reports the kernel's high-water mark (process.resourceUsage().maxRSS), which catches peaks
 * inside a call. Peak minus prepared is what the train step itself holds.
 */

import { spawn } from "node:child_process";
import { callSeconds, Unavailable, type Contestant, type Prepared } from "./harness.js";
import type { Workload } from "./workloads.js";

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
  readonly error?: string;
  /** Why the contestant could not run here (a missing dependency or API): not a failure. */
  readonly skipped?: string;
}

/** Body of the child process: prepare, run for about `seconds` (at least 2 calls), print JSON. */
export async function memoryChild(w: Workload, c: Contestant, seconds: number): Promise<void> {
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

/** Runs one child and parses its report. */
export function measureMemory(script: string, w: Workload, c: Contestant, seconds: number): Promise<MemoryResult> {
  return new Promise((resolve) => {
    const args = [script, "--memory-child", w.id, c.id, "--seconds", String(seconds)];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as MemoryResult);
      } catch {
        const error = `exit ${code}: ${(err.trim().split("\n").pop() ?? "").slice(0, 200)}`;
        resolve({ workload: w.id, contestant: c.id, baselineRss: 0, preparedRss: 0, peakRss: 0, maxRssKernel: 0, calls: 0, error });
      }
    });
  });
}
