/**
 * A param's declared initial values (`param g[H] = 1`, `~ orthogonal`, `~ xavier`,
 * `~ uniform(a, b)`, `~ normal(m, s)`), drawn from the caller's generator. Used by a cell's
 * `initParams` and by the training runtime's `initializeParams`, so both start a param alike.
 */
import type { ParamInit } from "./abi.js";

/** Where draws come from: uniform on [0, 1) and standard normal. */
export interface Draws {
  uniform(): number;
  normal(): number;
}

/** Fills `data` (a param of `shape`, row-major) as `init` says. */
export function drawInitial(init: ParamInit, shape: readonly number[], data: { length: number; [i: number]: number }, draws: Draws): void {
  const fill = (f: () => number) => {
    for (let i = 0; i < data.length; i++) data[i] = f();
  };
  const uniform = (low: number, high: number) => fill(() => low + (high - low) * draws.uniform());
  switch (init.kind) {
    case "constant":
      return fill(() => init.value);
    case "uniform":
      return uniform(init.low, init.high);
    case "normal":
      return fill(() => init.mean + init.std * draws.normal());
    case "xavier": {
      const bound = Math.sqrt(6 / (shape[0]! + shape[1]!));
      return uniform(-bound, bound);
    }
    case "orthogonal":
      return void orthogonalFill(data, shape[0]!, shape[1]!, () => draws.normal());
  }
}

/** Standard normal draws from uniform ones (Box–Muller; the second of each pair kept for the next call). */
export function boxMuller(uniform01: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const z = spare;
      spare = undefined;
      return z;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - uniform01()));
    const angle = 2 * Math.PI * uniform01();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/**
 * A (semi-)orthogonal `[rows, cols]` matrix, as `torch.nn.init.orthogonal_`: the Q factor of a
 * Gaussian matrix, computed by Gram–Schmidt (whose R has a positive diagonal, so Q is uniformly
 * distributed). Rows are orthonormal when rows ≤ cols, columns when rows ≥ cols.
 */
export function orthogonalFill<D extends { [i: number]: number }>(data: D, rows: number, cols: number, normal: () => number, gain = 1): D {
  const long = Math.max(rows, cols);
  const short = Math.min(rows, cols);
  const basis = orthonormalColumns(long, short, normal);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const [i, j] = rows >= cols ? [r, c] : [c, r];
      data[r * cols + c] = gain * basis[i]![j]!;
    }
  }
  return data;
}

/** `count` orthonormal vectors of length `length`, as the columns of a `[length][count]` matrix. */
function orthonormalColumns(length: number, count: number, normal: () => number): number[][] {
  const columns: number[][] = [];
  while (columns.length < count) {
    const v = Array.from({ length }, normal);
    // Modified Gram–Schmidt, run twice ("twice is enough") to keep orthogonality in floating point.
    for (let pass = 0; pass < 2; pass++) {
      for (const q of columns) {
        const projection = dot(q, v);
        for (let i = 0; i < length; i++) v[i]! -= projection * q[i]!;
      }
    }
    const norm = Math.sqrt(dot(v, v));
    if (norm < 1e-10) continue; // a draw in the span of the others: draw again
    columns.push(v.map((x) => x / norm));
  }
  return Array.from({ length }, (_, i) => columns.map((q) => q[i]!));
}

function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
