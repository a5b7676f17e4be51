/**
 * ONNX Runtime (onnxruntime-node, CPU, one intra-op and one inter-op thread, sequential), inference
 * only: the LSTM forward over T steps and one step. Two models, both with the hand-fused params at
 * PARAM_SEED baked in as initializers:
 * - `ort`: rnnc's own ONNX export of examples/cells/lstm.cell (compiler/export/onnx.ts: a `Scan` over
 *   time, the input products hoisted out of it), initial states as required inputs;
 * - `ort-lstm`: ONNX's fused `LSTM` operator, one node (ORT's own LSTM kernel).
 * `session.run` is asynchronous, so a sample awaits `reps` runs in a row, timed here. One step feeds
 * the previous call's final states back as the initial ones.
 */

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { initLstmParams, type LstmParams } from "../hand-fused.js";
import { Unavailable, type Contestant, type Prepared } from "../harness.js";
import { inputData, PARAM_SEED, type Workload } from "../workloads.js";
import { splitFused } from "./cell-layout.js";
import { repoRoot } from "./rnnc.js";
import type * as Ort from "onnxruntime-node";

type OrtModule = typeof Ort;
let ortModule: Promise<OrtModule> | null = null;

function loadOrt(): Promise<OrtModule> {
  ortModule ??= import("onnxruntime-node").catch((e: unknown) => {
    throw new Unavailable(`onnxruntime-node not available (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`);
  });
  return ortModule;
}

export async function describeOrt(): Promise<string> {
  try {
    const ort = await loadOrt();
    return `ONNX Runtime ${ort.env.versions.common} (onnxruntime-node), CPU, 1 intra-op + 1 inter-op thread`;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** rnnc's export of lstm.cell at the workload's sizes, params baked in. */
async function exportedModel(w: Workload, p: LstmParams): Promise<{ bytes: Uint8Array; io: Io }> {
  const { lowerSource } = await import("../../compiler/index.js");
  const { exportOnnx, initialName, finalName } = await import("../../compiler/export/onnx.js");
  const file = path.join(repoRoot(), "examples", "cells", "lstm.cell");
  if (!existsSync(file)) throw new Unavailable("ort: examples/cells/lstm.cell not found");
  const [ir] = lowerSource(readFileSync(file, "utf8"), { path: file, sizes: { I: w.I, H: w.H }, layout: "all" }).filter((c) => c.name === "lstm");
  if (!ir) throw new Unavailable("ort: examples/cells/lstm.cell has no cell 'lstm'");
  const params = splitFused("lstm", p, w.I, w.H, Float32Array);
  const bytes = exportOnnx(ir, { dtype: "f32", params, initialStates: "required" });
  return { bytes, io: { x: ir.inputs[0]!.name, initial: [initialName("h"), initialName("c")], final: [finalName("h"), finalName("c")], stateDims: [w.B, w.H] } };
}

/** ONNX's LSTM operator: gate blocks i, o, f, c (the fused rows are i, f, g, o), both biases. */
async function lstmOpModel(w: Workload, p: LstmParams): Promise<{ bytes: Uint8Array; io: Io }> {
  const { encodeModel, graph, model, node, tensor, valueInfo } = await import("../../compiler/export/onnx-proto.js");
  const { I, H } = w, K = I + H, order = [0, 3, 1, 2];
  const Wx = new Float32Array(4 * H * I), R = new Float32Array(4 * H * H), Bias = new Float32Array(8 * H);
  order.forEach((src, dst) => {
    for (let u = 0; u < H; u++) {
      const row = (src * H + u) * K, to = dst * H + u;
      for (let k = 0; k < I; k++) Wx[to * I + k] = p.W[row + k];
      for (let k = 0; k < H; k++) R[to * H + k] = p.W[row + I + k];
      Bias[to] = p.b[src * H + u];
    }
  });
  const g = graph({
    name: "lstm_op",
    nodes: [node("LSTM", ["X", "W", "R", "B", "", "initial_h", "initial_c"], ["Y", "Y_h", "Y_c"], { hidden_size: H })],
    inputs: [valueInfo("X", "f32", ["T", "B", I]), valueInfo("initial_h", "f32", [1, "B", H]), valueInfo("initial_c", "f32", [1, "B", H])],
    outputs: [valueInfo("Y", "f32", ["T", 1, "B", H]), valueInfo("Y_h", "f32", [1, "B", H]), valueInfo("Y_c", "f32", [1, "B", H])],
    initializers: [tensor("W", "f32", [1, 4 * H, I], Wx), tensor("R", "f32", [1, 4 * H, H], R), tensor("B", "f32", [1, 8 * H], Bias)],
  });
  return { bytes: encodeModel(model(g, "bench", "ONNX LSTM operator")), io: { x: "X", initial: ["initial_h", "initial_c"], final: ["Y_h", "Y_c"], stateDims: [1, w.B, w.H] } };
}

interface Io {
  readonly x: string;
  readonly initial: readonly string[];
  readonly final: readonly string[];
  readonly stateDims: readonly number[];
}

export interface OrtRunner {
  run(): Promise<Record<string, Ort.Tensor>>;
}

/** A session for the workload, its feeds made once; `step` carries the final states over. */
export async function ortRunner(w: Workload, which: "export" | "op", p: LstmParams, x: Float32Array): Promise<OrtRunner> {
  const ort = await loadOrt();
  const { bytes, io } = await (which === "export" ? exportedModel : lstmOpModel)(w, p);
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: 3,
  });
  const feeds: Record<string, Ort.Tensor> = { [io.x]: new ort.Tensor("float32", x, [w.T, w.B, w.I]) };
  const n = io.stateDims.reduce((a, b) => a * b, 1);
  for (const s of io.initial) feeds[s] = new ort.Tensor("float32", new Float32Array(n), io.stateDims);
  return {
    async run() {
      const out = await session.run(feeds);
      if (w.kind === "step") io.initial.forEach((s, k) => (feeds[s] = out[io.final[k]!]!));
      return out;
    },
  };
}

export function ortContestant(which: "export" | "op"): Contestant {
  return {
    id: which === "export" ? "ort" : "ort-lstm",
    label: which === "export" ? "ORT, rnnc's export" : "ORT, LSTM op",
    unsupported: (w) => (w.cell !== "lstm" ? "ort: LSTM only" : w.kind === "train" ? "ort: inference only" : null),
    async prepare(w: Workload): Promise<Prepared> {
      const r = await ortRunner(w, which, initLstmParams(w.I, w.H, PARAM_SEED), inputData(w));
      return {
        async sample(reps) {
          const t0 = process.hrtime.bigint();
          for (let k = 0; k < reps; k++) await r.run();
          return Number(process.hrtime.bigint() - t0) / 1e9 / reps;
        },
      };
    },
  };
}
