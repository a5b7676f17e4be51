/** `--check`, part one: the matrix product and the hand-fused LSTM and GRU, in float64 and float32. */

import { gemm, gemmNaive, type Real } from "./gemm.js";
import { FusedLstm, FusedLstmStep, initLstmParams, zeroLstmParams, type LstmParams } from "./hand-fused.js";
import { FusedGru, initGruParams, zeroGruParams } from "./hand-fused-gru.js";
import { fillUniform } from "./rng.js";

export interface Row {
  readonly name: string;
  readonly error: number;
  readonly tol: number;
  readonly note?: string;
  /** Why the check could not run (not a failure). */
  readonly skipped?: string;
}

/** max |a − b| / max(|a|, |b|, floor): a relative error that ignores differences in tiny values. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), Math.abs(b[i]), floor));
  return m;
}

export function checkGemm(): Row {
  let worst = 0;
  const dims = [1, 2, 3, 4, 5, 7, 8, 9, 13];
  let seed = 1;
  for (const M of dims)
    for (const N of dims)
      for (const K of [1, 3, 8, 11]) {
        const a = fillUniform(new Float64Array(M * K + 3), seed++), b = fillUniform(new Float64Array(K * N + 2), seed++);
        // NN, NT (B transposed) and TN (A transposed), with offsets and a wider C.
        const layouts: [number, number, number, number, number, number][] = [
          [3, K, 1, 2, N, 1], [3, K, 1, 2, 1, K], [3, 1, M, 2, N, 1],
        ];
        for (const [aOff, aRs, aCs, bOff, bRs, bCs] of layouts) {
          const c1 = fillUniform(new Float64Array(M * (N + 1) + 1), 7), c2 = c1.slice();
          gemm(M, N, K, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c1, 1, N + 1);
          gemmNaive(M, N, K, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c2, 1, N + 1);
          worst = Math.max(worst, relErr(c1, c2, 1));
        }
      }
  return { name: "gemm vs triple loop (f64, 972 shapes×layouts)", error: worst, tol: 1e-13 };
}

export const I = 3, H = 5, T = 4, B = 2;

export type Kind = "lstm" | "gru";
type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

/** What the checks need of a hand-fused cell. */
interface FusedNet {
  readonly hs: Real;
  readonly dx: Real;
  forward(p: LstmParams, x: Real): void;
  backward(p: LstmParams, dY: Real, grads: LstmParams): void;
}

const makers = {
  lstm: { net: (c: Ctor): FusedNet => new FusedLstm(I, H, T, B, c), init: initLstmParams, zero: zeroLstmParams },
  gru: { net: (c: Ctor): FusedNet => new FusedGru(I, H, T, B, c), init: initGruParams, zero: zeroGruParams },
};

/** The check problem: small params, inputs and a random dLoss/dh (loss = Σ dY ⊙ h). */
export function sampleData(kind: Kind, ctor: Ctor) {
  return {
    p: makers[kind].init(I, H, 5, ctor),
    x: fillUniform(new ctor(T * B * I), 6),
    dY: fillUniform(new ctor(T * B * H), 8),
  };
}

function lossOf(kind: Kind, p: LstmParams, x: Real, dY: Real): number {
  const net = makers[kind].net(Float64Array);
  net.forward(p, x);
  let s = 0;
  for (let k = 0; k < T * B * H; k++) s += dY[k] * net.hs[B * H + k];
  return s;
}

/** Central differences of the weighted-sum loss with respect to every element of `v`. */
function numericGrad(v: Real, loss: () => number, eps = 1e-6): Float64Array {
  const g = new Float64Array(v.length);
  for (let k = 0; k < v.length; k++) {
    const keep = v[k];
    v[k] = keep + eps;
    const up = loss();
    v[k] = keep - eps;
    g[k] = (up - loss()) / (2 * eps);
    v[k] = keep;
  }
  return g;
}

export function analytic(kind: Kind, p: LstmParams, x: Real, dY: Real, ctor: Ctor): { net: FusedNet; grads: LstmParams } {
  const net = makers[kind].net(ctor);
  const grads = makers[kind].zero(I, H, ctor);
  net.forward(p, x);
  net.backward(p, dY, grads);
  return { net, grads };
}

function gradientRows(kind: Kind): Row[] {
  const { p, x, dY } = sampleData(kind, Float64Array);
  const { net, grads } = analytic(kind, p, x, dY, Float64Array);
  const loss = () => lossOf(kind, p, x, dY);
  const name = (what: string) => `hand-fused ${kind.toUpperCase()} ${what}`;
  const to32 = (a: Real) => Float32Array.from(a);
  const f32 = analytic(kind, { W: to32(p.W), b: to32(p.b) }, to32(x), to32(dY), Float32Array);
  const worst32 = Math.max(relErr(f32.grads.W, grads.W), relErr(f32.grads.b, grads.b), relErr(f32.net.dx, net.dx));
  return [
    { name: name("dW vs finite differences (f64)"), error: relErr(grads.W, numericGrad(p.W, loss)), tol: 1e-6 },
    { name: name("db vs finite differences (f64)"), error: relErr(grads.b, numericGrad(p.b, loss)), tol: 1e-6 },
    { name: name("dx vs finite differences (f64)"), error: relErr(net.dx, numericGrad(x, loss)), tol: 1e-6 },
    { name: name("f32 vs f64 (all grads)"), error: worst32, tol: 1e-4 },
  ];
}

function stepRow(): Row {
  const { p, x } = sampleData("lstm", Float64Array);
  const net = makers.lstm.net(Float64Array);
  net.forward(p, x);
  const step = new FusedLstmStep(I, H, B, Float64Array);
  let worst = 0;
  for (let t = 0; t < T; t++) {
    step.step(p, x.subarray(t * B * I, (t + 1) * B * I));
    for (let bi = 0; bi < B; bi++)
      for (let j = 0; j < H; j++) worst = Math.max(worst, Math.abs(step.h(bi, j) - net.hs[((t + 1) * B + bi) * H + j]));
  }
  return { name: "hand-fused LSTM step vs sequence forward (f64, max abs)", error: worst, tol: 1e-14 };
}

export function checkGradients(): Row[] {
  return [...gradientRows("lstm"), stepRow(), ...gradientRows("gru")];
}
