/** Scalar helpers the emitted kernels call (small enough for V8 to inline). */

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** log(1 + eˣ), without overflow for large x. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/*
 * Float32 kernels use the functions below: exact to float32 (within 2 units in the last place of
 * the float32 result, tests/math.test.ts), about twice as fast as Math.exp and Math.tanh in V8.
 * eˣ = 2ᵏ·eʳ with k = round(x·log₂e) and |r| ≤ ln2/2; eʳ is its Taylor polynomial to r⁷ (the
 * remainder is below 1e-8 relative), 2ᵏ a table lookup. Float64 kernels keep Math.exp and Math.tanh.
 */

/** 2ᵏ for k = −150 … 150 (index k + 150): every power a float32 result (or its reciprocal) can need. */
const POW2 = Float64Array.from({ length: 301 }, (_, i) => 2 ** (i - 150));
const LOG2E = 1.4426950408889634;
/** ln 2 split in two, so k·LN2_HI is exact for every k used. */
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;

/** eʳ − 1 for |r| ≤ ln2/2, without the cancellation of eʳ − 1. */
function expm1Reduced(r: number): number {
  return r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040)))))));
}

/**
 * eˣ to float32 accuracy. Beyond float32's range it gives a value that rounds to 0 or to Infinity
 * in float32 (and whose reciprocal rounds to 0, for the sigmoid).
 */
export function expf(x: number): number {
  const y = x < -104 ? -104 : x > 104 ? 104 : x;
  const k = Math.round(y * LOG2E);
  const r = y - k * LN2_HI - k * LN2_LO;
  return (1 + expm1Reduced(r)) * POW2[k + 150]!;
}

/** 1 / (1 + e⁻ˣ) to float32 accuracy. */
export function sigmoidf(x: number): number {
  return 1 / (1 + expf(-x));
}

/** tanh x to float32 accuracy: (1 − e)/(1 + e) with e = e^(−2|x|), 1 − e without cancellation near 0. */
export function tanhf(x: number): number {
  const a = x < 0 ? -2 * x : 2 * x;
  let y: number;
  if (a <= 0.34657359027997264) {
    const m = expm1Reduced(-a);
    y = -m / (2 + m);
  } else {
    const e = expf(-a);
    y = (1 - e) / (1 + e);
  }
  return x < 0 ? -y : y;
}
