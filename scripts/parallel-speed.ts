/**
 * One thread against `parallel`: the LSTM train step (zero the grads, forward over T steps,
 * backward with dLoss/dh = 1) at s3 (I64 H256 B32 T64, float32) by default, in interleaved
 * rounds. The one-thread cell is timed as `npm run bench` times it (bench/contestants/rnnc.ts):
 * its own versioned params, and the same input, seed and gradient arrays at every call; the
 * parallel cell gets the same plain input and seed arrays (it stages them in shared memory) and
 * params from its own `initParams`, as a user's program would. Prints the median wall time of
 * each side and the CPU time of every thread of the process (from /proc, Linux) over each side's
 * calls: where other processes share the cores, wall time says little, and CPU time per thread
 * says what free cores would give. `--timeline` adds where each call's time went, per thread.
 *
 * `--calls N` makes each side's turn N calls (for small sizes). `--baseline DIR` adds a third side in the same rounds: the same threads with the parallel cell
 * of another build (`DIR/src/parallel/node.js`, e.g. the main checkout's `dist`), for before/after.
 * `--forward` times a forward alone instead of a train step, as `npm run bench`'s forward
 * workloads do: inference (`record: false`). Every side's results go into arrays made once (the
 * `into` option; the parallel cell's from its `createInto`), as bench/contestants/rnnc.ts has them;
 * a baseline build with `createInto` is driven the same way, and one without it records and
 * releases each forward's trace and gets new arrays. Each side also reports the minor page faults of all threads per call: a first touch of fresh memory,
 * which costs about 20 µs of CPU on this machine's virtual CPUs, and which no load changes.
 *
 *   npm run build && node dist/scripts/parallel-speed.js [--rounds N] [--calls N] [--size I=64,H=256,B=32,T=64] [--threads 2] [--forward] [--timeline] [--baseline DIR]
 */
import { readFileSync, readdirSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { compile } from "../src/index.js";
import { parallel, type CallTiming } from "../src/parallel/node.js";
import type { Tensors } from "../src/runtime/types.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const k = args.indexOf(name);
  return k >= 0 && args[k + 1] !== undefined ? args[k + 1]! : fallback;
};
const size = Object.fromEntries(flag("--size", "I=64,H=256,B=32,T=64").split(",").map((kv) => kv.split("=")).map(([k, v]) => [k!, Number(v)]));
const { I, H, B, T } = size as { I: number; H: number; B: number; T: number };
const rounds = Number(flag("--rounds", "8"));
const perRound = Number(flag("--calls", "1"));
const cores = readdirSync("/sys/devices/system/cpu").filter((d) => /^cpu\d+$/u.test(d)).length;
const threads = Number(flag("--threads", "2"));
const timeline = args.includes("--timeline");
const baseline = args.includes("--baseline") ? flag("--baseline", "") : undefined;
const forwardOnly = args.includes("--forward");

/** Minor page faults of all threads of this process so far (Linux; 0 elsewhere). */
function minorFaults(): number {
  let n = 0;
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      n += Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[7]);
    }
  } catch {
    // Not Linux, or a thread that just ended.
  }
  return n;
}

/** CPU seconds (user + system) of each thread of this process, by thread id. */
function threadCpu(): Map<number, number> {
  const out = new Map<number, number>();
  // This thread's count is brought up to date first (src/parallel/cpu-node.ts: read alone, a
  // running thread's lags by up to a scheduler tick); the others are idle between turns.
  process.cpuUsage();
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      out.set(Number(tid), ns / 1e9);
    }
  } catch {
    // Not Linux: no per-thread times.
  }
  return out;
}

const source = readFileSync(new URL("../../examples/cells/lstm.cell", import.meta.url), "utf8");
const options = { dtype: "f32" as const, sizes: { I, H } };
const cell = compile(source, options);
const par = await parallel({ source, options }, { threads, timeline });
const x = new Float32Array(T * B * I).map((_, i) => Math.sin(i * 0.37));
const ones = new Float32Array(T * B * H).fill(1);

