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
 */

import type { Cell, DType, Real, TensorSpec, Tensors, Trace } from "../runtime/types.js";
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
  backward(trace: LayerTrace, seeds: LayerSeeds): LayerGrads;
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

interface CellLayerTrace extends LayerTrace {
  readonly cellTrace: Trace;
  /** Whether the layer was given a record of inputs (rather than its fed input alone). */
  readonly record: boolean;
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
    const cellTrace = this.cell.forward(
      this.params,
      inputRecord(`CellLayer '${this.name}'`, this.cell, this.inputName, input, options.inputs),
      { T, B, initial: options.initial?.[0], mask },
    );
    return { T, B, output: cellTrace.outputs[this.outputName]!, final: [cellTrace.final], cellTrace, record: !isSequence(input) };
  }

  backward(trace: CellLayerTrace, seeds: LayerSeeds): LayerGrads {
    const outputs = seeds.output === undefined ? undefined : { [this.outputName]: seeds.output };
    const result = this.cell.backward(
      this.params,
      trace.cellTrace,
      { outputs, final: seeds.final?.[0] },
      this.grads,
    );
    const inputs = trace.record ? result.inputs : Object.fromEntries(Object.entries(result.inputs).filter(([name]) => name !== this.inputName));
    return { input: result.inputs[this.inputName]!, inputs, initial: [result.initial] };
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
    return { T: options.T, B: options.B, output: traces[traces.length - 1]!.output, final: traces.flatMap((t) => t.final), traces };
  }

  backward(trace: StackTrace, seeds: LayerSeeds): LayerGrads {
    const finals = splitPerLayer(seeds.final, this.layers);
    const initial: (readonly Tensors[])[] = [];
    const inputs: Tensors = {};
    let dOutput = seeds.output;
    for (let k = this.layers.length - 1; k >= 0; k--) {
      const result = this.layers[k]!.backward(trace.traces[k]!, { output: dOutput, final: finals[k] });
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
    const lengths = mask === undefined ? new Int32Array(B).fill(T) : lengthsFromMask(mask, T, B);
    const [initialForward, initialReverse] = splitPerLayer(options.initial, [
      this.forwardLayer,
      this.reverseLayer,
    ]);
    const inputs = options.inputs;
    const forwardTrace = this.forwardLayer.forward(input, { T, B, mask, initial: initialForward, inputs });
    const reversedInput = isSequence(input)
      ? reverseWithinLengths(input, this.inputSize, T, B, lengths)
      : reverseRecord(input, T, B, lengths)!;
    const reverseTrace = this.reverseLayer.forward(reversedInput, {
      T, B, mask, initial: initialReverse, inputs: reverseRecord(inputs, T, B, lengths),
    });
    const reverseOutput = reverseWithinLengths(
      reverseTrace.output,
      this.reverseLayer.outputSize,
      T,
      B,
      lengths,
    );
    const output = concatenateSteps(
      forwardTrace.output,
      reverseOutput,
      this.forwardLayer.outputSize,
      this.reverseLayer.outputSize,
      this.dtype,
    );
    const final = [...forwardTrace.final, ...reverseTrace.final];
    return { T, B, output, final, lengths, forwardTrace, reverseTrace };
  }

  backward(trace: BidirectionalTrace, seeds: LayerSeeds): LayerGrads {
    const { T, B, lengths } = trace;
    const [finalForward, finalReverse] = splitPerLayer(seeds.final, [this.forwardLayer, this.reverseLayer]);
    let dForward: Real | undefined;
    let dReverse: Real | undefined;
    if (seeds.output !== undefined) {
      const [first, second] = splitSteps(
        seeds.output,
        this.forwardLayer.outputSize,
        this.reverseLayer.outputSize,
      );
      dForward = first;
      dReverse = reverseWithinLengths(second, this.reverseLayer.outputSize, T, B, lengths);
    }
    const forwardGrads = this.forwardLayer.backward(trace.forwardTrace, {
      output: dForward,
      final: finalForward,
    });
    const reverseGrads = this.reverseLayer.backward(trace.reverseTrace, {
      output: dReverse,
      final: finalReverse,
    });
    const input = reverseWithinLengths(reverseGrads.input, this.inputSize, T, B, lengths);
    for (let i = 0; i < input.length; i++) input[i]! += forwardGrads.input[i]!;
    const inputs: Tensors = {};
    for (const [name, grad] of Object.entries(forwardGrads.inputs)) addInto(inputs, name, grad);
    for (const [name, grad] of Object.entries(reverseRecord(reverseGrads.inputs, T, B, lengths)!)) addInto(inputs, name, grad);
    return { input, inputs, initial: [...forwardGrads.initial, ...reverseGrads.initial] };
  }
}

/** Per row, `[a; b]`: rows of width `widthA` and `widthB` side by side. */
function concatenateSteps(a: Real, b: Real, widthA: number, widthB: number, dtype: DType): Real {
  const rows = a.length / widthA;
  const joined = allocate(dtype, rows * (widthA + widthB));
  for (let r = 0; r < rows; r++) {
    joined.set(a.subarray(r * widthA, (r + 1) * widthA), r * (widthA + widthB));
    joined.set(b.subarray(r * widthB, (r + 1) * widthB), r * (widthA + widthB) + widthA);
  }
  return joined;
}

/** The inverse of `concatenateSteps`. */
function splitSteps(joined: Real, widthA: number, widthB: number): [Real, Real] {
  const rows = joined.length / (widthA + widthB);
  const a = joined.slice(0, rows * widthA);
  const b = joined.slice(0, rows * widthB);
  for (let r = 0; r < rows; r++) {
    a.set(joined.subarray(r * (widthA + widthB), r * (widthA + widthB) + widthA), r * widthA);
    b.set(joined.subarray(r * (widthA + widthB) + widthA, (r + 1) * (widthA + widthB)), r * widthB);
  }
  return [a, b];
}
