/**
 * Time-major sequence batches: allocation, padding and masks, reversal within lengths, the value at
 * each sequence's last step, one-hot encoding, and truncated backprop through time.
 *
 * A batch is `[T][B][width]` flattened, time first; a mask is `[T][B]` with 1 on real steps and 0
 * on padding. Padding always follows a sequence's real steps, so a mask is determined by lengths.
 */

import type { DType, Real, Tensors } from "../runtime/types.js";
import type { LayerTrace, RecurrentLayer } from "./layers.js";

/** A zeroed typed array of the given dtype. */
export function allocate(dtype: DType, length: number): Real {
  return dtype === "f64" ? new Float64Array(length) : new Float32Array(length);
}

/** The dtype of a typed array. */
export function dtypeOf(data: Real): DType {
  return data instanceof Float64Array ? "f64" : "f32";
}

export interface PaddedBatch {
  readonly T: number;
  readonly B: number;
  readonly width: number;
  /** `[T][B][width]`, zeros after each sequence's end. */
  readonly data: Real;
  /** `[T][B]`, 1 on real steps. */
  readonly mask: Uint8Array;
  readonly lengths: Int32Array;
}

export interface PadOptions {
  readonly dtype?: DType;
  /** Padded length; default the longest sequence. */
  readonly T?: number;
}

/**
 * Pads sequences of different lengths into one batch. Each sequence is flat `[length][width]`;
 * sequence `b` becomes batch entry `b`.
 */
export function padSequences(
  sequences: readonly ArrayLike<number>[],
  width: number,
  options: PadOptions = {},
): PaddedBatch {
  const B = sequences.length;
  const lengths = Int32Array.from(sequences, (sequence, b) => {
    if (sequence.length % width !== 0) {
      throw new Error(
        `padSequences: sequence ${b} has ${sequence.length} values, not a multiple of width ${width}`,
      );
    }
    return sequence.length / width;
  });
  const T = options.T ?? Math.max(0, ...lengths);
  const data = allocate(options.dtype ?? "f32", T * B * width);
  sequences.forEach((sequence, b) => {
    if (lengths[b]! > T)
      throw new Error(`padSequences: sequence ${b} has ${lengths[b]} steps, more than T = ${T}`);
    for (let t = 0; t < lengths[b]!; t++) {
      for (let k = 0; k < width; k++) data[(t * B + b) * width + k] = sequence[t * width + k]!;
    }
  });
  return { T, B, width, data, mask: maskFromLengths(lengths, T), lengths };
}

/** Pads per-step integer labels into `[T][B]` (zeros on padding; mask them out of the loss). */
export function padLabels(sequences: readonly ArrayLike<number>[], T?: number): Int32Array {
  return Int32Array.from(padSequences(sequences, 1, { dtype: "f64", T }).data);
}

/** The `[T][B]` mask of sequences with the given lengths. */
export function maskFromLengths(lengths: ArrayLike<number>, T: number): Uint8Array {
  const B = lengths.length;
  const mask = new Uint8Array(T * B);
  for (let b = 0; b < B; b++) for (let t = 0; t < Math.min(T, lengths[b]!); t++) mask[t * B + b] = 1;
  return mask;
}

/** Each sequence's length from a `[T][B]` mask (into `out` if given); throws if a real step follows padding. */
export function lengthsFromMask(mask: Uint8Array, T: number, B: number, out?: Int32Array): Int32Array {
  if (mask.length !== T * B) throw new Error(`mask has ${mask.length} entries, expected T·B = ${T * B}`);
  const lengths = out?.fill(0) ?? new Int32Array(B);
  for (let b = 0; b < B; b++) {
    while (lengths[b]! < T && mask[lengths[b]! * B + b] === 1) lengths[b]! += 1;
    for (let t = lengths[b]!; t < T; t++) {
      if (mask[t * B + b] !== 0)
        throw new Error(`mask: sequence ${b} has a real step at t = ${t} after padding`);
    }
  }
  return lengths;
}

/**
 * Reverses each sequence within its own length (`x[L-1-t]` at step t); padding stays in place.
 * Into `out` if given (of `data`'s length and sharing no memory with it).
 */
export function reverseWithinLengths(
  data: Real,
  width: number,
  T: number,
  B: number,
  lengths: ArrayLike<number>,
  out?: Real,
): Real {
  const reversed = out ?? allocate(dtypeOf(data), data.length);
  for (let b = 0; b < B; b++) {
    const length = lengths[b]!;
    for (let t = 0; t < T; t++) {
      const source = t < length ? length - 1 - t : t;
      reversed.set(
        data.subarray((source * B + b) * width, (source * B + b + 1) * width),
        (t * B + b) * width,
      );
    }
  }
  return reversed;
}

/** The `[B][width]` values at each sequence's last real step (zeros for an empty sequence). */
export function gatherLastSteps(
  data: Real,
  width: number,
  T: number,
  B: number,
  lengths: ArrayLike<number>,
): Real {
  const last = allocate(dtypeOf(data), B * width);
  for (let b = 0; b < B; b++) {
    const t = Math.min(lengths[b]!, T) - 1;
    if (t >= 0) last.set(data.subarray((t * B + b) * width, (t * B + b + 1) * width), b * width);
  }
  return last;
}

