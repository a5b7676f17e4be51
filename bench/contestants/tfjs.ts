/**
 * TF.js 4.x on its plain-JS "cpu" backend and on its "wasm" backend (SIMD when the runtime has it),
 * both in-process. Written the way a competent TF.js user would:
 * - LSTM: `tf.basicLSTMCell` (one fused [I+H, 4H] kernel: concat([x, h]) · kernel + bias, split in
 *   four), looped over T steps; the train step is `tf.grads` of loss = sum of all h[t] with respect
 *   to kernel, bias and the input sequence (all param grads and input grads).
 * - GRU (examples/cells/gru.cell's formula) by hand with the same fusing: one
 *   concat([x, h]) · Wzr [I+H, 2H] for the update gate u and the reset gate r, then
 *   n = tanh(x·Wnx + (r ⊙ h)·Wnh + bn), h' = h + u ⊙ (n − h)  (= (1 − u) ⊙ h + u ⊙ n).
 * Params are the hand-fused contestant's, rearranged (./tf-layout.ts).
 * Every call runs inside tf.tidy, so memory stays flat; tf.enableProdMode() is on.
 */

import { createRequire } from "node:module";
import path from "node:path";
import type * as TF from "@tensorflow/tfjs";
import type { Contestant, Prepared } from "../harness.js";
import { initLstmParams, type LstmParams as FusedParams } from "../hand-fused.js";
import { initGruParams } from "../hand-fused-gru.js";
import { toTfGru, toTfLstm } from "./tf-layout.js";
import { inputData, PARAM_SEED, type Workload } from "../workloads.js";

export type Tf = typeof TF;
export type Backend = "cpu" | "wasm";

let loaded: Promise<Tf> | null = null;

/** Loads TF.js once, registers the wasm backend with its .wasm files found on disk. */
export function loadTf(): Promise<Tf> {
  loaded ??= (async () => {
    const tf = await import("@tensorflow/tfjs");
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const pkg = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json");
    wasm.setWasmPaths(path.join(path.dirname(pkg), "dist") + path.sep);
    tf.enableProdMode();
    return tf;
  })();
  return loaded;
}

export async function useBackend(tf: Tf, backend: Backend): Promise<void> {
  if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) {
    throw new Error(`TF.js backend '${backend}' failed to initialise`);
  }
}

/** h[t] for t = 0..T-1 over the sequence x [T, B, I], from zero state. */
export function lstmOutputs(tf: Tf, kernel: TF.Tensor2D, bias: TF.Tensor1D, x: TF.Tensor3D, H: number): TF.Tensor2D[] {
  const [T, B] = x.shape;
  const forgetBias = tf.scalar(0);
  let c: TF.Tensor2D = tf.zeros([B, H]), h: TF.Tensor2D = tf.zeros([B, H]);
  const xs = tf.unstack(x) as TF.Tensor2D[];
  const hs: TF.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    [c, h] = tf.basicLSTMCell(forgetBias, kernel, bias, xs[t], c, h);
    hs.push(h);
  }
  return hs;
}

export interface GruParams { Wzr: TF.Tensor2D; bzr: TF.Tensor1D; Wnx: TF.Tensor2D; Wnh: TF.Tensor2D; bn: TF.Tensor1D }

function gruStep(tf: Tf, p: GruParams, x: TF.Tensor2D, h: TF.Tensor2D): TF.Tensor2D {
  const zr = tf.sigmoid(tf.add(tf.matMul(tf.concat([x, h], 1), p.Wzr), p.bzr));
  const [u, r] = tf.split(zr, 2, 1);
  const n = tf.tanh(tf.add(tf.add(tf.matMul(x, p.Wnx), tf.matMul(tf.mul(r, h), p.Wnh)), p.bn));
  return tf.add(h, tf.mul(u, tf.sub(n, h)));
}

export function gruOutputs(tf: Tf, p: GruParams, x: TF.Tensor3D, H: number): TF.Tensor2D[] {
  let h: TF.Tensor2D = tf.zeros([x.shape[1], H]);
  return (tf.unstack(x) as TF.Tensor2D[]).map((xt) => (h = gruStep(tf, p, xt, h)));
}

