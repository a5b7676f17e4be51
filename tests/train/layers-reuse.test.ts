/**
 * Layers' inference (`forward(…, { record: false })`: no tape, the recording's bits, a trace
 * `backward` refuses) and the arrays a layer keeps between steps (a training loop at one T and B
 * makes none; results of traces not yet backpropagated, or kept with `retain`, are never
 * overwritten; a reused array gives the bits of a new one).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { DType, Real, Tensors } from "../../src/runtime/types.js";
import { Rng } from "../../src/train/init.js";
import { Bidirectional, CellLayer, Stack, type LayerGrads, type LayerTrace, type RecurrentLayer } from "../../src/train/layers.js";
import { zeroGrads } from "../../src/train/optim.js";
import { allocate, maskFromLengths, truncatedBptt } from "../../src/train/sequence.js";
import { elmanCell, gruTorchCell, lstmCell } from "./cells.js";

const I = 3;
const kinds: Record<string, (dtype: DType) => RecurrentLayer> = {
  stack: (dtype) =>
    new Stack([
      new CellLayer(lstmCell(I, 8, dtype), { init: { seed: 1 } }),
      new CellLayer(gruTorchCell(8, 6, dtype), { init: { seed: 2 } }),
    ]),
  bidirectional: (dtype) =>
    new Bidirectional(new CellLayer(lstmCell(I, 8, dtype), { init: { seed: 3 } }), new CellLayer(elmanCell(I, 5, dtype), { init: { seed: 4 } })),
  "stacked bidirectional": (dtype) =>
    new Stack([
      new Bidirectional(new CellLayer(lstmCell(I, 4, dtype), { init: { seed: 5 } }), new CellLayer(lstmCell(I, 4, dtype), { init: { seed: 6 } })),
      new CellLayer(elmanCell(8, 6, dtype), { init: { seed: 7 } }),
    ]),
};
const cases = Object.keys(kinds).flatMap((kind) => (["f32", "f64"] as const).map((dtype) => [kind, dtype] as const));

const filled = (dtype: DType, n: number, rng: Rng): Real => {
  const a = allocate(dtype, n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
};
const states = (layer: RecurrentLayer, B: number, rng: Rng): Tensors[] =>
  layer.cellStates.map((specs) => Object.fromEntries(specs.map((s) => [s.name, filled(layer.dtype, B * s.size, rng)])));
/** A copy of every array of a trace's results, or of a backward's. */
const copyTrace = (t: LayerTrace) => ({ output: t.output.slice(), final: t.final.map(copyTensors) });
const copyGrads = (g: LayerGrads) => ({ input: g.input.slice(), inputs: copyTensors(g.inputs), initial: g.initial.map(copyTensors) });
const copyTensors = (t: Tensors): Tensors => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.slice()]));
const paramGrads = (layer: RecurrentLayer) => layer.groups().flatMap((g) => Object.values(g.grads).map((a) => a.slice()));

/** Sizes, data and a mask (lengths 1…T, one sequence full) for a batch. */
function batch(layer: RecurrentLayer, T: number, B: number, seed: number) {
  const rng = new Rng(seed);
  const lengths = Array.from({ length: B }, (_, b) => (b === 0 ? T : 1 + Math.floor(rng.next() * T)));
  return {
    T, B,
    x: filled(layer.dtype, T * B * layer.inputSize, rng),
    mask: maskFromLengths(lengths, T),
    initial: states(layer, B, rng),
    dOutput: filled(layer.dtype, T * B * layer.outputSize, rng),
    dFinal: states(layer, B, rng),
  };
}
type Batch = ReturnType<typeof batch>;

/** One training step's forward and backward: the trace and gradients as the layer hands them out. */
function step(layer: RecurrentLayer, d: Batch, masked = true) {
  const trace = layer.forward(d.x, { T: d.T, B: d.B, initial: d.initial, ...(masked ? { mask: d.mask } : {}) });
  const grads = layer.backward(trace, { output: d.dOutput, final: d.dFinal });
  return { trace, grads };
}

