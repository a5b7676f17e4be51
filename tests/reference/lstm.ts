/**
 * examples/cells/lstm.cell (SPEC §1):
 *   f = σ(Wf·x + Uf·h + bf)   i = σ(Wi·x + Ui·h + bi)   g = tanh(Wg·x + Ug·h + bg)   o = σ(Wo·x + Uo·h + bo)
 *   c' = f ⊙ c + i ⊙ g        h' = o ⊙ tanh(c')                                     outputs: h, c
 * Adjoint, step by step (dh', dc' include this step's output gradients):
 *   do = dh'·tanh(c');  dc' += dh'·o·(1 − tanh²(c'))
 *   df = dc'·c;  di = dc'·g;  dg = dc'·i;  dc = dc'·f
 *   each gate k: da_k = d(gate)·σ' or tanh'; dW_k += da_k·xᵀ, dU_k += da_k·hᵀ, db_k += da_k,
 *   dx += W_kᵀ·da_k, dh += U_kᵀ·da_k.
 */
import type { Params, ReferenceCell } from "./bptt.js";
import {
  add, addMatTvec, addOuter, addTo, dSigmoid, dTanh, matvec, mul, sigmoidV, tanhV, zeros, type Mat, type Vec,
} from "./math.js";

interface Cache { x: Vec; h: Vec; c: Vec; f: Vec; i: Vec; g: Vec; o: Vec; cNew: Vec; tc: Vec }

/** W_k·x + U_k·h + b_k, and its adjoint. */
export function gateOf(p: Params, k: string, x: Vec, h: Vec): Vec {
  return add(matvec(p[`W${k}`] as Mat, x), matvec(p[`U${k}`] as Mat, h), p[`b${k}`] as Vec);
}
export function gateBack(p: Params, gp: Params, k: string, da: Vec, x: Vec, h: Vec, dx: Vec, dh: Vec): void {
  addOuter(gp[`W${k}`] as Mat, da, x);
  addOuter(gp[`U${k}`] as Mat, da, h);
  addTo(gp[`b${k}`] as Vec, da);
  addMatTvec(dx, p[`W${k}`] as Mat, da);
  addMatTvec(dh, p[`U${k}`] as Mat, da);
}

export function lstmReference(I = 8, H = 16): ReferenceCell<Cache> {
  return {
    name: "lstm", file: "examples/cells/lstm.cell",
    params: ["f", "i", "g", "o"].flatMap((k) => [
      { name: `W${k}`, shape: [H, I] }, { name: `U${k}`, shape: [H, H] }, { name: `b${k}`, shape: [H] },
    ]),
    inputs: [{ name: "x", shape: [I] }],
    states: [{ name: "h", shape: [H] }, { name: "c", shape: [H] }],
    outputs: [{ name: "h", shape: [H] }, { name: "c", shape: [H] }],
    step(p, { x }, { h, c }) {
      const f = sigmoidV(gateOf(p, "f", x!, h!));
      const i = sigmoidV(gateOf(p, "i", x!, h!));
      const g = tanhV(gateOf(p, "g", x!, h!));
      const o = sigmoidV(gateOf(p, "o", x!, h!));
      const cNew = add(mul(f, c!), mul(i, g));
      const tc = tanhV(cNew);
      const hNew = mul(o, tc);
      return { states: { h: hNew, c: cNew }, outputs: { h: hNew, c: cNew }, cache: { x: x!, h: h!, c: c!, f, i, g, o, cNew, tc } };
    },
    back(p, { x, h, c, f, i, g, o, tc }, dNext, dOut, gp) {
      const dhNew = add(dNext["h"]!, dOut["h"]!);
      const dcNew = add(dNext["c"]!, dOut["c"]!, dTanh(mul(dhNew, o), tc));
      const dx = zeros(I), dh = zeros(H);
      gateBack(p, gp, "f", dSigmoid(mul(dcNew, c), f), x, h, dx, dh);
      gateBack(p, gp, "i", dSigmoid(mul(dcNew, g), i), x, h, dx, dh);
      gateBack(p, gp, "g", dTanh(mul(dcNew, i), g), x, h, dx, dh);
      gateBack(p, gp, "o", dSigmoid(mul(dhNew, tc), o), x, h, dx, dh);
      return { dx: { x: dx }, dPrev: { h: dh, c: mul(dcNew, f) } };
    },
  };
}
