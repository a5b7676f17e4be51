/** A small seeded generator (mulberry32): the same seed gives the same numbers everywhere. */
import { DataError } from "./errors.js";

/** The largest seed: seeds are integers from 0 to 2^32 − 1 (mulberry32 keeps 32 bits of state). */
export const MAX_SEED = 2 ** 32 - 1;

/** Whether `v` is a seed: an integer from 0 to 2^32 − 1. */
export const isSeed = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_SEED;

/**
 * Throws a `DataError` naming `field` unless `seed` is an integer from 0 to 2^32 − 1: any other
 * number (NaN, 0.5, 2^32, a string) would be folded silently onto one of those seeds.
 */
export function checkSeed(seed: unknown, field = "seed"): number {
  if (isSeed(seed)) return seed;
  const got = typeof seed === "string" ? JSON.stringify(seed) : String(seed);
  throw new DataError(`${field}: expected an integer from 0 to ${MAX_SEED} (2^32 − 1), got ${got}`);
}

/**
 * The generator for a 32-bit seed: an integer from 0 to 2^32 − 1 or, for seeds mixed with
 * bitwise operators (`seed ^ k`), its signed view from −2^31; anything else is a `DataError`.
 */
export function mulberry32(seed: number): () => number {
  const signed = Number.isInteger(seed) && seed < 0 && seed >= -(2 ** 31);
  let a = signed ? seed >>> 0 : checkSeed(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
