/**
 * examples/cells/rnn.cell, the Elman RNN:  h = tanh(Wx·x + Wh·h + b).  Output: h.
 * Adjoint: da = dh'·(1 − h'²); dWx += da·xᵀ, dWh += da·hᵀ, db += da; dx = Wxᵀ·da, dh = Whᵀ·da.
 */
import type { Params, ReferenceCell } from "./bptt.js";
import { add, addMatTvec, addOuter, addTo, dTanh, matvec, tanhV, zeros, type Mat, type Vec } from "./math.js";

export function rnnReference(I = 8, H = 16): ReferenceCell<{ x: Vec; h: Vec; hNew: Vec }> {
  const m = (p: Params, n: string) => p[n] as Mat;
  return {
    name: "rnn", file: "examples/cells/rnn.cell",
    params: [{ name: "Wx", shape: [H, I] }, { name: "Wh", shape: [H, H] }, { name: "b", shape: [H] }],
    inputs: [{ name: "x", shape: [I] }],
    states: [{ name: "h", shape: [H] }],
    outputs: [{ name: "h", shape: [H] }],
    step(p, { x }, { h }) {
      const hNew = tanhV(add(matvec(m(p, "Wx"), x!), matvec(m(p, "Wh"), h!), p["b"] as Vec));
      return { states: { h: hNew }, outputs: { h: hNew }, cache: { x: x!, h: h!, hNew } };
    },
    back(p, { x, h, hNew }, dNext, dOut, gp) {
      const da = dTanh(add(dNext["h"]!, dOut["h"]!), hNew);
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
