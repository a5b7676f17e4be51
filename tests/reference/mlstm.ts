/**
 * examples/cells/mlstm.cell — the mLSTM of xLSTM (Beck et al. 2024, "xLSTM: Extended Long
 * Short-Term Memory", §2.3), one head of size D: a matrix memory C updated by the covariance rule,
 * a normalizer n, scalar exponential input and sigmoid forget gates (log f = log σ(f̃)), and the
 * scalar stabilizer state m.
 *   q = Wq·x + bq   k = (Wk·x + bk)/√D   v = Wv·x + bv   o = σ(Wo·x + bo)
 *   ĩ = wi·x + bi   f̃ = wf·x + bf                     (wi, wf vectors; bi, bf scalar params)
 *   m' = max(log σ(f̃) + m, ĩ)   i' = exp(ĩ − m')   f' = exp(log σ(f̃) + m − m')
 *   C' = f'·C + i'·v kᵀ   n' = f'·n + i'·k   h = o ⊙ (C'·q) / max(|n'·q|, 1)
 * States C[D, D], n[D], m[1] (the scalar stabilizer as a one-element vector, as the cell keeps
 * it: states are vectors or matrices); output h. Subgradients: max splits a tie evenly, |s| has
 * derivative 0 at s = 0 (PyTorch's sign(0)).
 * Adjoint (dC', dn', dm' from the next step; dh this step's output gradient), with u = C'·q and
 * d = max(|s|, 1), s = n'·q:
 *   do = dh·u/d;  du = dh·o/d;  dd = −Σ(dh·o·u)/d²;  ds = dd·sign(s)·[|s| > 1]
 *   dC' += du·qᵀ;  dq = C'ᵀ·du + ds·n';  dn' += ds·q
 *   df' = Σ dC'⊙C + dn'·n;  di' = vᵀ·dC'·k + dn'·k;  dv = i'·dC'·k;  dk = i'·(dC'ᵀ·v + dn')
 *   dm' −= di'·i' + df'·f';  dĩ = di'·i' + dm'·[ĩ wins];  dlogf = df'·f' + dm'·[log f + m wins]
 *   dm = dlogf;  df̃ = dlogf·(1 − σ(f̃));  then the affine maps' adjoints.
 */
import { asNamed, matOf, type Params, type ReferenceCell } from "./bptt.js";
import {
  add, addMatTvec, addOuter, addTo, dSigmoid, dot, matvec, maxShare, scale, sigmoid, sigmoidV, zeros,
  type Mat, type Vec,
} from "./math.js";

interface Cache {
  x: Vec; C: Mat; n: Vec; m: number;
  q: Vec; k: Vec; v: Vec; o: Vec; it: number; ft: number; logf: number; ip: number; fp: number;
  CNew: Mat; nNew: Vec; u: Vec; s: number; d: number;
}

