/** Seeded pseudo-random numbers (the runtime's mulberry32), so every contestant sees the same data. */
import { mulberry32 } from "../src/runtime/random.js";

export const makeRng: (seed: number) => () => number = mulberry32;

/** Fills `out` with values uniform in [-scale, scale). */
export function fillUniform(out: Float32Array | Float64Array, seed: number, scale = 1): typeof out {
  const rand = makeRng(seed);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rand() - 1) * scale;
  return out;
}
