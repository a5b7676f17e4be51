/**
 * `npm run bench`: rnnc against its JavaScript peers, side by side in one process.
 *
 *   node dist/bench/run.js [--quick] [--json] [--only TOKEN[,TOKEN...]] [--no-memory] [--memory]
 *                          [--no-sweeps] [--sweeps] [--no-threads] [--threads] [--check]
 *
 * --quick      short smoke run: fewer warm-up calls and rounds, no s3 workloads unless --only names
 *              them, no memory children unless --memory
 * --json       machine-readable results on stdout (progress still goes to stderr)
 * --only       keep workloads and contestants whose id contains a token, e.g. `--only s2,hand,rnnc`
 *              (tokens that match no workload id filter contestants only, and the other way round)
 * --no-memory  skip the per-contestant peak-RSS runs of the train-step workloads
 * --no-sweeps  skip the batch and H sweeps (bench/sweeps.ts); on by default, off when --only names
 *              a workload unless --sweeps
 * --no-threads skip the one-against-two-threads phase (bench/threads.ts: `rnnc` and `rnnc-2t` alone
 *              in a child process, at the selected workloads among train s3, s2 and forward s3, s2,
 *              when --only keeps both contestants); on by default, off with --quick unless --threads
 * --check      run the self-checks (bench/check.ts) instead of the benchmark
 *
 *   node dist/bench/run.js compile [--quick]
 *
 * compile      compile times instead (bench/compile.ts): `rnnc check`, `compile()`, `rnnc build`
 */

import os from "node:os";
import { fileURLToPath } from "node:url";
import { runCheck } from "./check.js";
import { benchCompile } from "./compile.js";
import { FULL, measure, peakRss, QUICK, Unavailable, type Contestant, type Settings } from "./harness.js";
import { measureMemory, memoryChild, type MemoryResult } from "./memory.js";
import { simdPeak } from "./peak.js";
import { LEGEND, memoryPerStepTable, memoryTable, ratioTable, summaryTable, sweepTable, tapeTable, threadTable, workloadTable, type WorkloadReport } from "./report.js";
import { brainJs } from "./contestants/brain.js";
import { handFused } from "./contestants/hand.js";
import { describeOrt, ortContestant } from "./contestants/ort.js";
import { closeTorch, describeTorch, pytorch } from "./contestants/pytorch.js";
import { loadCompile, rnncContestant, rnncThreaded } from "./contestants/rnnc.js";
import { describeTf, tfjsContestant } from "./contestants/tfjs.js";
import { runThreads, threadsChild, threadWorkloads, THREAD_CONTESTANTS, type ThreadsResult } from "./threads.js";
import { SWEEP_FULL, SWEEP_QUICK, SWEEP_WORKLOADS, sweeps } from "./sweeps.js";
import { WORKLOADS, type Workload } from "./workloads.js";

const CONTESTANTS: readonly Contestant[] = [
  pytorch,
  ortContestant("export"),
  ortContestant("op"),
  tfjsContestant("cpu"),
  tfjsContestant("wasm"),
  brainJs,
  handFused,
  rnncContestant(true),
  rnncContestant(false),
  rnncContestant(true, "inline"),
  rnncThreaded(2),
];

/** The sweeps take the contestants whose cost stays reasonable up to H = 1024. */
const SWEEP_CONTESTANTS = ["rnnc", "rnnc-2t", "pytorch"];

interface Options {
  quick: boolean;
  json: boolean;
  memory: boolean;
  check: boolean;
  sweeps: boolean;
  threads: boolean;
  only: string[];
}

