/**
 * Seeded randomness and weight initialisers.
 *
 * `Rng` is mulberry32 (a 32-bit state PRNG, fast and good enough for weights and shuffling) with
 * normal draws by Box–Muller. The initialisers fill flat row-major typed arrays in place and follow
 * PyTorch's definitions, so a cell initialised here starts where `nn.LSTM` or `nn.init.*` would.
 */

import { DataError } from "../runtime/errors.js";
import { drawInitial, orthogonalFill } from "../runtime/initial.js";
import { checkSeed, isSeed, mulberry32 } from "../runtime/random.js";
import { bumpParams } from "../runtime/params.js";
import type { CellSpec, Real, Tensors } from "../runtime/types.js";

/** A seeded pseudo-random generator: the runtime's mulberry32 for uniforms, Box–Muller for normals. */
export class Rng {
  private readonly uniform01: () => number;
  private spareNormal: number | undefined;

  /** `seed`: an integer from 0 to 2^32 − 1 (anything else is a `DataError`). */
  constructor(seed: number) {
    this.uniform01 = mulberry32(checkSeed(seed, "Rng: seed"));
  }

  /** A uniform draw from [0, 1). */
  next(): number {
    return this.uniform01();
  }

  /** A uniform draw from [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** A normal draw (Box–Muller; the second value of each pair is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * z;
    }
    const u1 = 1 - this.next(); // (0, 1], so the logarithm is finite
    const u2 = this.next();
    const radius = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = radius * Math.sin(2 * Math.PI * u2);
    return mean + std * radius * Math.cos(2 * Math.PI * u2);
  }

  /** A uniform integer from 0 to n - 1. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

/** Fills `data` with uniform draws from [-bound, bound). */
export function fillUniform(data: Real, bound: number, rng: Rng): Real {
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-bound, bound);
  return data;
}

/** PyTorch's default for RNN weights and biases: uniform ±1/√hidden. */
export function pytorchUniform(data: Real, hidden: number, rng: Rng): Real {
  return fillUniform(data, 1 / Math.sqrt(hidden), rng);
}

/** Xavier/Glorot uniform for a `[rows, cols]` matrix: ±gain·√(6 / (fanIn + fanOut)). */
export function xavierUniform(data: Real, rows: number, cols: number, rng: Rng, gain = 1): Real {
  return fillUniform(data, gain * Math.sqrt(6 / (rows + cols)), rng);
}

/**
 * A (semi-)orthogonal `[rows, cols]` matrix, as `torch.nn.init.orthogonal_`: the Q factor of a
 * Gaussian matrix (Gram–Schmidt). Rows are orthonormal when rows ≤ cols, columns when rows ≥ cols.
 */
export function orthogonal(data: Real, rows: number, cols: number, rng: Rng, gain = 1): Real {
  return orthogonalFill(data, rows, cols, () => rng.normal(), gain);
}

export type WeightScheme = "pytorch" | "xavier" | "orthogonal";
export type BiasScheme = "pytorch" | "zero";

export interface InitOptions {
  /** Seed for the draws; the same seed gives the same params. */
  readonly seed: number;
  /** How matrices are drawn (default "pytorch": uniform ±1/√hidden). */
  readonly weights?: WeightScheme;
  /** How vectors are drawn: "pytorch" (uniform ±1/√hidden) or "zero". Default: "pytorch" with
   * pytorch weights, "zero" otherwise. */
  readonly biases?: BiasScheme;
  /** The hidden size behind ±1/√hidden; default the cell's first state size, as PyTorch uses
   * `hidden_size` for every weight of a recurrent layer. */
  readonly hidden?: number;
  /** Scale for xavier and orthogonal weights. */
  readonly gain?: number;
}

/**
 * Draws every param of a cell, in declaration order, into `params` (which is returned): a param
 * whose cell declares its initial values (`param g[H] = 1`, `~ orthogonal`) as declared, the
 * others by their shape (matrices `[rows, cols]` by `weights`, vectors and scalars by `biases`).
 */
export function initializeParams(
  spec: Pick<CellSpec, "params" | "states">,
  params: Tensors,
  options: InitOptions,
): Tensors {
  checkInitOptions(options);
  const rng = new Rng(options.seed);
  const weights = options.weights ?? "pytorch";
  const biases = options.biases ?? (weights === "pytorch" ? "pytorch" : "zero");
  const gain = options.gain ?? 1;
  for (const param of spec.params) {
    const data = params[param.name];
    if (data === undefined) throw new DataError(`initializeParams: no tensor for param '${param.name}'`);
    const hidden = options.hidden ?? spec.states[0]?.size ?? param.shape[0] ?? 1;
    if (param.init) {
      drawInitial(param.init, param.shape, data, { uniform: () => rng.next(), normal: () => rng.normal() });
    } else if (param.shape.length === 2) {
      const [rows, cols] = param.shape as [number, number];
      if (weights === "pytorch") pytorchUniform(data, hidden, rng);
      else if (weights === "xavier") xavierUniform(data, rows, cols, rng, gain);
      else orthogonal(data, rows, cols, rng, gain);
    } else if (biases === "pytorch") {
      pytorchUniform(data, hidden, rng);
    } else {
      data.fill(0);
    }
  }
  bumpParams(params);
  return params;
}

/** What each option of `InitOptions` allows. */
const INIT_OPTIONS: Readonly<Record<keyof InitOptions, readonly [string, (v: unknown) => boolean]>> = {
  seed: ["an integer from 0 to 2^32 − 1", isSeed],
  weights: ['"pytorch", "xavier" or "orthogonal"', (v) => v === "pytorch" || v === "xavier" || v === "orthogonal"],
  biases: ['"pytorch" or "zero"', (v) => v === "pytorch" || v === "zero"],
  hidden: ["a positive integer", (v) => typeof v === "number" && Number.isInteger(v) && v > 0],
  gain: ["a finite number", (v) => typeof v === "number" && Number.isFinite(v)],
};

/** Unknown options and values an option does not allow (undefined: the default, except for the
 * seed, which is required) are `DataError`s naming the option. */
function checkInitOptions(options: InitOptions): void {
  const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));
  if (typeof options !== "object" || options === null) throw new DataError(`initializeParams: options should be an object with a seed, got ${show(options)}`);
  for (const key of ["seed", ...Object.keys(options)]) {
    const rule = Object.prototype.hasOwnProperty.call(INIT_OPTIONS, key) ? INIT_OPTIONS[key as keyof InitOptions] : undefined;
    if (rule === undefined) throw new DataError(`initializeParams: unknown option '${key}' (expected ${Object.keys(INIT_OPTIONS).join(", ")})`);
    const value: unknown = options[key as keyof InitOptions];
    if ((value !== undefined || key === "seed") && !rule[1](value))
      throw new DataError(`initializeParams: options.${key} should be ${rule[0]}, got ${show(value)}`);
  }
}
