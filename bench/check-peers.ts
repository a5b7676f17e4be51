/**
 * `--check`, part two: the TF.js contestants' LSTM and GRU and rnnc's compiled cells against the
 * hand-fused ones — same outputs and gradients, so every contestant computes the same math.
 */

import type { Real } from "./gemm.js";
import type { LstmParams as FusedParams } from "./hand-fused.js";
import { analytic, relErr, sampleData, B, H, I, T, type Kind, type Row } from "./check-hand.js";
import { gruOutputs, gruTensors, loadTf, lstmOutputs, useBackend, type Tf } from "./contestants/tfjs.js";
import { fromTfGru, fromTfLstm, toTfLstm } from "./contestants/tf-layout.js";
import { splitFused } from "./contestants/cell-layout.js";
import { cellSource, loadCompile } from "./contestants/rnnc.js";
import { Unavailable } from "./harness.js";
import type * as TF from "@tensorflow/tfjs";

/** TF.js outputs h[t] and the grads of Σ dY ⊙ h, mapped back to the fused layout. */
function tfRun(tf: Tf, kind: Kind, p: FusedParams, x: Real, dY: Real): { hs: Float32Array; grads: FusedParams; dx: Float32Array } {
  const tx = tf.tensor3d(Float32Array.from(x), [T, B, I]), tdY = tf.tensor3d(Float32Array.from(dY), [T, B, H]);
  let params: TF.Tensor[], outputs: (ps: TF.Tensor[], xx: TF.Tensor3D) => TF.Tensor2D[];
  if (kind === "lstm") {
    const a = toTfLstm(p, I, H);
    params = [tf.tensor2d(a.kernel, [I + H, 4 * H]), tf.tensor1d(a.bias)];
    outputs = (ps, xx) => lstmOutputs(tf, ps[0] as TF.Tensor2D, ps[1] as TF.Tensor1D, xx, H);
  } else {
    const g = gruTensors(tf, p, I, H);
    params = [g.Wzr, g.bzr, g.Wnx, g.Wnh, g.bn];
    outputs = (ps, xx) => gruOutputs(tf, { Wzr: ps[0], bzr: ps[1], Wnx: ps[2], Wnh: ps[3], bn: ps[4] } as typeof g, xx, H);
  }
  const hs = tf.tidy(() => tf.stack(outputs(params, tx)).dataSync() as Float32Array);
  const gs = tf.grads((...args) => tf.sum(tf.mul(tf.stack(outputs(args.slice(0, -1), args[args.length - 1] as TF.Tensor3D)), tdY)))([...params, tx]);
  const d = gs.map((t) => t.dataSync());
  const grads = kind === "lstm" ? fromTfLstm({ kernel: d[0], bias: d[1] }, I, H) : fromTfGru({ Wzr: d[0], bzr: d[1], Wnx: d[2], Wnh: d[3], bn: d[4] }, I, H);
  const dx = d[d.length - 1] as Float32Array;
  tf.dispose([...params, tx, tdY, ...gs]);
  return { hs, grads, dx };
}

export async function checkTfjs(): Promise<Row[]> {
  const tf = await loadTf();
  await useBackend(tf, "cpu");
  return (["lstm", "gru"] as const).flatMap((kind) => {
    const { p, x, dY } = sampleData(kind, Float32Array);
    const hand = analytic(kind, p, x, dY, Float32Array);
    const mine = tfRun(tf, kind, p, x, dY);
    const worst = Math.max(relErr(mine.grads.W, hand.grads.W), relErr(mine.grads.b, hand.grads.b), relErr(mine.dx, hand.net.dx));
    const K = kind.toUpperCase();
    return [
      { name: `TF.js cpu ${K} outputs vs hand-fused (f32)`, error: relErr(mine.hs, hand.net.hs.subarray(B * H)), tol: 1e-5 },
      { name: `TF.js cpu ${K} grads vs hand-fused (f32)`, error: worst, tol: 1e-4 },
    ];
  });
}

/** The fused params split into the cell's own (`contestants/cell-layout.ts`), in float64. */
const perGate = (kind: Kind, p: FusedParams) => splitFused(kind, p, I, H) as Record<string, Float64Array>;

async function checkRnncOnce(kind: Kind, optimize: boolean): Promise<Row[]> {
  const label = `rnnc${optimize ? "" : " (passes off)"} ${kind.toUpperCase()}`;
  const compile = await loadCompile();
  const { source, name } = cellSource(kind);
  const cell = compile(source, { sizes: { I, H }, dtype: "f64", cell: name, optimize });
  const { p, x, dY } = sampleData(kind, Float64Array);
  const hand = analytic(kind, p, x, dY, Float64Array);
  const mine = perGate(kind, p), params = cell.createParams();
  const missing = Object.keys(mine).filter((k) => !(k in params));
  if (missing.length > 0) return [{ name: `${label} vs hand-fused`, error: NaN, tol: 0, skipped: `no params ${missing.join(", ")}` }];
  for (const k of Object.keys(mine)) params[k].set(mine[k]);
  const input = cell.inputs[0].name, out = cell.outputs[0].name;
  const trace = cell.forward(params, { [input]: x }, { T, B });
  const grads = cell.createGrads();
  const res = cell.backward(params, trace, { outputs: { [out]: dY } }, grads);
  const handGrads = perGate(kind, hand.grads);
  const gradErr = Math.max(...Object.keys(handGrads).map((k) => relErr(grads[k], handGrads[k])), relErr(res.inputs[input], hand.net.dx));
  return [
    { name: `${label} outputs vs hand-fused (f64)`, error: relErr(trace.outputs[out], hand.net.hs.subarray(B * H)), tol: 1e-10 },
    { name: `${label} grads vs hand-fused (f64)`, error: gradErr, tol: 1e-9 },
  ];
}

export async function checkRnnc(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of ["lstm", "gru"] as const)
    for (const optimize of [true, false]) {
      try {
        rows.push(...(await checkRnncOnce(kind, optimize)));
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const name = `rnnc${optimize ? "" : " (passes off)"} ${kind.toUpperCase()} vs hand-fused`;
        rows.push(e instanceof Unavailable ? { name, error: NaN, tol: 0, skipped: msg } : { name, error: Infinity, tol: 0, note: msg });
      }
    }
  return rows;
}
