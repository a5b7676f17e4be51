/**
 * GFLOP/s of the runtime's WebAssembly products (src/runtime/products-wasm.ts), each kind on the
 * shapes an LSTM's kernels give it: a batch sweep (B = 1…256 at H = 128) and an H sweep
 * (H = 32…1024 at B = 32).
 *
 *   nt  rows = B,      N = 4H, K = H   the recurrent product U·h of all four gates
 *   nn  rows = B,      N = 4H, K = H   the backward's Uᵀ·d
 *   tn  rows = 8·B,    R = 4H, C = H   a param gradient summed over T = 8 steps of B rows
 *
 * `--lstm IxHxBxT,...` times instead the calls an LSTM's train step makes at those sizes (chunks of
 * `chunkSteps(T, B)` steps), with their strides: the hoisted forward `nt` (chunk rows, N = 4H,
 * K = I), the recurrent `nt` and `nn` (B rows, K = H), the input gradient's `nn` (chunk rows,
 * K = I) and the per-gate param gradients' `tn` (chunk rows, R = H, C = H or I, A's rows 4H apart),
 * and the products' CPU time per train step.
 *
 * Operands live in the module's memory, so this times the kernels alone (no staging). Rates are
 * per second of this process's CPU time, which a busy machine disturbs less than wall-clock time.
 *
 *   node dist/bench/products.js [--dtype f32|f64] [--quick] [--rounds N] [--points HxB,...] [--lstm IxHxBxT,...] [--baseline FILE] [--json]
 *
 * `--baseline FILE` loads another build of the products (a products-wasm.js, e.g. from a checkout
 * of an older commit's dist/) and times both in the same process, interleaved round by round.
 * In f32 it first prints this core's SIMD peak (bench/peak.ts), the ceiling of every rate below.
 * In f32, a last table gives ns per element of the float32 maps against `plainMaps` (bench/maps.ts),
 * and against the baseline's maps when given.
 */
import { pathToFileURL } from "node:url";
import { loadavg } from "node:os";
import { PRODUCTS_WASM } from "../src/runtime/products-wasm.js";
import { chunkSteps, wasmProductParams, type DType, type ProductName } from "../src/runtime/abi.js";
import { mulberry32 } from "../src/runtime/random.js";
import { simdPeak } from "./peak.js";
import { benchMaps } from "./maps.js";

type Fn = (...args: number[]) => void;

interface Build {
  readonly label: string;
  readonly fns: Record<string, Fn>;
  readonly memory: WebAssembly.Memory;
}

function instantiate(label: string, base64: string, bytesNeeded: number): Build {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  // Operands from address 0, the scratch area (where the module has one) after the largest.
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytesNeeded / 65536) + 8 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const { scratch, scratch_bytes } = instance.exports;
  if (scratch instanceof WebAssembly.Global && scratch_bytes instanceof WebAssembly.Global) {
    if ((scratch_bytes.value as number) > 7 * 65536) throw new Error(`${label}: scratch area too large`);
    scratch.value = Math.ceil(bytesNeeded / 65536) * 65536;
  }
  return { label, fns: instance.exports as unknown as Record<string, Fn>, memory };
}

interface Shape {
  readonly kind: ProductName;
  readonly rows: number;
  readonly a: number;
  readonly b: number;
  /** A's row stride (elements), when wider than its rows. */
  readonly as?: number;
  /** What the shape is, in `--lstm` tables. */
  readonly label?: string;
  /** Calls per train step, in `--lstm` tables. */
  readonly calls?: number;
}

/** The operand sizes (elements) and the call's arguments, operands packed one after another. */
function layout(s: Shape, E: number) {
  const { kind, rows, a: N, b: K } = s;
  // nt: A [rows][K], W [N][K], Y [rows][N]; nn: A [rows][N], W [N][K], Y [rows][K];
  // tn: A [rows][R], B [rows][C], G [R][C] with R = N, C = K.
  const [aw, w, yw] = kind === "nt" ? [K, N * K, N] : kind === "nn" ? [N, N * K, K] : [N, rows * K, N * K];
  const as = Math.max(s.as ?? aw, aw);
  const pA = 0;
  const pW = pA + rows * as * E;
  const pY = pW + w * E;
  const end = pY + (kind === "tn" ? yw : rows * yw) * E;
  const args = kind === "tn" ? [rows, N, K, pA, as, pW, K, pY] : [rows, N, K, pA, as, pW, pY, yw, 0];
  return { args, end, flops: 2 * rows * N * K };
}

