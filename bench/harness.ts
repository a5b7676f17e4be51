/**
 * Measurement: every contestant of one workload side by side in one process, interleaved.
 *
 * 1. prepare: each contestant builds its params and data once (seeded), outside any timing.
 * 2. warm-up rounds: round-robin, one call per contestant per round, until each has run at least
 *    `warmCalls` calls and `warmMs` of wall time; a contestant whose faster of its first two calls
 *    exceeds `slowCallMs` stops there (one call in --quick).
 * 3. timed rounds: round-robin again, each round starting one contestant further along; in each
 *    round every contestant takes one sample = `reps`
 *    back-to-back calls timed with process.hrtime.bigint() (reps chosen so a sample lasts about
 *    `sampleMs`, which matters for the µs-scale one-step workloads). The number of rounds adapts
 *    to the budget; a contestant whose single call exceeds `slowCallMs` is capped at `slowRounds`
 *    rounds and its figure is flagged as coming from few rounds.
 * The figure reported is the median sample.
 * No forced GC between rounds: a global.gc() (--expose-gc) there made TF.js's cpu backend 6× slower
 * on the next calls (its allocation-heavy code runs cold again), so the collector runs as it would.
 */

import type { Workload } from "./workloads.js";

export interface Prepared {
  /** One call of the workload: a full train step, a forward, or one inference step. */
  run?(): void;
  /** Instead of `run`: makes `reps` back-to-back calls, timed on its own side, and returns seconds
   *  per call — for calls that run in another process (PyTorch) or are asynchronous (ONNX Runtime). */
  sample?(reps: number): Promise<number>;
  /** Made current before this contestant's turn in a round (e.g. the TF.js backend); untimed. */
  activate?(): Promise<void>;
  /** Extra facts to report (for instance tape bytes per step). */
  info?(): Record<string, number>;
  dispose?(): void;
  /** RSS of the process the calls run in, when that is not this one (PyTorch's driver), bytes. */
  rss?(): Promise<number>;
}

export interface Contestant {
  readonly id: string;
  readonly label: string;
  /** Why this contestant cannot run the workload, or null if it can. */
  unsupported(w: Workload): string | null;
  prepare(w: Workload): Promise<Prepared>;
}

/** A contestant that cannot run at all (a missing dependency, say) throws this from prepare. */
export class Unavailable extends Error {}

export interface Settings {
  readonly warmCalls: number;
  readonly warmMs: number;
  readonly sampleMs: number;
  readonly budgetMs: number;
  readonly minRounds: number;
  readonly maxRounds: number;
  readonly slowCallMs: number;
  readonly slowRounds: number;
}

export const FULL: Settings = {
  warmCalls: 3, warmMs: 400, sampleMs: 10, budgetMs: 5000,
  minRounds: 7, maxRounds: 41, slowCallMs: 2000, slowRounds: 3,
};
export const QUICK: Settings = {
  warmCalls: 1, warmMs: 60, sampleMs: 3, budgetMs: 600,
  minRounds: 3, maxRounds: 9, slowCallMs: 400, slowRounds: 1,
};

export interface Result {
  readonly contestant: string;
  readonly label: string;
  /** Why there is no figure, when there is none. */
  readonly skipped?: string;
  /** Median seconds per call, and the quartiles. */
  readonly median?: number;
  readonly q1?: number;
  readonly q3?: number;
  readonly rounds?: number;
  readonly reps?: number;
  /** Fewer than `FEW_ROUNDS` timed rounds. */
  readonly few?: boolean;
  readonly info?: Record<string, number>;
}

export const FEW_ROUNDS = 5;

interface Entry {
  readonly c: Contestant;
  readonly p: Prepared;
  estimate: number;
  reps: number;
  rounds: number;
  readonly samples: number[];
}

/** Max RSS seen at any sample point of the run, bytes. */
export let peakRss = 0;
function sampleRss(): void {
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
}