export function gruTensors(tf: Tf, p: FusedParams, I: number, H: number): GruParams {
  const a = toTfGru(p, I, H);
  return {
    Wzr: tf.tensor2d(a.Wzr, [I + H, 2 * H]),
    bzr: tf.tensor1d(a.bzr),
    Wnx: tf.tensor2d(a.Wnx, [I, H]),
    Wnh: tf.tensor2d(a.Wnh, [H, H]),
    bn: tf.tensor1d(a.bn),
  };
}

const sumAll = (tf: Tf, hs: TF.Tensor2D[]): TF.Scalar => tf.sum(tf.addN(hs));

interface Built {
  run(): void;
  /** Tensors to dispose when the workload is done. */
  tensors(): TF.Tensor[];
}

function prepareLstm(tf: Tf, w: Workload): Built {
  const { kernel: k, bias: b } = toTfLstm(initLstmParams(w.I, w.H, PARAM_SEED), w.I, w.H);
  const kernel = tf.tensor2d(k, [w.I + w.H, 4 * w.H]), bias = tf.tensor1d(b);
  const x = tf.tensor3d(inputData(w), [w.T, w.B, w.I]);
  const tensors: TF.Tensor[] = [kernel, bias, x];
  if (w.kind === "step") {
    const fb = tf.scalar(0), x1 = tf.tensor2d(inputData(w), [w.B, w.I]);
    let state: TF.Tensor2D[] = [tf.zeros([w.B, w.H]), tf.zeros([w.B, w.H])];
    tensors.push(fb, x1);
    const run = () => {
      const next = tf.tidy(() => tf.basicLSTMCell(fb, kernel, bias, x1, state[0], state[1]));
      tf.dispose(state);
      state = next;
    };
    return { run, tensors: () => [...tensors, ...state] };
  }
  if (w.kind === "forward") {
    return { run: () => tf.tidy(() => void lstmOutputs(tf, kernel, bias, x, w.H)), tensors: () => tensors };
  }
  const gradFn = tf.grads((kk, bb, xx) => sumAll(tf, lstmOutputs(tf, kk as TF.Tensor2D, bb as TF.Tensor1D, xx as TF.Tensor3D, w.H)));
  return { run: () => tf.tidy(() => void gradFn([kernel, bias, x])), tensors: () => tensors };
}

function prepareGru(tf: Tf, w: Workload): Built {
  const p = gruTensors(tf, initGruParams(w.I, w.H, PARAM_SEED), w.I, w.H);
  const x = tf.tensor3d(inputData(w), [w.T, w.B, w.I]);
  const tensors: TF.Tensor[] = [p.Wzr, p.bzr, p.Wnx, p.Wnh, p.bn, x];
  if (w.kind !== "train") return { run: () => tf.tidy(() => void gruOutputs(tf, p, x, w.H)), tensors: () => tensors };
  const gradFn = tf.grads((Wzr, bzr, Wnx, Wnh, bn, xx) => {
    const q = { Wzr, bzr, Wnx, Wnh, bn } as GruParams;
    return sumAll(tf, gruOutputs(tf, q, xx as TF.Tensor3D, w.H));
  });
  return { run: () => tf.tidy(() => void gradFn([p.Wzr, p.bzr, p.Wnx, p.Wnh, p.bn, x])), tensors: () => tensors };
}

export function tfjsContestant(backend: Backend): Contestant {
  return {
    id: `tfjs-${backend}`,
    label: backend === "cpu" ? "TF.js cpu" : "TF.js wasm",
    unsupported: () => null,
    async prepare(w: Workload): Promise<Prepared> {
      const tf = await loadTf();
      await useBackend(tf, backend);
      const built = w.cell === "lstm" ? prepareLstm(tf, w) : prepareGru(tf, w);
      return { run: built.run, activate: () => useBackend(tf, backend), dispose: () => tf.dispose(built.tensors()) };
    },
  };
}

/** One line on the TF.js build: version, and whether the wasm backend found SIMD and threads. */
export async function describeTf(): Promise<string> {
  const tf = await loadTf();
  const prev = tf.getBackend();
  await useBackend(tf, "wasm");
  const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT"), threads = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT");
  if (prev) await useBackend(tf, prev as Backend);
  return `TF.js ${tf.version.tfjs}; wasm backend: SIMD ${simd ? "on" : "off"}, threads ${threads ? "on" : "off"}`;
}
