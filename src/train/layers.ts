/**
 * Recurrent layers over whole sequence batches: one cell (`CellLayer`), a stack where each layer's
 * output feeds the next (`Stack`), and a bidirectional pair whose second layer reads each sequence
 * reversed within its own length (`Bidirectional`). All of them take a `[T][B]` padding mask and
 * compose with each other (a stack of bidirectional layers is a `Stack` of `Bidirectional`s).
 *
 * A layer owns its params and gradient buffers, listed by `groups()` for optimizers and saving.
 * States are `Tensors` per cell, in a fixed order (a stack's cells bottom-up, a bidirectional
 * layer's forward cells then reverse ones).
 *
 * Cells with several inputs: a layer's input is one sequence batch (fed to the cell's first input,
 * or the one named by `feed`) or a record of sequence batches by input name. The inputs a layer
 * is not fed come from `SequenceOptions.inputs` by name: a stack hands the record it is given to
 * every layer, so its first layer takes them all and later layers read the previous layer's output
 * into their fed input and the others (a conditioning sequence, say) from the record. Gradients of
 * every input read come back by name in `LayerGrads.inputs`, summed over the layers that read it.
 *
 * Inference: `forward(input, { T, B, record: false })` is PyTorch's `torch.no_grad()` (Keras'
 * `predict`): every cell runs without a tape or state history, the output and final states are
 * the recording forward's, and `backward` refuses the trace.
 *
 * Arrays kept between steps: a recording forward writes its outputs and final states, and its
 * `backward` the gradients, into arrays the layer keeps per (T, B); `backward` gives them back for
 * the next forward at that size, so a training loop at one size makes no arrays per step. A
 * trace's `output` and `final`, and the gradients its `backward` returned, stay valid until the
 * layer's first forward at the same T and B after that `backward` (forever for a trace given no
 * `backward`, or only `backward`s with `{ retain: true }`, or of `record: false`). Copy (`.slice()`)
 * what you keep longer.
 */

import type { Cell, DType, Real, TensorSpec, Tensors, Trace } from "../runtime/types.js";
import { ArrayPool } from "../runtime/pool.js";
import { overlap } from "../runtime/into.js";
import { initializeParams, type InitOptions } from "./init.js";
import type { ParamGroup } from "./optim.js";
import { allocate, lengthsFromMask, reverseWithinLengths } from "./sequence.js";

export interface SequenceOptions {
  readonly T: number;
  readonly B: number;
  /** `[T][B]`, 1 on real steps, 0 on padding (which must follow each sequence's real steps). */
  readonly mask?: Uint8Array;
  /** Initial states, one `Tensors` (`[B][n]` each) per cell of the layer; zeros where absent. */
  readonly initial?: readonly (Tensors | undefined)[];
  /** Input sequences `[T][B][n]` by input name, for the cell inputs a layer is not fed. */
  readonly inputs?: Tensors;
  /**
   * false: inference only, as PyTorch's `torch.no_grad()` or Keras' `predict`. Every cell runs
   * `forward(…, { record: false })`: no tape, no state history, the same output and final states
   * as a recording forward; `backward` refuses the trace. Its arrays are new and the caller's.
   * Default true.
   */
  readonly record?: boolean;
}

/** What `backward` does with the trace. */
export interface LayerBackwardOptions {
  /**
   * true: the trace keeps its tape and arrays for another `backward` (PyTorch's `retain_graph`).
   * By default they go back to the layer and its cells for the next forward at the same T and B.
   */
  readonly retain?: boolean;
}

/** A layer's input: one sequence batch for its fed input, or every input by name. */
export type LayerInput = Real | Tensors;

/** What `forward` returns; pass it back to the same layer's `backward`. */
export interface LayerTrace {
  readonly T: number;
  readonly B: number;
  /** `[T][B][outputSize]`, zero on padding. */
  readonly output: Real;
  /** States after each sequence's last real step, one `Tensors` per cell. */
  readonly final: readonly Tensors[];
  /** false when the forward ran with `record: false`: there is nothing for `backward` to read. */
  readonly recorded?: boolean;
  /** Bytes its cells hold for the backward pass (tapes and state histories); 0 without a recording. */
  readonly tapeBytes?: number;
}

