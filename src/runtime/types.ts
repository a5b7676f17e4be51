/** The API every compiled cell exposes, whether emitted to a file or compiled in-process. */

export type DType = "f32" | "f64";
export type KernelName = "forward" | "backward" | "step";
export type Real = Float32Array | Float64Array;
/** Named tensors, each a flat typed array (row-major; sequences `[T][B][n]`, time-major). */
export type Tensors = Record<string, Real>;

export interface TensorSpec {
  readonly name: string;
  /** Declared shape: `[rows, cols]` for a matrix, `[n]` for a vector. */
  readonly shape: readonly number[];
  /** Elements per step and batch entry (the product of `shape`). */
  readonly size: number;
}

export interface CellSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly sizes: Readonly<Record<string, number>>;
  readonly params: readonly TensorSpec[];
  readonly inputs: readonly TensorSpec[];
  readonly states: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Values the forward pass stores per step and batch entry for the backward pass. */
  readonly tape: readonly TensorSpec[];
  /**
   * Scratch the kernels need per call: `size` numbers once, per batch entry, or per step and batch
   * entry. A buffer with a `kernel` is used by that kernel alone, and shares memory with the
   * buffers of the other kernels.
   */
  readonly workspace: readonly { readonly size: number; readonly rows: "one" | "B" | "TB"; readonly kernel?: KernelName }[];
  /**
   * The most numbers one call into the runtime's products may copy in (operands not in the
   * workspace): `fixed`, plus `B` per batch entry, plus `TB` per step and batch entry.
   */
  readonly staging?: { readonly fixed: number; readonly B: number; readonly TB: number };
}

export interface ForwardOptions {
  readonly T: number;
  readonly B: number;
  /** Initial states `[B][n]`; zeros where absent. */
  readonly initial?: Tensors;
  /**
   * `[T][B]`, 1 for a real step and 0 for padding. A padded step carries each state through
   * unchanged, outputs zeros, and in the backward passes the state gradient straight through.
   */
  readonly mask?: Uint8Array;
}

/** What `forward` returns: outputs, final states, and the tape `backward` reads. Treat as read-only. */
export interface Trace {
  readonly T: number;
  readonly B: number;
  /** Per-step outputs, `[T][B][n]`. */
  readonly outputs: Tensors;
  /** States after the last step, `[B][n]`. */
  readonly final: Tensors;
  /** Bytes held for the backward pass (tape and state history). */
  readonly tapeBytes: number;
}

export interface BackwardSeeds {
  /** dLoss/d(output), `[T][B][n]` per output; zeros where absent. */
  readonly outputs?: Tensors;
  /** dLoss/d(final state), `[B][n]` per state; zeros where absent. */
  readonly final?: Tensors;
}

export interface BackwardResult {
  /** dLoss/d(input), `[T][B][n]`. */
  readonly inputs: Tensors;
  /** dLoss/d(initial state), `[B][n]`. */
  readonly initial: Tensors;
}

/** State for online inference with `step`: current states and the last step's outputs, `[B][n]`. */
export interface StepState {
  readonly B: number;
  readonly states: Tensors;
  readonly outputs: Tensors;
}

export interface Cell extends CellSpec {
  /** Zeroed params. */
  createParams(): Tensors;
  /** Params drawn uniformly from ±1/√fan, as PyTorch initialises RNN weights; seeded. */
  initParams(seed?: number): Tensors;
  /** Zeroed gradient buffers, one per param. */
  createGrads(): Tensors;
  /** Runs T steps over a batch of B sequences, recording what `backward` needs. */
  forward(params: Tensors, inputs: Tensors, options: ForwardOptions): Trace;
  /** Backprop through time: accumulates into `grads`, returns input and initial-state gradients. */
  backward(params: Tensors, trace: Trace, seeds: BackwardSeeds, grads: Tensors): BackwardResult;
  /** A zeroed state for `step` (or the given initial states). */
  createState(B?: number, initial?: Tensors): StepState;
  /** One step of online inference for a batch `[B][n]`; updates `state` in place, allocates nothing. */
  step(params: Tensors, inputs: Tensors, state: StepState): void;
}
