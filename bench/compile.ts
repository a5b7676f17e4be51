/**
 * `npm run bench -- compile`: how long compiling takes on this machine.
 *
 *   rnnc check lstm.cell        a fresh `node bin/rnnc.js check` (process start included)
 *   compile() LSTM, first call   in a fresh process: importing rnnc, then the first `compile()`
 *   compile() LSTM, after        the median of later calls in that process
 *   rnnc build (all examples)    a fresh `node bin/rnnc.js build examples/cells/*.cell`
 *   node start                   a fresh `node -e 0`: the part of the fresh-process figures that
 *                                is Node's own start (environment included, e.g. NODE_EXTRA_CA_CERTS)
 *
 * and, for scale, what a build cannot go below with ts-morph as its builder and prettier as its
 * formatter, each in a fresh process: loading ts-morph, loading prettier (as the build threads
 * load them), prettier formatting every example's TypeScript module cold (the first time in the
 * process, as a build does) and warm (the second time), and each half of the modules cold (every
 * other one, as two formatting threads share them). From these, the least a build with two
 * formatting threads can take on two cores: no module is formatted before ts-morph has printed
 * it (node start + loading ts-morph), and from then on the two cold halves are formatted by two
 * threads that each warm prettier up on their own (half the sum of the halves' times, at best).
 * When NODE_EXTRA_CA_CERTS is set (Node 20 then reads a certificate bundle at every start), the
 * fresh-process figures are taken again without it.
 *
 * Each figure is the median of a few runs, wall clock, and for fresh processes and prettier's
 * floors also CPU time (user + system, all threads; for fresh processes Linux only, in 10 ms
 * ticks). Other work on the machine skews them
 * (the load average is printed with them). Runs the built code in dist/.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** CPU time (ms, user + system) of this process's finished children so far; undefined off Linux. */
function childrenCpu(): number | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // cutime and cstime are fields 16 and 17 of the line; the slice starts at field 3. Ticks are
    // 1/100 s on Linux (USER_HZ).
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}

interface Timed {
  readonly wall: number;
  readonly cpu: number | undefined;
  readonly stdout: string;
}

