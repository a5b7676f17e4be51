/**
 * examples/cells/slstm.cell — the sLSTM of xLSTM (Beck et al. 2024, "xLSTM: Extended Long
 * Short-Term Memory", §2.2 and appendix), one head, with the exponential forget gate and the
 * stabilizer state m. Recurrent weights R act on h as full matrices (the paper's are
 * block-diagonal, one block per head; one head makes them full).
 *   z̃ = Wz·x + Rz·h + bz   ĩ = Wi·x + Ri·h + bi   f̃ = Wf·x + Rf·h + bf   õ = Wo·x + Ro·h + bo
 *   m' = max(f̃ + m, ĩ)                 (log f = f̃ for the exponential forget gate f = exp(f̃))
 *   i' = exp(ĩ − m')   f' = exp(f̃ + m − m')
 *   c' = f' ⊙ c + i' ⊙ tanh(z̃)   n' = f' ⊙ n + i'   h' = σ(õ) ⊙ c' / n'
 * States h, c, n, m; output h. At a tie of max the gradient is split evenly (`maxShare`).
 * Adjoint (dh' includes the output gradient; dc', dn', dm' come from the next step):
 *   do = dh'·c'/n';  dc' += dh'·o/n';  dn' −= dh'·o·c'/n'²
 *   df' = dc'·c + dn'·n;  di' = dc'·z + dn';  dz = dc'·i';  dc = dc'·f';  dn = dn'·f'
 *   dm' −= di'·i' + df'·f';  dĩ = di'·i' + dm'·[ĩ wins];  df̃ = df'·f' + dm'·[f̃ + m wins];
 *   dm = df'·f' + dm'·[f̃ + m wins];  then each gate's pre-activation as in the LSTM.
 */
import type { Params, ReferenceCell } from "./bptt.js";
import {
  add, addMatTvec, addOuter, addTo, dSigmoid, dTanh, matvec, maxShare, sigmoidV, tanhV, zeros, type Mat, type Vec,
} from "./math.js";

interface Cache {
  x: Vec; h: Vec; c: Vec; n: Vec; m: Vec;
  zt: Vec; it: Vec; ft: Vec; z: Vec; o: Vec; ip: Vec; fp: Vec; cNew: Vec; nNew: Vec;
}

const GATES = ["z", "i", "f", "o"] as const;

export function slstmReference(I = 3, H = 4): ReferenceCell<Cache> {
  const pre = (p: Params, k: string, x: Vec, h: Vec) =>
    add(matvec(p[`W${k}`] as Mat, x), matvec(p[`R${k}`] as Mat, h), p[`b${k}`] as Vec);
  const preBack = (p: Params, gp: Params, k: string, da: Vec, x: Vec, h: Vec, dx: Vec, dh: Vec) => {
    addOuter(gp[`W${k}`] as Mat, da, x);
    addOuter(gp[`R${k}`] as Mat, da, h);
    addTo(gp[`b${k}`] as Vec, da);
    addMatTvec(dx, p[`W${k}`] as Mat, da);
    addMatTvec(dh, p[`R${k}`] as Mat, da);
  };
  const vec = (n: number, f: (k: number) => number): Vec => Array.from({ length: n }, (_, k) => f(k));
  return {
    name: "slstm", file: "examples/cells/slstm.cell",
    params: GATES.flatMap((k) => [
      { name: `W${k}`, shape: [H, I] }, { name: `R${k}`, shape: [H, H] }, { name: `b${k}`, shape: [H] },
    ]),
    inputs: [{ name: "x", shape: [I] }],
    states: [{ name: "h", shape: [H] }, { name: "c", shape: [H] }, { name: "n", shape: [H] }, { name: "m", shape: [H] }],
    outputs: [{ name: "h", shape: [H] }],
    step(p, { x }, { h, c, n, m }) {
      const [zt, it, ft, ot] = GATES.map((k) => pre(p, k, x!, h!)) as [Vec, Vec, Vec, Vec];
      const z = tanhV(zt), o = sigmoidV(ot);
      const mNew = vec(H, (k) => Math.max(ft[k]! + m![k]!, it[k]!));
      const ip = vec(H, (k) => Math.exp(it[k]! - mNew[k]!));
      const fp = vec(H, (k) => Math.exp(ft[k]! + m![k]! - mNew[k]!));
      const cNew = vec(H, (k) => fp[k]! * c![k]! + ip[k]! * z[k]!);
      const nNew = vec(H, (k) => fp[k]! * n![k]! + ip[k]!);
      const hNew = vec(H, (k) => (o[k]! * cNew[k]!) / nNew[k]!);
      return {
        states: { h: hNew, c: cNew, n: nNew, m: mNew },
        outputs: { h: hNew },
        cache: { x: x!, h: h!, c: c!, n: n!, m: m!, zt, it, ft, z, o, ip, fp, cNew, nNew },
      };
    },
    maxMargins: ({ ft, m, it }) => ({ "max(f̃ + m, ĩ)": ft.map((f, k) => f + m[k]! - it[k]!) }),
    back(p, { x, h, c, n, m, it, ft, z, o, ip, fp, cNew, nNew }, dNext, dOut, gp) {
      const dh = add(dNext["h"]!, dOut["h"]!);
      const dcNew = vec(H, (k) => dNext["c"]![k]! + (dh[k]! * o[k]!) / nNew[k]!);
      const dnNew = vec(H, (k) => dNext["n"]![k]! - (dh[k]! * o[k]! * cNew[k]!) / (nNew[k]! * nNew[k]!));
      const dO = vec(H, (k) => (dh[k]! * cNew[k]!) / nNew[k]!);
      const dfp = vec(H, (k) => dcNew[k]! * c[k]! + dnNew[k]! * n[k]!);
      const dip = vec(H, (k) => dcNew[k]! * z[k]! + dnNew[k]!);
      const dmNew = vec(H, (k) => dNext["m"]![k]! - dip[k]! * ip[k]! - dfp[k]! * fp[k]!);
      const share = vec(H, (k) => maxShare(ft[k]! + m[k]!, it[k]!));
      const dit = vec(H, (k) => dip[k]! * ip[k]! + dmNew[k]! * (1 - share[k]!));
      const dft = vec(H, (k) => dfp[k]! * fp[k]! + dmNew[k]! * share[k]!);
      const dm = dft.slice();
      const dx = zeros(I), dhPrev = zeros(H);
      preBack(p, gp, "z", dTanh(vec(H, (k) => dcNew[k]! * ip[k]!), z), x, h, dx, dhPrev);
      preBack(p, gp, "i", dit, x, h, dx, dhPrev);
      preBack(p, gp, "f", dft, x, h, dx, dhPrev);
      preBack(p, gp, "o", dSigmoid(dO, o), x, h, dx, dhPrev);
      return {
        dx: { x: dx },
        dPrev: { h: dhPrev, c: vec(H, (k) => dcNew[k]! * fp[k]!), n: vec(H, (k) => dnNew[k]! * fp[k]!), m: dm },
      };
    },
  };
}
