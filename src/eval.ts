/** `rnnc eval`: forward and backward through time on numbers given as JSON (SPEC §2). */
import { DataError, positiveCount, readTensors, writeTensors } from "./data.js";
import type { Cell, Real } from "./runtime/types.js";

const FIELDS = ["T", "B", "params", "inputs", "initial", "outputGrads", "finalGrads"];

/** Runs `cell` on `data` (already parsed JSON); errors name the offending field. */
export function evaluate(cell: Cell, data: unknown): Record<string, unknown> {
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new DataError("expected a JSON object with T, B, params, inputs");
  const d = data as Record<string, unknown>;
  for (const key of Object.keys(d)) if (!FIELDS.includes(key)) throw new DataError(`${key}: unknown field (expected one of ${FIELDS.join(", ")})`);
  const T = positiveCount("T", d["T"]);
  const B = positiveCount("B", d["B"]);
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