function usage(msg: string): never {
  process.stderr.write(`bench: ${msg}\nusage: node dist/bench/run.js [--quick] [--json] [--only TOKEN,...] [--no-memory] [--memory] [--no-sweeps] [--sweeps] [--no-threads] [--threads] [--check]\n`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { quick: false, json: false, memory: true, check: false, sweeps: true, threads: true, only: [] };
  let memoryFlag: boolean | null = null, sweepFlag: boolean | null = null, threadFlag: boolean | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") o.quick = true;
    else if (a === "--json") o.json = true;
    else if (a === "--check") o.check = true;
    else if (a === "--no-memory") memoryFlag = false;
    else if (a === "--memory") memoryFlag = true;
    else if (a === "--no-sweeps") sweepFlag = false;
    else if (a === "--sweeps") sweepFlag = true;
    else if (a === "--no-threads") threadFlag = false;
    else if (a === "--threads") threadFlag = true;
    else if (a === "--only") o.only.push(...(argv[++i] ?? usage("--only needs a value")).split(",").filter(Boolean));
    else if (a.startsWith("--only=")) o.only.push(...a.slice(7).split(",").filter(Boolean));
    else usage(`unknown argument '${a}'`);
  }
  o.memory = memoryFlag ?? !o.quick;
  o.threads = threadFlag ?? !o.quick;
  o.sweeps = sweepFlag ?? !o.only.some((t) => WORKLOADS.some((w) => w.id.includes(t)));
  return o;
}

/** Tokens matching a workload id filter workloads; tokens matching a contestant id filter contestants.
 *  `--quick` leaves out the s3 workloads unless a token names them. */
function select(only: readonly string[], quick: boolean): { workloads: Workload[]; contestants: Contestant[] } {
  const hits = (id: string, tokens: readonly string[]) => tokens.some((t) => id.includes(t));
  const wTokens = only.filter((t) => WORKLOADS.some((w) => w.id.includes(t)));
  const cTokens = only.filter((t) => CONTESTANTS.some((c) => c.id.includes(t)));
  const stray = only.filter((t) => !wTokens.includes(t) && !cTokens.includes(t));
  if (stray.length > 0) usage(`--only: '${stray.join(",")}' matches no workload (${WORKLOADS.map((w) => w.id).join(" ")}) or contestant (${CONTESTANTS.map((c) => c.id).join(" ")})`);
  return {
    workloads: WORKLOADS.filter((w) => (wTokens.length === 0 ? !(quick && w.id.endsWith("-s3")) : hits(w.id, wTokens))),
    contestants: CONTESTANTS.filter((c) => cTokens.length === 0 || hits(c.id, cTokens)),
  };
}

/** Other work on the machine skews every figure: say how busy it was (`own`: load this run adds). */
function loadLine(own: number): string {
  const load = os.loadavg()[0];
  return `1-min load average ${load.toFixed(2)}${load > own + 1 ? " (other work running: figures may be noisy)" : ""}`;
}

async function header(contestants: readonly Contestant[], log: (s: string) => void): Promise<{ lines: string[]; rnncMissing: string | null }> {
  const cpu = os.cpus();
  const lines = [`${cpu.length} × ${cpu[0]?.model ?? "cpu"}, Node ${process.version}, ${os.platform()} ${os.arch()}; ${loadLine(0)}`];
  if (contestants.some((c) => c.id === "pytorch")) lines.push(await describeTorch());
  if (contestants.some((c) => c.id.startsWith("ort"))) lines.push(await describeOrt());
  if (contestants.some((c) => c.id.startsWith("tfjs"))) lines.push(await describeTf());
  let rnncMissing: string | null = null;
  if (contestants.some((c) => c.id.startsWith("rnnc"))) {
    try {
      await loadCompile();
    } catch (e) {
      if (!(e instanceof Unavailable)) throw e;
      rnncMissing = e.message;
      log(`${e.message}: skipping rnnc and rnnc (passes off)`);
    }
  }
  return { lines, rnncMissing };
}

/** Train-step workloads at which each contestant's peak RSS is taken in a fresh process: the
 *  chosen train workloads for every contestant, and two batch-sweep points (T·B = 2048 and 8192,
 *  where fixed costs no longer hide the growth per sample-step) for the sweep contestants. */