describe.each(cases)("%s layer, %s", (kind, dtype) => {
  it("record: false gives the recording forward's output and final states bit for bit, with and without a mask, and backward refuses it", () => {
    const layer = kinds[kind]!(dtype);
    for (const [T, B] of [[6, 4], [1, 1], [5, 3]] as const) {
      const d = batch(layer, T, B, 10 * T + B);
      for (const mask of [undefined, d.mask]) {
        const options = { T, B, initial: d.initial, mask };
        const recording = layer.forward(d.x, options);
        const recorded = copyTrace(recording);
        const inferred = layer.forward(d.x, { ...options, record: false });
        expect(inferred.recorded).toBe(false);
        expect(inferred.tapeBytes).toBe(0); // no cell of the layer recorded
        expect(recording.tapeBytes).toBeGreaterThan(0);
        expect(copyTrace(inferred)).toEqual(recorded);
        expect(inferred.output).toBeInstanceOf(dtype === "f32" ? Float32Array : Float64Array);
        expect(() => layer.backward(inferred, { output: d.dOutput })).toThrow(/record: false \}, which keeps no tape/u);
      }
    }
  });

  it("a training loop at one T and B reuses its arrays, and each step has the bits of a new layer's", () => {
    const layer = kinds[kind]!(dtype);
    const first = batch(layer, 7, 5, 1);
    const second = batch(layer, 7, 5, 2);
    const a = step(layer, first);
    const b = step(layer, second);
    // The second step's forward took the arrays the first step's backward gave back.
    expect(b.trace.output).toBe(a.trace.output);
    expect(b.grads.input).toBe(a.grads.input);
    // …and wrote them as new arrays: a new layer running the second batch alone agrees bit for bit.
    const fresh = kinds[kind]!(dtype);
    zeroGrads(layer.groups());
    const again = step(layer, second);
    const alone = step(fresh, second);
    expect(copyTrace(again.trace)).toEqual(copyTrace(alone.trace));
    expect(copyGrads(again.grads)).toEqual(copyGrads(alone.grads));
    expect(paramGrads(layer)).toEqual(paramGrads(fresh));
    // A step without a mask after masked ones (every length T again) agrees too.
    const unmasked = step(layer, first, false);
    const unmaskedAlone = step(kinds[kind]!(dtype), first, false);
    expect(copyTrace(unmasked.trace)).toEqual(copyTrace(unmaskedAlone.trace));
    expect(copyGrads(unmasked.grads)).toEqual(copyGrads(unmaskedAlone.grads));
  });

  it("never overwrites the results of a trace not yet backpropagated, nor those of a retained one", () => {
    const layer = kinds[kind]!(dtype);
    const [d1, d2] = [batch(layer, 4, 3, 5), batch(layer, 4, 3, 6)];
    // Two forwards before their backwards (as gradient accumulation over two batches): own arrays.
    const t1 = layer.forward(d1.x, { T: 4, B: 3, mask: d1.mask });
    const kept1 = copyTrace(t1);
    const t2 = layer.forward(d2.x, { T: 4, B: 3, mask: d2.mask });
    expect(t2.output).not.toBe(t1.output);
    expect(copyTrace(t1)).toEqual(kept1);
    const g1 = layer.backward(t1, { output: d1.dOutput }, { retain: true });
    const keptG1 = copyGrads(g1);
    // A second backward of a retained trace does not write over the first one's gradients.
    const g1again = layer.backward(t1, { output: d1.dOutput });
    expect(g1again.input).not.toBe(g1.input);
    expect(copyGrads(g1again)).toEqual(keptG1);
    expect(copyGrads(g1)).toEqual(keptG1);
    layer.backward(t2, { output: d2.dOutput });
    // An inference forward makes new arrays; it does not take the ones given back.
    const inferred = layer.forward(d1.x, { T: 4, B: 3, mask: d1.mask, record: false });
    expect(copyTrace(inferred)).toEqual(kept1);
    expect(copyTrace(t1)).toEqual(kept1);
  });

  it("refuses a second backward of a trace whose arrays a later forward took, and runs one after retain", () => {
    const layer = kinds[kind]!(dtype);
    const d = batch(layer, 4, 2, 11);
    const t1 = layer.forward(d.x, { T: 4, B: 2, mask: d.mask });
    const g1 = copyGrads(layer.backward(t1, { output: d.dOutput }, { retain: true }));
    zeroGrads(layer.groups());
    expect(copyGrads(layer.backward(t1, { output: d.dOutput }))).toEqual(g1);
    const t2 = layer.forward(d.x, { T: 4, B: 2, mask: d.mask });
    expect(t2.output).toBe(t1.output);
    expect(() => layer.backward(t1, { output: d.dOutput })).toThrow(/a later forward reused/u);
  });

  it("a forward fed an earlier trace's final states as its initial ones (after its backward) reads them intact", () => {
    const layer = kinds[kind]!(dtype);
    const d = batch(layer, 3, 2, 8);
    const t1 = layer.forward(d.x, { T: 3, B: 2, initial: d.initial });
    layer.backward(t1, { output: d.dOutput });
    const carried = t1.final.map(copyTensors);
    const t2 = copyTrace(layer.forward(d.x, { T: 3, B: 2, initial: t1.final }));
    const fresh = kinds[kind]!(dtype);
    expect(t2).toEqual(copyTrace(fresh.forward(d.x, { T: 3, B: 2, initial: carried })));
  });
});

