/** `--check`, part two: the TF.js contestant's LSTM and rnnc's compiled LSTM against the hand-fused one. */

import type { Real } from "./gemm.js";
import { initLstmParams, type LstmParams } from "./hand-fused.js";
import { analytic, relErr, B, H, I, T, type Row } from "./check-hand.js";
import { fillUniform } from "./rng.js";
import { loadTf, lstmOutputs, toTfKernel, useBackend } from "./contestants/tfjs.js";
import { cellSource, loadCompile } from "./contestants/rnnc.js";
import { Unavailable } from "./harness.js";

/** The fused W [4H, I+H] (rows i, f, g, o) from TF's kernel [I+H, 4H] (columns i, j=g, f, o). */
function fromTfKernel(kernel: ArrayLike<number>, bias: ArrayLike<number>): LstmParams {
  const from = [0, 2, 1, 3], K = I + H;
  const W = new Float32Array(4 * H * K), b = new Float32Array(4 * H);
  for (let tb = 0; tb < 4; tb++)
    for (let u = 0; u < H; u++) {
      const row = from[tb] * H + u, col = tb * H + u;
      b[row] = bias[col];
      for (let k = 0; k < K; k++) W[row * K + k] = kernel[k * 4 * H + col];
    }
  return { W, b };
}

function sampleData(ctor: Float32ArrayConstructor | Float64ArrayConstructor) {
  return {
    p: initLstmParams(I, H, 5, ctor),
    x: fillUniform(new ctor(T * B * I), 6),
    dY: fillUniform(new ctor(T * B * H), 8),
  };
}

export async function checkTfjs(): Promise<Row[]> {
  const tf = await loadTf();
  await useBackend(tf, "cpu");
  const { p, x, dY } = sampleData(Float32Array);
  const hand = analytic(p, x, dY, Float32Array);
  const { kernel, bias } = toTfKernel(p, I, H);
  const tk = tf.tensor2d(kernel, [I + H, 4 * H]), tb = tf.tensor1d(bias), tx = tf.tensor3d(x as Float32Array, [T, B, I]);
  const tdY = tf.tensor3d(dY as Float32Array, [T, B, H]);
  const outputs = tf.tidy(() => tf.stack(lstmOutputs(tf, tk, tb, tx, H)).dataSync());
  const [gk, gb, gx] = tf.grads((k, b, xx) =>
    tf.sum(tf.mul(tf.stack(lstmOutputs(tf, k as typeof tk, b as typeof tb, xx as typeof tx, H)), tdY)),
  )([tk, tb, tx]);
  const g = fromTfKernel(gk.dataSync(), gb.dataSync());
  const worst = Math.max(relErr(g.W, hand.grads.W), relErr(g.b, hand.grads.b), relErr(gx.dataSync(), hand.net.dx));
  tf.dispose([tk, tb, tx, tdY, gk, gb, gx]);
  return [
    { name: "TF.js cpu LSTM outputs vs hand-fused (f32)", error: relErr(outputs, hand.net.hs.subarray(B * H)), tol: 1e-5 },
    { name: "TF.js cpu LSTM grads vs hand-fused (f32)", error: worst, tol: 1e-4 },
  ];
}

/** Splits the fused params into SPEC §1's per-gate Wf, Uf, bf, ... (gate blocks i, f, g, o). */
function perGate(p: LstmParams): Record<string, Real> {
  const out: Record<string, Real> = {}, K = I + H;
  ["i", "f", "g", "o"].forEach((gate, gi) => {
    const Wg = new Float64Array(H * I), Ug = new Float64Array(H * H);
    for (let u = 0; u < H; u++) {
      const row = (gi * H + u) * K;
      for (let k = 0; k < I; k++) Wg[u * I + k] = p.W[row + k];
      for (let k = 0; k < H; k++) Ug[u * H + k] = p.W[row + I + k];
    }
    out[`W${gate}`] = Wg;
    out[`U${gate}`] = Ug;
    out[`b${gate}`] = Float64Array.from(p.b.subarray(gi * H, gi * H + H));
  });
  return out;
}

async function checkRnncOnce(optimize: boolean): Promise<Row[]> {
  const label = optimize ? "rnnc" : "rnnc (passes off)";
  const compile = await loadCompile();
  const { source, name } = cellSource("lstm");
  const cell = compile(source, { sizes: { I, H }, dtype: "f64", cell: name, optimize });
  const { p, x, dY } = sampleData(Float64Array);
  const hand = analytic(p, x, dY, Float64Array);
  const mine = perGate(p), params = cell.createParams();
  const missing = Object.keys(mine).filter((k) => !(k in params));
  if (missing.length > 0) return [{ name: `${label} LSTM vs hand-fused`, error: NaN, tol: 0, skipped: `no params ${missing.join(", ")}` }];
  for (const k of Object.keys(mine)) params[k].set(mine[k]);
  const input = cell.inputs[0].name, out = cell.outputs[0].name;
  const trace = cell.forward(params, { [input]: x }, { T, B });
  const grads = cell.createGrads();
  const res = cell.backward(params, trace, { outputs: { [out]: dY } }, grads);
  const handGrads = perGate(hand.grads);
  const gradErr = Math.max(...Object.keys(handGrads).map((k) => relErr(grads[k], handGrads[k])), relErr(res.inputs[input], hand.net.dx));
  return [
    { name: `${label} LSTM outputs vs hand-fused (f64)`, error: relErr(trace.outputs[out], hand.net.hs.subarray(B * H)), tol: 1e-10 },
    { name: `${label} LSTM grads vs hand-fused (f64)`, error: gradErr, tol: 1e-9 },
  ];
}

export async function checkRnnc(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const optimize of [true, false]) {
    try {
      rows.push(...(await checkRnncOnce(optimize)));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const name = `${optimize ? "rnnc" : "rnnc (passes off)"} LSTM vs hand-fused`;
      rows.push(e instanceof Unavailable ? { name, error: NaN, tol: 0, skipped: msg } : { name, error: Infinity, tol: 0, note: msg });
    }
  }
  return rows;
}