/**
 * This process's CPU time in ms: on a machine shared with other work, the time the kernel ran,
 * not the time it waited for a core (the kernels are single-threaded and allocate nothing). One
 * reading costs about 2 µs (a system call): 80 K floating-point operations at 40 GFLOP/s.
 */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Floating-point operations between two readings of the clock: at 50 GFLOP/s, 0.2 ms. */
const BATCH_FLOPS = 1e7;

/**
 * Median GFLOP/s (per CPU second) of `rounds` timings of at least `ms` each, builds interleaved
 * round by round. The clock is read once per batch of calls of at least BATCH_FLOPS, so that its
 * 2 µs stay within 1 % of the time even for one row (read after every call, they took 40 % of the
 * time of B = 1 at H = 128).
 */
function time(builds: readonly Build[], s: Shape, dtype: DType, rounds: number, ms: number): number[] {
  const bytesNeeded = builds[0]!.memory.buffer.byteLength - 8 * 65536;
  const E = dtype === "f32" ? 4 : 8;
  const { args, end, flops } = layout(s, E);
  const random = mulberry32(7);
  const fns = builds.map((b) => {
    if (end > bytesNeeded) throw new Error(`${s.kind} needs ${end} bytes`);
    const heap = dtype === "f32" ? new Float32Array(b.memory.buffer, 0, end / E) : new Float64Array(b.memory.buffer, 0, end / E);
    for (let i = 0; i < heap.length; i++) heap[i] = 2 * random() - 1;
    const fn = b.fns[`${s.kind}_${dtype}`]!;
    if (fn.length !== wasmProductParams(s.kind).length) throw new Error(`${b.label}: ${s.kind}_${dtype} takes ${fn.length} parameters`);
    return fn;
  });
  const batch = Math.ceil(BATCH_FLOPS / flops);
  const rates: number[][] = builds.map(() => []);
  for (let r = 0; r < rounds; r++)
    fns.forEach((fn, i) => {
      let calls = 0;
      const t0 = cpuMs();
      let t = t0;
      while (t - t0 < ms) {
        for (let c = 0; c < batch; c++) fn(...args);
        calls += batch;
        t = cpuMs();
      }
      rates[i]!.push((calls * flops) / ((t - t0) * 1e6));
    });
  return rates.map((r) => r.sort((x, y) => x - y)[r.length >> 1]!);
}

function shapes(H: number, B: number): Shape[] {
  return [
    { kind: "nt", rows: B, a: 4 * H, b: H },
    { kind: "nn", rows: B, a: 4 * H, b: H },
    { kind: "tn", rows: 8 * B, a: 4 * H, b: H },
  ];
}

/** The products of an LSTM's train step at I, H, B, T, each with its calls per step. */
function lstmShapes(I: number, H: number, B: number, T: number): Shape[] {
  const steps = chunkSteps(T, B);
  const chunks = T / steps;
  const rows = steps * B;
  return [
    { kind: "nt", rows, a: 4 * H, b: I, label: "nt hoisted W·x", calls: chunks },
    { kind: "nt", rows: B, a: 4 * H, b: H, label: "nt recurrent U·h", calls: T },
    { kind: "nn", rows: B, a: 4 * H, b: H, label: "nn recurrent Uᵀ·d", calls: T },
    { kind: "nn", rows, a: 4 * H, b: I, label: "nn input Wᵀ·d", calls: chunks },
    { kind: "tn", rows, a: H, b: H, as: 4 * H, label: "tn dU (per gate)", calls: 4 * chunks },
    { kind: "tn", rows, a: H, b: I, as: 4 * H, label: "tn dW (per gate)", calls: 4 * chunks },
  ];
}