export interface LayerSeeds {
  /** dLoss/d(output), `[T][B][outputSize]`; zero where absent. */
  readonly output?: Real;
  /** dLoss/d(final states), one `Tensors` per cell; zero where absent. */
  readonly final?: readonly (Tensors | undefined)[];
}

export interface LayerGrads {
  /** dLoss/d(input), `[T][B][inputSize]`: of the fed input. */
  readonly input: Real;
  /**
   * dLoss/d(each input taken by name) — every input when the layer was given a record, the inputs
   * read from `SequenceOptions.inputs` otherwise — summed over the layers reading it.
   */
  readonly inputs: Tensors;
  /** dLoss/d(initial states), one `Tensors` per cell. */
  readonly initial: readonly Tensors[];
}

/** A layer mapping an input sequence batch to an output sequence batch, with BPTT. */
export interface RecurrentLayer {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly dtype: DType;
  /** The state specs of each cell the layer runs, in state order (one entry per cell). */
  readonly cellStates: readonly (readonly TensorSpec[])[];
  /** Params and grads, named by position in the layer. */
  groups(): ParamGroup[];
  forward(input: LayerInput, options: SequenceOptions): LayerTrace;
  /** Backprop through time; accumulates param grads into the layer's buffers. */
  backward(trace: LayerTrace, seeds: LayerSeeds, options?: LayerBackwardOptions): LayerGrads;
  /** Lets go of the arrays the layer keeps between calls; the next calls make them again. */
  release?(): void;
}

export interface CellLayerOptions {
  /** Group name for optimizers and saved files; default the cell's name. */
  readonly name?: string;
  /** Which cell output is the layer's output; default the first. */
  readonly output?: string;
  /** Which cell input a single input sequence (a previous layer's output) goes to; default the first. */
  readonly feed?: string;
  /** Starting params; default drawn by `init`. */
  readonly params?: Tensors;
  /** How params are drawn when not given; default PyTorch's uniform with seed 0. */
  readonly init?: InitOptions;
}

/** The arrays a recording holds (outputs, final states, gradients…) until its `backward` gives them back. */
interface Held {
  readonly key: string;
  readonly arrays: Real[];
  /** Whether they went back to the pool, and whether a later forward took them since. */
  given: boolean;
  reused: boolean;
  /** Whether a backward of the trace wrote its gradients into them. */
  gradients: boolean;
}

/**
 * A layer's arrays for its recordings, by (T, B): a forward takes a set, the trace's backward gives
 * it back (once) for the next forward at that size; scratch no result holds is shared per size.
 */
class TraceArrays {
  private readonly pool = new ArrayPool();
  /** The recording each set given back was held by. */
  private readonly holders = new WeakMap<Real[], Held>();

  /** A set for a recording at `key`: one given back, or `make()`; new ones if it shares memory with `reads`. */
  take(key: string, make: () => Real[], reads: Iterable<Real | undefined>): Held {
    let arrays = this.pool.take(key, make);
    // Arrays of an earlier trace given as this call's input or initial state: it reads them.
    if (sharesMemory(arrays, reads)) {
      this.pool.give(key, arrays);
      arrays = make();
    }
    const previous = this.holders.get(arrays);
    if (previous !== undefined) previous.reused = true;
    const held: Held = { key, arrays, given: false, reused: false, gradients: false };
    this.holders.set(arrays, held);
    return held;
  }

  /** `held`'s arrays back for the next forward at their size (once). */
  give(held: Held | undefined): void {
    if (held === undefined || held.given) return;
    held.given = true;
    this.pool.give(held.key, held.arrays);
  }

  /** Arrays every call at `key` shares: scratch read within one call. */
  scratch(key: string, make: () => Real[]): Real[] {
    return this.pool.sharedSet(key, make);
  }

  clear(): void {
    this.pool.clear();
  }
}