type Side = { name: string; params: Tensors; grads: Tensors; call: () => Promise<void> | void; times: number[]; cpu: Map<number, number>; faults: number };
const arrays = (specs: readonly { name: string; size: number }[], rows: number): Tensors => Object.fromEntries(specs.map((s) => [s.name, new Float32Array(rows * s.size)]));
const into = {
  forward: { outputs: arrays(cell.outputs, T * B), final: arrays(cell.states, B) },
  backward: { inputs: arrays(cell.inputs, T * B), initial: arrays(cell.states, B) },
};
const one: Side = {
  name: "1 thread", params: cell.initParams(42), grads: cell.createGrads(), times: [], cpu: new Map(), faults: 0,
  call() {
    if (forwardOnly) return void cell.forward(this.params, { x }, { T, B, record: false, into: into.forward });
    for (const g of Object.values(this.grads)) g.fill(0);
    const trace = cell.forward(this.params, { x }, { T, B, into: into.forward });
    cell.backward(this.params, trace, { outputs: { h: ones } }, this.grads, { into: into.backward });
  },
};
const shared = par.createInto(T, B);
const two: Side = {
  name: `${threads} threads`, params: par.initParams(42), grads: par.createGrads(), times: [], cpu: new Map(), faults: 0,
  async call() {
    if (forwardOnly) return void (await par.forward(this.params, { x }, { T, B, record: false, into: shared.forward }));
    for (const g of Object.values(this.grads)) g.fill(0);
    const trace = await par.forward(this.params, { x }, { T, B, into: shared.forward });
    await par.backward(this.params, trace, { outputs: { h: ones } }, this.grads, { into: shared.backward });
  },
};

const sides = [one, two];
let closeBase = async () => {};
if (baseline !== undefined) {
  const from = pathToFileURL(resolve(baseline, "src", "parallel", "node.js")).href;
  const base = await ((await import(from)) as { parallel: typeof parallel }).parallel({ source, options }, { threads });
  closeBase = () => base.close();
  // Driven as the other side where the build can (`createInto`), else as builds before `into` were.
  const baseInto = typeof base.createInto === "function" ? base.createInto(T, B) : undefined;
  sides.push({
    name: "baseline", params: base.initParams(42), grads: base.createGrads(), times: [], cpu: new Map(), faults: 0,
    async call() {
      if (forwardOnly && baseInto) return void (await base.forward(this.params, { x }, { T, B, record: false, into: baseInto.forward }));
      if (forwardOnly) return void (await base.release(await base.forward(this.params, { x }, { T, B })));
      for (const g of Object.values(this.grads)) g.fill(0);
      const trace = await base.forward(this.params, { x }, baseInto ? { T, B, into: baseInto.forward } : { T, B });
      await base.backward(this.params, trace, { outputs: { h: ones } }, this.grads, baseInto ? { into: baseInto.backward } : {});
    },
  });
}
for (const side of sides) await side.call(), await side.call(); // warm-up
par.timeline();
const loads: number[] = [];
for (let r = 0; r < rounds; r++) {
  // Each side first and last in turn.
  for (const side of sides.map((_, k) => sides[(k + r) % sides.length]!)) {
    const before = threadCpu();
    const faults = minorFaults();
    const start = performance.now();
    for (let c = 0; c < perRound; c++) await side.call();
    side.times.push((performance.now() - start) / perRound);
    side.faults += minorFaults() - faults;
    for (const [tid, t] of threadCpu()) side.cpu.set(tid, (side.cpu.get(tid) ?? 0) + t - (before.get(tid) ?? 0));
  }
  loads.push(loadavg()[0]!);
}
const calls = par.timeline();
await par.close();
await closeBase();

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
/** CPU ms per call: the main thread's, then the busiest other threads' (workers, V8's helpers). */
const busiest = (cpu: Map<number, number>) => {
  const ms = (t: number) => ((1000 * t) / (rounds * perRound)).toFixed(1);
  const others = [...cpu].filter(([tid, t]) => tid !== process.pid && t > 0).map(([, t]) => t).sort((a, b) => b - a);
  return `main ${ms(cpu.get(process.pid) ?? 0)}, others ${others.slice(0, threads + 4).map(ms).join(", ")}`;
};
console.log(`LSTM ${forwardOnly ? "forward" : "train step"} I${I} H${H} B${B} T${T} f32, ${rounds} interleaved rounds of ${perRound} call${perRound === 1 ? "" : "s"} a side, load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cores} cores`);
for (const side of sides)
  console.log(`${side.name.padEnd(10)} median ${median(side.times).toFixed(1)} ms   CPU ms per call: ${busiest(side.cpu)}   minor faults per call ${(side.faults / (rounds * perRound)).toFixed(0)}`);
