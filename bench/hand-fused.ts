/**
 * A hand-written fused LSTM in plain JS: the ceiling rnnc aims at.
 *
 * Params: one gate matrix W [4H × (I+H)], row-major, gate blocks i, f, g, o (rows g·H..g·H+H-1),
 * the x half in columns 0..I-1 and the h half in columns I..I+H-1; one bias b [4H].
 * Forward: the input projection of all T·B steps is one matrix product (seeded with the bias)
 * before the recurrence; per step one product with the h half, then one fused loop for the gate
 * nonlinearities and the cell update. Backward: one fused loop per step for all gate gradients and
 * one product for dh; after the recurrence the weight gradients (x half and h half), the bias
 * gradient and the input gradients are each one matrix product over all T·B steps.
 * All buffers are allocated once per (T, B): the steady state allocates nothing.
 */

import { gemm, type Real } from "./gemm.js";
import { fillUniform } from "./rng.js";

export type RealCtor = Float32ArrayConstructor | Float64ArrayConstructor;

export interface LstmParams {
  /** [4H × (I+H)], gate blocks i, f, g, o. */
  readonly W: Real;
  /** [4H]. */
  readonly b: Real;
}

/** Params uniform in ±1/√H, as PyTorch initialises an LSTM. */
export function initLstmParams(I: number, H: number, seed: number, ctor: RealCtor = Float32Array): LstmParams {
  const s = 1 / Math.sqrt(H);
  return { W: fillUniform(new ctor(4 * H * (I + H)), seed, s), b: fillUniform(new ctor(4 * H), seed + 1, s) };
}

export function zeroLstmParams(I: number, H: number, ctor: RealCtor = Float32Array): LstmParams {
  return { W: new ctor(4 * H * (I + H)), b: new ctor(4 * H) };
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

export class FusedLstm {
  /** [T·B × 4H]: pre-activations, then (the tape) the activated gates i, f, g, o. */
  readonly gates: Real;
  /** [(T+1)·B × H]: cell states; rows 0..B-1 hold the initial (zero) state. */
  readonly cs: Real;
  /** [(T+1)·B × H]: hidden states; rows B.. are the outputs h[t]. */
  readonly hs: Real;
  /** [T·B × H]: tanh(c[t]). */
  readonly tcs: Real;
  /** [T·B × 4H]: gate pre-activation gradients. */
  readonly dGates: Real;
  /** [B × H]: dLoss/dh carried back through the recurrence; after backward, dLoss/dh0. */
  readonly dh: Real;
  /** [B × H]: dLoss/dc carried back; after backward, dLoss/dc0. */
  readonly dc: Real;
  /** [T·B × I]: input gradients. */
  readonly dx: Real;
  /** The forward's input, kept by reference for the weight gradients. */
  private x: Real | null = null;

  constructor(readonly I: number, readonly H: number, readonly T: number, readonly B: number, ctor: RealCtor = Float32Array) {
    const TB = T * B;
    this.gates = new ctor(TB * 4 * H);
    this.cs = new ctor((TB + B) * H);
    this.hs = new ctor((TB + B) * H);
    this.tcs = new ctor(TB * H);
    this.dGates = new ctor(TB * 4 * H);
    this.dh = new ctor(B * H);
    this.dc = new ctor(B * H);
    this.dx = new ctor(TB * I);
  }

  /** Bytes the forward keeps for the backward: gates, c, tanh(c) and h history. */
  get tapeBytes(): number {
    return this.gates.byteLength + this.cs.byteLength + this.tcs.byteLength + this.hs.byteLength;
  }

  /** x: [T·B × I], time-major. Outputs land in `hs` rows B..(T+1)·B-1. */
  forward(p: LstmParams, x: Real): void {
    const { I, H, T, B, gates } = this;
    const G = 4 * H, ldw = I + H, TB = T * B;
    this.x = x;
    for (let r = 0; r < TB; r++) gates.set(p.b, r * G);
    gemm(TB, G, I, x, 0, I, 1, p.W, 0, 1, ldw, gates, 0, G);
    this.cs.fill(0, 0, B * H);
    this.hs.fill(0, 0, B * H);
    for (let t = 0; t < T; t++) {
      gemm(B, G, H, this.hs, t * B * H, H, 1, p.W, I, 1, ldw, gates, t * B * G, G);
      this.activate(t);
    }
  }

  /** Gate nonlinearities and the cell update of step t, in one loop. */
  private activate(t: number): void {
    const { H, B, gates, cs, hs, tcs } = this;
    const G = 4 * H;
    for (let bi = 0; bi < B; bi++) {
      const row = t * B + bi, pg = row * G, prev = row * H, next = prev + B * H;
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gates[pg + j]);
        const f = sigmoid(gates[pg + H + j]);
        const g = Math.tanh(gates[pg + 2 * H + j]);
        const o = sigmoid(gates[pg + 3 * H + j]);
        const c = f * cs[prev + j] + i * g;
        const tc = Math.tanh(c);
        gates[pg + j] = i; gates[pg + H + j] = f; gates[pg + 2 * H + j] = g; gates[pg + 3 * H + j] = o;
        cs[next + j] = c;
        tcs[prev + j] = tc;
        hs[next + j] = o * tc;
      }
    }
  }

  /** dY: dLoss/dh[t], [T·B × H]. Accumulates into grads; input grads land in `dx`. */
  backward(p: LstmParams, dY: Real, grads: LstmParams): void {
    const { I, H, T, B, dGates, dh } = this;
    const G = 4 * H, ldw = I + H, TB = T * B;
    const x = this.x;
    if (x === null) throw new Error("FusedLstm.backward before forward");
    dh.fill(0);
    this.dc.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      this.gateGrads(t, dY);
      dh.fill(0);
      gemm(B, H, G, dGates, t * B * G, G, 1, p.W, I, ldw, 1, dh, 0, H);
    }
    gemm(G, I, TB, dGates, 0, 1, G, x, 0, I, 1, grads.W, 0, ldw);
    gemm(G, H, TB, dGates, 0, 1, G, this.hs, 0, H, 1, grads.W, I, ldw);
    const db = grads.b;
    for (let r = 0; r < TB; r++) for (let j = 0, pg = r * G; j < G; j++) db[j] += dGates[pg + j];
    this.dx.fill(0);
    gemm(TB, I, G, dGates, 0, G, 1, p.W, 0, ldw, 1, this.dx, 0, I);
  }

  /** All gate gradients of step t in one loop; carries dc to step t-1. */
  private gateGrads(t: number, dY: Real): void {
    const { H, B, gates, cs, tcs, dGates, dh, dc } = this;
    const G = 4 * H;
    for (let bi = 0; bi < B; bi++) {
      const row = t * B + bi, pg = row * G, prev = row * H, s = bi * H;
      for (let j = 0; j < H; j++) {
        const i = gates[pg + j], f = gates[pg + H + j], g = gates[pg + 2 * H + j], o = gates[pg + 3 * H + j];
        const tc = tcs[prev + j];
        const dhj = dY[prev + j] + dh[s + j];
        const dcj = dc[s + j] + dhj * o * (1 - tc * tc);
        dGates[pg + j] = dcj * g * i * (1 - i);
        dGates[pg + H + j] = dcj * cs[prev + j] * f * (1 - f);
        dGates[pg + 2 * H + j] = dcj * i * (1 - g * g);
        dGates[pg + 3 * H + j] = dhj * tc * o * (1 - o);
        dc[s + j] = dcj * f;
      }
    }
  }
}

