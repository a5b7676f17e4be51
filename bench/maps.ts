/**
 * ns per element of the runtime's float32 maps (sigmoid, tanh, exp): the WebAssembly SIMD maps of
 * an f32 arena against `plainMaps` (float64 `Math` per element, what float32 kernels computed
 * before), on runs of n = 64, 1024 and 16384 elements, interleaved round by round in one process.
 *
 *   wasm    operands in the arena's memory, as kernels' workspace buffers are (used in place)
 *   staged  operands outside it (copied in and out by the arena)
 *   plain   plainMaps over the same arrays as wasm
 *   with `--baseline FILE` (a products-wasm.js of another build), the function of each module called
 *   directly (no arena) over the same inputs in its own memory:
 *   raw       this build's
 *   baseline  the other build's
 *
 * Times are per second of this process's CPU time. Run by bench/products.ts, or alone:
 *
 *   node dist/bench/maps.js [--quick] [--rounds N] [--baseline FILE]
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";
import { loadavg } from "node:os";
import { MAP_NAMES, type MapName } from "../src/runtime/abi.js";
import { createArena, plainMaps } from "../src/runtime/products.js";
import { PRODUCTS_WASM } from "../src/runtime/products-wasm.js";
import { mulberry32 } from "../src/runtime/random.js";
import type { Real } from "../src/runtime/types.js";

type Map = (n: number, A: Real, a0: number, Y: Real, y0: number) => void;

const SIZES = [64, 1024, 16384];
const CONTESTANTS = ["wasm", "staged", "plain", "raw", "baseline"] as const;

function cpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/** The float32 map `name` of a build's module (base64) called directly, over A and Y at the start of its own memory. */
function rawMap(base64: string, name: MapName, inputs: Real): { run: Map; A: Real; Y: Real } {
  const n = inputs.length;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((8 * n) / 65536) + 1 });
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const fn = instance.exports[`${name}_f32`] as (n: number, a: number, y: number) => void;
  const A = new Float32Array(memory.buffer, 0, n);
  A.set(inputs);
  return { run: (m) => fn(m, 0, 4 * n), A, Y: new Float32Array(memory.buffer, 4 * n, n) };
}

/** The ways to run map `name` over n elements (the baseline's with its module), each with its operands. */
function contestants(name: MapName, n: number, baseline?: string): { run: Map; A: Real; Y: Real }[] {
  const arena = createArena("f32");
  if (!arena.simd) throw new Error("no WebAssembly SIMD in this engine");
  const [A, Y] = arena.layout([{ length: n }, { length: n }], 0);
  const random = mulberry32(n);
  // Pre-activations of gates: mostly within ±8, where none of the maps saturates.
  for (let i = 0; i < n; i++) A![i] = 16 * random() - 8;
  const outside = { A: Float32Array.from(A!), Y: new Float32Array(n) };
  return [
    { run: arena.products[name], A: A!, Y: Y! },
    { run: arena.products[name], ...outside },
    { run: plainMaps[name], A: A!, Y: Y! },
    ...(baseline ? [rawMap(PRODUCTS_WASM, name, A!), rawMap(baseline, name, A!)] : []),
  ];
}

/** Median ns per element of each contestant over `rounds` rounds of at least `ms` CPU ms each, interleaved. */
function time(name: MapName, n: number, rounds: number, ms: number, baseline?: string): number[] {
  const all = contestants(name, n, baseline);
  const reps = Math.ceil(16384 / n);
  const samples: number[][] = all.map(() => []);
  for (let r = 0; r < rounds; r++)
    all.forEach(({ run, A, Y }, i) => {
      let calls = 0;
      const t0 = cpuNs();
      let t = t0;
      while (t - t0 < ms * 1e6) {
        for (let k = 0; k < reps; k++) run(n, A, 0, Y, 0);
        calls += reps;
        t = cpuNs();
      }
      samples[i]!.push((t - t0) / (calls * n));
    });
  return samples.map((s) => s.sort((x, y) => x - y)[s.length >> 1]!);
}

/**
 * The table: one row per map and size, ns per element of each contestant and plain ÷ wasm (and
 * baseline ÷ raw, given another build's module as base64).
 */
export function benchMaps(rounds: number, ms: number, baseline?: string): { name: MapName; n: number; ns: Partial<Record<(typeof CONTESTANTS)[number], number>> }[] {
  // Warm-up: every contestant reaches V8's optimizing tier before the first timing.
  for (const name of MAP_NAMES) time(name, 1024, 1, 100, baseline);
  const rows = [];
  const columns = baseline ? CONTESTANTS : CONTESTANTS.slice(0, 3);
  console.log(`\n## float32 maps, ns per element per CPU second (median of ${rounds} rounds; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")})\n`);
  console.log(`| map | n | ${columns.join(" | ")} | plain ÷ wasm |${baseline ? " baseline ÷ raw |" : ""}\n|${"---|".repeat(columns.length + 3 + (baseline ? 1 : 0))}`);
  for (const name of MAP_NAMES)
    for (const n of SIZES) {
      const ns = time(name, n, rounds, ms, baseline);
      const [wasm, staged, plain, raw, base] = ns as [number, number, number, number | undefined, number | undefined];
      rows.push({ name, n, ns: Object.fromEntries(columns.map((c, i) => [c, ns[i]!])) });
      const ratios = [plain / wasm, ...(base === undefined || raw === undefined ? [] : [base / raw])];
      console.log(`| ${name} | ${n} | ${ns.map((x) => x.toFixed(2)).join(" | ")} | ${ratios.map((x) => x.toFixed(1)).join(" | ")} |`);
    }
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf("--rounds");
  const quick = argv.includes("--quick");
  const b = argv.indexOf("--baseline");
  const baseline = b >= 0 ? ((await import(pathToFileURL(argv[b + 1]!).href)) as { PRODUCTS_WASM: string }).PRODUCTS_WASM : undefined;
  benchMaps(i >= 0 ? Number(argv[i + 1]) : quick ? 3 : 7, quick ? 15 : 40, baseline);
}
