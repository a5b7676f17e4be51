/** The API every compiled cell exposes, whether emitted to a file or compiled in-process. */

import type { ArrayOf, CellSpec, DType, Real, SpecWithoutSizes, TensorSpec } from "./abi.js";

export type { Arrays, CellSpec, DType, KernelName, ParamInit, Real, RowKind, TensorSpec } from "./abi.js";

/** Named tensors, each a flat typed array (row-major; sequences `[T][B][n]`, time-major). */
export type Tensors<N extends string = string, A extends Real = Real> = Record<N, A>;

/**
 * What the type of a cell knows of it: the names of its params, inputs, states and outputs, and
 * the typed array its dtype takes. A cell compiled in-process has the general `CellTypes`; the
 * `cell` of an emitted module has its own, so a misspelt or missing name or a typed array of the
 * wrong dtype is a compile-time error.
 */
export interface CellTypes {
  readonly params: string;
  readonly inputs: string;
  readonly states: string;
  readonly outputs: string;
  readonly array: Real;
}

/** Some of the tensors named `N` (all optional), or for the general cell any named tensors. */
export type SomeTensors<N extends string, A extends Real> = string extends N ? Tensors<string, A> : Partial<Tensors<N, A>>;

type NamesOf<L extends readonly TensorSpec[]> = L[number]["name"];

/** The `CellTypes` of a spec: exact when the spec is a literal (`as const`), general otherwise. */
export type TypesOf<S extends SpecWithoutSizes> = {
  readonly params: NamesOf<S["params"]>;
  readonly inputs: NamesOf<S["inputs"]>;
  readonly states: NamesOf<S["states"]>;
  readonly outputs: NamesOf<S["outputs"]>;
  readonly array: ArrayOf[S["dtype"]];
};

export interface ForwardOptions<C extends CellTypes = CellTypes> {
  readonly T: number;
  readonly B: number;
  /** Initial states `[B][n]`; zeros where absent. */
  readonly initial?: SomeTensors<C["states"], C["array"]>;
  /**
   * `[T][B]`, 1 for a real step and 0 for padding. A padded step carries each state through
   * unchanged, outputs zeros, and in the backward passes the state gradient straight through.
   */
  readonly mask?: Uint8Array;
  /**
   * false: inference only. The forward keeps just the current states (no state history, no tape,
   * `tapeBytes` 0) and writes the outputs; `backward` refuses the trace. Same numbers as a
   * recording forward. Default true.
   */
  readonly record?: boolean;
  /**
   * Arrays to write results into instead of new ones, as PyTorch's `out=`: `outputs` `[T][B][n]`
   * and `final` `[B][n]`, each of the cell's dtype and length, sharing no memory with params,
   * inputs or initial states — except that a final state may be the array of its own initial
   * state, carried over in place. Any name left out gets a new array. The trace's outputs and final
   * states are then these arrays: `backward` of the trace reads its outputs, so leave them alone
   * until it has run.
   */
  readonly into?: ForwardInto<C>;
}

/** `ForwardOptions.into`: arrays for the trace's outputs and final states. */
export interface ForwardInto<C extends CellTypes = CellTypes> {
  readonly outputs?: SomeTensors<C["outputs"], C["array"]>;
  readonly final?: SomeTensors<C["states"], C["array"]>;
}

/** `BackwardOptions.into`: arrays for the input and initial-state gradients. */
export interface BackwardInto<C extends CellTypes = CellTypes> {
  readonly inputs?: SomeTensors<C["inputs"], C["array"]>;
  readonly initial?: SomeTensors<C["states"], C["array"]>;
}

/** What `backward` computes besides param gradients, and what becomes of the trace. */
export interface BackwardOptions<C extends CellTypes = CellTypes> {
  /** false: input gradients are not computed (an optimized build skips their products) and `inputs` is absent. Default true. */
  readonly inputGrads?: boolean;
  /** false: initial-state gradients are not returned (`initial` is absent). Default true. */
  readonly initialGrads?: boolean;
  /**
   * true: the trace keeps its tape for another `backward`. By default `backward` gives the tape
   * (state history and taped values) back to the cell for the next `forward` at the same T and
   * B; once such a forward took it, another `backward` of the trace is an error.
   */
  readonly retain?: boolean;
  /**
   * Arrays to write the input gradients `[T][B][n]` and initial-state gradients `[B][n]` into
   * instead of new ones (each of the cell's dtype and length, sharing no memory with anything else
   * the call reads or writes, except that an initial-state gradient may be the array of its own
   * final-state seed, turned into it in place); the result holds these arrays. A group asked for here must not be
   * turned off above.
   */
  readonly into?: BackwardInto<C>;
}