/** Runs `node args...` to its end: wall and CPU time in ms; throws with its stderr if it fails. */
function fresh(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Timed {
  const cpu0 = childrenCpu();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: "utf8", env });
  const wall = performance.now() - t0;
  const cpu1 = childrenCpu();
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} failed:\n${r.stderr}`);
  return { wall, cpu: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0, stdout: r.stdout };
}

const dist = (path: string) => JSON.stringify(pathToFileURL(join("dist", path)).href);

/** In a fresh process: import time, first compile() and the median of `later` more, in ms. */
const IN_PROCESS = (later: number) => `
  import { readFileSync } from "node:fs";
  const t0 = performance.now();
  const { compile } = await import(${dist("src/index.js")});
  const t1 = performance.now();
  const source = readFileSync("examples/cells/lstm.cell", "utf8");
  compile(source, { path: "lstm.cell" });
  const t2 = performance.now();
  const times = [];
  for (let k = 0; k < ${later}; k++) { const a = performance.now(); compile(source, { path: "lstm.cell" }); times.push(performance.now() - a); }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ import: t1 - t0, first: t2 - t1, after: times[times.length >> 1] }));`;

/** In a fresh process: loading ts-morph and prettier as a build does, then formatting every module cold and warm. */
const FLOORS = (cells: readonly string[]) => `
  import { readFileSync } from "node:fs";
  const t0 = performance.now();
  await import(${dist("compiler/codegen/typescript.js")});
  const t1 = performance.now();
  const { formatModule } = await import(${dist("compiler/codegen/format.js")});
  const t2 = performance.now();
  const [{ compileSource }, { typescriptModule }] = await Promise.all([import(${dist("compiler/index.js")}), import(${dist("compiler/build.js")})]);
  const texts = ${JSON.stringify(cells)}.flatMap((path) => compileSource(readFileSync(path, "utf8"), { path }).map(typescriptModule));
  const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
  const [t3, c3] = [performance.now(), cpu()];
  for (const text of texts) await formatModule(text);
  const [t4, c4] = [performance.now(), cpu()];
  for (const text of texts) await formatModule(text);
  const [t5, c5] = [performance.now(), cpu()];
  const bytes = texts.reduce((n, t) => n + t.length, 0);
  console.log(JSON.stringify({ tsMorph: t1 - t0, prettier: t2 - t1, cold: t4 - t3, warm: t5 - t4, coldCpu: c4 - c3, warmCpu: c5 - c4, bytes, modules: texts.length }));`;

/**
 * In a fresh process: prettier formatting every other example module (those at even or odd
 * places), cold, as one of two formatting threads does in a build; wall and CPU time, in ms (CPU
 * of the whole process: the formatting and V8 compiling and collecting for it on other threads).
 */
const HALF = (cells: readonly string[], parity: 0 | 1) => `
  import { readFileSync } from "node:fs";
  const [{ compileSource }, { typescriptModule }, { formatModule }] = await Promise.all([import(${dist("compiler/index.js")}), import(${dist("compiler/build.js")}), import(${dist("compiler/codegen/format.js")})]);
  const texts = ${JSON.stringify(cells)}.flatMap((path) => compileSource(readFileSync(path, "utf8"), { path }).map(typescriptModule)).filter((_, i) => i % 2 === ${parity});
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const text of texts) await formatModule(text);
  const t1 = performance.now();
  const c1 = process.cpuUsage(c0);
  console.log(JSON.stringify({ ms: t1 - t0, cpu: (c1.user + c1.system) / 1000, modules: texts.length, bytes: texts.reduce((n, t) => n + t.length, 0) }));`;

type Row = [what: string, ms: number, cpu?: number];

function freshRows(runs: number, cells: readonly string[], env: NodeJS.ProcessEnv, label: string): Row[] {
  const row = (what: string, xs: Timed[]): Row => {
    const cpu = xs.map((x) => x.cpu);
    return [`${what}${label}`, median(xs.map((x) => x.wall)), cpu.every((c) => c !== undefined) ? median(cpu) : undefined];
  };
  const repeat = (args: readonly string[]) => Array.from({ length: runs }, () => fresh(args, env));
  const out = mkdtempSync(join(os.tmpdir(), "rnnc-bench-"));
  try {
    return [
      row("rnnc check lstm.cell", repeat(["bin/rnnc.js", "check", "examples/cells/lstm.cell"])),
      row(`rnnc build, all ${cells.length} example cells`, repeat(["bin/rnnc.js", "build", ...cells, "--out", out])),
      row("node start, node -e 0", repeat(["-e", "0"])),
    ];
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function print(rows: readonly Row[]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  const ms = (x: number) => x.toFixed(x < 100 ? 1 : 0).padStart(7);
  for (const [what, wall, cpu] of rows) console.log(`${what.padEnd(width)}  ${ms(wall)} ms${cpu === undefined ? "" : `  (CPU ${ms(cpu)} ms)`}`);
}

export function benchCompile(quick: boolean): void {
  const runs = quick ? 3 : 5;
  const cells = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).map((f) => join("examples/cells", f));
  const load = () => os.loadavg()[0]!.toFixed(2);
  console.log(`compile times, median of ${runs} runs (ms); 1-min load average ${load()} at the start`);
  const json = <T>(args: readonly string[]) => Array.from({ length: runs }, () => JSON.parse(fresh(args).stdout) as T);
  const inproc = json<{ import: number; first: number; after: number }>(["--input-type=module", "-e", IN_PROCESS(quick ? 10 : 30)]);
  const rows: Row[] = [
    ...freshRows(runs, cells, process.env, ""),
    ["import rnnc (compile API)", median(inproc.map((r) => r.import))],
    ["compile() LSTM, first call", median(inproc.map((r) => r.first))],
    ["compile() LSTM, later calls", median(inproc.map((r) => r.after))],
  ];
  if (process.env["NODE_EXTRA_CA_CERTS"] !== undefined) {
    const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env;
    rows.push(...freshRows(runs, cells, env, " (no NODE_EXTRA_CA_CERTS)"));
  }
  const floors = json<{ tsMorph: number; prettier: number; cold: number; warm: number; coldCpu: number; warmCpu: number; bytes: number; modules: number }>(["--input-type=module", "-e", FLOORS(cells)]);
  const kB = Math.round(floors[0]!.bytes / 1000);
  rows.push(
    ["floor: load ts-morph (its bundle and code cache, else require)", median(floors.map((f) => f.tsMorph))],
    ["floor: load prettier (standalone, babel, estree)", median(floors.map((f) => f.prettier))],
    [`floor: prettier on the ${floors[0]!.modules} modules (${kB} kB), cold`, median(floors.map((f) => f.cold)), median(floors.map((f) => f.coldCpu))],
    [`floor: prettier on the ${floors[0]!.modules} modules (${kB} kB), warm`, median(floors.map((f) => f.warm)), median(floors.map((f) => f.warmCpu))],
  );
  type Half = { ms: number; cpu: number; modules: number; bytes: number };
  const halves = ([0, 1] as const).map((parity) => json<Half>(["--input-type=module", "-e", HALF(cells, parity)]));
  const halfRow = (h: Half[], which: string): Row => [
    `floor: prettier on the ${which} ${h[0]!.modules} modules (${Math.round(h[0]!.bytes / 1000)} kB), cold`,
    median(h.map((x) => x.ms)),
    median(h.map((x) => x.cpu)),
  ];
  const half = halves.map((h) => median(h.map((x) => x.ms)));
  const nodeStart = rows.find(([what]) => what.startsWith("node start"))![1];
  rows.push(
    halfRow(halves[0]!, "even-placed"),
    halfRow(halves[1]!, "odd-placed"),
    ["floor: a build, two formatting threads on two cores (node start + ts-morph + half of both halves)", nodeStart + median(floors.map((f) => f.tsMorph)) + (half[0]! + half[1]!) / 2],
  );
  print(rows);
  console.log(`1-min load average ${load()} at the end`);
}
