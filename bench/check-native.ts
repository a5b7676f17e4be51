/**
 * `--check`, part three: the native peers against rnnc on the small problem of check-hand.ts.
 * - PyTorch (the driver the bench times), LSTM and GRU in float64: outputs h[t] and the gradients
 *   of Σ dY ⊙ h w.r.t. every param and x, against rnnc's compiled cell (all passes, float64).
 * - ONNX Runtime, both models (rnnc's export and the LSTM operator), float32: the forward's h[t]
 *   against rnnc's float64 forward.
 * Both start from the hand-fused params, which cell-layout.ts maps onto the cells' own.
 */

import { readFileSync } from "node:fs";
import type { Cell } from "../src/runtime/types.js";
import { relErr, sampleData, B, H, I, T, type Kind, type Row } from "./check-hand.js";
import { splitFused } from "./contestants/cell-layout.js";
import { ortRunner } from "./contestants/ort.js";
import { prepareTorch } from "./contestants/pytorch.js";
import { cellSource, loadCompile } from "./contestants/rnnc.js";
import type { LstmParams as FusedParams } from "./hand-fused.js";
import { Unavailable } from "./harness.js";
import { makeWorkload } from "./workloads.js";

interface Reference {
  readonly h: ArrayLike<number>;
  readonly grads: Record<string, ArrayLike<number>>;
  readonly dx: ArrayLike<number>;
}

/** rnnc's float64 forward and backward of `kind` on the hand-fused params. */
async function rnncReference(kind: Kind, p: FusedParams, x: Float64Array, dY: Float64Array): Promise<Reference> {
  const compile = await loadCompile();
  const { source, name } = cellSource(kind);
  const cell: Cell = compile(source, { sizes: { I, H }, dtype: "f64", cell: name, optimize: true });
  const params = cell.createParams();
  for (const [k, v] of Object.entries(splitFused(kind, p, I, H))) params[k].set(v);
  const input = cell.inputs[0].name, out = cell.outputs[0].name;
  const trace = cell.forward(params, { [input]: x }, { T, B });
  const grads = cell.createGrads();
  const res = cell.backward(params, trace, { outputs: { [out]: dY } }, grads);
  return { h: trace.outputs[out], grads, dx: res.inputs[input] };
}

const f64 = (file: string): Float64Array => {
  const b = readFileSync(file);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

async function checkTorchOnce(kind: Kind): Promise<Row[]> {
  const K = kind.toUpperCase();
  const { p, x, dY } = sampleData(kind, Float64Array);
  const ref = await rnncReference(kind, p, x as Float64Array, dY as Float64Array);
  const w = makeWorkload(kind, "train", "check", { I, H, B, T });
  const { proc, key } = await prepareTorch(w, p, x as Float64Array, "f64", dY as Float64Array);
  const files = (await proc.request({ cmd: "outputs", key, dir: proc.dir }))["files"] as Record<"h" | "dW" | "db" | "dx", string>;
  await proc.request({ cmd: "dispose", key });
  const mine = splitFused(kind, { W: f64(files.dW), b: f64(files.db) }, I, H);
  const gradErr = Math.max(...Object.keys(mine).map((k) => relErr(mine[k], ref.grads[k])), relErr(f64(files.dx), ref.dx));
  return [
    { name: `PyTorch ${K} outputs vs rnnc (f64)`, error: relErr(f64(files.h), ref.h), tol: 1e-10 },
    { name: `PyTorch ${K} grads vs rnnc (f64)`, error: gradErr, tol: 1e-9 },
  ];
}

async function checkOrtOnce(which: "export" | "op"): Promise<Row> {
  const { p, x, dY } = sampleData("lstm", Float64Array);
  const ref = await rnncReference("lstm", p, x as Float64Array, dY as Float64Array);
  const w = makeWorkload("lstm", "forward", "check", { I, H, B, T });
  const p32 = { W: Float32Array.from(p.W), b: Float32Array.from(p.b) };
  const out = await (await ortRunner(w, which, p32, Float32Array.from(x))).run();
  const h = out[which === "export" ? "h" : "Y"]!.data as Float32Array;
  return { name: `ONNX Runtime LSTM (${which === "export" ? "rnnc's export" : "LSTM op"}) outputs vs rnnc (f32)`, error: relErr(h, ref.h), tol: 1e-5 };
}

/** Runs a check; a missing peer (no torch, no onnxruntime-node) skips it, anything else fails it. */
async function guarded(name: string, f: () => Promise<Row[]>): Promise<Row[]> {
  try {
    return await f();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return [e instanceof Unavailable ? { name, error: NaN, tol: 0, skipped: msg } : { name, error: Infinity, tol: 0, note: msg }];
  }
}

export async function checkNative(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of ["lstm", "gru"] as const) rows.push(...(await guarded(`PyTorch ${kind.toUpperCase()} vs rnnc`, () => checkTorchOnce(kind))));
  for (const which of ["export", "op"] as const) rows.push(...(await guarded(`ONNX Runtime LSTM (${which}) vs rnnc`, async () => [await checkOrtOnce(which)])));
  return rows;
}
