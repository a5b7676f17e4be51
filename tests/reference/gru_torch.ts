/**
 * examples/cells/gru_torch.cell, PyTorch's nn.GRU (two biases per gate, reset applied after W_hn):
 *   r = σ(W_ir·x + b_ir + W_hr·h + b_hr)    z = σ(W_iz·x + b_iz + W_hz·h + b_hz)
 *   n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn))    h' = (1 − z) ⊙ n + z ⊙ h       output: h
 * Adjoint: dn = dh'·(1 − z); dz = dh'·(h − n); dh = dh'·z
 *          da_n = dn·(1 − n²): dW_in += da_n·xᵀ, db_in += da_n, dx += W_inᵀ·da_n
 *          dr = da_n·(W_hn·h + b_hn); dm = da_n·r: dW_hn += dm·hᵀ, db_hn += dm, dh += W_hnᵀ·dm
 *          da_r = dr·r(1 − r), da_z = dz·z(1 − z): both biases += da, dW_i· += da·xᵀ, dW_h· += da·hᵀ, ...
 */
import type { Params, ReferenceCell } from "./bptt.js";
import {
  add, addMatTvec, addOuter, addTo, dSigmoid, dTanh, matvec, mul, sigmoidV, sub, tanhV, zeros, type Mat, type Vec,
} from "./math.js";

interface Cache { x: Vec; h: Vec; r: Vec; z: Vec; hn: Vec; n: Vec }

export function gruTorchReference(I = 8, H = 16): ReferenceCell<Cache> {
  const m = (p: Params, n: string) => p[n] as Mat;
  const v = (p: Params, n: string) => p[n] as Vec;
  const linear = (p: Params, W: string, b: string, a: Vec) => add(matvec(m(p, W), a), v(p, b));
  const linearBack = (p: Params, gp: Params, W: string, b: string, da: Vec, a: Vec, dA: Vec) => {
    addOuter(m(gp, W), da, a);
    addTo(v(gp, b), da);
    addMatTvec(dA, m(p, W), da);
  };
  return {
    name: "gru_torch", file: "examples/cells/gru_torch.cell",
    params: ["r", "z", "n"].flatMap((k) => [
      { name: `W_i${k}`, shape: [H, I] }, { name: `W_h${k}`, shape: [H, H] }, { name: `b_i${k}`, shape: [H] }, { name: `b_h${k}`, shape: [H] },
    ]),
    inputs: [{ name: "x", shape: [I] }],
    states: [{ name: "h", shape: [H] }],
    outputs: [{ name: "h", shape: [H] }],
    step(p, { x }, { h }) {
      const r = sigmoidV(add(linear(p, "W_ir", "b_ir", x!), linear(p, "W_hr", "b_hr", h!)));
      const z = sigmoidV(add(linear(p, "W_iz", "b_iz", x!), linear(p, "W_hz", "b_hz", h!)));
      const hn = linear(p, "W_hn", "b_hn", h!);
      const n = tanhV(add(linear(p, "W_in", "b_in", x!), mul(r, hn)));
      const hNew = add(mul(z.map((a) => 1 - a), n), mul(z, h!));
      return { states: { h: hNew }, outputs: { h: hNew }, cache: { x: x!, h: h!, r, z, hn, n } };
    },
    back(p, { x, h, r, z, hn, n }, dNext, dOut, gp) {
      const dhNew = add(dNext["h"]!, dOut["h"]!);
      const dx = zeros(I), dh = mul(dhNew, z);
      const dan = dTanh(mul(dhNew, z.map((a) => 1 - a)), n);
      linearBack(p, gp, "W_in", "b_in", dan, x, dx);
      linearBack(p, gp, "W_hn", "b_hn", mul(dan, r), h, dh);
      const dar = dSigmoid(mul(dan, hn), r);
      const daz = dSigmoid(mul(dhNew, sub(h, n)), z);
      for (const [k, da] of [["r", dar], ["z", daz]] as const) {
        linearBack(p, gp, `W_i${k}`, `b_i${k}`, da, x, dx);
        linearBack(p, gp, `W_h${k}`, `b_h${k}`, da, h, dh);
      }
      return { dx: { x: dx }, dPrev: { h: dh } };
    },
  };
}