/** What `forward` returns: outputs, final states, and the tape `backward` reads. Treat as read-only. */
export interface Trace<C extends CellTypes = CellTypes> {
  readonly T: number;
  readonly B: number;
  /** Per-step outputs, `[T][B][n]`. */
  readonly outputs: Tensors<C["outputs"], C["array"]>;
  /** States after the last step, `[B][n]`. */
  readonly final: Tensors<C["states"], C["array"]>;
  /** Bytes held for the backward pass (tape and state history). */
  readonly tapeBytes: number;
}

export interface BackwardSeeds<C extends CellTypes = CellTypes> {
  /** dLoss/d(output), `[T][B][n]` per output; zeros where absent. */
  readonly outputs?: SomeTensors<C["outputs"], C["array"]>;
  /** dLoss/d(final state), `[B][n]` per state; zeros where absent. */
  readonly final?: SomeTensors<C["states"], C["array"]>;
}

export interface BackwardResult<C extends CellTypes = CellTypes> {
  /** dLoss/d(input), `[T][B][n]`. */
  readonly inputs: Tensors<C["inputs"], C["array"]>;
  /** dLoss/d(initial state), `[B][n]`. */
  readonly initial: Tensors<C["states"], C["array"]>;
}

/** State for online inference with `step`: current states and the last step's outputs, `[B][n]`. */
export interface StepState<C extends CellTypes = CellTypes> {
  readonly B: number;
  readonly states: Tensors<C["states"], C["array"]>;
  readonly outputs: Tensors<C["outputs"], C["array"]>;
}

export interface Cell<C extends CellTypes = CellTypes> extends CellSpec {
  /** Zeroed params, carrying a version (see `paramsChanged`). */
  createParams(): Tensors<C["params"], C["array"]>;
  /** Params drawn uniformly from ±1/√fan, as PyTorch initialises RNN weights; seeded; carrying a version. */
  initParams(seed?: number): Tensors<C["params"], C["array"]>;
  /** Zeroed gradient buffers, one per param. */
  createGrads(): Tensors<C["params"], C["array"]>;
  /** Runs T steps over a batch of B sequences, recording what `backward` needs. */
  forward(params: Tensors<C["params"], C["array"]>, inputs: Tensors<C["inputs"], C["array"]>, options: ForwardOptions<C>): Trace<C>;
  /**
   * Backprop through time: accumulates into `grads`, returns input and initial-state gradients.
   * The trace's tape goes back to the cell for a later forward unless `options.retain`.
   */
  backward(params: Tensors<C["params"], C["array"]>, trace: Trace<C>, seeds: BackwardSeeds<C>, grads: Tensors<C["params"], C["array"]>, options?: BackwardOptions<C> & { readonly inputGrads?: true; readonly initialGrads?: true }): BackwardResult<C>;
  /** As above; a gradient turned off in `options` is absent from the result. */
  backward(params: Tensors<C["params"], C["array"]>, trace: Trace<C>, seeds: BackwardSeeds<C>, grads: Tensors<C["params"], C["array"]>, options: BackwardOptions<C>): Partial<BackwardResult<C>>;
  /** A zeroed state for `step` (or the given initial states). */
  createState(B?: number, initial?: SomeTensors<C["states"], C["array"]>): StepState<C>;
  /** One step of online inference for a batch `[B][n]`; updates `state` in place, allocates nothing. */
  step(params: Tensors<C["params"], C["array"]>, inputs: Tensors<C["inputs"], C["array"]>, state: StepState<C>): void;
  /**
   * Says that arrays of `params` were written in place (same as `bumpParams(params)`): the cell
   * keeps stacked copies of weight groups between calls and makes them again only for params it
   * has not seen, or seen at an older version.
   */
  paramsChanged(params: Tensors<C["params"], C["array"]>): void;
  /** Gives back the cell's workspace and pooled arrays; the next call makes them again. */
  release(): void;
}