function memoryRuns(workloads: readonly Workload[], contestants: readonly Contestant[], withSweeps: boolean): [Workload, Contestant][] {
  const runs: [Workload, Contestant][] = [];
  for (const w of workloads.filter((x) => x.kind === "train")) for (const c of contestants) runs.push([w, c]);
  if (withSweeps)
    for (const id of ["lstm-train-b64", "lstm-train-b256"])
      for (const c of contestants.filter((x) => SWEEP_CONTESTANTS.includes(x.id))) runs.push([SWEEP_WORKLOADS.find((w) => w.id === id)!, c]);
  return runs;
}

async function runMemory(runs: readonly [Workload, Contestant][], quick: boolean, log: (s: string) => void): Promise<MemoryResult[]> {
  const script = fileURLToPath(import.meta.url);
  const out: MemoryResult[] = [];
  for (const [w, c] of runs) {
    if (c.unsupported(w) !== null) continue;
    log(`memory: ${w.id} ${c.id}`);
    const m = await measureMemory(script, w, c, quick ? 0.3 : 1.5);
    if (m.error !== undefined) log(`  ${c.id}: ${m.error}`);
    if (m.skipped === undefined) out.push(m);
  }
  return out;
}

const MEMORY_TITLE = [
  "Train step alone in a fresh process: peak RSS sampled after prepare and every call, MiB; in brackets",
  "the growth during the calls over the RSS after prepare (a bare Node process is ~45 MiB; prepare loads",
  "the library — for rnnc the compiler with TypeScript — and makes params and data; PyTorch: the Python",
  "driver's own RSS, torch loaded)",
].join("\n");

const PER_STEP_TITLE = [
  "Peak RSS growth during the train calls per sample-step (T·B), against the bytes the forward keeps",
  "for the backward per sample-step (the tape), where the contestant reports it. The growth includes",
  "what the first call sets up once (workspace, stacked weights, code); rnnc's one-thread contestants",
  "make and write their `into` arrays (outputs, final states, input and initial-state gradients) in",
  "prepare, with the inputs and seeds, so those count in the RSS after prepare, not in the growth",
].join("\n");

async function measureAll(workloads: readonly Workload[], contestants: readonly Contestant[], chosen: readonly Contestant[], settings: Settings, log: (s: string) => void, print: (s: string) => void): Promise<WorkloadReport[]> {
  const reports: WorkloadReport[] = [];
  for (const w of workloads) {
    log(`${w.id} ...`);
    const results = await measure(w, contestants, settings, log);
    const missing = chosen
      .filter((c) => !contestants.includes(c))
      .map((c) => ({ contestant: c.id, label: c.label, skipped: "rnnc: compile() not available" }));
    reports.push({ workload: w, results: [...results, ...missing] });
    print(workloadTable(reports[reports.length - 1]) + "\n");
  }
  return reports;
}