async function main() {
  const argv = process.argv.slice(2);
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const dtype = (opt("--dtype") ?? "f32") as DType;
  const quick = argv.includes("--quick");
  const baseline = opt("--baseline");
  const bytes = 4 * 1024 * 4096 * 8 + (1 << 24);
  const builds = [instantiate("now", PRODUCTS_WASM, bytes)];
  const baselineModule = baseline ? ((await import(pathToFileURL(baseline).href)) as { PRODUCTS_WASM: string }).PRODUCTS_WASM : undefined;
  if (baselineModule) builds.push(instantiate("baseline", baselineModule, bytes));
  const rounds = Number(opt("--rounds") ?? (quick ? 3 : 5));
  const ms = quick ? 15 : 40;
  const points = opt("--points")?.split(",").map((p) => p.split("x").map(Number) as [number, number]);
  const lstm = opt("--lstm")?.split(",").map((p) => p.split("x").map(Number) as [number, number, number, number]);
  const sweeps: [string, [number, number][]][] = points
    ? [["chosen points", points]]
    : [
        ["batch sweep, H = 128", [1, 2, 4, 8, 16, 32, 64, 128, 256].map((B) => [128, B])],
        ["H sweep, B = 32", [32, 64, 128, 256, 512, 1024].map((H) => [H, 32])],
      ];
  // Warm-up: every product runs long enough to reach V8's optimizing tier before the first timing.
  for (const s of shapes(64, 8)) time(builds, s, dtype, 1, 100);
  const results: unknown[] = [];
  console.log(`# runtime products, ${dtype}, GFLOP/s per CPU second (median of ${rounds} rounds)${baseline ? `, now · baseline` : ""}; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  if (dtype === "f32") console.log(`\nThis core's float32 SIMD peak (bench/peak.ts, independent f32x4 multiplies and adds fed from registers and L1): ${(await simdPeak(rounds)).toFixed(1)} GFLOP/s per CPU second`);
  for (const [I, H, B, T] of lstm ?? []) {
    console.log(`\n## LSTM train step, I = ${I}, H = ${H}, B = ${B}, T = ${T}\n\n| product | rows × N × K | calls | GFLOP/s | ms per step |\n|---|---|---|---|---|`);
    const total = builds.map(() => 0);
    for (const s of lstmShapes(I, H, B, T)) {
      const r = time(builds, s, dtype, rounds, ms);
      const ms1 = r.map((g) => (s.calls! * 2 * s.rows * s.a * s.b) / (g * 1e6));
      ms1.forEach((t, i) => (total[i]! += t));
      results.push({ sweep: "lstm", I, H, B, T, product: s.label, gflops: r, ms: ms1 });
      console.log(`| ${s.label} | ${s.rows} × ${s.a} × ${s.b} | ${s.calls} | ${r.map((x) => x.toFixed(1)).join(" · ")} | ${ms1.map((x) => x.toFixed(2)).join(" · ")} |`);
    }
    console.log(`| all products | | | | ${total.map((x) => x.toFixed(2)).join(" · ")} |`);
  }
  for (const [title, points] of lstm ? [] : sweeps) {
    console.log(`\n## ${title}\n\n| H | B | nt | nn | tn |\n|---|---|---|---|---|`);
    for (const [H, B] of points) {
      const cells = shapes(H, B).map((s) => {
        const r = time(builds, s, dtype, rounds, ms);
        results.push({ sweep: title, H, B, kind: s.kind, gflops: r });
        return r.map((x) => x.toFixed(1)).join(" · ");
      });
      console.log(`| ${H} | ${B} | ${cells.join(" | ")} |`);
    }
  }
  if (dtype === "f32" && !lstm) results.push(...benchMaps(rounds, ms, baselineModule).map((r) => ({ sweep: "maps", ...r })));
  console.log(`\nload average after: ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  if (argv.includes("--json")) console.log(JSON.stringify(results));
}

await main();
