/**
 * Optimizers with PyTorch's update rules, and gradient clipping by global norm.
 *
 * Everything trainable is a `ParamGroup`: a named set of params with their gradient buffers and
 * shapes. Optimizers step groups, clipping scales their grads, serialization saves their params.
 * Optimizer state (momentum, Adam moments, step counts) is kept per param tensor, as PyTorch keeps
 * it per parameter, so a model may be stepped as one list of groups or group by group.
 */

import { bumpParams } from "../runtime/params.js";
import type { Real, Tensors } from "../runtime/types.js";

/** A named set of trainable params, their gradient buffers (same names) and declared shapes. */
export interface ParamGroup {
  readonly name: string;
  readonly params: Tensors;
  readonly grads: Tensors;
  readonly shapes: Readonly<Record<string, readonly number[]>>;
}

export interface Optimizer {
  /** Updates every param of `groups` from its gradient (gradients are left as they are). */
  step(groups: readonly ParamGroup[]): void;
}

/** Tells every cell that the groups' params were written (cells keep stacked copies of them). */
export function bumpAll(groups: readonly ParamGroup[]): void {
  for (const group of groups) bumpParams(group.params);
}

/** Zeroes every gradient buffer of `groups`. */
export function zeroGrads(groups: readonly ParamGroup[]): void {
  for (const group of groups) for (const grad of Object.values(group.grads)) grad.fill(0);
}

/** The 2-norm of all gradients of `groups` taken together. */
export function gradNorm(groups: readonly ParamGroup[]): number {
  let sumOfSquares = 0;
  for (const group of groups) {
    for (const grad of Object.values(group.grads)) {
      for (let i = 0; i < grad.length; i++) sumOfSquares += grad[i]! * grad[i]!;
    }
  }
  return Math.sqrt(sumOfSquares);
}

/**
 * Scales all gradients so that their global 2-norm is at most `maxNorm`, as
 * `torch.nn.utils.clip_grad_norm_` (scale `maxNorm / (norm + 1e-6)`, applied only when below 1).
 * Returns the norm before clipping.
 */
export function clipGradNorm(groups: readonly ParamGroup[], maxNorm: number): number {
  const norm = gradNorm(groups);
  const scale = maxNorm / (norm + 1e-6);
  if (scale < 1) {
    for (const group of groups) for (const grad of Object.values(group.grads)) scaleInPlace(grad, scale);
  }
  return norm;
}

function scaleInPlace(data: Real, factor: number): void {
  for (let i = 0; i < data.length; i++) data[i]! *= factor;
}

/** Visits each (param, grad) pair of `groups`; a param without a gradient buffer is an error. */
function forEachParam(groups: readonly ParamGroup[], visit: (param: Real, grad: Real) => void): void {
  for (const group of groups) {
    for (const [name, param] of Object.entries(group.params)) {
      const grad = group.grads[name];
      if (grad === undefined)
        throw new Error(`optimizer: param '${group.name}.${name}' has no gradient buffer`);
      if (grad.length !== param.length) {
        throw new Error(
          `optimizer: gradient of '${group.name}.${name}' has ${grad.length} elements, param has ${param.length}`,
        );
      }
      visit(param, grad);
    }
  }
}

export interface SgdOptions {
  readonly lr: number;
  readonly momentum?: number;
  readonly dampening?: number;
  readonly weightDecay?: number;
  readonly nesterov?: boolean;
}

/**
 * Stochastic gradient descent as `torch.optim.SGD`: with weight decay `g += wd·p`; with momentum
 * the buffer starts as the first gradient, then `buf = μ·buf + (1 − dampening)·g`; the step uses
 * `buf` (or `g + μ·buf` with Nesterov): `p -= lr·step`.
 */
export class Sgd implements Optimizer {
  private readonly momentumBuffers = new WeakMap<Real, Float64Array>();
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(options: SgdOptions) {
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error("Sgd: Nesterov momentum requires a momentum and zero dampening");
    }
  }

  step(groups: readonly ParamGroup[]): void {
    forEachParam(groups, (param, grad) => {
      let buffer = this.momentumBuffers.get(param);
      const firstStep = buffer === undefined;
      if (this.momentum !== 0 && buffer === undefined) {
        buffer = new Float64Array(param.length);
        this.momentumBuffers.set(param, buffer);
      }
      for (let i = 0; i < param.length; i++) {
        let g = grad[i]! + this.weightDecay * param[i]!;
        if (buffer !== undefined) {
          buffer[i] = firstStep ? g : this.momentum * buffer[i]! + (1 - this.dampening) * g;
          g = this.nesterov ? g + this.momentum * buffer[i]! : buffer[i]!;
        }
        param[i]! -= this.lr * g;
      }
    });
    bumpAll(groups);
  }
}

export interface AdamOptions {
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  readonly weightDecay?: number;
}

interface AdamState {
  step: number;
  readonly firstMoment: Float64Array;
  readonly secondMoment: Float64Array;
}

/**
 * Adam as `torch.optim.Adam` (L2 weight decay added to the gradient, bias-corrected moments):
 * `m = β1·m + (1 − β1)·g`, `v = β2·v + (1 − β2)·g²`,
 * `p -= lr · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)`.
 */
export class Adam implements Optimizer {
  private readonly states = new WeakMap<Real, AdamState>();
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(options: AdamOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
  }

  step(groups: readonly ParamGroup[]): void {
    forEachParam(groups, (param, grad) => {
      const state = this.stateOf(param);
      state.step += 1;
      const correction1 = 1 - this.beta1 ** state.step;
      const correction2 = 1 - this.beta2 ** state.step;
      const { firstMoment: m, secondMoment: v } = state;
      for (let i = 0; i < param.length; i++) {
        const g = grad[i]! + this.weightDecay * param[i]!;
        m[i] = this.beta1 * m[i]! + (1 - this.beta1) * g;
        v[i] = this.beta2 * v[i]! + (1 - this.beta2) * g * g;
        param[i]! -= (this.lr * (m[i]! / correction1)) / (Math.sqrt(v[i]! / correction2) + this.eps);
      }
    });
    bumpAll(groups);
  }

  private stateOf(param: Real): AdamState {
    let state = this.states.get(param);
    if (state === undefined) {
      state = {
        step: 0,
        firstMoment: new Float64Array(param.length),
        secondMoment: new Float64Array(param.length),
      };
      this.states.set(param, state);
    }
    return state;
  }
}