/** Throws when `trace` cannot be backpropagated: of `record: false`, or its arrays taken by a later forward. */
function requireRecorded(layer: string, trace: LayerTrace, held?: Held): void {
  if (trace.recorded === false)
    throw new Error(`${layer}: the trace is of a forward with { record: false }, which keeps no tape; run forward without it to backpropagate`);
  if (held?.reused === true)
    throw new Error(`${layer}: the trace's arrays went back to the layer after its backward, and a later forward reused them; pass { retain: true } to backward to keep them`);
}

/** Whether any of `arrays` shares memory with any of `others`. */
function sharesMemory(arrays: readonly Real[], others: Iterable<Real | undefined>): boolean {
  for (const b of others) {
    if (b === undefined) continue;
    if (arrays.some((a) => overlap(a, b))) return true;
  }
  return false;
}

/** The arrays of each `Tensors` of a list. */
const arraysOf = (list: readonly (Tensors | undefined)[] | undefined): Real[] =>
  (list ?? []).flatMap((t) => (t === undefined ? [] : Object.values(t)));

/** The bytes the cells of `traces` hold for their backward. */
const tapeBytes = (traces: readonly LayerTrace[]): number => traces.reduce((n, t) => n + (t.tapeBytes ?? 0), 0);


interface CellLayerTrace extends LayerTrace {
  readonly cellTrace: Trace;
  /** Whether the layer was given a record of inputs (rather than its fed input alone). */
  readonly byName: boolean;
  /** Its outputs, final states and gradients: the layer's arrays, until `backward` gives them back. */
  readonly held?: Held;
}

/** `input` as a record of every input the cell takes, the fed one from `input` if it is a single sequence. */
function inputRecord(layer: string, cell: Cell, feed: string, input: LayerInput, side: Tensors | undefined): Tensors {
  const given = isSequence(input) ? { ...side, [feed]: input } : input;
  const record: Tensors = {};
  for (const x of cell.inputs) {
    const data = given[x.name];
    if (data === undefined) {
      const where = isSequence(input) ? `options.inputs (the layer's input goes to '${feed}')` : "the input record";
      throw new Error(`${layer}: cell '${cell.name}' needs input '${x.name}', missing from ${where}`);
    }
    record[x.name] = data;
  }
  return record;
}

const isSequence = (input: LayerInput): input is Real => ArrayBuffer.isView(input);

/** One cell run over the sequence. */
export class CellLayer implements RecurrentLayer {
  readonly name: string;
  readonly params: Tensors;
  readonly grads: Tensors;
  /** Size of the fed input. */
  readonly inputSize: number;
  readonly outputSize: number;
  readonly cellStates: readonly (readonly TensorSpec[])[];
  private readonly inputName: string;
  private readonly outputName: string;
  /** By (T, B), the outputs, final states and gradients of recordings. */
  private readonly arrays = new TraceArrays();

  constructor(
    readonly cell: Cell,
    options: CellLayerOptions = {},
  ) {
    const input = options.feed === undefined ? cell.inputs[0] : cell.inputs.find((x) => x.name === options.feed);
    if (input === undefined) {
      const names = cell.inputs.map((x) => x.name).join(", ") || "none";
      throw new Error(options.feed === undefined
        ? `CellLayer: cell '${cell.name}' has no input; a layer's cell takes at least one`
        : `CellLayer: cell '${cell.name}' has no input '${options.feed}' (inputs: ${names})`);
    }
    const output =
      options.output === undefined ? cell.outputs[0] : cell.outputs.find((o) => o.name === options.output);
    if (output === undefined) {
      const names = cell.outputs.map((o) => o.name).join(", ");
      throw new Error(
        `CellLayer: cell '${cell.name}' has no output '${options.output ?? ""}' (outputs: ${names})`,
      );
    }
    this.name = options.name ?? cell.name;
    this.inputName = input.name;
    this.outputName = output.name;
    this.inputSize = input.size;
    this.outputSize = output.size;
    this.cellStates = [cell.states];
    this.params = options.params ?? initializeParams(cell, cell.createParams(), options.init ?? { seed: 0 });
    this.grads = cell.createGrads();
  }