/** Seconds per call of `reps` back-to-back calls. */
export async function callSeconds(p: Prepared, reps: number): Promise<number> {
  if (p.sample) {
    const s = await p.sample(reps);
    sampleRss();
    return s;
  }
  const run = p.run;
  if (!run) throw new Error("a prepared contestant needs run() or sample()");
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) run();
  const t1 = process.hrtime.bigint();
  sampleRss();
  return Number(t1 - t0) / 1e9 / reps;
}

async function prepareAll(w: Workload, cs: readonly Contestant[], log: (s: string) => void): Promise<{ entries: Entry[]; skipped: Result[] }> {
  const entries: Entry[] = [];
  const skipped: Result[] = [];
  for (const c of cs) {
    const why = c.unsupported(w);
    if (why !== null) {
      skipped.push({ contestant: c.id, label: c.label, skipped: why });
      continue;
    }
    try {
      const p = await c.prepare(w);
      entries.push({ c, p, estimate: 0, reps: 1, rounds: 0, samples: [] });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (!(e instanceof Unavailable)) log(`  ${c.id}: prepare failed: ${msg}`);
      skipped.push({ contestant: c.id, label: c.label, skipped: msg });
    }
  }
  return { entries, skipped };
}

async function warmUp(entries: Entry[], s: Settings): Promise<void> {
  const calls = new Map<Entry, { n: number; time: number }>(entries.map((e) => [e, { n: 0, time: 0 }]));
  const warm = (e: Entry): boolean => {
    const st = calls.get(e)!;
    const first = Math.min(2, s.warmCalls);
    return st.n >= first && (e.estimate > s.slowCallMs / 1000 || (st.n >= s.warmCalls && st.time * 1000 >= s.warmMs));
  };
  while (entries.some((e) => !warm(e))) {
    for (const e of entries) {
      if (warm(e)) continue;
      await e.p.activate?.();
      const t = await callSeconds(e.p, 1);
      const st = calls.get(e)!;
      st.n++;
      st.time += t;
      e.estimate = st.n === 1 ? t : Math.min(e.estimate, t);
    }
  }
}

/** Picks reps per sample and rounds per contestant from the warm-up estimates. */
function plan(entries: Entry[], s: Settings): void {
  let slowTime = 0, fastRound = 0;
  for (const e of entries) {
    e.reps = Math.max(1, Math.round(s.sampleMs / 1000 / e.estimate));
    if (e.estimate > s.slowCallMs / 1000) slowTime += s.slowRounds * e.estimate;
    else fastRound += e.reps * e.estimate;
  }
  const left = Math.max(0, s.budgetMs / 1000 - slowTime);
  const fastRounds = Math.min(s.maxRounds, Math.max(s.minRounds, Math.floor(left / Math.max(fastRound, 1e-9))));
  for (const e of entries) e.rounds = e.estimate > s.slowCallMs / 1000 ? s.slowRounds : fastRounds;
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export async function measure(w: Workload, cs: readonly Contestant[], s: Settings, log: (s: string) => void): Promise<Result[]> {
  const { entries, skipped } = await prepareAll(w, cs, log);
  await warmUp(entries, s);
  plan(entries, s);
  const maxRounds = Math.max(0, ...entries.map((e) => e.rounds));
  for (let r = 0; r < maxRounds; r++) {
    for (let k = 0; k < entries.length; k++) {
      const e = entries[(k + r) % entries.length];
      if (e.samples.length >= e.rounds) continue;
      await e.p.activate?.();
      e.samples.push(await callSeconds(e.p, e.reps));
    }
  }
  const results: Result[] = entries.map((e) => {
    const sorted = [...e.samples].sort((a, b) => a - b);
    const info = e.p.info?.();
    e.p.dispose?.();
    return {
      contestant: e.c.id, label: e.c.label,
      median: quantile(sorted, 0.5), q1: quantile(sorted, 0.25), q3: quantile(sorted, 0.75),
      rounds: sorted.length, reps: e.reps, few: sorted.length < FEW_ROUNDS,
      ...(info ? { info } : {}),
    };
  });
  const order = new Map(cs.map((c, i) => [c.id, i]));
  return [...results, ...skipped].sort((a, b) => order.get(a.contestant)! - order.get(b.contestant)!);
}
