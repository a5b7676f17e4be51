/**
 * exp, expm1 and tanh from + − × ÷ alone, which every engine rounds alike (IEEE 754), for tests
 * that compare float64 numbers of Node and a browser bit for bit: the two V8s' own Math.exp,
 * expm1 and tanh differ in the last bit for some arguments. Accurate to a few ulps, not correctly
 * rounded: what matters is that both sides compute the same bits.
 */

const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const bits = new DataView(new ArrayBuffer(8));

/** 2^k exactly, for -1074 ≤ k ≤ 1023. */
function pow2(k: number): number {
  if (k < -1022) return pow2(k + 60) * pow2(-60);
  bits.setUint32(0, (k + 1023) << 20);
  bits.setUint32(4, 0);
  return bits.getFloat64(0);
}

/** e^r - 1 for |r| ≤ 0.35 by its Taylor series to degree 16, in Horner's form. */
function expm1Small(r: number): number {
  let p = 1;
  for (let n = 16; n >= 2; n--) p = 1 + (r / n) * p;
  return r * p;
}

export function exp(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > 709.782712893384) return Infinity;
  if (x < -745.1332191019412) return 0;
  const k = Math.round(x / (LN2_HI + LN2_LO));
  const r = x - k * LN2_HI - k * LN2_LO;
  const e = 1 + expm1Small(r);
  return k > 1023 ? e * pow2(k - 1) * 2 : e * pow2(k);
}

export function expm1(x: number): number {
  return Math.abs(x) <= 0.35 ? expm1Small(x) : exp(x) - 1;
}

export function tanh(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) > 20) return Math.sign(x);
  if (x === 0) return x;
  const e = expm1(2 * x);
  return e / (e + 2);
}

/** Runs `f` with Math.exp, Math.expm1 and Math.tanh replaced by the functions above. */
export function withSameMath<R>(f: () => R): R {
  const saved = { exp: Math.exp, expm1: Math.expm1, tanh: Math.tanh };
  Object.assign(Math, { exp, expm1, tanh });
  try {
    return f();
  } finally {
    Object.assign(Math, saved);
  }
}
