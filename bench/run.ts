/**
 * `npm run bench`: rnnc against its JavaScript peers, side by side in one process.
 *
 *   node dist/bench/run.js [--quick] [--json] [--only TOKEN[,TOKEN...]] [--no-memory] [--memory] [--check]
 *
 * --quick      short smoke run: fewer warm-up calls and rounds, no s3 workloads unless --only names
 *              them, no memory children unless --memory
 * --json       machine-readable results on stdout (progress still goes to stderr)
 * --only       keep workloads and contestants whose id contains a token, e.g. `--only s2,hand,rnnc`
 *              (tokens that match no workload id filter contestants only, and the other way round)
 * --no-memory  skip the per-contestant peak-RSS runs of the train-step workloads
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
import { LEGEND, memoryTable, summaryTable, tapeTable, workloadTable, type WorkloadReport } from "./report.js";
import { brainJs } from "./contestants/brain.js";
import { handFused } from "./contestants/hand.js";
import { loadCompile, rnncContestant } from "./contestants/rnnc.js";
import { describeTf, tfjsContestant } from "./contestants/tfjs.js";
import { WORKLOADS, type Workload } from "./workloads.js";

const CONTESTANTS: readonly Contestant[] = [
  tfjsContestant("cpu"),
  tfjsContestant("wasm"),
  brainJs,
  handFused,
  rnncContestant(true),
  rnncContestant(false),
  rnncContestant(true, "inline"),
];

interface Options {
  quick: boolean;
  json: boolean;
  memory: boolean;
  check: boolean;
  only: string[];
}

function usage(msg: string): never {
  process.stderr.write(`bench: ${msg}\nusage: node dist/bench/run.js [--quick] [--json] [--only TOKEN,...] [--no-memory] [--memory] [--check]\n`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { quick: false, json: false, memory: true, check: false, only: [] };
  let memoryFlag: boolean | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") o.quick = true;
    else if (a === "--json") o.json = true;
    else if (a === "--check") o.check = true;
    else if (a === "--no-memory") memoryFlag = false;
    else if (a === "--memory") memoryFlag = true;
    else if (a === "--only") o.only.push(...(argv[++i] ?? usage("--only needs a value")).split(",").filter(Boolean));
    else if (a.startsWith("--only=")) o.only.push(...a.slice(7).split(",").filter(Boolean));
    else usage(`unknown argument '${a}'`);
  }
  o.memory = memoryFlag ?? !o.quick;
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

async function runMemory(workloads: readonly Workload[], contestants: readonly Contestant[], quick: boolean, log: (s: string) => void): Promise<MemoryResult[]> {
  const script = fileURLToPath(import.meta.url);
  const out: MemoryResult[] = [];
  for (const w of workloads.filter((x) => x.kind === "train"))
    for (const c of contestants) {
      log(`memory: ${w.id} ${c.id}`);
      const m = await measureMemory(script, w, c, quick ? 0.3 : 1.5);
      if (m.error !== undefined) log(`  ${c.id}: ${m.error}`);
      out.push(m);
    }
  return out;
}

const MEMORY_TITLE = [
  "Train step alone in a fresh process: peak RSS sampled after prepare and every call, MiB; in brackets",
  "the growth during the calls over the RSS after prepare (a bare Node process is ~45 MiB; prepare loads",
  "the library — for rnnc the compiler with TypeScript — and makes params and data)",
].join("\n");

async function bench(o: Options): Promise<void> {
  const log = (s: string) => process.stderr.write(s + "\n");
  const print = (s: string) => void (o.json ? null : process.stdout.write(s + "\n"));
  const settings: Settings = o.quick ? QUICK : FULL;
  const { workloads, contestants: chosen } = select(o.only, o.quick);
  const { lines, rnncMissing } = await header(chosen, log);
  const contestants = rnncMissing === null ? chosen : chosen.filter((c) => !c.id.startsWith("rnnc"));
  if (o.quick && !workloads.some((w) => w.id.endsWith("-s3"))) lines.push("--quick: s3 workloads left out (add --only s3 to include them)");
  print(lines.join("\n") + (rnncMissing ? `\n${rnncMissing}` : "") + "\n");
  const reports: WorkloadReport[] = [];
  const t0 = Date.now();
  for (const w of workloads) {
    log(`${w.id} ...`);
    const results = await measure(w, contestants, settings, log);
    const missing = chosen
      .filter((c) => !contestants.includes(c))
      .map((c) => ({ contestant: c.id, label: c.label, skipped: "rnnc: compile() not available" }));
    reports.push({ workload: w, results: [...results, ...missing] });
    print(workloadTable(reports[reports.length - 1]) + "\n");
  }
  const mainPeak = peakRss;
  const memory = o.memory ? await runMemory(workloads, contestants, o.quick, log) : [];
  print("Summary (median time per call)\n" + summaryTable(reports, chosen) + "\n");
  const tape = tapeTable(reports);
  if (tape !== null) print(tape + "\n");
  if (memory.length > 0) print(MEMORY_TITLE + "\n" + memoryTable(memory, contestants) + "\n");
  print(LEGEND);
  print(`peak RSS of this process (all contestants loaded): ${(mainPeak / 2 ** 20).toFixed(0)} MiB; wall time ${((Date.now() - t0) / 1000).toFixed(0)} s; at the end ${loadLine(1)}`);
  if (o.json) {
    const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, notes: lines };
    process.stdout.write(JSON.stringify({ machine, quick: o.quick, settings, reports, memory, peakRssMain: mainPeak, rnncMissing }, null, 2) + "\n");
  }
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === "--memory-child") {
    const w = WORKLOADS.find((x) => x.id === argv[1]), c = CONTESTANTS.find((x) => x.id === argv[2]);
    if (!w || !c) usage("--memory-child WORKLOAD CONTESTANT");
    await memoryChild(w, c, Number(argv[4] ?? "1"));
    return 0;
  }
  if (argv[0] === "compile") {
    benchCompile(argv.slice(1).includes("--quick"));
    return 0;
  }
  const o = parseArgs(argv);
  if (o.check) return runCheck();
  await bench(o);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
