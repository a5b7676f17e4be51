/** `rnnc eval`: forward and backward through time on numbers given as JSON (SPEC §2). */
import { MAX_BATCH, MAX_EVAL_ELEMENTS, MAX_STEPS } from "../compiler/limits.js";
import { DataError, positiveCount, readTensors, writeTensors } from "./data.js";
import type { Cell, Real, TensorSpec } from "./runtime/types.js";

const FIELDS = ["T", "B", "params", "inputs", "initial", "outputGrads", "finalGrads"];

/** Runs `cell` on `data` (already parsed JSON); errors name the offending field. */
export function evaluate(cell: Cell, data: unknown): Record<string, unknown> {
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new DataError("expected a JSON object with T, B, params, inputs");
  const d = data as Record<string, unknown>;
  for (const key of Object.keys(d)) if (!FIELDS.includes(key)) throw new DataError(`${key}: unknown field (expected one of ${FIELDS.join(", ")})`);
  const T = positiveCount("T", d["T"], MAX_STEPS);
  const B = positiveCount("B", d["B"], MAX_BATCH);
  checkWork(cell, T, B);
  const make = (n: number): Real => (cell.dtype === "f32" ? new Float32Array(n) : new Float64Array(n));
  const params = readTensors("params", d["params"] ?? {}, cell.params, [], make)!;
  const inputs = readTensors("inputs", d["inputs"] ?? {}, cell.inputs, [T, B], make)!;
  const initial = readTensors("initial", d["initial"], cell.states, [B], make, true);
  const outputGrads = readTensors("outputGrads", d["outputGrads"], cell.outputs, [T, B], make, true);
  const finalGrads = readTensors("finalGrads", d["finalGrads"], cell.states, [B], make, true);

  const trace = cell.forward(params, inputs, { T, B, initial });
  const result: Record<string, unknown> = {
    outputs: writeTensors(trace.outputs, cell.outputs, [T, B]),
    final: writeTensors(trace.final, cell.states, [B]),
  };
  if (d["outputGrads"] !== undefined || d["finalGrads"] !== undefined) {
    const grads = cell.createGrads();
    const back = cell.backward(params, trace, { outputs: outputGrads, final: finalGrads }, grads);
    result["grads"] = {
      params: writeTensors(grads, cell.params, []),
      inputs: writeTensors(back.inputs, cell.inputs, [T, B]),
      initial: writeTensors(back.initial, cell.states, [B]),
    };
  }
  return result;
}

/**
 * The numbers one evaluation holds for each step of each sequence (inputs, states, outputs, their
 * gradients and the tape) must stay within `MAX_EVAL_ELEMENTS` in all: T and B are only numbers in
 * the file, and a cell without inputs has no data that would bound them.
 */
function checkWork(cell: Cell, T: number, B: number): void {
  const total = (specs: readonly TensorSpec[]) => specs.reduce((n, s) => n + s.size, 0);
  const perStep = 2 * (total(cell.inputs) + total(cell.states) + total(cell.outputs)) + total(cell.tape);
  const numbers = T * B * Math.max(1, perStep);
  if (numbers <= MAX_EVAL_ELEMENTS) return;
  throw new DataError(`T: ${T} steps of ${B} sequences need ${numbers} numbers (${perStep} per step and sequence); ` +
    `at most ${MAX_EVAL_ELEMENTS} are allowed: lower T or B`);
}
