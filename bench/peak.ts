/**
 * This core's arithmetic ceiling for rnnc's products: a WebAssembly SIMD loop of f32x4 multiplies
 * and adds, all on registers but one load from L1 a pass (independent accumulators), as this
 * engine compiles it. The runtime's float32 products are such multiplies and adds (WebAssembly SIMD has
 * no fused multiply-add without relaxed SIMD), so no float32 train step runs its matrix work
 * faster than this: the sweeps print their GFLOP/s as a share of it, and the batch sweep the most
 * its B = 64 point could gain over its B = 1 point here.
 */
import { assembleProducts } from "../compiler/wasm/build.js";

/**
 * Accumulators. Each pass loads one vector y (from the same address: an L1 hit, and a load the
 * engine cannot hoist) and adds x_i·y into accumulator i, so the multiplies are independent and
 * only the adds chain; accumulators and x_i must all fit in V8's 15 usable vector registers with
 * y (6 + 6 + 1: the most that reached the highest rate here; 7 spill and run at a third of it).
 */
const CHAINS = 6;

/** The loop's text: `n` passes, each `a_i += x_i·y` on every accumulator (8 flops per f32x4 pair). */
function peakWat(): string {
  const acc = Array.from({ length: CHAINS }, (_, i) => i);
  return [
    `(module (memory (export "memory") 1) (func (export "run") (param $n i32) (result f32)`,
    `${acc.map((i) => `(local $a${i} v128) (local $x${i} v128)`).join(" ")} (local $y v128)`,
    ...acc.map((i) => `(local.set $x${i} (v128.load offset=${16 * i} (i32.const 0)))`),
    `(loop $pass`,
    `  (local.set $y (v128.load offset=${16 * CHAINS} (i32.const 0)))`,
    ...acc.map((i) => `  (local.set $a${i} (f32x4.add (local.get $a${i}) (f32x4.mul (local.get $x${i}) (local.get $y))))`),
    `  (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br_if $pass (local.get $n)))`,
    // The sum keeps every accumulator alive, so the engine computes them all.
    `(f32x4.extract_lane 0 ${acc.map((i) => `(local.get $a${i})`).reduce((a, b) => `(f32x4.add ${a} ${b})`)})))`,
  ].join("\n");
}

/**
 * GFLOP/s of the loop per CPU second of this process (which runs nothing else meanwhile: other
 * work on the machine takes turns on the core, not rates): the best of `rounds` runs of about
 * `ms` each (a peak is a best, not a median).
 */
export async function simdPeak(rounds = 5, ms = 150): Promise<number> {
  const bytes = await assembleProducts(peakWat(), "peak.wat");
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
  // Operands of moderate size, so no pass overflows to infinities or subnormals.
  new Float32Array((instance.exports.memory as WebAssembly.Memory).buffer).fill(0.5);
  const run = instance.exports.run as (n: number) => number;
  const flopsPerPass = CHAINS * 8;
  // Warm up into the optimizing tier, then size a round to about `ms`.
  run(2e6);
  let passes = 1e6;
  for (;;) {
    const t0 = performance.now();
    run(passes);
    const took = performance.now() - t0;
    if (took >= ms / 4) {
      passes = Math.max(1, Math.round((passes * ms) / took));
      break;
    }
    passes *= 4;
  }
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const cpu0 = process.cpuUsage();
    run(passes);
    const cpu = process.cpuUsage(cpu0);
    best = Math.max(best, (passes * flopsPerPass) / ((cpu.user + cpu.system) * 1e3));
  }
  return best;
}
