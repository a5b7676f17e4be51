/**
 * One thread against `parallel` with two: the LSTM train step (zero the grads, forward over T
 * steps, backward with dLoss/dh = 1) at s3 (I64 H256 B32 T64, float32), in interleaved rounds.
 * Prints the median wall time of each, and the CPU time of every thread of the process (from
 * /proc, Linux) over each side's calls: where other processes share the cores, wall time says
 * little, and CPU time per thread says what two free cores would give.
 *
 *   npm run build && node dist/scripts/parallel-speed.js [--rounds N] [--size I=64,H=256,B=32,T=64] [--threads 2]
 */
import { readFileSync, readdirSync } from "node:fs";
import { loadavg } from "node:os";
import { compile } from "../src/index.js";
import { parallel } from "../src/parallel/node.js";
import type { Tensors } from "../src/runtime/types.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const k = args.indexOf(name);
  return k >= 0 && args[k + 1] !== undefined ? args[k + 1]! : fallback;
};
const size = Object.fromEntries(flag("--size", "I=64,H=256,B=32,T=64").split(",").map((kv) => kv.split("=")).map(([k, v]) => [k!, Number(v)]));
const { I, H, B, T } = size as { I: number; H: number; B: number; T: number };
const rounds = Number(flag("--rounds", "8"));
const threads = Number(flag("--threads", "2"));

/** CPU seconds (user + system) of each thread of this process, by thread id. */
function threadCpu(): Map<number, number> {
  const out = new Map<number, number>();
  const tick = 100; // USER_HZ on Linux
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / tick);
    }
  } catch {
    // Not Linux: no per-thread times.
  }
  return out;
}

const source = readFileSync(new URL("../../examples/cells/lstm.cell", import.meta.url), "utf8");
const options = { dtype: "f32" as const, sizes: { I, H } };
const cell = compile(source, options);
const par = await parallel({ source, options }, { threads });
const params = par.initParams(42);
const x = new Float32Array(T * B * I).map((_, i) => Math.sin(i * 0.37));
const ones = new Float32Array(T * B * H).fill(1);

type Side = { name: string; grads: Tensors; call: () => Promise<void> | void; times: number[]; cpu: Map<number, number> };
const one: Side = {
  name: "1 thread", grads: cell.createGrads(), times: [], cpu: new Map(),
  call() {
    for (const g of Object.values(this.grads)) g.fill(0);
    const trace = cell.forward(params, { x }, { T, B });
    cell.backward(params, trace, { outputs: { h: ones } }, this.grads);
  },
};
const two: Side = {
  name: `${threads} threads`, grads: par.createGrads(), times: [], cpu: new Map(),
  async call() {
    for (const g of Object.values(this.grads)) g.fill(0);
    const trace = await par.forward(params, { x }, { T, B });
    await par.backward(params, trace, { outputs: { h: ones } }, this.grads);
  },
};

for (const side of [one, two]) await side.call(); // warm-up
const loads: number[] = [];
for (let r = 0; r < rounds; r++) {
  for (const side of r % 2 === 0 ? [one, two] : [two, one]) {
    const before = threadCpu();
    const start = performance.now();
    await side.call();
    side.times.push(performance.now() - start);
    for (const [tid, t] of threadCpu()) side.cpu.set(tid, (side.cpu.get(tid) ?? 0) + t - (before.get(tid) ?? 0));
  }
  loads.push(loadavg()[0]!);
}
await par.close();

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
/** CPU ms per call: the main thread's, then the busiest other threads' (workers, V8's helpers). */
const busiest = (cpu: Map<number, number>) => {
  const ms = (t: number) => ((1000 * t) / rounds).toFixed(0);
  const others = [...cpu].filter(([tid, t]) => tid !== process.pid && t > 0).map(([, t]) => t).sort((a, b) => b - a);
  return `main ${ms(cpu.get(process.pid) ?? 0)}, others ${others.slice(0, threads + 1).map(ms).join(", ")}`;
};
console.log(`LSTM train step I${I} H${H} B${B} T${T} f32, ${rounds} interleaved rounds, load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${readdirSync("/sys/devices/system/cpu").filter((d) => /^cpu\d+$/u.test(d)).length} cores`);
for (const side of [one, two])
  console.log(`${side.name.padEnd(10)} median ${median(side.times).toFixed(1)} ms   CPU ms per call: ${busiest(side.cpu)}`);
console.log(`wall-time ratio ${(median(one.times) / median(two.times)).toFixed(2)}×`);
// On free cores a call takes about its calling thread's CPU time plus its busiest worker's.
const critical = (cpu: Map<number, number>) => (cpu.get(process.pid) ?? 0) + Math.max(0, ...[...cpu].filter(([tid]) => tid !== process.pid).map(([, t]) => t));
console.log(`CPU-time ratio (one thread's CPU ÷ calling thread's + busiest worker's): ${(critical(one.cpu) / critical(two.cpu)).toFixed(2)}×`);
let worst = 0;
for (const p of cell.params) {
  const a = one.grads[p.name]!, b = two.grads[p.name]!;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(a[i]!)));
}
console.log(`largest relative difference of a param gradient: ${worst.toExponential(2)}`);