  get dtype(): DType {
    return this.cell.dtype;
  }

  groups(): ParamGroup[] {
    const shapes = Object.fromEntries(this.cell.params.map((p) => [p.name, p.shape]));
    return [{ name: this.name, params: this.params, grads: this.grads, shapes }];
  }

  forward(input: LayerInput, options: SequenceOptions): CellLayerTrace {
    const { T, B, mask } = options;
    const { cell } = this;
    const record = options.record ?? true;
    const inputs = inputRecord(`CellLayer '${this.name}'`, cell, this.inputName, input, options.inputs);
    const initial = options.initial?.[0];
    let held: Held | undefined;
    let into: { outputs: Tensors; final: Tensors } | undefined;
    if (record) {
      // A recording's outputs, final states and gradients: arrays kept for its size, given back by its backward.
      const key = `${T}x${B}`;
      const make = () => [
        ...cell.outputs.map((o) => allocate(cell.dtype, T * B * o.size)),
        ...cell.states.map((s) => allocate(cell.dtype, B * s.size)),
        ...cell.inputs.map((x) => allocate(cell.dtype, T * B * x.size)),
        ...cell.states.map((s) => allocate(cell.dtype, B * s.size)),
      ];
      held = this.arrays.take(key, make, [...Object.values(inputs), ...arraysOf([initial])]);
      into = {
        outputs: this.named(cell.outputs, held.arrays, 0),
        final: this.named(cell.states, held.arrays, cell.outputs.length),
      };
    }
    const cellTrace = cell.forward(this.params, inputs, { T, B, initial, mask, record, ...(into === undefined ? {} : { into }) });
    return {
      T, B, output: cellTrace.outputs[this.outputName]!, final: [cellTrace.final], recorded: record, tapeBytes: cellTrace.tapeBytes,
      cellTrace, byName: !isSequence(input), held,
    };
  }

  backward(trace: CellLayerTrace, seeds: LayerSeeds, options: LayerBackwardOptions = {}): LayerGrads {
    const { held } = trace;
    requireRecorded(`CellLayer '${this.name}'`, trace, held);
    const { cell } = this;
    const outputs = seeds.output === undefined ? undefined : { [this.outputName]: seeds.output };
    const final = seeds.final?.[0];
    // The gradients go into the trace's arrays, unless an earlier backward of it wrote them there
    // (given `retain`) or a seed is one of them (this layer's own gradient, fed back): then new ones.
    const at = cell.outputs.length + cell.states.length;
    let arrays = held?.arrays.slice(at);
    if (arrays === undefined || held!.gradients || sharesMemory(arrays, [seeds.output, ...arraysOf([final])]))
      arrays = [...cell.inputs.map((x) => trace.T * trace.B * x.size), ...cell.states.map((s) => trace.B * s.size)].map((n) => allocate(cell.dtype, n));
    else held!.gradients = true;
    const into = { inputs: this.named(cell.inputs, arrays, 0), initial: this.named(cell.states, arrays, cell.inputs.length) };
    const retain = options.retain ?? false;
    const result = cell.backward(this.params, trace.cellTrace, { outputs, final }, this.grads, { retain, into });
    if (!retain) this.arrays.give(held);
    const inputs = trace.byName ? result.inputs : Object.fromEntries(Object.entries(result.inputs).filter(([name]) => name !== this.inputName));
    return { input: result.inputs[this.inputName]!, inputs, initial: [result.initial] };
  }

  /** `arrays[from + j]` named after `specs[j]`. */
  private named(specs: readonly TensorSpec[], arrays: readonly Real[], from: number): Tensors {
    return Object.fromEntries(specs.map((s, j) => [s.name, arrays[from + j]!]));
  }

  /** Lets go of the arrays the layer keeps between calls (not those of its cell: see `Cell.release`). */
  release(): void {
    this.arrays.clear();
  }
}

interface StackTrace extends LayerTrace {
  readonly traces: readonly LayerTrace[];
}

