/** The float32 helpers of float32 kernels: within one float32 unit in the last place of exact. */
import { describe, expect, it } from "vitest";
import { expf, sigmoidf, tanhf } from "../src/runtime/math.js";
import { mulberry32 } from "../src/runtime/random.js";

const f = Math.fround;
const bits = new Int32Array(1);
const float = new Float32Array(bits.buffer);
/** Position of a float32 on the integer line (so that adjacent floats differ by one). */
function ordinal(x: number): number {
  float[0] = x;
  return bits[0]! < 0 ? -(bits[0]! & 0x7fffffff) : bits[0]!;
}
const ulps = (a: number, b: number) => Math.abs(ordinal(f(a)) - ordinal(f(b)));

/** Seeded float32 arguments: wide ranges, tiny magnitudes, and the edges of float32's range. */
function args(): number[] {
  const random = mulberry32(2024);
  const out: number[] = [0, -0, 1e-45, -1e-45, 1e-30, 88.7, 88.72, 88.8, 89, 103, 104, 200, -87, -88.8, -103, -104, -200];
  for (let k = 0; k < 200_000; k++) out.push(f((random() - 0.5) * 240));
  for (let k = 0; k < 100_000; k++) out.push(f((random() - 0.5) * 10 ** (-40 * random())));
  return out;
}

describe("float32 helpers", () => {
  const xs = args();
  const worst = (fn: (x: number) => number, exact: (x: number) => number) => xs.reduce((w, x) => Math.max(w, ulps(fn(x), exact(x))), 0);

  it("expf is within 1 ulp of Math.exp in float32", () => expect(worst(expf, Math.exp)).toBeLessThanOrEqual(1));
  it("sigmoidf is within 1 ulp of 1/(1 + e⁻ˣ) in float32", () => expect(worst(sigmoidf, (x) => 1 / (1 + Math.exp(-x)))).toBeLessThanOrEqual(1));
  it("tanhf is within 1 ulp of Math.tanh in float32, also near 0", () => expect(worst(tanhf, Math.tanh)).toBeLessThanOrEqual(1));

  it("limits, signs and NaN", () => {
    expect(f(expf(Infinity))).toBe(Infinity);
    expect(f(expf(-Infinity))).toBe(0);
    expect(sigmoidf(Infinity)).toBe(1);
    expect(f(sigmoidf(-Infinity))).toBe(0);
    expect(tanhf(Infinity)).toBe(1);
    expect(tanhf(-Infinity)).toBe(-1);
    expect(Object.is(tanhf(-0), -0)).toBe(true);
    for (const fn of [expf, sigmoidf, tanhf]) expect(fn(NaN)).toBeNaN();
  });
});