/** Online inference, one step for a batch of B: [x; h] kept side by side so the step is one product. */
export class FusedLstmStep {
  /** [B × (I+H)]: the current input and, in columns I.., the hidden state. */
  readonly xh: Real;
  /** [B × H]. */
  readonly c: Real;
  private readonly gates: Real;

  constructor(readonly I: number, readonly H: number, readonly B: number, ctor: RealCtor = Float32Array) {
    this.xh = new ctor(B * (I + H));
    this.c = new ctor(B * H);
    this.gates = new ctor(B * 4 * H);
  }

  /** The hidden state of batch entry bi after the last step: xh[bi·(I+H)+I+j]. */
  h(bi: number, j: number): number {
    return this.xh[bi * (this.I + this.H) + this.I + j];
  }

  /** x: [B × I]. Updates h and c in place; allocates nothing. */
  step(p: LstmParams, x: Real): void {
    const { I, H, B, xh, c, gates } = this;
    const G = 4 * H, ldw = I + H;
    for (let bi = 0; bi < B; bi++) {
      for (let k = 0; k < I; k++) xh[bi * ldw + k] = x[bi * I + k];
      gates.set(p.b, bi * G);
    }
    gemm(B, G, ldw, xh, 0, ldw, 1, p.W, 0, 1, ldw, gates, 0, G);
    for (let bi = 0; bi < B; bi++) {
      const pg = bi * G, ph = bi * ldw + I, pc = bi * H;
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gates[pg + j]);
        const f = sigmoid(gates[pg + H + j]);
        const g = Math.tanh(gates[pg + 2 * H + j]);
        const o = sigmoid(gates[pg + 3 * H + j]);
        const cj = f * c[pc + j] + i * g;
        c[pc + j] = cj;
        xh[ph + j] = o * Math.tanh(cj);
      }
    }
  }
}
