/** Seeded pseudo-random numbers (mulberry32), so every contestant sees the same data. */

export function makeRng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `out` with values uniform in [-scale, scale). */
export function fillUniform(out: Float32Array | Float64Array, seed: number, scale = 1): typeof out {
  const rand = makeRng(seed);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rand() - 1) * scale;
  return out;
}
