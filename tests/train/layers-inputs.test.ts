/**
 * Layers over cells with several inputs: a record of input sequences, or the fed input alone with
 * the others from `SequenceOptions.inputs`; gradients of every input by name, checked against
 * float64 central differences through a stack and a bidirectional layer.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import { Bidirectional, CellLayer, Stack, type LayerInput, type RecurrentLayer, type SequenceOptions } from "../../src/train/layers.js";
import type { Tensors } from "../../src/runtime/types.js";
import { mulberry32 } from "../../src/runtime/random.js";

const two = (I: number, H: number) => compile(`cell two {
  size I = ${I}, K = 2, H = ${H}
  input x[I], z[K]
  state h[H]
  param W[H, I], V[H, K], U[H, H], b[H]
  h = tanh(W·x + V·z + U·h + b)
}`, { dtype: "f64" });

const T = 3, B = 2;
const random = mulberry32(11);
const sequence = (n: number) => Float64Array.from({ length: T * B * n }, () => 2 * random() - 1);

/** Loss Σ output ⊙ w, and its gradient by the layer's backward. */
function lossAndGrads(layer: RecurrentLayer, input: LayerInput, options: SequenceOptions, w: Float64Array) {
  const trace = layer.forward(input, options);
  const loss = Array.from(trace.output).reduce((s, v, i) => s + v * w[i]!, 0);
  return { loss, trace };
}

/** Every entry of every named sequence: the layer's gradient equals central differences. */
function expectGradients(layer: RecurrentLayer, record: Tensors, options: SequenceOptions, asRecord: boolean, fed: string) {
  const w = sequence(layer.outputSize);
  const input = (): LayerInput => (asRecord ? record : record[fed]!);
  const opts = (): SequenceOptions => (asRecord ? options : { ...options, inputs: record });
  const { trace } = lossAndGrads(layer, input(), opts(), w);
  const grads = layer.backward(trace, { output: w });
  for (const [name, data] of Object.entries(record)) {
    const analytic = asRecord || name !== fed ? grads.inputs[name]! : grads.input;
    expect(analytic, name).toBeDefined();
    for (let i = 0; i < data.length; i++) {
      const keep = data[i]!;
      data[i] = keep + 1e-6;
      const up = lossAndGrads(layer, input(), opts(), w).loss;
      data[i] = keep - 1e-6;
      const down = lossAndGrads(layer, input(), opts(), w).loss;
      data[i] = keep;
      expect(Math.abs(analytic[i]! - (up - down) / 2e-6), `${name}[${i}]`).toBeLessThan(1e-7);
    }
  }
  if (!asRecord) expect(grads.inputs[fed]).toBeUndefined();
}

describe("layers over cells with several inputs", () => {
  it("CellLayer takes a record, or its fed input with the others from options.inputs, as the cell does", () => {
    const cell = two(3, 4);
    const layer = new CellLayer(cell);
    const record = { x: sequence(3), z: sequence(2) };
    const direct = cell.forward(layer.params, record, { T, B });
    expect(Array.from(layer.forward(record, { T, B }).output)).toEqual(Array.from(direct.outputs["h"]!));
    expect(Array.from(layer.forward(record.x, { T, B, inputs: { z: record.z } }).output)).toEqual(Array.from(direct.outputs["h"]!));
    const fedZ = new CellLayer(cell, { feed: "z", params: layer.params });
    expect(fedZ.inputSize).toBe(2);
    expect(Array.from(fedZ.forward(record.z, { T, B, inputs: { x: record.x } }).output)).toEqual(Array.from(direct.outputs["h"]!));
    expectGradients(layer, record, { T, B }, true, "x");
    expectGradients(layer, record, { T, B }, false, "x");
    expectGradients(fedZ, record, { T, B }, false, "z");
  });

  it("a stack feeds each layer's output into the next one's first input and hands every layer the record", () => {
    const stack = new Stack([new CellLayer(two(3, 4), { name: "a" }), new CellLayer(two(4, 5), { name: "b", init: { seed: 1 } })]);
    const record = { x: sequence(3), z: sequence(2) };
    expectGradients(stack, record, { T, B }, true, "x");
    expectGradients(stack, record, { T, B }, false, "x");
  });

  it("a bidirectional layer reverses every input sequence within its length", () => {
    const mask = Uint8Array.from([1, 1, 1, 1, 1, 0]); // [T][B]: the second sequence has 2 steps
    const bi = new Bidirectional(new CellLayer(two(3, 4)), new CellLayer(two(3, 4), { init: { seed: 5 } }));
    const record = { x: sequence(3), z: sequence(2) };
    expectGradients(bi, record, { T, B, mask }, true, "x");
    expectGradients(bi, record, { T, B, mask }, false, "x");
  });

  it("names a missing input and an unknown fed input", () => {
    const layer = new CellLayer(two(3, 4));
    expect(() => layer.forward(sequence(3), { T, B })).toThrow("cell 'two' needs input 'z', missing from options.inputs (the layer's input goes to 'x')");
    expect(() => layer.forward({ x: sequence(3) }, { T, B })).toThrow("needs input 'z', missing from the input record");
    expect(() => new CellLayer(two(3, 4), { feed: "y" })).toThrow("cell 'two' has no input 'y' (inputs: x, z)");
  });
});