/** Layers in sequence: the output of layer k is the input of layer k + 1. */
export class Stack implements RecurrentLayer {
  readonly cellStates: readonly (readonly TensorSpec[])[];

  constructor(readonly layers: readonly RecurrentLayer[]) {
    if (layers.length === 0) throw new Error("Stack: needs at least one layer");
    layers.slice(1).forEach((layer, k) => {
      if (layer.inputSize !== layers[k]!.outputSize) {
        throw new Error(
          `Stack: layer ${k + 1} takes ${layer.inputSize} inputs but layer ${k} outputs ${layers[k]!.outputSize}`,
        );
      }
    });
    this.cellStates = layers.flatMap((layer) => layer.cellStates);
  }

  get inputSize(): number {
    return this.layers[0]!.inputSize;
  }

  get outputSize(): number {
    return this.layers[this.layers.length - 1]!.outputSize;
  }

  get dtype(): DType {
    return this.layers[0]!.dtype;
  }

  groups(): ParamGroup[] {
    return this.layers.flatMap((layer, k) =>
      layer.groups().map((g) => ({ ...g, name: `layer${k}.${g.name}` })),
    );
  }

  forward(input: LayerInput, options: SequenceOptions): StackTrace {
    const initial = splitPerLayer(options.initial, this.layers);
    const traces: LayerTrace[] = [];
    const inputs = isSequence(input) ? options.inputs : { ...options.inputs, ...input };
    let x: LayerInput = input;
    this.layers.forEach((layer, k) => {
      const trace = layer.forward(x, { ...options, initial: initial[k], inputs });
      traces.push(trace);
      x = trace.output;
    });
    const recorded = options.record ?? true;
    return {
      T: options.T, B: options.B, output: traces[traces.length - 1]!.output, final: traces.flatMap((t) => t.final), recorded,
      tapeBytes: tapeBytes(traces), traces,
    };
  }

  /** Lets go of the arrays its layers keep between calls. */
  release(): void {
    for (const layer of this.layers) layer.release?.();
  }

  backward(trace: StackTrace, seeds: LayerSeeds, options: LayerBackwardOptions = {}): LayerGrads {
    requireRecorded("Stack", trace);
    const finals = splitPerLayer(seeds.final, this.layers);
    const initial: (readonly Tensors[])[] = [];
    const inputs: Tensors = {};
    let dOutput = seeds.output;
    for (let k = this.layers.length - 1; k >= 0; k--) {
      const result = this.layers[k]!.backward(trace.traces[k]!, { output: dOutput, final: finals[k] }, options);
      initial[k] = result.initial;
      for (const [name, grad] of Object.entries(result.inputs)) addInto(inputs, name, grad);
      dOutput = result.input;
    }
    return { input: dOutput!, inputs, initial: initial.flat() };
  }
}

/** `record[name] += grad` (a copy the first time). */
function addInto(record: Tensors, name: string, grad: Real): void {
  const sum = record[name];
  if (sum === undefined) record[name] = grad.slice();
  else for (let i = 0; i < sum.length; i++) sum[i]! += grad[i]!;
}

/** Each sequence of a record reversed within its lengths. */
function reverseRecord(record: Tensors | undefined, T: number, B: number, lengths: Int32Array): Tensors | undefined {
  if (record === undefined) return undefined;
  return Object.fromEntries(Object.entries(record).map(([name, data]) => [name, reverseWithinLengths(data, data.length / (T * B), T, B, lengths)]));
}

/** Splits per-cell entries of a composite layer into one slice per sub-layer. */
function splitPerLayer<S>(
  perCell: readonly S[] | undefined,
  layers: readonly RecurrentLayer[],
): (readonly S[] | undefined)[] {
  let offset = 0;
  return layers.map((layer) => {
    const slice = perCell?.slice(offset, offset + layer.cellStates.length);
    offset += layer.cellStates.length;
    return slice;
  });
}

interface BidirectionalTrace extends LayerTrace {
  readonly lengths: Int32Array;
  readonly forwardTrace: LayerTrace;
  readonly reverseTrace: LayerTrace;
  /** The reversed input, the output and the input gradient, the layer's until `backward` gives them back. */
  readonly held?: Held;
}

