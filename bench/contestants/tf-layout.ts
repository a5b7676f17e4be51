/**
 * Between the hand-fused layout (one W [G·H × (I+H)], row blocks per gate, x half then h half,
 * and one b [G·H]) and TF.js's (`x · kernel`: kernels [inputs × G·H], gate blocks in columns).
 * Both TF.js contestants start from the hand-fused params, so `--check` can compare all three.
 */

import type { LstmParams as FusedParams } from "../hand-fused.js";

type RowOf = (col: number) => number;

/** A TF [rows × cols] matrix whose element [k, c] is W[rowOf(c)·ldw + k0 + k]. */
function gather(W: ArrayLike<number>, ldw: number, rows: number, cols: number, k0: number, rowOf: RowOf): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let c = 0; c < cols; c++) for (let k = 0; k < rows; k++) out[k * cols + c] = W[rowOf(c) * ldw + k0 + k];
  return out;
}

function scatter(m: ArrayLike<number>, W: Float32Array, ldw: number, rows: number, cols: number, k0: number, rowOf: RowOf): void {
  for (let c = 0; c < cols; c++) for (let k = 0; k < rows; k++) W[rowOf(c) * ldw + k0 + k] = m[k * cols + c];
}

const pick = (v: ArrayLike<number>, n: number, rowOf: RowOf): Float32Array => Float32Array.from({ length: n }, (_, c) => v[rowOf(c)]);

/** TF's basicLSTMCell splits columns as i, j (= g), f, o; the fused rows are i, f, g, o. */
const lstmRow = (H: number): RowOf => (c) => [0, 2, 1, 3][Math.floor(c / H)] * H + (c % H);

export interface TfLstmArrays { kernel: Float32Array; bias: Float32Array }

export function toTfLstm(p: FusedParams, I: number, H: number): TfLstmArrays {
  return { kernel: gather(p.W, I + H, I + H, 4 * H, 0, lstmRow(H)), bias: pick(p.b, 4 * H, lstmRow(H)) };
}

export function fromTfLstm(a: { kernel: ArrayLike<number>; bias: ArrayLike<number> }, I: number, H: number): FusedParams {
  const W = new Float32Array(4 * H * (I + H)), b = new Float32Array(4 * H);
  scatter(a.kernel, W, I + H, I + H, 4 * H, 0, lstmRow(H));
  for (let c = 0; c < 4 * H; c++) b[lstmRow(H)(c)] = a.bias[c];
  return { W, b };
}

/** GRU: Wzr [I+H, 2H] for u and r over [x; h]; Wnx [I, H] and Wnh [H, H] for the candidate. */
export interface TfGruArrays { Wzr: Float32Array; bzr: Float32Array; Wnx: Float32Array; Wnh: Float32Array; bn: Float32Array }

const same: RowOf = (c) => c;

export function toTfGru(p: FusedParams, I: number, H: number): TfGruArrays {
  const n: RowOf = (c) => 2 * H + c, ldw = I + H;
  return {
    Wzr: gather(p.W, ldw, I + H, 2 * H, 0, same),
    bzr: pick(p.b, 2 * H, same),
    Wnx: gather(p.W, ldw, I, H, 0, n),
    Wnh: gather(p.W, ldw, H, H, I, n),
    bn: pick(p.b, H, n),
  };
}

export function fromTfGru(a: { [K in keyof TfGruArrays]: ArrayLike<number> }, I: number, H: number): FusedParams {
  const n: RowOf = (c) => 2 * H + c, ldw = I + H;
  const W = new Float32Array(3 * H * ldw), b = new Float32Array(3 * H);
  scatter(a.Wzr, W, ldw, I + H, 2 * H, 0, same);
  scatter(a.Wnx, W, ldw, I, H, 0, n);
  scatter(a.Wnh, W, ldw, H, H, I, n);
  for (let c = 0; c < 2 * H; c++) b[c] = a.bzr[c];
  for (let c = 0; c < H; c++) b[2 * H + c] = a.bn[c];
  return { W, b };
}
