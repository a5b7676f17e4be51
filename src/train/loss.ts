/**
 * Losses with their gradients, and accuracy. Predictions are rows (`[T][B][n]` or `[B][n]`
 * flattened); an optional mask (`[T][B]` or `[B]`, one entry per row) leaves padded rows out of
 * the mean and gives them a zero gradient. Losses are means over the counted rows, as PyTorch's
 * default `reduction="mean"`.
 */

import type { Real } from "../runtime/types.js";
import { allocate, dtypeOf } from "./sequence.js";

export interface LossResult {
  readonly loss: number;
  /** dLoss/d(prediction), shaped and typed like the prediction. */
  readonly grad: Real;
}

export interface LossOptions {
  /** One entry per row, 1 = counted, 0 = padding. */
  readonly mask?: Uint8Array;
}

/** Rows and their width, from the element count and the number of rows (mask or targets). */
function rowLayout(values: number, rows: number, what: string): number {
  if (rows === 0 || values % rows !== 0) {
    throw new Error(`${what}: ${values} values cannot be split into ${rows} rows`);
  }
  return values / rows;
}

function countedRows(rows: number, mask: Uint8Array | undefined): number {
  if (mask === undefined) return rows;
  if (mask.length !== rows) throw new Error(`mask has ${mask.length} entries for ${rows} rows`);
  return mask.reduce((count, m) => count + (m === 0 ? 0 : 1), 0);
}

/** Mean squared error over all elements of the counted rows, as `nn.MSELoss()`. */
export function meanSquaredError(
  prediction: Real,
  target: ArrayLike<number>,
  options: LossOptions = {},
): LossResult {
  if (target.length !== prediction.length) {
    throw new Error(`meanSquaredError: target has ${target.length} values, prediction ${prediction.length}`);
  }
  const { mask } = options;
  const rows = mask?.length ?? 1;
  const width = rowLayout(prediction.length, rows, "meanSquaredError");
  const elements = countedRows(rows, mask) * width;
  const grad = allocate(dtypeOf(prediction), prediction.length);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    if (mask !== undefined && mask[r] === 0) continue;
    for (let k = r * width; k < (r + 1) * width; k++) {
      const error = prediction[k]! - target[k]!;
      sum += error * error;
      grad[k] = (2 * error) / elements;
    }
  }
  return { loss: elements === 0 ? 0 : sum / elements, grad };
}

/**
 * Softmax cross-entropy of `logits` (`[rows][classes]`) against integer class targets (one per
 * row), as `nn.CrossEntropyLoss()`. Computed with log-sum-exp (the row maximum subtracted), so it
 * is finite for any finite logits; the gradient is `(softmax − onehot) / counted rows`.
 */
export function softmaxCrossEntropy(
  logits: Real,
  targets: ArrayLike<number>,
  options: LossOptions = {},
): LossResult {
  const rows = targets.length;
  const classes = rowLayout(logits.length, rows, "softmaxCrossEntropy");
  const { mask } = options;
  const counted = countedRows(rows, mask);
  const grad = allocate(dtypeOf(logits), logits.length);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    if (mask !== undefined && mask[r] === 0) continue;
    const target = targets[r]!;
    if (!Number.isInteger(target) || target < 0 || target >= classes) {
      throw new Error(`softmaxCrossEntropy: target ${target} of row ${r} is not a class in [0, ${classes})`);
    }
    const offset = r * classes;
    const logSumExp = logSumExpOfRow(logits, offset, classes);
    sum += logSumExp - logits[offset + target]!;
    for (let c = 0; c < classes; c++) {
      const probability = Math.exp(logits[offset + c]! - logSumExp);
      grad[offset + c] = (probability - (c === target ? 1 : 0)) / counted;
    }
  }
  return { loss: counted === 0 ? 0 : sum / counted, grad };
}

/** `log Σ_c exp(z_c)` of one row, with the maximum taken out first. */
function logSumExpOfRow(logits: Real, offset: number, classes: number): number {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[offset + c]!);
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += Math.exp(logits[offset + c]! - max);
  return max + Math.log(sum);
}

/** Row-wise softmax of `logits / temperature` (a temperature below 1 sharpens, above 1 flattens). */
export function softmax(logits: ArrayLike<number>, classes: number, temperature = 1): Float64Array {
  const probabilities = new Float64Array(logits.length);
  const scaled = Float64Array.from(logits, (z) => z / temperature);
  for (let offset = 0; offset < scaled.length; offset += classes) {
    const logSumExp = logSumExpOfRow(scaled, offset, classes);
    for (let c = 0; c < classes; c++) probabilities[offset + c] = Math.exp(scaled[offset + c]! - logSumExp);
  }
  return probabilities;
}

/** The index of each row's largest value (the first on ties). */
export function argmaxRows(values: ArrayLike<number>, width: number): Int32Array {
  const rows = values.length / width;
  const indices = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < width; c++) if (values[r * width + c]! > values[r * width + best]!) best = c;
    indices[r] = best;
  }
  return indices;
}

/** The fraction of counted rows whose largest logit is the target class (0 when none counts). */
export function accuracy(logits: Real, targets: ArrayLike<number>, options: LossOptions = {}): number {
  const classes = rowLayout(logits.length, targets.length, "accuracy");
  const predicted = argmaxRows(logits, classes);
  const { mask } = options;
  const counted = countedRows(targets.length, mask);
  let correct = 0;
  for (let r = 0; r < targets.length; r++) {
    if ((mask === undefined || mask[r] !== 0) && predicted[r] === targets[r]) correct += 1;
  }
  return counted === 0 ? 0 : correct / counted;
}
