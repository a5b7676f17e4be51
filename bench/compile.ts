/**
 * `npm run bench -- compile`: how long compiling takes, wall clock, on this machine.
 *
 *   rnnc check lstm.cell        a fresh `node bin/rnnc.js check` (process start included)
 *   compile() LSTM, first call   in a fresh process: importing rnnc, then the first `compile()`
 *   compile() LSTM, after        the median of later calls in that process
 *   rnnc build (all examples)    a fresh `node bin/rnnc.js build examples/cells/*.cell`
 *   node start                   a fresh `node -e 0`: the part of the fresh-process figures that
 *                                is Node's own start (environment included, e.g. NODE_EXTRA_CA_CERTS)
 *
 * Each figure is the median of a few runs; other work on the machine skews them (the load
 * average is printed with them). Runs the built code in dist/.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Wall time of `node args...` in ms; throws with its stderr if it fails. */
function wall(args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} failed:\n${r.stderr}`);
  return ms;
}

/** In a fresh process: import time, first compile() and the median of `later` more, in ms. */
function inProcess(later: number): { import: number; first: number; after: number } {
  const script = `
    import { readFileSync } from "node:fs";
    const t0 = performance.now();
    const { compile } = await import(${JSON.stringify(pathToFileURL("dist/src/index.js").href)});
    const t1 = performance.now();
    const source = readFileSync("examples/cells/lstm.cell", "utf8");
    compile(source, { path: "lstm.cell" });
    const t2 = performance.now();
    const times = [];
    for (let k = 0; k < ${later}; k++) { const a = performance.now(); compile(source, { path: "lstm.cell" }); times.push(performance.now() - a); }
    times.sort((a, b) => a - b);
    console.log(JSON.stringify({ import: t1 - t0, first: t2 - t1, after: times[times.length >> 1] }));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`compile() in a child failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as { import: number; first: number; after: number };
}

export function benchCompile(quick: boolean): void {
  const runs = quick ? 3 : 5;
  const cells = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).map((f) => join("examples/cells", f));
  const load = () => os.loadavg()[0]!.toFixed(2);
  console.log(`compile times, median of ${runs} runs (ms); 1-min load average ${load()} at the start`);
  const start = median(Array.from({ length: runs }, () => wall(["-e", "0"])));
  const check = median(Array.from({ length: runs }, () => wall(["bin/rnnc.js", "check", "examples/cells/lstm.cell"])));
  const inproc = Array.from({ length: runs }, () => inProcess(quick ? 10 : 30));
  const out = mkdtempSync(join(os.tmpdir(), "rnnc-bench-"));
  const build = median(Array.from({ length: runs }, () => wall(["bin/rnnc.js", "build", ...cells, "--out", out])));
  rmSync(out, { recursive: true, force: true });
  const rows: [string, number][] = [
    ["rnnc check lstm.cell (wall)", check],
    ["import rnnc (compile API)", median(inproc.map((r) => r.import))],
    ["compile() LSTM, first call", median(inproc.map((r) => r.first))],
    ["compile() LSTM, later calls", median(inproc.map((r) => r.after))],
    [`rnnc build, all ${cells.length} example cells (wall)`, build],
    ["node start, node -e 0 (wall, for scale)", start],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [what, ms] of rows) console.log(`${what.padEnd(width)}  ${ms.toFixed(ms < 100 ? 1 : 0).padStart(7)} ms`);
  console.log(`1-min load average ${load()} at the end`);
}
