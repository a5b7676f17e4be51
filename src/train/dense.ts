/**
 * A dense output head `y = W·h + b` applied to every row of its input: `[T][B][H]` for per-step
 * predictions or `[B][H]` for one prediction per sequence (any number of rows of width H).
 */

import type { DType, Real } from "../runtime/types.js";
import { fillUniform, Rng, xavierUniform } from "./init.js";
import type { ParamGroup } from "./optim.js";
import { allocate } from "./sequence.js";

export interface DenseOptions {
  readonly dtype?: DType;
  /** Group name for optimizers and saved files; default "dense". */
  readonly name?: string;
  /** Seed of the initial draw (PyTorch's `nn.Linear` default, or Xavier); default 0. */
  readonly seed?: number;
  /** "pytorch": W and b uniform ±1/√inputSize, as `nn.Linear`; "xavier": Xavier W, zero b. */
  readonly init?: "pytorch" | "xavier";
}

/** A dense layer with weights `W[outputSize, inputSize]` and bias `b[outputSize]`. */
export class Dense {
  readonly name: string;
  readonly dtype: DType;
  readonly W: Real;
  readonly b: Real;
  readonly gradW: Real;
  readonly gradB: Real;

  constructor(
    readonly inputSize: number,
    readonly outputSize: number,
    options: DenseOptions = {},
  ) {
    this.name = options.name ?? "dense";
    this.dtype = options.dtype ?? "f32";
    this.W = allocate(this.dtype, outputSize * inputSize);
    this.b = allocate(this.dtype, outputSize);
    this.gradW = allocate(this.dtype, outputSize * inputSize);
    this.gradB = allocate(this.dtype, outputSize);
    const rng = new Rng(options.seed ?? 0);
    if (options.init === "xavier") {
      xavierUniform(this.W, outputSize, inputSize, rng);
    } else {
      const bound = 1 / Math.sqrt(inputSize);
      fillUniform(this.W, bound, rng);
      fillUniform(this.b, bound, rng);
    }
  }

  groups(): ParamGroup[] {
    return [
      {
        name: this.name,
        params: { W: this.W, b: this.b },
        grads: { W: this.gradW, b: this.gradB },
        shapes: { W: [this.outputSize, this.inputSize], b: [this.outputSize] },
      },
    ];
  }

  /** `y[r] = W·x[r] + b` for every row r of `x`. */
  forward(x: Real): Real {
    const rows = this.rowsOf(x, this.inputSize, "input");
    const { inputSize: n, outputSize: m, W, b } = this;
    const y = allocate(this.dtype, rows * m);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < m; o++) {
        let sum = b[o]!;
        for (let i = 0; i < n; i++) sum += W[o * n + i]! * x[r * n + i]!;
        y[r * m + o] = sum;
      }
    }
    return y;
  }

  /**
   * Given the input `x` of `forward` and dLoss/dy, accumulates `dW += Σ_r dy[r]·x[r]ᵀ` and
   * `db += Σ_r dy[r]`, and returns dLoss/dx `= Wᵀ·dy[r]` per row.
   */
  backward(x: Real, dy: Real): Real {
    const rows = this.rowsOf(x, this.inputSize, "input");
    if (dy.length !== rows * this.outputSize) {
      throw new Error(
        `Dense.backward: output gradient has ${dy.length} values, expected ${rows}·${this.outputSize}`,
      );
    }
    const { inputSize: n, outputSize: m, W, gradW, gradB } = this;
    const dx = allocate(this.dtype, rows * n);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < m; o++) {
        const g = dy[r * m + o]!;
        if (g === 0) continue;
        gradB[o]! += g;
        for (let i = 0; i < n; i++) {
          gradW[o * n + i]! += g * x[r * n + i]!;
          dx[r * n + i]! += g * W[o * n + i]!;
        }
      }
    }
    return dx;
  }

  private rowsOf(data: Real, width: number, what: string): number {
    if (data.length % width !== 0) {
      throw new Error(`Dense '${this.name}': ${what} has ${data.length} values, not a multiple of ${width}`);
    }
    return data.length / width;
  }
}