describe("a training loop's arrays", () => {
  it.each(Object.keys(kinds))("%s, float32: forward and backward at one T and B make no array per step", (kind) => {
    const layer = kinds[kind]!("f32");
    const d = batch(layer, 16, 8, 3); // arrays of kilobytes: off the V8 heap, counted in arrayBuffers
    const run = () => step(layer, d);
    run();
    run();
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    const before = process.memoryUsage().arrayBuffers;
    // Every step's results held, so that arrays a step made could not be collected during the measure.
    const results = Array.from({ length: 5 }, run);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(0);
    expect(new Set(results.map((r) => r.trace.output)).size).toBe(1);
    // Traces kept alive (never given back by a backward) each hold arrays of their own: the same
    // measure sees them, so it would see a step that made its outputs anew.
    gc();
    const start = process.memoryUsage().arrayBuffers;
    const kept = Array.from({ length: 5 }, () => layer.forward(d.x, { T: 16, B: 8, mask: d.mask }));
    expect(process.memoryUsage().arrayBuffers - start).toBeGreaterThanOrEqual(5 * 16 * 8 * layer.outputSize * 4);
    expect(kept).toHaveLength(5);
  });
});

describe("truncated BPTT with record: false", () => {
  it("gives the recording run's outputs and final states, and its chunks refuse backward", () => {
    for (const dtype of ["f32", "f64"] as const) {
      const layer = kinds["stack"]!(dtype);
      const steps = 11, B = 3;
      const input = filled(dtype, steps * B * I, new Rng(9));
      const run = (record: boolean) => {
        const outputs: Real[] = [];
        const chunks = truncatedBptt(layer, input, { steps, B, period: 4, record });
        for (;;) {
          const next = chunks.next();
          if (next.done === true) return { outputs, final: next.value };
          outputs.push(next.value.output.slice());
          if (record) next.value.backward(allocate(dtype, next.value.T * B * layer.outputSize).fill(1));
          else expect(() => next.value.backward(allocate(dtype, next.value.T * B * layer.outputSize))).toThrow(/record: false/u);
        }
      };
      expect(run(false)).toEqual(run(true));
    }
  });
});
