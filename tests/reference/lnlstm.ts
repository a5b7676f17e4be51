/**
 * examples/cells/lnlstm.cell, the layer-normalised LSTM (Ba, Kiros & Hinton). For each gate k:
 *   a_k = W_k·x + U_k·h;  d_k = a_k − mean(a_k);  s_k = √(mean(d_k²) + 1e-5);  n_k = d_k / s_k
 *   f, i, o = σ(g_k ⊙ n_k + b_k),  g = tanh(gg ⊙ n_g + bg)
 *   c' = f ⊙ c + i ⊙ g;  d_c = c' − mean(c');  n_c = d_c / √(mean(d_c²) + 1e-5)
 *   h' = o ⊙ tanh(gc ⊙ n_c + bc)                                                     outputs: h, c
 * Adjoint of the normalisation n = d/s with d = a − mean(a) (H entries):
 *   dd_j = dn_j / s − d_j·(Σ_k dn_k·d_k) / (H·s³);   da_j = dd_j − mean(dd)
 * and of the gain and bias: dg_k += dpre ⊙ n_k, db_k += dpre, dn_k = dpre ⊙ g_k.
 */
import type { Params, ReferenceCell } from "./bptt.js";
import {
  add, addMatTvec, addOuter, addTo, dSigmoid, dTanh, dot, matvec, mean, mul, sigmoidV, tanhV, zeros, type Mat, type Vec,
} from "./math.js";

const EPS = 1e-5;

interface Norm { d: Vec; s: number; n: Vec }
interface Cache { x: Vec; h: Vec; c: Vec; f: Vec; i: Vec; g: Vec; o: Vec; tm: Vec; norms: Record<string, Norm> }

function normalise(a: Vec): Norm {
  const mu = mean(a);
  const d = a.map((v) => v - mu);
  const s = Math.sqrt(mean(d.map((v) => v * v)) + EPS);
  return { d, s, n: d.map((v) => v / s) };
}

function normaliseBack({ d, s }: Norm, dn: Vec): Vec {
  const H = d.length;
  const k = dot(dn, d) / (H * s * s * s);
  const dd = dn.map((g, j) => g / s - d[j]! * k);
  const mu = mean(dd);
  return dd.map((v) => v - mu);
}

export function lnlstmReference(I = 8, H = 16): ReferenceCell<Cache> {
  const m = (p: Params, n: string) => p[n] as Mat;
  const v = (p: Params, n: string) => p[n] as Vec;
  return {
    name: "lnlstm", file: "examples/cells/lnlstm.cell",
    params: [
      ...["f", "i", "g", "o"].flatMap((k) => [
        { name: `W${k}`, shape: [H, I] }, { name: `U${k}`, shape: [H, H] }, { name: `g${k}`, shape: [H] }, { name: `b${k}`, shape: [H] },
      ]),
      { name: "gc", shape: [H] }, { name: "bc", shape: [H] },
    ],
    inputs: [{ name: "x", shape: [I] }],
    states: [{ name: "h", shape: [H] }, { name: "c", shape: [H] }],
    outputs: [{ name: "h", shape: [H] }, { name: "c", shape: [H] }],
    step(p, { x }, { h, c }) {
      const norms: Record<string, Norm> = {};
      const pre = (k: string) => {
        norms[k] = normalise(add(matvec(m(p, `W${k}`), x!), matvec(m(p, `U${k}`), h!)));
        return add(mul(v(p, `g${k}`), norms[k]!.n), v(p, `b${k}`));
      };
      const f = sigmoidV(pre("f")), i = sigmoidV(pre("i")), g = tanhV(pre("g")), o = sigmoidV(pre("o"));
      const cNew = add(mul(f, c!), mul(i, g));
      norms["c"] = normalise(cNew);
      const tm = tanhV(add(mul(v(p, "gc"), norms["c"].n), v(p, "bc")));
      const hNew = mul(o, tm);
      return { states: { h: hNew, c: cNew }, outputs: { h: hNew, c: cNew }, cache: { x: x!, h: h!, c: c!, f, i, g, o, tm, norms } };
    },
    back(p, { x, h, c, f, i, g, o, tm, norms }, dNext, dOut, gp) {
      const dhNew = add(dNext["h"]!, dOut["h"]!);
      const dx = zeros(I), dh = zeros(H);
      /** From dLoss/d(gain ⊙ n + bias) back to the normalised quantity's input. */
      const affineBack = (gain: string, bias: string, norm: Norm, dpre: Vec): Vec => {
        addTo(v(gp, gain), mul(dpre, norm.n));
        addTo(v(gp, bias), dpre);
        return normaliseBack(norm, mul(dpre, v(p, gain)));
      };
      const gate = (k: string, dpre: Vec) => {
        const da = affineBack(`g${k}`, `b${k}`, norms[k]!, dpre);
        addOuter(m(gp, `W${k}`), da, x);
        addOuter(m(gp, `U${k}`), da, h);
        addMatTvec(dx, m(p, `W${k}`), da);
        addMatTvec(dh, m(p, `U${k}`), da);
      };
      gate("o", dSigmoid(mul(dhNew, tm), o));
      const dcNew = add(dNext["c"]!, dOut["c"]!, affineBack("gc", "bc", norms["c"]!, dTanh(mul(dhNew, o), tm)));
      gate("f", dSigmoid(mul(dcNew, c), f));
      gate("i", dSigmoid(mul(dcNew, g), i));
      gate("g", dTanh(mul(dcNew, i), g));
      return { dx: { x: dx }, dPrev: { h: dh, c: mul(dcNew, f) } };
    },
  };
}
