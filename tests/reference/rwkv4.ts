/**
 * examples/cells/rwkv4.cell — RWKV-4 time mixing (Peng et al. 2023, "RWKV: Reinventing RNNs for
 * the Transformer Era", §3 and its numerically stable WKV), with token shift: the state xp holds
 * the previous input, and each projection reads a learned per-channel mix of x and xp.
 *   xk = μk ⊙ x + (1 − μk) ⊙ xp   (likewise xv, xr)
 *   k = Wk·xk   v = Wv·xv   r = σ(Wr·xr)   w = −exp(decay)   (per channel, D of them)
 *   q = max(p, u + k):  wkv = (e^{p−q} ⊙ a + e^{u+k−q} ⊙ v) / (e^{p−q} ⊙ b + e^{u+k−q})
 *   q' = max(p + w, k): a' = e^{p+w−q'} ⊙ a + e^{k−q'} ⊙ v   b' = e^{p+w−q'} ⊙ b + e^{k−q'}   p' = q'
 *   y = Wo·(r ⊙ wkv)   xp' = x
 * States a, b, p (zero at t = 0: with a = b = 0 the value of p does not matter, as RWKV's p = −∞),
 * xp; output y. Ties of max split the gradient evenly (`maxShare`).
 */
import type { Params, ReferenceCell } from "./bptt.js";
import { addMatTvec, addOuter, addTo, matvec, maxShare, mul, sigmoid, zeros, type Mat, type Vec } from "./math.js";

interface Cache {
  x: Vec; xp: Vec; a: Vec; b: Vec; p: Vec; xk: Vec; xv: Vec; xr: Vec;
  k: Vec; v: Vec; r: Vec; w: Vec; uk: Vec; q: Vec; e1: Vec; e2: Vec; num: Vec; den: Vec; wkv: Vec; g: Vec;
  q2: Vec; f1: Vec; f2: Vec;
}

