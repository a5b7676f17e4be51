/**
 * The hand-fused plain-JS GRU, built like the LSTM in hand-fused.ts, for examples/cells/gru.cell:
 *   u = σ(Wu·h + Uu·x + bu),  r = σ(Wr·h + Ur·x + br),
 *   n = tanh(Wh·(r ⊙ h) + Uh·x + bh),  h' = (1 − u) ⊙ h + u ⊙ n.
 * Params: one matrix W [3H × (I+H)], row blocks u, r, n, the x half (U·) in columns 0..I-1 and
 * the h half (W·) in columns I..; one bias b [3H]. The input projection of all three blocks for
 * all T·B steps is one product before the recurrence; per step one product for u and r, then
 * r ⊙ h, then one product for n. Backward mirrors it; weight, bias and input gradients are
 * products over all T·B steps after the recurrence.
 */

import { gemm, type Real } from "./gemm.js";
import type { LstmParams as FusedParams, RealCtor } from "./hand-fused.js";
import { fillUniform } from "./rng.js";

export type GruParams = FusedParams;

export function initGruParams(I: number, H: number, seed: number, ctor: RealCtor = Float32Array): GruParams {
  const s = 1 / Math.sqrt(H);
  return { W: fillUniform(new ctor(3 * H * (I + H)), seed, s), b: fillUniform(new ctor(3 * H), seed + 1, s) };
}

export function zeroGruParams(I: number, H: number, ctor: RealCtor = Float32Array): GruParams {
  return { W: new ctor(3 * H * (I + H)), b: new ctor(3 * H) };
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

export class FusedGru {
  /** [T·B × 3H]: pre-activations, then the activated u, r, n (tape). */
  readonly gates: Real;
  /** [(T+1)·B × H]: hidden states, rows 0..B-1 the initial (zero) state. */
  readonly hs: Real;
  /** [T·B × H]: r ⊙ h[t-1] (tape). */
  readonly rh: Real;
  /** [T·B × 3H]: gate pre-activation gradients. */
  readonly dGates: Real;
  /** [B × H]: dLoss/dh carried back; after backward, dLoss/dh0. */
  readonly dh: Real;
  /** [B × H]: dLoss/d(r ⊙ h) of the current step. */
  private readonly drh: Real;
  /** [T·B × I]. */
  readonly dx: Real;
  private x: Real | null = null;

  constructor(readonly I: number, readonly H: number, readonly T: number, readonly B: number, ctor: RealCtor = Float32Array) {
    const TB = T * B;
    this.gates = new ctor(TB * 3 * H);
    this.hs = new ctor((TB + B) * H);
    this.rh = new ctor(TB * H);
    this.dGates = new ctor(TB * 3 * H);
    this.dh = new ctor(B * H);
    this.drh = new ctor(B * H);
    this.dx = new ctor(TB * I);
  }

  get tapeBytes(): number {
    return this.gates.byteLength + this.hs.byteLength + this.rh.byteLength;
  }

  forward(p: GruParams, x: Real): void {
    const { I, H, T, B, gates, hs, rh } = this;
    const G = 3 * H, ldw = I + H, TB = T * B;
    this.x = x;
    for (let r = 0; r < TB; r++) gates.set(p.b, r * G);
    gemm(TB, G, I, x, 0, I, 1, p.W, 0, 1, ldw, gates, 0, G);
    hs.fill(0, 0, B * H);
    for (let t = 0; t < T; t++) {
      const pg = t * B * G, ph = t * B * H;
      gemm(B, 2 * H, H, hs, ph, H, 1, p.W, I, 1, ldw, gates, pg, G);
      for (let k = 0; k < B; k++)
        for (let j = 0, g = pg + k * G, q = ph + k * H; j < H; j++) {
          const u = sigmoid(gates[g + j]), r = sigmoid(gates[g + H + j]);
          gates[g + j] = u;
          gates[g + H + j] = r;
          rh[q + j] = r * hs[q + j];
        }
      gemm(B, H, H, rh, ph, H, 1, p.W, 2 * H * ldw + I, 1, ldw, gates, pg + 2 * H, G);
      for (let k = 0; k < B; k++)
        for (let j = 0, g = pg + k * G, q = ph + k * H; j < H; j++) {
          const n = Math.tanh(gates[g + 2 * H + j]), prev = hs[q + j];
          gates[g + 2 * H + j] = n;
          hs[q + B * H + j] = prev + gates[g + j] * (n - prev);
        }
    }
  }

  backward(p: GruParams, dY: Real, grads: GruParams): void {
    const { I, H, T, B, gates, hs, rh, dGates, dh, drh } = this;
    const G = 3 * H, ldw = I + H, TB = T * B;
    const x = this.x;
    if (x === null) throw new Error("FusedGru.backward before forward");
    dh.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      const pg = t * B * G, ph = t * B * H;
      for (let k = 0; k < B; k++)
        for (let j = 0, g = pg + k * G, q = ph + k * H, s = k * H; j < H; j++) {
          const u = gates[g + j], n = gates[g + 2 * H + j], prev = hs[q + j];
          const d = dY[q + j] + dh[s + j];
          dGates[g + j] = d * (n - prev) * u * (1 - u);
          dGates[g + 2 * H + j] = d * u * (1 - n * n);
          dh[s + j] = d * (1 - u);
        }
      drh.fill(0);
      gemm(B, H, H, dGates, pg + 2 * H, G, 1, p.W, 2 * H * ldw + I, ldw, 1, drh, 0, H);
      for (let k = 0; k < B; k++)
        for (let j = 0, g = pg + k * G, q = ph + k * H, s = k * H; j < H; j++) {
          const r = gates[g + H + j];
          dGates[g + H + j] = drh[s + j] * hs[q + j] * r * (1 - r);
          dh[s + j] += drh[s + j] * r;
        }
      gemm(B, H, 2 * H, dGates, pg, G, 1, p.W, I, ldw, 1, dh, 0, H);
    }
    gemm(G, I, TB, dGates, 0, 1, G, x, 0, I, 1, grads.W, 0, ldw);
    gemm(2 * H, H, TB, dGates, 0, 1, G, hs, 0, H, 1, grads.W, I, ldw);
    gemm(H, H, TB, dGates, 2 * H, 1, G, rh, 0, H, 1, grads.W, 2 * H * ldw + I, ldw);
    for (let r = 0; r < TB; r++) for (let j = 0, pg = r * G; j < G; j++) grads.b[j] += dGates[pg + j];
    this.dx.fill(0);
    gemm(TB, I, G, dGates, 0, G, 1, p.W, 0, ldw, 1, this.dx, 0, I);
  }
}
