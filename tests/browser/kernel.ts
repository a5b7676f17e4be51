/**
 * What the browser test runs both in Node and in a page bundled by esbuild (with training.ts and
 * compiled.ts): a generated kernel forward and backward. Everything is seeded; each function
 * returns its numbers by name, for a bit-for-bit comparison.
 */

import { cell as lstm } from "../../generated/lstm.js";
import { mulberry32 } from "../../src/runtime/index.js";
import type { Cell, Real, Tensors } from "../../src/runtime/types.js";

export type Numbers = Record<string, number[]>;

export const T = 5;
export const B = 3;

/** `n` numbers uniform in ±scale from a seeded generator. */
export function uniform(n: number, seed: number, scale = 1): Float64Array {
  const random = mulberry32(seed);
  return Float64Array.from({ length: n }, () => (2 * random() - 1) * scale);
}

/** The tensors of `specs` (`rows` per element of the spec), filled from consecutive seeds. */
function tensors(cell: Cell, specs: Cell["inputs"], rows: number, seed: number): Tensors {
  const Arr = cell.dtype === "f32" ? Float32Array : Float64Array;
  return Object.fromEntries(specs.map((s, k) => [s.name, Arr.from(uniform(rows * s.size, seed + k))]));
}

export const named = (prefix: string, values: Tensors): Numbers =>
  Object.fromEntries(Object.entries(values).map(([name, data]) => [`${prefix}.${name}`, Array.from(data)]));

/** A cell's forward outputs and final states, and every gradient of its backward pass. */
export function forwardBackward(cell: Cell, seed: number): Numbers {
  const params = cell.initParams(seed);
  const trace = cell.forward(params, tensors(cell, cell.inputs, T * B, seed + 10), {
    T,
    B,
    initial: tensors(cell, cell.states, B, seed + 20),
  });
  const forward = { ...named("outputs", trace.outputs), ...named("final", trace.final) };
  const grads = cell.createGrads();
  const result = cell.backward(
    params,
    trace,
    { outputs: tensors(cell, cell.outputs, T * B, seed + 30), final: tensors(cell, cell.states, B, seed + 40) },
    grads,
  );
  return {
    ...forward,
    ...named("grads", grads),
    ...named("dinputs", result.inputs),
    ...named("dinitial", result.initial),
  };
}

/** The generated LSTM (float32, I = 8, H = 16) forward and backward. */
export const kernelNumbers = (): Numbers => forwardBackward(lstm, 1);
