/**
 * The hand-fused params (one W [G·H × (I+H)], gate row blocks i, f, g, o for the LSTM and u, r, n
 * for the GRU, x columns then h columns; one b [G·H]) split into the cells' own params:
 * lstm.cell's Wf/Uf/bf (W on x, U on h), gru.cell's Wu/Uu/bu (W on h, U on x). Peers that start
 * from the hand-fused params (PyTorch, ONNX Runtime) are checked against rnnc through it.
 */

import type { LstmParams as FusedParams, RealCtor } from "../hand-fused.js";
import type { CellKind } from "../workloads.js";

export function splitFused(kind: CellKind, p: FusedParams, I: number, H: number, ctor: RealCtor = Float64Array): Record<string, Float32Array | Float64Array> {
  const out: Record<string, Float32Array | Float64Array> = {}, K = I + H;
  const gates = kind === "lstm" ? ["i", "f", "g", "o"] : ["u", "r", "h"];
  const [onX, onH] = kind === "lstm" ? ["W", "U"] : ["U", "W"];
  gates.forEach((gate, gi) => {
    const X = new ctor(H * I), Hm = new ctor(H * H);
    for (let u = 0; u < H; u++) {
      const row = (gi * H + u) * K;
      for (let k = 0; k < I; k++) X[u * I + k] = p.W[row + k];
      for (let k = 0; k < H; k++) Hm[u * H + k] = p.W[row + I + k];
    }
    out[onX + gate] = X;
    out[onH + gate] = Hm;
    const bias = new ctor(H);
    bias.set(p.b.subarray(gi * H, gi * H + H));
    out[`b${gate}`] = bias;
  });
  return out;
}
