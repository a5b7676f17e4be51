/**
 * ns per element of the runtime's float32 maps (sigmoid, tanh, exp): the WebAssembly SIMD maps of
 * an f32 arena against `plainMaps` (float64 `Math` per element, what float32 kernels computed
 * before), on runs of n = 64, 1024 and 16384 elements, interleaved round by round in one process.
 *
 *   wasm    operands in the arena's memory, as kernels' workspace buffers are (used in place)
 *   staged  operands outside it (copied in and out by the arena)
 *   plain   plainMaps over the same arrays as wasm
 *
 * Times are per second of this process's CPU time. Run by bench/products.ts, or alone:
 *
 *   node dist/bench/maps.js [--quick] [--rounds N]
 */
import { fileURLToPath } from "node:url";
import path from "node:path";
import { loadavg } from "node:os";
import { MAP_NAMES, type MapName } from "../src/runtime/abi.js";
import { createArena, plainMaps } from "../src/runtime/products.js";
import { mulberry32 } from "../src/runtime/random.js";
import type { Real } from "../src/runtime/types.js";

type Map = (n: number, A: Real, a0: number, Y: Real, y0: number) => void;

const SIZES = [64, 1024, 16384];
const CONTESTANTS = ["wasm", "staged", "plain"] as const;

function cpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/** The three ways to run map `name` over n elements, each with its operands. */
function contestants(name: MapName, n: number): { run: Map; A: Real; Y: Real }[] {
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
  ];
}

/** Median ns per element of each contestant over `rounds` rounds of at least `ms` CPU ms each, interleaved. */
function time(name: MapName, n: number, rounds: number, ms: number): number[] {
  const all = contestants(name, n);
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

/** The table: one row per map and size, ns per element of each contestant and plain ÷ wasm. */
export function benchMaps(rounds: number, ms: number): { name: MapName; n: number; ns: Record<(typeof CONTESTANTS)[number], number> }[] {
  // Warm-up: every contestant reaches V8's optimizing tier before the first timing.
  for (const name of MAP_NAMES) time(name, 1024, 1, 100);
  const rows = [];
  console.log(`\n## float32 maps, ns per element per CPU second (median of ${rounds} rounds; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")})\n`);
  console.log(`| map | n | ${CONTESTANTS.join(" | ")} | plain ÷ wasm |\n|---|---|---|---|---|---|`);
  for (const name of MAP_NAMES)
    for (const n of SIZES) {
      const [wasm, staged, plain] = time(name, n, rounds, ms) as [number, number, number];
      rows.push({ name, n, ns: { wasm, staged, plain } });
      console.log(`| ${name} | ${n} | ${wasm.toFixed(2)} | ${staged.toFixed(2)} | ${plain.toFixed(2)} | ${(plain / wasm).toFixed(1)} |`);
    }
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf("--rounds");
  const quick = argv.includes("--quick");
  benchMaps(i >= 0 ? Number(argv[i + 1]) : quick ? 3 : 7, quick ? 15 : 40);
}