/**
 * Two layers over the same sequences, the second reading each sequence reversed within its own
 * length; at each step the output is `[forward output; reverse output]`, the reverse output being
 * put back in forward time. The reverse layer's final states are those after the first real step.
 */
export class Bidirectional implements RecurrentLayer {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly cellStates: readonly (readonly TensorSpec[])[];
  readonly dtype: DType;
  /** By (T, B), the reversed input, output and input gradient of recordings, and scratch. */
  private readonly arrays = new TraceArrays();
  /** The lengths array that goes with each set of the pool. */
  private readonly lengthsOf = new WeakMap<Real[], Int32Array>();

  constructor(
    readonly forwardLayer: RecurrentLayer,
    readonly reverseLayer: RecurrentLayer,
  ) {
    if (forwardLayer.inputSize !== reverseLayer.inputSize) {
      throw new Error(
        `Bidirectional: forward layer takes ${forwardLayer.inputSize} inputs, reverse layer ${reverseLayer.inputSize}`,
      );
    }
    this.inputSize = forwardLayer.inputSize;
    this.outputSize = forwardLayer.outputSize + reverseLayer.outputSize;
    this.cellStates = [...forwardLayer.cellStates, ...reverseLayer.cellStates];
    this.dtype = forwardLayer.dtype;
  }

  groups(): ParamGroup[] {
    const forward = this.forwardLayer.groups().map((g) => ({ ...g, name: `forward.${g.name}` }));
    const reverse = this.reverseLayer.groups().map((g) => ({ ...g, name: `reverse.${g.name}` }));
    return [...forward, ...reverse];
  }

  forward(input: LayerInput, options: SequenceOptions): BidirectionalTrace {
    const { T, B, mask } = options;
    const record = options.record ?? true;
    const key = `${T}x${B}`;
    const { inputSize, dtype } = this;
    const [initialForward, initialReverse] = splitPerLayer(options.initial, [
      this.forwardLayer,
      this.reverseLayer,
    ]);
    const inputs = options.inputs;
    // A recording's reversed input (its reverse layer's trace reads it), output and input gradient:
    // arrays kept for its size, given back by its backward. Without a recording, scratch and a new output.
    let held: Held | undefined;
    let reversed: Real, output: Real, lengths: Int32Array;
    if (record) {
      const make = () => [allocate(dtype, T * B * inputSize), allocate(dtype, T * B * this.outputSize), allocate(dtype, T * B * inputSize)];
      held = this.arrays.take(key, make, [...(isSequence(input) ? [input] : Object.values(input)), ...Object.values(inputs ?? {}), ...arraysOf(options.initial)]);
      [reversed, output] = held.arrays as [Real, Real];
      lengths = this.lengthsOf.get(held.arrays) ?? new Int32Array(B);
      this.lengthsOf.set(held.arrays, lengths);
    } else {
      reversed = this.arrays.scratch(`reversed input ${key}`, () => [allocate(dtype, T * B * inputSize)])[0]!;
      output = allocate(dtype, T * B * this.outputSize);
      lengths = new Int32Array(B);
    }
    if (mask === undefined) lengths.fill(T);
    else lengthsFromMask(mask, T, B, lengths);
    const forwardTrace = this.forwardLayer.forward(input, { T, B, mask, initial: initialForward, inputs, record });
    const reversedInput = isSequence(input)
      ? reverseWithinLengths(input, inputSize, T, B, lengths, reversed)
      : reverseRecord(input, T, B, lengths)!;
    const reverseTrace = this.reverseLayer.forward(reversedInput, {
      T, B, mask, initial: initialReverse, inputs: reverseRecord(inputs, T, B, lengths), record,
    });
    const ro = this.reverseLayer.outputSize;
    const reverseOutput = reverseWithinLengths(reverseTrace.output, ro, T, B, lengths,
      this.arrays.scratch(`reverse output ${key}`, () => [allocate(dtype, T * B * ro)])[0]);
    concatenateSteps(forwardTrace.output, reverseOutput, this.forwardLayer.outputSize, ro, output);
    const final = [...forwardTrace.final, ...reverseTrace.final];
    return { T, B, output, final, recorded: record, tapeBytes: tapeBytes([forwardTrace, reverseTrace]), lengths, forwardTrace, reverseTrace, held };
  }