export function rwkv4Reference(I = 3, D = 4): ReferenceCell<Cache> {
  const vec = (n: number, f: (k: number) => number): Vec => Array.from({ length: n }, (_, k) => f(k));
  const mix = (p: Params, k: string, x: Vec, xp: Vec) => {
    const mu = p[`mu_${k}`] as Vec;
    return vec(I, (j) => mu[j]! * x[j]! + (1 - mu[j]!) * xp[j]!);
  };
  /** The adjoint of W·mix(x, xp): into gW, dμ, dx and dxp. */
  const mixBack = (p: Params, gp: Params, k: string, da: Vec, xm: Vec, x: Vec, xp: Vec, dx: Vec, dxp: Vec) => {
    addOuter(gp[`W${k}`] as Mat, da, xm);
    const dxm = zeros(I);
    addMatTvec(dxm, p[`W${k}`] as Mat, da);
    const mu = p[`mu_${k}`] as Vec, gmu = gp[`mu_${k}`] as Vec;
    for (let j = 0; j < I; j++) {
      gmu[j]! += dxm[j]! * (x[j]! - xp[j]!);
      dx[j]! += dxm[j]! * mu[j]!;
      dxp[j]! += dxm[j]! * (1 - mu[j]!);
    }
  };
  return {
    name: "rwkv4", file: "examples/cells/rwkv4.cell",
    params: [
      ...["k", "v", "r"].flatMap((k) => [{ name: `W${k}`, shape: [D, I] }, { name: `mu_${k}`, shape: [I] }]),
      { name: "decay", shape: [D] }, { name: "u", shape: [D] }, { name: "Wo", shape: [I, D] },
    ],
    dataScale: 1, // both sides of both maxes in the eval tests' data
    inputs: [{ name: "x", shape: [I] }],
    states: [{ name: "a", shape: [D] }, { name: "b", shape: [D] }, { name: "p", shape: [D] }, { name: "xp", shape: [I] }],
    outputs: [{ name: "y", shape: [I] }],
    step(P, { x }, { a, b, p, xp }) {
      const u = P["u"] as Vec;
      const xk = mix(P, "k", x!, xp!), xv = mix(P, "v", x!, xp!), xr = mix(P, "r", x!, xp!);
      const k = matvec(P["Wk"] as Mat, xk), v = matvec(P["Wv"] as Mat, xv);
      const r = matvec(P["Wr"] as Mat, xr).map(sigmoid);
      const w = (P["decay"] as Vec).map((d) => -Math.exp(d));
      const uk = vec(D, (c) => u[c]! + k[c]!);
      const q = vec(D, (c) => Math.max(p![c]!, uk[c]!));
      const e1 = vec(D, (c) => Math.exp(p![c]! - q[c]!)), e2 = vec(D, (c) => Math.exp(u[c]! + k[c]! - q[c]!));
      const num = vec(D, (c) => e1[c]! * a![c]! + e2[c]! * v[c]!), den = vec(D, (c) => e1[c]! * b![c]! + e2[c]!);
      const wkv = vec(D, (c) => num[c]! / den[c]!);
      const g = mul(r, wkv);
      const y = matvec(P["Wo"] as Mat, g);
      const q2 = vec(D, (c) => Math.max(p![c]! + w[c]!, k[c]!));
      const f1 = vec(D, (c) => Math.exp(p![c]! + w[c]! - q2[c]!)), f2 = vec(D, (c) => Math.exp(k[c]! - q2[c]!));
      const aNew = vec(D, (c) => f1[c]! * a![c]! + f2[c]! * v[c]!), bNew = vec(D, (c) => f1[c]! * b![c]! + f2[c]!);
      return {
        states: { a: aNew, b: bNew, p: q2, xp: x!.slice() },
        outputs: { y },
        cache: { x: x!, xp: xp!, a: a!, b: b!, p: p!, xk, xv, xr, k, v, r, w, uk, q, e1, e2, num, den, wkv, g, q2, f1, f2 },
      };
    },
    maxMargins: ({ p, k, w, uk }) => ({
      "max(p, u + k)": p.map((pv, ch) => pv - uk[ch]!),
      "max(p + w, k)": p.map((pv, ch) => pv + w[ch]! - k[ch]!),
    }),
    back(P, c, dNext, dOut, gp) {
      const { x, xp, a, b, p, xk, xv, xr, k, v, r, w, q, e1, e2, den, wkv, g, q2, f1, f2 } = c;
      const u = P["u"] as Vec;
      const dy = dOut["y"]!;
      addOuter(gp["Wo"] as Mat, dy, g);
      const dg = zeros(D);
      addMatTvec(dg, P["Wo"] as Mat, dy);
      const dr = mul(dg, wkv), dwkv = mul(dg, r);
      const da = zeros(D), db = zeros(D), dp = zeros(D), dk = zeros(D), dv = zeros(D), dw = zeros(D);
      const gu = gp["u"] as Vec, gdecay = gp["decay"] as Vec;
      for (let ch = 0; ch < D; ch++) {
        // The output: wkv = num / den.
        const dnum = dwkv[ch]! / den[ch]!, dden = (-dwkv[ch]! * wkv[ch]!) / den[ch]!;
        const de1 = dnum * a[ch]! + dden * b[ch]!, de2 = dnum * v[ch]! + dden;
        da[ch]! += dnum * e1[ch]!;
        db[ch]! += dden * e1[ch]!;
        dv[ch]! += dnum * e2[ch]!;
        const dq = -de1 * e1[ch]! - de2 * e2[ch]!;
        const sq = maxShare(p[ch]!, u[ch]! + k[ch]!);
        dp[ch]! += de1 * e1[ch]! + dq * sq;
        const duk = de2 * e2[ch]! + dq * (1 - sq);
        gu[ch]! += duk;
        dk[ch]! += duk;
        // The state update: a' = f1·a + f2·v, b' = f1·b + f2, p' = q2.
        const daN = dNext["a"]![ch]!, dbN = dNext["b"]![ch]!;
        const df1 = daN * a[ch]! + dbN * b[ch]!, df2 = daN * v[ch]! + dbN;
        da[ch]! += daN * f1[ch]!;
        db[ch]! += dbN * f1[ch]!;
        dv[ch]! += daN * f2[ch]!;
        const dq2 = dNext["p"]![ch]! - df1 * f1[ch]! - df2 * f2[ch]!;
        const s2 = maxShare(p[ch]! + w[ch]!, k[ch]!);
        const dpw = df1 * f1[ch]! + dq2 * s2;
        dk[ch]! += df2 * f2[ch]! + dq2 * (1 - s2);
        dp[ch]! += dpw;
        dw[ch]! += dpw;
        gdecay[ch]! += dw[ch]! * w[ch]!;
      }
      const dx = dNext["xp"]!.slice(), dxp = zeros(I);
      mixBack(P, gp, "k", dk, xk, x, xp, dx, dxp);
      mixBack(P, gp, "v", dv, xv, x, xp, dx, dxp);
      mixBack(P, gp, "r", dr.map((d, ch) => d * r[ch]! * (1 - r[ch]!)), xr, x, xp, dx, dxp);
      return { dx: { x: dx }, dPrev: { a: da, b: db, p: dp, xp: dxp } };
    },
  };
}
