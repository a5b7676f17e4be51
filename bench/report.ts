/** Text tables for people; the same numbers go to `--json` unformatted. */

import type { Result } from "./harness.js";
import { LONGER, type MemoryResult } from "./memory.js";
import { THREAD_CONTESTANTS, type ThreadsResult } from "./threads.js";
import { WORKLOADS, type Workload } from "./workloads.js";

export interface WorkloadReport {
  readonly workload: Workload;
  readonly results: readonly Result[];
}

const FEW_MARK = "~";

function time(seconds: number, unit: Workload["unit"]): string {
  const v = unit === "µs" ? seconds * 1e6 : seconds * 1e3;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
}

function table(rows: readonly (readonly string[])[], rightAlign: (col: number) => boolean): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => r.map((cell, c) => (rightAlign(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd())
    .join("\n");
}

function find(results: readonly Result[], id: string): number | undefined {
  return results.find((r) => r.contestant === id)?.median;
}

function ratio(t: number, ref: number | undefined): string {
  return ref === undefined ? "—" : (t / ref).toFixed(2);
}

export function shape(w: Workload): string {
  return w.kind === "step" ? `I${w.I} H${w.H} B${w.B}` : `I${w.I} H${w.H} B${w.B} T${w.T}`;
}

/** One workload: time, spread, GFLOP/s and ratios per contestant. */
export function workloadTable(r: WorkloadReport): string {
  const w = r.workload;
  const hand = find(r.results, "hand-fused"), rnnc = find(r.results, "rnnc");
  const head = ["contestant", "median", "q1–q3", "GFLOP/s", "× hand", "× rnnc", "rounds×reps", "notes"];
  const rows = r.results.map((x) => {
    if (x.median === undefined) return [x.label, "—", "", "", "", "", "", x.skipped ?? ""];
    const notes: string[] = [];
    if (x.few) notes.push(`${FEW_MARK} few rounds`);
    if (x.info?.tapeBytesPerStep !== undefined) notes.push(`tape ${(x.info.tapeBytesPerStep / 1024).toFixed(2)} KiB/step`);
    if (x.info?.compileMs !== undefined) notes.push(`compile ${x.info.compileMs.toFixed(0)} ms`);
    return [
      x.label,
      time(x.median, w.unit) + (x.few ? FEW_MARK : ""),
      `${time(x.q1!, w.unit)}–${time(x.q3!, w.unit)}`,
      (w.flops / x.median / 1e9).toFixed(2),
      ratio(x.median, hand),
      ratio(x.median, rnnc),
      `${x.rounds}×${x.reps}`,
      notes.join(", "),
    ];
  });
  const title = `${w.id}  (${shape(w)}; ${(w.flops / 1e6).toFixed(2)} MFLOP of matmul per call)`;
  return title + "\n" + table([head, ...rows], (c) => c >= 1 && c <= 6);
}

/** Workloads × contestants, times only. */
export function summaryTable(reports: readonly WorkloadReport[], contestants: readonly { id: string; label: string }[]): string {
  const head = ["", ...contestants.map((c) => c.label), "rnnc ÷ hand"];
  const rows = reports.map((r) => {
    const rnnc = find(r.results, "rnnc");
    return [
      r.workload.id,
      ...contestants.map((c) => {
        const x = r.results.find((y) => y.contestant === c.id);
        return x?.median === undefined ? "—" : time(x.median, r.workload.unit) + (x.few ? FEW_MARK : "");
      }),
      rnnc === undefined ? "—" : ratio(rnnc, find(r.results, "hand-fused")),
    ];
  });
  return table([head, ...rows], (c) => c >= 1);
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);

/** Peak RSS of each train-step run, each contestant alone in a fresh process. */
export function memoryTable(mem: readonly MemoryResult[], contestants: readonly { id: string; label: string }[]): string {
  const workloads = [...new Set(mem.map((m) => m.workload))];
  const head = ["peak RSS MiB (+ during calls)", ...workloads];
  const rows = contestants
    .filter((c) => mem.some((m) => m.contestant === c.id))
    .map((c) => [
      c.label,
      ...workloads.map((w) => {
        const m = mem.find((x) => x.contestant === c.id && x.workload === w);
        if (!m) return "—";
        if (m.error !== undefined) return "failed";
        return `${mib(m.peakRss)} (+${mib(m.peakRss - m.preparedRss)})`;
      }),
    ]);
  return table([head, ...rows], (c) => c >= 1);
}

export const LEGEND = [
  `times are medians of interleaved rounds; ${FEW_MARK} = from fewer than 5 timed rounds (slow contestant, capped)`,
  "GFLOP/s counts matmul flops only: forward 2·G·H·(I+H) per sample-step (G = 4 LSTM, 3 GRU), backward 2× forward",
  "× hand, × rnnc: time divided by the hand-fused / rnnc time of the same run (below 1 = faster)",
  "rnnc train steps (one thread) write outputs, final states, input and initial-state gradients into arrays made once (`into`), as a loop reusing its buffers does",
].join("\n");

/** Bytes the forward keeps for the backward per sample-step (T·B), for the train workloads. */
export function tapeTable(reports: readonly WorkloadReport[]): string | null {
  const train = reports.filter((r) => r.workload.kind === "train");
  const ids = [...new Set(train.flatMap((r) => r.results.filter((x) => x.info?.tapeBytesPerStep !== undefined).map((x) => x.contestant)))];
  if (ids.length === 0) return null;
  const head = ["tape bytes per step (T·B)", ...train.map((r) => r.workload.id)];
  const rows = ids.map((id) => [
    train.flatMap((r) => r.results).find((x) => x.contestant === id)!.label,
    ...train.map((r) => {
      const v = r.results.find((x) => x.contestant === id)?.info?.tapeBytesPerStep;
      return v === undefined ? "—" : v.toFixed(0);
    }),
  ]);
  return table([head, ...rows], (c) => c >= 1);
}

/** The issue's table: rnnc's median ÷ each peer's, per workload (below 1 = rnnc faster). */
export function ratioTable(reports: readonly WorkloadReport[], peers: readonly { id: string; label: string }[]): string | null {
  const shown = reports.filter((r) => find(r.results, "rnnc") !== undefined);
  const rows = peers
    .filter((c) => c.id !== "rnnc" && shown.some((r) => find(r.results, c.id) !== undefined))
    .map((c) => [
      c.label,
      ...shown.map((r) => {
        const peer = r.results.find((x) => x.contestant === c.id);
        return peer?.median === undefined ? "—" : ratio(find(r.results, "rnnc")!, peer.median) + (peer.few ? FEW_MARK : "");
      }),
    ]);
  if (rows.length === 0) return null;
  const head = ["rnnc ÷", ...shown.map((r) => r.workload.id.replace(/^lstm-/, ""))];
  return "rnnc time ÷ peer time, same run (below 1 = rnnc faster)\n" + table([head, ...rows], (c) => c >= 1);
}

/**
 * One sweep: GFLOP/s per point and contestant, rnnc's as a share of this core's SIMD peak (`peak`,
 * bench/peak.ts) when measured, and rnnc ÷ PyTorch in time. Under a batch sweep, what rnnc gains
 * from B = 1 to B = 64, against the most the peak leaves it.
 */
export function sweepTable(title: string, axis: "B" | "H", reports: readonly WorkloadReport[], contestants: readonly { id: string; label: string }[], peak?: number): string {
  const shown = contestants.filter((c) => reports.some((r) => find(r.results, c.id) !== undefined));
  const torch = shown.some((c) => c.id === "pytorch");
  const gflops = (r: WorkloadReport, id: string): number | undefined => {
    const median = find(r.results, id);
    return median === undefined ? undefined : r.workload.flops / median / 1e9;
  };
  const ofPeak = peak !== undefined && shown.some((c) => c.id === "rnnc");
  const head = [axis, ...shown.map((c) => `${c.label} GFLOP/s`), ...(ofPeak ? ["rnnc % of peak"] : []), ...(torch ? ["rnnc ÷ PyTorch"] : [])];
  const rows = reports.map((r) => {
    const w = r.workload, rnnc = find(r.results, "rnnc"), own = gflops(r, "rnnc");
    return [
      String(axis === "B" ? w.B : w.H),
      ...shown.map((c) => {
        const x = r.results.find((y) => y.contestant === c.id), g = gflops(r, c.id);
        return g === undefined ? "—" : g.toFixed(2) + (x?.few ? FEW_MARK : "");
      }),
      ...(ofPeak ? [own === undefined ? "—" : `${((100 * own) / peak).toFixed(0)} %`] : []),
      ...(torch ? [rnnc === undefined ? "—" : ratio(rnnc, find(r.results, "pytorch"))] : []),
    ];
  });
  const notes = [...new Set(reports.flatMap((r) => r.results.filter((x) => x.skipped !== undefined).map((x) => `${x.label}: ${x.skipped}`)))];
  const rate = (B: number) => {
    const r = axis === "B" ? reports.find((x) => x.workload.B === B) : undefined;
    return r && gflops(r, "rnnc");
  };
  const one = rate(1), many = rate(64);
  if (one !== undefined && many !== undefined)
    notes.push(`rnnc, B = 64 ÷ B = 1: ${(many / one).toFixed(2)}×` + (peak !== undefined ? `; the peak allows at most ${(peak / one).toFixed(2)}× (${peak.toFixed(1)} ÷ ${one.toFixed(2)} GFLOP/s)` : ""));
  return title + "\n" + table([head, ...rows], (c) => c >= 1) + (notes.length ? "\n" + notes.join("\n") : "");
}

/** Peak RSS growth during the train calls per sample-step (T·B), against the tape per sample-step. */
export function memoryPerStepTable(mem: readonly MemoryResult[], workloads: readonly Workload[], contestants: readonly { id: string; label: string }[]): string | null {
  const ids = workloads.filter((w) => mem.some((m) => m.workload === w.id && m.error === undefined));
  const kB = (bytes: number, tape: number | undefined) =>
    `${(bytes / 1000).toFixed(1)} kB` + (tape ? ` (${(bytes / tape).toFixed(2)}× tape ${(tape / 1000).toFixed(1)} kB)` : "");
  const ran = contestants.filter((c) => mem.some((m) => m.contestant === c.id && m.error === undefined));
  const rows = ran.map((c) => [
    c.label,
    ...ids.map((w) => {
      const m = mem.find((x) => x.contestant === c.id && x.workload === w.id);
      if (!m || m.error !== undefined) return "—";
      return kB((m.peakRss - m.preparedRss) / (w.T * w.B), m.tapeBytesPerStep);
    }),
  ]);
  // Per sample-step added from T to LONGER·T (same B): without what is set up once.
  const added = ran
    .filter((c) => mem.some((m) => m.contestant === c.id && m.longer !== undefined))
    .map((c) => [
      `${c.label}: per sample-step added, T → ${LONGER}·T`,
      ...ids.map((w) => {
        const m = mem.find((x) => x.contestant === c.id && x.workload === w.id);
        const l = m?.longer;
        if (!m || m.error !== undefined || !l) return "—";
        const steps = (l.T - w.T) * w.B;
        const tape = m.tapeBytesPerStep !== undefined && l.tapeBytesPerStep !== undefined ? (l.tapeBytesPerStep * l.T * w.B - m.tapeBytesPerStep * w.T * w.B) / steps : undefined;
        return kB((l.peakRss - l.preparedRss - (m.peakRss - m.preparedRss)) / steps, tape);
      }),
    ]);
  rows.push(...added);
  if (rows.length === 0) return null;
  return table([["RSS growth per sample-step", ...ids.map((w) => w.id)], ...rows], (c) => c >= 1);
}

/** One thread against two: medians from the child of bench/threads.ts (the two alone in a process),
 *  then the same two contestants' medians from this run (every peer loaded), for each workload. */
export function threadTable(t: ThreadsResult, inRun: readonly WorkloadReport[]): string {
  const [one, two] = THREAD_CONTESTANTS;
  const load = (v: number | undefined) => (v === undefined ? "?" : v.toFixed(2));
  const lines = [
    "One thread against two (rnnc, rnnc-2t): alone in a child process that loads only rnnc and rnnc/parallel",
    `(run.js --threads-child, interleaved rounds as above; 1-min load average ${load(t.loadStart)} at its start, ${load(t.loadEnd)} at its end${t.maxRss === undefined ? "" : `, peak RSS ${mib(t.maxRss)} MiB`}),`,
    "and in this run's workloads above, in the main process beside the run's other contestants (\"in-run\"); 1 ÷ 2 = one thread's median ÷ two threads'",
    "In-run, two threads also pay for the other contestants' turns: right after one, the calling thread spends more CPU per call, and V8's GC helpers (shared by",
    "every thread) may still be collecting its garbage while the lanes run, on the cores the lanes need; the child's figures are the threads' own (README, \"Both cores\").",
  ];
  if (t.error !== undefined) lines.push(`the child failed: ${t.error}`);
  const pick = (results: readonly Result[] | undefined, id: string) => results?.find((x) => x.contestant === id);
  const cell = (x: Result | undefined, unit: Workload["unit"]) => (x?.median === undefined ? "—" : time(x.median, unit) + (x.few ? FEW_MARK : ""));
  const spread = (x: Result | undefined, unit: Workload["unit"]) => (x?.median === undefined ? "" : `${time(x.q1!, unit)}–${time(x.q3!, unit)}`);
  const speedup = (a: Result | undefined, b: Result | undefined) => (a?.median === undefined || b?.median === undefined ? "—" : `${(a.median / b.median).toFixed(2)}×`);
  const head = ["workload", "alone: 1 thread", "q1–q3", "2 threads", "q1–q3", "1 ÷ 2", "in-run: 1 thread", "2 threads", "1 ÷ 2"];
  const rows = t.rows.map((row) => {
    const here = inRun.find((r) => r.workload.id === row.workload)?.results;
    const a = pick(row.results, one), b = pick(row.results, two), c = pick(here, one), d = pick(here, two);
    const unit = WORKLOADS.find((w) => w.id === row.workload)?.unit ?? "ms";
    return [row.workload, cell(a, unit), spread(a, unit), cell(b, unit), spread(b, unit), speedup(a, b), cell(c, unit), cell(d, unit), speedup(c, d)];
  });
  const skipped = [...new Set(t.rows.flatMap((r) => r.results.filter((x) => x.skipped !== undefined).map((x) => `${x.label}: ${x.skipped}`)))];
  return [...lines, table([head, ...rows], (c) => c >= 1), ...skipped].join("\n");
}
