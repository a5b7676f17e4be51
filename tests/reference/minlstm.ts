/**
 * examples/cells/minlstm.cell — minLSTM, Feng et al. 2024, "Were RNNs all we needed?" (§3.2), in
 * its sequential mode, with the gates normalised so that they sum to one:
 *   f = σ(Wf·x + bf)    i = σ(Wi·x + bi)    f' = f / (f + i)    i' = i / (f + i)
 *   h̃ = Wh·x + bh       h_new = f' ⊙ h + i' ⊙ h̃                               output: h
 * Adjoint (dh' includes this step's output gradient), with s = f + i:
 *   df' = dh'·h;  di' = dh'·h̃;  dh̃ = dh'·i';  dh = dh'·f'
 *   df = df'/s − (df'·f + di'·i)/s²   and   di = di'/s − (df'·f + di'·i)/s²
 *   da_f = df·f(1 − f), da_i = di·i(1 − i): dW += da·xᵀ, db += da, dx += Wᵀ·da (and dh̃ for Wh, bh).
 */
import type { Params, ReferenceCell } from "./bptt.js";
import { add, addMatTvec, addOuter, addTo, dSigmoid, matvec, mul, sigmoidV, zeros, type Mat, type Vec } from "./math.js";

interface Cache { x: Vec; h: Vec; f: Vec; i: Vec; s: Vec; ht: Vec }

export function minlstmReference(I = 8, H = 16): ReferenceCell<Cache> {
  const affine = (p: Params, k: string, x: Vec) => add(matvec(p[`W${k}`] as Mat, x), p[`b${k}`] as Vec);
  const affineBack = (p: Params, gp: Params, k: string, da: Vec, x: Vec, dx: Vec) => {
    addOuter(gp[`W${k}`] as Mat, da, x);
    addTo(gp[`b${k}`] as Vec, da);
    addMatTvec(dx, p[`W${k}`] as Mat, da);
  };
  return {
    name: "minlstm", file: "examples/cells/minlstm.cell",
    params: ["f", "i", "h"].flatMap((k) => [{ name: `W${k}`, shape: [H, I] }, { name: `b${k}`, shape: [H] }]),
    inputs: [{ name: "x", shape: [I] }],
    states: [{ name: "h", shape: [H] }],
    outputs: [{ name: "h", shape: [H] }],
    step(p, { x }, { h }) {
      const f = sigmoidV(affine(p, "f", x!));
      const i = sigmoidV(affine(p, "i", x!));
      const s = add(f, i);
      const ht = affine(p, "h", x!);
      const hNew = h!.map((hv, k) => (f[k]! / s[k]!) * hv + (i[k]! / s[k]!) * ht[k]!);
      return { states: { h: hNew }, outputs: { h: hNew }, cache: { x: x!, h: h!, f, i, s, ht } };
    },
    back(p, { x, h, f, i, s, ht }, dNext, dOut, gp) {
      const dhNew = add(dNext["h"]!, dOut["h"]!);
      const dfn = mul(dhNew, h), din = mul(dhNew, ht);
      /** d(f/s)/d· and d(i/s)/d· share the term −(df'·f + di'·i)/s². */
      const common = s.map((sv, k) => -(dfn[k]! * f[k]! + din[k]! * i[k]!) / (sv * sv));
      const df = s.map((sv, k) => dfn[k]! / sv + common[k]!);
      const di = s.map((sv, k) => din[k]! / sv + common[k]!);
      const dx = zeros(I);
      affineBack(p, gp, "f", dSigmoid(df, f), x, dx);
      affineBack(p, gp, "i", dSigmoid(di, i), x, dx);
      affineBack(p, gp, "h", dhNew.map((d, k) => (d * i[k]!) / s[k]!), x, dx);
      return { dx: { x: dx }, dPrev: { h: dhNew.map((d, k) => (d * f[k]!) / s[k]!) } };
    },
  };
}
