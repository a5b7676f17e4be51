/**
 * Test helpers for the training runtime: finite differences, comparison, and seeded data.
 */

import type { Real } from "../../src/runtime/types.js";
import { Rng } from "../../src/train/init.js";

/** A Float64Array of uniform draws from [-scale, scale). */
export function randomArray(length: number, rng: Rng, scale = 1): Float64Array {
  return Float64Array.from({ length }, () => rng.uniform(-scale, scale));
}

/**
 * Central finite differences of `loss` with respect to every entry of `data` (perturbed in place
 * and restored).
 */
export function numericGradient(data: Real, loss: () => number, epsilon = 1e-6): Float64Array {
  const gradient = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const saved = data[i]!;
    data[i] = saved + epsilon;
    const plus = loss();
    data[i] = saved - epsilon;
    const minus = loss();
    data[i] = saved;
    gradient[i] = (plus - minus) / (2 * epsilon);
  }
  return gradient;
}

/** The largest |a − b| / max(1, |a|, |b|) over all entries. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const scale = Math.max(1, Math.abs(a[i]!), Math.abs(b[i]!));
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  }
  return worst;
}

/** Σ w·x: a fixed random linear functional, the loss used to test gradients. */
export function weightedSum(values: ArrayLike<number>, weights: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * weights[i]!;
  return sum;
}