export function mlstmReference(I = 3, D = 4): ReferenceCell<Cache> {
  const affine = (p: Params, k: string, x: Vec) => add(matvec(p[`W${k}`] as Mat, x), p[`b${k}`] as Vec);
  const affineBack = (p: Params, gp: Params, k: string, da: Vec, x: Vec, dx: Vec) => {
    addOuter(gp[`W${k}`] as Mat, da, x);
    addTo(gp[`b${k}`] as Vec, da);
    addMatTvec(dx, p[`W${k}`] as Mat, da);
  };
  /** w·x + b for a scalar gate, and its adjoint. */
  const gate = (p: Params, k: string, x: Vec) => dot(p[`w${k}`] as Vec, x) + (p[`b${k}`] as number);
  const gateBack = (p: Params, gp: Params, k: string, da: number, x: Vec, dx: Vec) => {
    addTo(gp[`w${k}`] as Vec, scale(x, da));
    gp[`b${k}`] = (gp[`b${k}`] as number) + da;
    addTo(dx, scale(p[`w${k}`] as Vec, da));
  };
  const root = Math.sqrt(D);
  return {
    name: "mlstm", file: "examples/cells/mlstm.cell",
    params: [
      ...["q", "k", "v"].flatMap((k) => [{ name: `W${k}`, shape: [D, I] }, { name: `b${k}`, shape: [D] }]),
      { name: "wi", shape: [I] }, { name: "bi", shape: [] }, { name: "wf", shape: [I] }, { name: "bf", shape: [] },
      { name: "Wo", shape: [D, I] }, { name: "bo", shape: [D] },
    ],
    dataScale: 1.5, // both sides of every max (and |n·q| both below and above 1) in the eval tests' data
    inputs: [{ name: "x", shape: [I] }],
    states: [{ name: "C", shape: [D, D] }, { name: "n", shape: [D] }, { name: "m", shape: [1] }],
    outputs: [{ name: "h", shape: [D] }],
    step(p, named, s) {
      const x = named["x"]!, C = matOf(s["C"]), n = s["n"]!, m = s["m"]![0]!;
      const q = affine(p, "q", x), k = scale(affine(p, "k", x), 1 / root), v = affine(p, "v", x);
      const o = sigmoidV(affine(p, "o", x));
      const it = gate(p, "i", x), ft = gate(p, "f", x);
      const logf = Math.log(sigmoid(ft));
      const mNew = Math.max(logf + m, it);
      const ip = Math.exp(it - mNew), fp = Math.exp(logf + m - mNew);
      const CNew = C.map((row, r) => row.map((c, j) => fp * c + ip * v[r]! * k[j]!));
      const nNew = n.map((nv, j) => fp * nv + ip * k[j]!);
      const u = matvec(CNew, q);
      const sq = dot(nNew, q), d = Math.max(Math.abs(sq), 1);
      const h = u.map((uv, r) => (o[r]! * uv) / d);
      return {
        states: { C: asNamed(CNew), n: nNew, m: [mNew] },
        outputs: { h },
        cache: { x, C, n, m, q, k, v, o, it, ft, logf, ip, fp, CNew, nNew, u, s: sq, d },
      };
    },
    maxMargins: ({ logf, m, it, s }) => ({ "max(log f + m, ĩ)": [logf + m - it], "max(|n·q|, 1)": [Math.abs(s) - 1] }),
    back(p, c, dNext, dOut, gp) {
      const { x, C, n, m, q, k, v, o, it, ft, logf, ip, fp, CNew, nNew, u, s, d } = c;
      const dh = dOut["h"]!;
      const dC = matOf(dNext["C"]).map((row) => row.slice());
      const dn = dNext["n"]!.slice();
      const dO = u.map((uv, r) => (dh[r]! * uv) / d);
      const du = o.map((ov, r) => (dh[r]! * ov) / d);
      const dd = -dot(du, u) / d;
      const ds = Math.abs(s) > 1 ? dd * Math.sign(s) : Math.abs(s) < 1 ? 0 : dd * Math.sign(s) * 0.5;
      addOuter(dC, du, q);
      const dq = zeros(D);
      addMatTvec(dq, CNew, du);
      addTo(dq, scale(nNew, ds));
      addTo(dn, scale(q, ds));
      const dCk = matvec(dC, k);
      const dfp = dC.reduce((acc, row, r) => acc + dot(row, C[r]!), 0) + dot(dn, n);
      const dip = dot(v, dCk) + dot(dn, k);
      const dv = scale(dCk, ip);
      const dk = zeros(D);
      addMatTvec(dk, dC, v);
      addTo(dk, dn);
      const dkScaled = scale(dk, ip);
      const dm = dNext["m"]![0]! - dip * ip - dfp * fp;
      const share = maxShare(logf + m, it);
      const dit = dip * ip + dm * (1 - share);
      const dlogf = dfp * fp + dm * share;
      const dft = dlogf * (1 - sigmoid(ft));
      const dx = zeros(I);
      affineBack(p, gp, "q", dq, x, dx);
      affineBack(p, gp, "k", scale(dkScaled, 1 / root), x, dx);
      affineBack(p, gp, "v", dv, x, dx);
      affineBack(p, gp, "o", dSigmoid(dO, o), x, dx);
      gateBack(p, gp, "i", dit, x, dx);
      gateBack(p, gp, "f", dft, x, dx);
      return {
        dx: { x: dx },
        dPrev: { C: asNamed(dC.map((row) => scale(row, fp))), n: scale(dn, fp), m: [dlogf] },
      };
    },
  };
}