/** The adjoint of `gatherLastSteps`: places `[B][width]` values at each last step of `[T][B][width]`. */
export function scatterLastSteps(
  last: Real,
  width: number,
  T: number,
  B: number,
  lengths: ArrayLike<number>,
): Real {
  const data = allocate(dtypeOf(last), T * B * width);
  for (let b = 0; b < B; b++) {
    const t = Math.min(lengths[b]!, T) - 1;
    if (t >= 0) data.set(last.subarray(b * width, (b + 1) * width), (t * B + b) * width);
  }
  return data;
}

/** One-hot rows for integer labels: `[labels.length][classes]`. */
export function oneHot(labels: ArrayLike<number>, classes: number, dtype: DType = "f32"): Real {
  const data = allocate(dtype, labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new Error(`oneHot: label ${label} at ${i} is not an integer in [0, ${classes})`);
    }
    data[i * classes + label] = 1;
  }
  return data;
}

/**
 * Batch-ification of one long stream as seed 001 draws it: the stream is cut into B columns of
 * equal length (the remainder dropped), column b being `stream[b·L, (b+1)·L)`, laid out time-major
 * `[L][B]` so that consecutive chunks of period T continue each column.
 */
export function batchify(
  stream: ArrayLike<number>,
  B: number,
): { readonly steps: number; readonly data: Int32Array } {
  const steps = Math.floor(stream.length / B);
  const data = new Int32Array(steps * B);
  for (let b = 0; b < B; b++) for (let t = 0; t < steps; t++) data[t * B + b] = stream[b * steps + t]!;
  return { steps, data };
}

/** Steps `[start, start + T)` of a `[L][B][width]` batch, as a view (time-major, so contiguous). */
export function sliceSteps<A extends Real | Int32Array>(
  data: A,
  width: number,
  B: number,
  start: number,
  T: number,
): A {
  return data.subarray(start * B * width, (start + T) * B * width) as A;
}

export interface TruncatedBpttOptions {
  /** Steps in the whole input `[steps][B][inputSize]`. */
  readonly steps: number;
  readonly B: number;
  /** The BPTT period T: steps per chunk (the last chunk may be shorter). */
  readonly period: number;
  /** States before the first chunk, one `Tensors` per cell of the layer; zeros where absent. */
  readonly initial?: readonly (Tensors | undefined)[];
  /**
   * false: inference only (evaluation, validation): each chunk's forward runs with `record: false`
   * and its `backward` throws. Default true.
   */
  readonly record?: boolean;
}

/** One chunk of truncated BPTT: its position, the layer's outputs on it, and its backward pass. */
export interface BpttChunk {
  readonly index: number;
  readonly start: number;
  readonly T: number;
  /** The chunk's input, `[T][B][inputSize]`. */
  readonly input: Real;
  /** The layer's output on the chunk, `[T][B][outputSize]`. */
  readonly output: Real;
  readonly trace: LayerTrace;
  /**
   * Backprop through this chunk only, accumulating into the layer's grads; returns dLoss/d(input).
   * No gradient enters from the next chunk and none leaves into the previous one. The chunk's
   * output and this gradient are the layer's arrays, which the next chunk's forward reuses once this ran.
   */
  backward(dOutput: Real): Real;
}

/**
 * Truncated backprop through time, as seed 001 describes it: the input is cut into chunks of
 * `period` steps; each chunk starts from the previous chunk's final states (the state is carried)
 * while its gradient stops at both borders (`.detach()` in PyTorch). Yields each chunk for the
 * caller to compute the loss, call `backward` and step the optimizer; returns the final states.
 */
export function* truncatedBptt(
  layer: RecurrentLayer,
  input: Real,
  options: TruncatedBpttOptions,
): Generator<BpttChunk, Tensors[], void> {
  const { steps, B, period } = options;
  if (!(period >= 1) || !Number.isInteger(period))
    throw new Error(`truncatedBptt: period must be a positive integer, got ${period}`);
  if (input.length !== steps * B * layer.inputSize) {
    throw new Error(
      `truncatedBptt: input has ${input.length} values, expected steps·B·inputSize = ${steps * B * layer.inputSize}`,
    );
  }
  const record = options.record ?? true;
  let carried: readonly (Tensors | undefined)[] | undefined = options.initial;
  // The states carried into the next chunk: a recording's final states are the layer's arrays,
  // which its next forward may take once the chunk's backward has run, so they are copied (into
  // arrays made once); a forward without a recording makes new ones, carried as they are.
  let kept: Tensors[] | undefined;
  for (let start = 0, index = 0; start < steps; start += period, index++) {
    const T = Math.min(period, steps - start);
    const chunkInput = sliceSteps(input, layer.inputSize, B, start, T);
    const trace = layer.forward(chunkInput, { T, B, initial: carried, record });
    yield {
      index,
      start,
      T,
      input: chunkInput,
      output: trace.output,
      trace,
      backward: (dOutput) => layer.backward(trace, { output: dOutput }).input,
    };
    if (!record) carried = trace.final;
    else {
      kept ??= trace.final.map((tensors) => Object.fromEntries(Object.entries(tensors).map(([name, data]) => [name, data.slice()])));
      trace.final.forEach((tensors, k) => {
        for (const [name, data] of Object.entries(tensors)) kept![k]![name]!.set(data);
      });
      carried = kept;
    }
  }
  return (carried ?? []).map((tensors) => tensors ?? {});
}
