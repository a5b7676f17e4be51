/**
 * examples/cells/gru.cell, the tutorial ("seed") GRU: W acts on the previous h, U on the input x.
 *   u = σ(Wu·h + Uu·x + bu)    r = σ(Wr·h + Ur·x + br)
 *   h̃ = tanh(Wh·(r ⊙ h) + Uh·x + bh)    h' = (1 − u) ⊙ h + u ⊙ h̃          output: h
 * Adjoint: du = dh'·(h̃ − h);  dh̃ = dh'·u;  dh = dh'·(1 − u)
 *          da_h = dh̃·(1 − h̃²): dWh += da_h·(r⊙h)ᵀ, dUh += da_h·xᵀ, dbh += da_h, dx += Uhᵀ·da_h;
 *          d(r⊙h) = Whᵀ·da_h: dr = d(r⊙h)·h, dh += d(r⊙h)·r
 *          da_r = dr·r(1 − r), da_u = du·u(1 − u): dW += da·hᵀ, dU += da·xᵀ, db += da, dh += Wᵀ·da, dx += Uᵀ·da.
 */
import type { Params, ReferenceCell } from "./bptt.js";
import {
  add, addMatTvec, addOuter, addTo, dSigmoid, dTanh, matvec, mul, sigmoidV, sub, tanhV, zeros, type Mat, type Vec,
} from "./math.js";

interface Cache { x: Vec; h: Vec; u: Vec; r: Vec; rh: Vec; ht: Vec }

export function gruReference(I = 8, H = 16): ReferenceCell<Cache> {
  const m = (p: Params, n: string) => p[n] as Mat;
  const v = (p: Params, n: string) => p[n] as Vec;
  /** W_k·hh + U_k·x + b_k and its adjoint (hh is h, or r ⊙ h for the candidate). */
  const pre = (p: Params, k: string, hh: Vec, x: Vec) => add(matvec(m(p, `W${k}`), hh), matvec(m(p, `U${k}`), x), v(p, `b${k}`));
  const preBack = (p: Params, gp: Params, k: string, da: Vec, hh: Vec, x: Vec, dhh: Vec, dx: Vec) => {
    addOuter(m(gp, `W${k}`), da, hh);
    addOuter(m(gp, `U${k}`), da, x);
    addTo(v(gp, `b${k}`), da);
    addMatTvec(dhh, m(p, `W${k}`), da);
    addMatTvec(dx, m(p, `U${k}`), da);
  };
  return {
    name: "gru", file: "examples/cells/gru.cell",
    params: ["u", "r", "h"].flatMap((k) => [
      { name: `W${k}`, shape: [H, H] }, { name: `U${k}`, shape: [H, I] }, { name: `b${k}`, shape: [H] },
    ]),
    inputs: [{ name: "x", shape: [I] }],
    states: [{ name: "h", shape: [H] }],
    outputs: [{ name: "h", shape: [H] }],
    step(p, { x }, { h }) {
      const u = sigmoidV(pre(p, "u", h!, x!));
      const r = sigmoidV(pre(p, "r", h!, x!));
      const rh = mul(r, h!);
      const ht = tanhV(pre(p, "h", rh, x!));
      const hNew = add(mul(u.map((a) => 1 - a), h!), mul(u, ht));
      return { states: { h: hNew }, outputs: { h: hNew }, cache: { x: x!, h: h!, u, r, rh, ht } };
    },
    back(p, { x, h, u, r, rh, ht }, dNext, dOut, gp) {
      const dhNew = add(dNext["h"]!, dOut["h"]!);
      const dx = zeros(I), dh = mul(dhNew, u.map((a) => 1 - a)), drh = zeros(H);
      preBack(p, gp, "h", dTanh(mul(dhNew, u), ht), rh, x, drh, dx);
      addTo(dh, mul(drh, r));
      preBack(p, gp, "r", dSigmoid(mul(drh, h), r), h, x, dh, dx);
      preBack(p, gp, "u", dSigmoid(mul(dhNew, sub(ht, h)), u), h, x, dh, dx);
      return { dx: { x: dx }, dPrev: { h: dh } };
    },
  };
}
