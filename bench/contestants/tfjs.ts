/**
 * TF.js 4.x on its plain-JS "cpu" backend and on its "wasm" backend (SIMD when the runtime has it),
 * both in-process. Written the way a competent TF.js user would:
 * - LSTM: `tf.basicLSTMCell` (one fused [I+H, 4H] kernel: concat([x, h]) · kernel + bias, split in
 *   four), looped over T steps; the train step is `tf.grads` of loss = sum of all h[t] with respect
 *   to kernel, bias and the input sequence (all param grads and input grads).
 * - GRU by hand with the same fusing: concat([x, h]) · Wzr [I+H, 2H] for both gates, then
 *   n = tanh(x·Wnx + (r ⊙ h)·Wnh + bn), h' = (1 − z) ⊙ n + z ⊙ h (brain.js's GRU formula).
 * Every call runs inside tf.tidy, so memory stays flat; tf.enableProdMode() is on.
 */

import { createRequire } from "node:module";
import path from "node:path";
import type * as TF from "@tensorflow/tfjs";
import type { Contestant, Prepared } from "../harness.js";
import { initLstmParams, type LstmParams } from "../hand-fused.js";
import { fillUniform } from "../rng.js";
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

/** TF's kernel [I+H, 4H] (column blocks i, j=g, f, o) from the fused W [4H, I+H] (rows i, f, g, o). */
export function toTfKernel(p: LstmParams, I: number, H: number): { kernel: Float32Array; bias: Float32Array } {
  const from = [0, 2, 1, 3]; // TF block -> our block
  const K = I + H, kernel = new Float32Array(K * 4 * H), bias = new Float32Array(4 * H);
  for (let tb = 0; tb < 4; tb++)
    for (let u = 0; u < H; u++) {
      const row = from[tb] * H + u, col = tb * H + u;
      bias[col] = p.b[row];
      for (let k = 0; k < K; k++) kernel[k * 4 * H + col] = p.W[row * K + k];
    }
  return { kernel, bias };
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

interface GruParams { Wzr: TF.Tensor2D; bzr: TF.Tensor1D; Wnx: TF.Tensor2D; Wnh: TF.Tensor2D; bn: TF.Tensor1D }

function gruStep(tf: Tf, p: GruParams, x: TF.Tensor2D, h: TF.Tensor2D): TF.Tensor2D {
  const zr = tf.sigmoid(tf.add(tf.matMul(tf.concat([x, h], 1), p.Wzr), p.bzr));
  const [z, r] = tf.split(zr, 2, 1);
  const n = tf.tanh(tf.add(tf.add(tf.matMul(x, p.Wnx), tf.matMul(tf.mul(r, h), p.Wnh)), p.bn));
  return tf.add(n, tf.mul(z, tf.sub(h, n)));
}

function gruOutputs(tf: Tf, p: GruParams, x: TF.Tensor3D, H: number): TF.Tensor2D[] {
  let h: TF.Tensor2D = tf.zeros([x.shape[1], H]);
  return (tf.unstack(x) as TF.Tensor2D[]).map((xt) => (h = gruStep(tf, p, xt, h)));
}

function gruParams(tf: Tf, I: number, H: number): GruParams {
  const s = 1 / Math.sqrt(H);
  const u = (n: number, seed: number) => fillUniform(new Float32Array(n), seed, s) as Float32Array;
  return {
    Wzr: tf.tensor2d(u((I + H) * 2 * H, PARAM_SEED), [I + H, 2 * H]),
    bzr: tf.tensor1d(u(2 * H, PARAM_SEED + 1)),
    Wnx: tf.tensor2d(u(I * H, PARAM_SEED + 2), [I, H]),
    Wnh: tf.tensor2d(u(H * H, PARAM_SEED + 3), [H, H]),
    bn: tf.tensor1d(u(H, PARAM_SEED + 4)),
  };
}

const sumAll = (tf: Tf, hs: TF.Tensor2D[]): TF.Scalar => tf.sum(tf.addN(hs));

interface Built {
  run(): void;
  /** Tensors to dispose when the workload is done. */
  tensors(): TF.Tensor[];
}

function prepareLstm(tf: Tf, w: Workload): Built {
  const { kernel: k, bias: b } = toTfKernel(initLstmParams(w.I, w.H, PARAM_SEED), w.I, w.H);
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
  const p = gruParams(tf, w.I, w.H);
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
