/** Scalar helpers the emitted kernels call (small enough for V8 to inline). */

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** log(1 + eˣ), without overflow for large x. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

// erf after fdlibm's s_erf.c (Sun Microsystems, 1993: "permission to use, copy, modify, and
// distribute this software is freely granted, provided that this notice is preserved"): rational
// approximations on [0, 0.84375], [0.84375, 1.25], [1.25, 1/0.35] and [1/0.35, 6], under 1 ulp.
const ERX = 8.45062911510467529297e-1;
const EFX = 1.28379167095512586316e-1;
const PP = [1.28379167095512558561e-1, -3.25042107247001499370e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3, -2.37630166566501626084e-5];
const QQ = [3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4, -3.96022827877536812320e-6];
const PA = [-2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.16637559486879084300e-3];
const QA = [1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.36370839120290507362e-2, 1.19844998467991074170e-2];
const RA = [-9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1, -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592];
const SA = [1.96512716674392571292e1, 1.37657754143519042600e2, 4.34565877475229228821e2, 6.45387271733267880336e2, 4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2];
const RB = [-9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2, -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2];
const SB = [3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3, 2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1];

/** c₀ + z·(c₁ + z·(c₂ + …)) */
function poly(c: readonly number[], z: number): number {
  let r = c[c.length - 1]!;
  for (let k = c.length - 2; k >= 0; k--) r = c[k]! + z * r;
  return r;
}

const erfBits = new DataView(new ArrayBuffer(8));

/** The error function, to within 1 ulp; erf(±∞) = ±1, erf(NaN) = NaN. */
export function erf(x: number): number {
  if (x !== x) return x;
  const a = Math.abs(x);
  if (a < 0.84375) {
    if (a < 2 ** -28) return x + EFX * x;
    const z = x * x;
    return x + x * (poly(PP, z) / (1 + z * poly(QQ, z)));
  }
  if (a < 1.25) {
    const s = a - 1;
    const r = ERX + poly(PA, s) / (1 + s * poly(QA, s));
    return x < 0 ? -r : r;
  }
  if (a >= 6) return x < 0 ? -1 : 1;
  const s = 1 / (a * a);
  const [R, S] = a < 1 / 0.35 ? [poly(RA, s), 1 + s * poly(SA, s)] : [poly(RB, s), 1 + s * poly(SB, s)];
  // exp(-a² - 0.5625 + R/S) as exp(-z² - 0.5625)·exp((z - a)(z + a) + R/S), z = a with its low word cleared.
  erfBits.setFloat64(0, a);
  erfBits.setUint32(4, 0);
  const z = erfBits.getFloat64(0);
  const r = 1 - (Math.exp(-z * z - 0.5625) * Math.exp((z - a) * (z + a) + R / S)) / a;
  return x < 0 ? -r : r;
}

/** GELU in its exact form, x·Φ(x) = x/2·(1 + erf(x/√2)), as PyTorch's default. */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * Math.SQRT1_2));
}

/** Above this |n|, xⁿ is `Math.pow`; up to it, repeated multiplication. */
export const POWI_INLINE = 8;

/**
 * xⁿ for an integer n as the kernels write it: repeated multiplication from the left (1/xⁿ for
 * n < 0) up to |n| = POWI_INLINE, `Math.pow` beyond.
 */
export function powi(x: number, n: number): number {
  if (n === 0) return 1;
  if (Math.abs(n) > POWI_INLINE) return Math.pow(x, n);
  let r = x;
  for (let k = Math.abs(n); k > 1; k--) r *= x;
  return n < 0 ? 1 / r : r;
}

/** x/(1 + |x|). */
export function softsign(x: number): number {
  return x / (1 + Math.abs(x));
}

/** ELU as PyTorch computes it: x for x > 0, α·(eˣ − 1) otherwise. */
export function elu(x: number, alpha: number): number {
  return x > 0 ? x : alpha * Math.expm1(x);
}