  backward(trace: BidirectionalTrace, seeds: LayerSeeds, options: LayerBackwardOptions = {}): LayerGrads {
    const { T, B, lengths, held } = trace;
    requireRecorded("Bidirectional", trace, held);
    const { dtype } = this;
    const fo = this.forwardLayer.outputSize;
    const ro = this.reverseLayer.outputSize;
    const [finalForward, finalReverse] = splitPerLayer(seeds.final, [this.forwardLayer, this.reverseLayer]);
    let dForward: Real | undefined;
    let dReverse: Real | undefined;
    if (seeds.output !== undefined) {
      // Scratch: each layer's backward reads its seed during the call only.
      const [first, second, reversed] = this.arrays.scratch(`output gradients ${T}x${B}`, () => [
        allocate(dtype, T * B * fo), allocate(dtype, T * B * ro), allocate(dtype, T * B * ro),
      ]) as [Real, Real, Real];
      splitSteps(seeds.output, fo, ro, first, second);
      dForward = first;
      dReverse = reverseWithinLengths(second, ro, T, B, lengths, reversed);
    }
    const forwardGrads = this.forwardLayer.backward(trace.forwardTrace, { output: dForward, final: finalForward }, options);
    const reverseGrads = this.reverseLayer.backward(trace.reverseTrace, { output: dReverse, final: finalReverse }, options);
    // The input gradient goes into the trace's array, unless an earlier backward of it wrote there
    // (given `retain`) or a seed is it: then a new one.
    let inputGrad = held?.arrays[2];
    if (inputGrad === undefined || held!.gradients || sharesMemory([inputGrad], [seeds.output, ...arraysOf(seeds.final)]))
      inputGrad = allocate(dtype, T * B * this.inputSize);
    else held!.gradients = true;
    const input = reverseWithinLengths(reverseGrads.input, this.inputSize, T, B, lengths, inputGrad);
    for (let i = 0; i < input.length; i++) input[i]! += forwardGrads.input[i]!;
    const inputs: Tensors = {};
    for (const [name, grad] of Object.entries(forwardGrads.inputs)) addInto(inputs, name, grad);
    for (const [name, grad] of Object.entries(reverseRecord(reverseGrads.inputs, T, B, lengths)!)) addInto(inputs, name, grad);
    if (!(options.retain ?? false)) this.arrays.give(held);
    return { input, inputs, initial: [...forwardGrads.initial, ...reverseGrads.initial] };
  }

  /** Lets go of the arrays the layer and its two layers keep between calls. */
  release(): void {
    this.arrays.clear();
    this.forwardLayer.release?.();
    this.reverseLayer.release?.();
  }
}

/** Per row, `[a; b]` into `joined`: rows of width `widthA` and `widthB` side by side. */
function concatenateSteps(a: Real, b: Real, widthA: number, widthB: number, joined: Real): Real {
  const rows = a.length / widthA;
  for (let r = 0; r < rows; r++) {
    joined.set(a.subarray(r * widthA, (r + 1) * widthA), r * (widthA + widthB));
    joined.set(b.subarray(r * widthB, (r + 1) * widthB), r * (widthA + widthB) + widthA);
  }
  return joined;
}

/** The inverse of `concatenateSteps`, into `a` and `b`. */
function splitSteps(joined: Real, widthA: number, widthB: number, a: Real, b: Real): void {
  const rows = joined.length / (widthA + widthB);
  for (let r = 0; r < rows; r++) {
    a.set(joined.subarray(r * (widthA + widthB), r * (widthA + widthB) + widthA), r * widthA);
    b.set(joined.subarray(r * (widthA + widthB) + widthA, (r + 1) * (widthA + widthB)), r * widthB);
  }
}
