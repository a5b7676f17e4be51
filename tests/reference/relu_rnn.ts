/**
 * examples/cells/relu_rnn.cell:  h = relu(Wx·x + Wh·h + b);  output y = Wy·h + by (the new h).
 * The only output is y; h is a state, so it still has a final value and a final gradient.
 * Adjoint: dy given; dh' = dNext.h + Wyᵀ·dy, dWy += dy·h'ᵀ, dby += dy;
 *          da = dh'·[a > 0]; then as the Elman RNN.
 */
import type { Params, ReferenceCell } from "./bptt.js";
import { add, addMatTvec, addOuter, addTo, matvec, reluV, zeros, type Mat, type Vec } from "./math.js";

export function reluRnnReference(I = 8, H = 16, O = 4): ReferenceCell<{ x: Vec; h: Vec; a: Vec; hNew: Vec }> {
  const m = (p: Params, n: string) => p[n] as Mat;
  return {
    name: "relu_rnn", file: "examples/cells/relu_rnn.cell",
    params: [
      { name: "Wx", shape: [H, I] }, { name: "Wh", shape: [H, H] }, { name: "b", shape: [H] },
      { name: "Wy", shape: [O, H] }, { name: "by", shape: [O] },
    ],
    inputs: [{ name: "x", shape: [I] }],
    states: [{ name: "h", shape: [H] }],
    outputs: [{ name: "y", shape: [O] }],
    step(p, { x }, { h }) {
      const a = add(matvec(m(p, "Wx"), x!), matvec(m(p, "Wh"), h!), p["b"] as Vec);
      const hNew = reluV(a);
      const y = add(matvec(m(p, "Wy"), hNew), p["by"] as Vec);
      return { states: { h: hNew }, outputs: { y }, cache: { x: x!, h: h!, a, hNew } };
    },
    back(p, { x, h, a, hNew }, dNext, dOut, gp) {
      const dy = dOut["y"]!;
      addOuter(m(gp, "Wy"), dy, hNew);
      addTo(gp["by"] as Vec, dy);
      const dhNew = dNext["h"]!.slice();
      addMatTvec(dhNew, m(p, "Wy"), dy);
      const da = dhNew.map((g, i) => (a[i]! > 0 ? g : 0));
      addOuter(m(gp, "Wx"), da, x);
      addOuter(m(gp, "Wh"), da, h);
      addTo(gp["b"] as Vec, da);
      const dx = zeros(I), dh = zeros(H);
      addMatTvec(dx, m(p, "Wx"), da);
      addMatTvec(dh, m(p, "Wh"), da);
      return { dx: { x: dx }, dPrev: { h: dh } };
    },
  };
}