async function bench(o: Options): Promise<void> {
  const log = (s: string) => process.stderr.write(s + "\n");
  const print = (s: string) => void (o.json ? null : process.stdout.write(s + "\n"));
  const settings: Settings = o.quick ? QUICK : FULL;
  const { workloads, contestants: chosen } = select(o.only, o.quick);
  const { lines, rnncMissing } = await header(chosen, log);
  const contestants = rnncMissing === null ? chosen : chosen.filter((c) => !c.id.startsWith("rnnc"));
  if (o.quick && !workloads.some((w) => w.id.endsWith("-s3"))) lines.push("--quick: s3 workloads left out (add --only s3 to include them)");
  print(lines.join("\n") + (rnncMissing ? `\n${rnncMissing}` : "") + "\n");
  const t0 = Date.now();
  const reports = await measureAll(workloads, contestants, chosen, settings, log, print);
  const sweepContestants = contestants.filter((c) => SWEEP_CONTESTANTS.includes(c.id));
  const swept = o.sweeps && sweepContestants.length > 0 ? sweeps(o.quick) : [];
  const sweepReports = [];
  for (const sw of swept) sweepReports.push({ sweep: sw, reports: await measureAll(sw.points, sweepContestants, sweepContestants, o.quick ? SWEEP_QUICK : SWEEP_FULL, log, () => undefined) });
  const mainPeak = peakRss;
  const memory = o.memory ? await runMemory(memoryRuns(workloads, contestants, swept.length > 0), o.quick, log) : [];
  const threadRuns = o.threads ? threadWorkloads(workloads, contestants) : [];
  let threads: ThreadsResult | null = null;
  if (threadRuns.length > 0) {
    log(`threads: ${THREAD_CONTESTANTS.join(" and ")} alone in a child process: ${threadRuns.map((w) => w.id).join(" ")}`);
    threads = await runThreads(fileURLToPath(import.meta.url), threadRuns, o.quick, log);
  }
  print("Summary (median time per call)\n" + summaryTable(reports, chosen) + "\n");
  const ratios = ratioTable(reports, chosen);
  if (ratios !== null) print(ratios + "\n");
  if (threads !== null) print(threadTable(threads, reports) + "\n");
  // Measured after the contestants, alone on this thread, as the sweeps' points were.
  const peak = sweepReports.length > 0 ? await simdPeak() : undefined;
  if (peak !== undefined) print(`This core's float32 SIMD peak: ${peak.toFixed(1)} GFLOP/s (independent f32x4 multiplies and adds fed from registers and L1, bench/peak.ts); rnnc's products are such operations, so no train step's matrix work runs faster`);
  for (const { sweep, reports: r } of sweepReports) print(sweepTable(sweep.title, sweep.axis, r, sweepContestants, peak) + "\n");
  const tape = tapeTable(reports);
  if (tape !== null) print(tape + "\n");
  if (memory.length > 0) {
    print(MEMORY_TITLE + "\n" + memoryTable(memory, contestants) + "\n");
    const perStep = memoryPerStepTable(memory, [...WORKLOADS, ...SWEEP_WORKLOADS], contestants);
    if (perStep !== null) print(PER_STEP_TITLE + "\n" + perStep + "\n");
  }
  print(LEGEND);
  print(`peak RSS of this process (all contestants loaded): ${(mainPeak / 2 ** 20).toFixed(0)} MiB; wall time ${((Date.now() - t0) / 1000).toFixed(0)} s; at the end ${loadLine(1)}`);
  if (o.json) {
    const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, notes: lines };
    const sweepsOut = sweepReports.map(({ sweep, reports: r }) => ({ id: sweep.id, axis: sweep.axis, reports: r }));
    process.stdout.write(JSON.stringify({ machine, quick: o.quick, settings, reports, sweeps: sweepsOut, simdPeakGflops: peak, memory, threads, peakRssMain: mainPeak, rnncMissing }, null, 2) + "\n");
  }
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === "--memory-child") {
    const w = [...WORKLOADS, ...SWEEP_WORKLOADS].find((x) => x.id === argv[1]), c = CONTESTANTS.find((x) => x.id === argv[2]);
    if (!w || !c) usage("--memory-child WORKLOAD CONTESTANT");
    await memoryChild(w, c, Number(argv[4] ?? "1"));
    await closeTorch();
    return 0;
  }
  if (argv[0] === "--threads-child") {
    const ids = (argv[1] ?? "").split(",").filter(Boolean);
    const ws = ids.map((id) => WORKLOADS.find((w) => w.id === id) ?? usage(`--threads-child: no workload '${id}'`));
    if (ws.length === 0) usage("--threads-child WORKLOAD[,WORKLOAD...] [--quick]");
    const log = (s: string) => process.stderr.write(s + "\n");
    const contestants = THREAD_CONTESTANTS.map((id) => CONTESTANTS.find((c) => c.id === id)!);
    await threadsChild(ws, contestants, argv.includes("--quick") ? QUICK : FULL, log);
    return 0;
  }
  if (argv[0] === "compile") {
    benchCompile(argv.slice(1).includes("--quick"));
    return 0;
  }
  const o = parseArgs(argv);
  try {
    if (o.check) return await runCheck();
    await bench(o);
    return 0;
  } finally {
    await closeTorch();
  }
}

process.exitCode = await main(process.argv.slice(2));
