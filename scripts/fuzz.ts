/**
 * `npm run fuzz`: random and mutated cells through the whole pipeline, seeded, in worker threads
 * with a deadline per case. Never part of `npm test`.
 *
 *   node dist/scripts/fuzz.js [--cells N] [--seed S] [--jobs J] [--timeout-ms MS] [--out DIR]
 *   node dist/scripts/fuzz.js --replay FILE.cell [--minimize] [--timeout-ms MS]
 *
 * --cells       cases to run (default 20000)
 * --seed        run seed (default 1); case i is a function of the seed and i alone
 * --jobs        worker threads (default 2)
 * --timeout-ms  deadline per case (default 2000), in CPU time of the worker thread on Linux, else
 *               wall time (then a case past it twice, in fresh workers, is a hang)
 * --only        run only the cases of these kinds (random, mutated, example-mutated; comma-separated);
 *               the others are skipped, so case numbers stay those of the full run
 * --max-minutes stop starting cases after this many minutes, and report the cases run so far
 * --out         where failing cases go, as FILE.cell + FILE.txt (default dist/fuzz-out)
 * --replay      run one cell with the plan in FILE.txt (every stage when there is none) and print
 *               what failed; with --minimize, shrink it while the first failure stays the same
 *               and write FILE.min.cell
 *
 * Exit status 1 when any case failed.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CaseSource, FULL_PLAN, readExamples, type Case, type Plan } from "./fuzz-cases.js";
import { minimize } from "./fuzz-minimize.js";
import type { Outcome } from "./fuzz-pipeline.js";
import { Lane, outcomeOf } from "./fuzz-pool.js";
import { Tally } from "./fuzz-report.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const COMMAND = "node dist/scripts/fuzz.js";

interface Options {
  readonly cells: number;
  readonly seed: number;
  readonly jobs: number;
  readonly timeoutMs: number;
  readonly out: string;
  readonly only?: ReadonlySet<string>;
  readonly maxMinutes?: number;
}

function count(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new Error(`--${name}: expected an integer ≥ ${min}, got '${value}'`);
  return n;
}

function kinds(value: string | undefined): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  const list = value.split(",").map((k) => k.trim());
  const bad = list.find((k) => !["random", "mutated", "example-mutated"].includes(k));
  if (bad !== undefined) throw new Error(`--only: expected random, mutated or example-mutated, got '${bad}'`);
  return new Set(list);
}

/** Runs a case; a case past a wall-clock deadline is run once more in a fresh worker before it counts as a hang. */
async function runCase(lane: Lane, text: string, plan: Plan, tally?: Tally): Promise<{ outcome: Outcome; ms: number; cpuMs?: number }> {
  let result = await lane.run(text, plan);
  if ("hang" in result && result.hang.includes("wall")) {
    result = await lane.run(text, plan);
    if (!("hang" in result) && tally) tally.slowButDone++;
  }
  return { outcome: outcomeOf(result), ms: result.ms, cpuMs: "cpuMs" in result ? result.cpuMs : undefined };
}

async function fuzz(o: Options): Promise<number> {
  const source = new CaseSource(o.seed, readExamples(join(ROOT, "examples/cells")));
  const tally = new Tally(o.out, COMMAND);
  const lanes = Array.from({ length: o.jobs }, () => new Lane(o.timeoutMs));
  let next = 0;
  let stopped = false;
  const stopAt = o.maxMinutes === undefined ? Infinity : Date.now() + o.maxMinutes * 60_000;
  const progress = Math.max(100, Math.floor(o.cells / 20));
  await Promise.all(lanes.map(async (lane) => {
    for (let id = next++; id < o.cells; id = next++) {
      if (Date.now() >= stopAt) {
        stopped = true;
        break;
      }
      if ((id + 1) % progress === 0) process.stderr.write(`… case ${id + 1} of ${o.cells}, ${tally.failed} failed\n`);
      const c: Case = source.make(id);
      if (o.only && !o.only.has(c.kind)) continue;
      const { outcome, ms, cpuMs } = await runCase(lane, c.text, c.plan, tally);
      tally.add(c, outcome, ms, cpuMs);
    }
  }));
  const clock = (await lanes[0]!.cpuDeadlines()) ? "CPU" : "wall";
  await Promise.all(lanes.map((l) => l.close()));
  console.log(`rnnc fuzz: seed ${o.seed}, ${o.jobs} worker${o.jobs > 1 ? "s" : ""}, deadline ${o.timeoutMs} ms of ${clock} time per case, failing cases in ${o.out}`);
  if (stopped) console.log(`stopped after ${o.maxMinutes} minutes (--max-minutes): the figures cover the cases run, not all ${o.cells}`);
  console.log(tally.report());
  return tally.failed > 0 ? 1 : 0;
}

/** The plan a `.txt` beside the cell recorded, or every stage. */
function planOf(file: string): Plan {
  const txt = file.replace(/\.cell$/, ".txt");
  const line = existsSync(txt) ? readFileSync(txt, "utf8").split("\n").find((l) => l.startsWith("plan: ")) : undefined;
  return line ? (JSON.parse(line.slice(6)) as Plan) : FULL_PLAN;
}

async function replay(file: string, shrink: boolean, timeoutMs: number): Promise<number> {
  const text = readFileSync(file, "utf8");
  const plan = planOf(file);
  const lane = new Lane(timeoutMs);
  const { outcome, ms, cpuMs } = await runCase(lane, text, plan);
  const took = `${ms.toFixed(0)} ms${cpuMs === undefined ? "" : ` (${cpuMs} ms CPU)`}`;
  console.log(`${file}: checked ${outcome.checked}, compiled ${outcome.compiled}, compared ${outcome.compared}${outcome.large ? " (too large to run)" : ""}, ${took}`);
  for (const f of outcome.failures) console.log(`\n${f.key}\n${f.detail}`);
  const first = outcome.failures[0];
  if (shrink && first) {
    const fails = async (t: string) => (await runCase(lane, t, plan)).outcome.failures.some((f) => f.key === first.key);
    const small = await minimize(text, fails, (s) => process.stderr.write(`${s}\n`));
    const target = file.replace(/\.cell$/, "") + ".min.cell";
    writeFileSync(target, small.endsWith("\n") ? small : `${small}\n`);
    console.log(`\nminimized (${first.key}) → ${target}:\n${small}`);
  }
  await lane.close();
  return outcome.failures.length ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      cells: { type: "string" }, seed: { type: "string" }, jobs: { type: "string" }, "timeout-ms": { type: "string" },
      out: { type: "string" }, only: { type: "string" }, "max-minutes": { type: "string" }, replay: { type: "string" }, minimize: { type: "boolean" },
    },
  });
  const timeoutMs = count("timeout-ms", values["timeout-ms"], 2000);
  if (values.replay !== undefined) return replay(values.replay, values.minimize === true, timeoutMs);
  return fuzz({
    cells: count("cells", values.cells, 20000),
    seed: count("seed", values.seed, 1, 0),
    jobs: count("jobs", values.jobs, 2),
    timeoutMs,
    out: values.out ?? "dist/fuzz-out",
    only: kinds(values.only),
    maxMinutes: values["max-minutes"] === undefined ? undefined : count("max-minutes", values["max-minutes"], 0),
  });
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(`fuzz: ${(e as Error).message}`);
    process.exitCode = 2;
  },
);