console.log(`wall-time ratio ${(median(one.times) / median(two.times)).toFixed(2)}×`);
// On free cores a call takes about its calling thread's CPU time plus its busiest worker's.
const critical = (cpu: Map<number, number>) => (cpu.get(process.pid) ?? 0) + Math.max(0, ...[...cpu].filter(([tid]) => tid !== process.pid).map(([, t]) => t));
console.log(`CPU-time ratio (one thread's CPU ÷ calling thread's + busiest worker's): ${(critical(one.cpu) / critical(two.cpu)).toFixed(2)}×`);
// A bound the other way: the cores cannot run more than all threads' CPU time in less than its share
// per core, nor the busiest thread faster (work the calling thread does while the lanes run counts here).
const spread = (cpu: Map<number, number>) => Math.max(...cpu.values(), [...cpu.values()].reduce((a, b) => a + b, 0) / cores);
console.log(`CPU-time ratio on ${cores} free cores at best (one thread's ÷ the larger of the busiest thread's and all threads' ÷ ${cores}): ${(critical(one.cpu) / spread(two.cpu)).toFixed(2)}×`);
if (sides[2]) console.log(`baseline: wall-time ratio ${(median(one.times) / median(sides[2].times)).toFixed(2)}×, CPU-time ratio ${(critical(one.cpu) / critical(sides[2].cpu)).toFixed(2)}×, at best ${(critical(one.cpu) / spread(sides[2].cpu)).toFixed(2)}×`);
// A forward alone leaves no param gradients to compare (tests/parallel.test.ts compares its outputs bit for bit).
if (!forwardOnly) {
  let worst = 0;
  for (const p of cell.params) {
    const a = one.grads[p.name]!, b = two.grads[p.name]!;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(a[i]!)));
  }
  console.log(`largest relative difference of a param gradient: ${worst.toExponential(2)}`);
}
if (timeline) printTimeline(calls);

/** Medians over the timed calls of each op: the calling thread's share, then each lane's phases (wall ms / CPU ms). */
function printTimeline(all: readonly CallTiming[]): void {
  const f = (v: number[]) => (v.length ? median(v).toFixed(2) : "–");
  for (const op of ["forward", "backward"] as const) {
    const list = all.filter((c) => c.op === op);
    if (list.length === 0) continue;
    const cpu = list.flatMap((c) => (c.cpu === undefined ? [] : [c.cpu]));
    const before = list.map((c) => c.lanes[0]!.post - c.start);
    const after = list.map((c) => c.end - Math.max(...c.lanes.map((l) => l.reply)));
    console.log(`${op} (median of ${list.length} calls): wall ${f(list.map((c) => c.end - c.start))} ms; calling thread: ${f(before)} ms before the first post, ${f(after)} ms after the last reply, CPU ${f(cpu)} ms`);
    list[0]!.lanes.forEach((_, k) => {
      const marks = list.map((c) => c.lanes[k]!.timing!.marks);
      const phases = marks[0]!.slice(1).map((m, p) => {
        const wall = f(marks.map((m) => m[p + 1]!.at - m[p]!.at));
        const cpu = f(marks.flatMap((m) => (m[p + 1]!.cpu === undefined ? [] : [m[p + 1]!.cpu! - m[p]!.cpu!])));
        return `${m.phase} ${wall}/${cpu}`;
      });
      const lanes = list.map((c) => c.lanes[k]!);
      const posted = f(lanes.map((l) => l.timing!.received - l.post));
      const waited = f(lanes.map((l) => l.timing!.marks[0]!.at - l.timing!.received));
      const replied = f(lanes.map((l) => l.reply - l.timing!.marks.at(-1)!.at));
      console.log(`  lane ${k}: posted→received ${posted}, waited ${waited}, ${phases.join(", ")}, end→reply ${replied}`);
    });
  }
}
