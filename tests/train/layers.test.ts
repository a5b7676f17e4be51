import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Tensors } from "../../src/runtime/types.js";
import { Rng } from "../../src/train/init.js";
import { Bidirectional, CellLayer, Stack, type RecurrentLayer } from "../../src/train/layers.js";
import { bumpAll, zeroGrads } from "../../src/train/optim.js";
import { maskFromLengths, padSequences, reverseWithinLengths } from "../../src/train/sequence.js";
import { elmanCell, lstmCell } from "./cells.js";
import { maxRelativeError, numericGradient, randomArray, weightedSum } from "./helpers.js";

const I = 2;
const layerKinds: Record<string, (seed: number) => RecurrentLayer> = {
  "elman cell": (seed) => new CellLayer(elmanCell(I, 3), { init: { seed } }),
  "lstm cell": (seed) => new CellLayer(lstmCell(I, 3), { init: { seed } }),
  stack: (seed) =>
    new Stack([
      new CellLayer(lstmCell(I, 3), { init: { seed } }),
      new CellLayer(elmanCell(3, 2), { init: { seed: seed + 1 } }),
    ]),
  bidirectional: (seed) =>
    new Bidirectional(
      new CellLayer(lstmCell(I, 3), { init: { seed } }),
      new CellLayer(elmanCell(I, 2), { init: { seed: seed + 1 } }),
    ),
  "stacked bidirectional": (seed) =>
    new Stack([
      new Bidirectional(
        new CellLayer(lstmCell(I, 2), { init: { seed } }),
        new CellLayer(lstmCell(I, 2), { init: { seed: seed + 1 } }),
      ),
      new CellLayer(elmanCell(4, 3), { init: { seed: seed + 2 } }),
    ]),
};

/** Random initial states for `B` sequences, one `Tensors` per cell of the layer. */
function randomStates(layer: RecurrentLayer, B: number, rng: Rng): Tensors[] {
  return layer.cellStates.map((specs) =>
    Object.fromEntries(specs.map((s) => [s.name, randomArray(B * s.size, rng)])),
  );
}

/** Sequence b's `[n]` rows of `[B][n]` state tensors. */
function rowOf(tensors: Tensors, b: number, B: number): Tensors {
  return Object.fromEntries(
    Object.entries(tensors).map(([name, data]) => {
      const n = data.length / B;
      return [name, data.slice(b * n, (b + 1) * n)];
    }),
  );
}

function gradSnapshot(layer: RecurrentLayer): Float64Array[] {
  return layer.groups().flatMap((g) => Object.values(g.grads).map((grad) => Float64Array.from(grad)));
}

describe.each(Object.entries(layerKinds))("%s layer", (_, makeLayer) => {
  it("ignores padding: a padded batch equals each sequence run alone (property)", () => {
    const scenario = fc.record({
      lengths: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
      extraPadding: fc.integer({ min: 0, max: 2 }),
      seed: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(scenario, ({ lengths, extraPadding, seed }) => {
        const rng = new Rng(seed);
        const layer = makeLayer(seed);
        const B = lengths.length;
        const T = Math.max(...lengths) + extraPadding;
        const sequences = lengths.map((length) => randomArray(length * I, rng));
        const batch = padSequences(sequences, I, { dtype: "f64", T });
        for (let i = 0; i < batch.data.length; i++)
          if (batch.mask[Math.floor(i / I)] === 0) batch.data[i] = 100 * rng.normal();
        const initial = randomStates(layer, B, rng);
        const outputWeights = randomArray(T * B * layer.outputSize, rng); // nonzero on padding too
        const finalWeights = randomStates(layer, B, rng);

        zeroGrads(layer.groups());
        const trace = layer.forward(batch.data, { T, B, mask: batch.mask, initial });
        const padded = layer.backward(trace, { output: outputWeights, final: finalWeights });
        const paddedParamGrads = gradSnapshot(layer);

        zeroGrads(layer.groups());
        const n = layer.outputSize;
        for (let b = 0; b < B; b++) {
          const L = lengths[b]!;
          const alone = layer.forward(sequences[b]!, {
            T: L,
            B: 1,
            initial: initial.map((s) => rowOf(s, b, B)),
          });
          const aloneWeights = new Float64Array(L * n);
          for (let t = 0; t < L; t++)
            aloneWeights.set(outputWeights.subarray((t * B + b) * n, (t * B + b + 1) * n), t * n);
          const grads = layer.backward(alone, {
            output: aloneWeights,
            final: finalWeights.map((s) => rowOf(s, b, B)),
          });
          for (let t = 0; t < T; t++) {
            const paddedOutput = Array.from(trace.output.subarray((t * B + b) * n, (t * B + b + 1) * n));
            const paddedInputGrad = Array.from(padded.input.subarray((t * B + b) * I, (t * B + b + 1) * I));
            if (t < L) {
              expect(maxRelativeError(paddedOutput, alone.output.subarray(t * n, (t + 1) * n))).toBeLessThan(
                1e-12,
              );
              expect(
                maxRelativeError(paddedInputGrad, grads.input.subarray(t * I, (t + 1) * I)),
              ).toBeLessThan(1e-12);
            } else {
              expect(paddedOutput.every((v) => v === 0)).toBe(true);
              expect(paddedInputGrad.every((v) => v === 0)).toBe(true);
            }
          }
          trace.final.forEach((states, c) => {
            for (const [name, data] of Object.entries(rowOf(states, b, B)))
              expect(maxRelativeError(data, alone.final[c]![name]!)).toBeLessThan(1e-12);
          });
          padded.initial.forEach((states, c) => {
            for (const [name, data] of Object.entries(rowOf(states, b, B)))
              expect(maxRelativeError(data, grads.initial[c]![name]!)).toBeLessThan(1e-12);
          });
        }
        gradSnapshot(layer).forEach((summed, k) =>
          expect(maxRelativeError(paddedParamGrads[k]!, summed)).toBeLessThan(1e-10),
        );
      }),
      { seed: 42, numRuns: 25 },
    );
  });

  it("has the gradients of its loss for params, inputs and initial states (finite differences)", () => {
    const rng = new Rng(17);
    const layer = makeLayer(3);
    const [T, B] = [4, 3];
    const mask = maskFromLengths([4, 2, 3], T);
    const input = randomArray(T * B * I, rng);
    const initial = randomStates(layer, B, rng);
    const outputWeights = randomArray(T * B * layer.outputSize, rng);
    const finalWeights = randomStates(layer, B, rng);
    const loss = () => {
      // numericGradient writes params in place: the cells are told, as any hand edit must.
      bumpAll(layer.groups());
      const trace = layer.forward(input, { T, B, mask, initial });
      const finalTerm = trace.final.reduce(
        (sum, states, c) =>
          sum +
          Object.entries(states).reduce(
            (s, [name, data]) => s + weightedSum(data, finalWeights[c]![name]!),
            0,
          ),
        0,
      );
      return weightedSum(trace.output, outputWeights) + finalTerm;
    };
    zeroGrads(layer.groups());
    const grads = layer.backward(layer.forward(input, { T, B, mask, initial }), {
      output: outputWeights,
      final: finalWeights,
    });
    for (const group of layer.groups()) {
      for (const [name, param] of Object.entries(group.params)) {
        expect(
          maxRelativeError(group.grads[name]!, numericGradient(param, loss)),
          `${group.name}.${name}`,
        ).toBeLessThan(1e-7);
      }
    }
    expect(maxRelativeError(grads.input, numericGradient(input, loss))).toBeLessThan(1e-7);
    initial.forEach((states, c) => {
      for (const [name, data] of Object.entries(states))
        expect(maxRelativeError(grads.initial[c]![name]!, numericGradient(data, loss))).toBeLessThan(1e-7);
    });
  });
});

describe("Bidirectional", () => {
  it("runs its reverse layer over each sequence reversed within its length", () => {
    const forwardLayer = new CellLayer(elmanCell(I, 3), { init: { seed: 1 } });
    const reverseLayer = new CellLayer(elmanCell(I, 2), { init: { seed: 2 } });
    const layer = new Bidirectional(forwardLayer, reverseLayer);
    const [T, B] = [5, 2];
    const lengths = [5, 3];
    const mask = maskFromLengths(lengths, T);
    const input = randomArray(T * B * I, new Rng(4));
    const { output } = layer.forward(input, { T, B, mask });
    const alone = reverseLayer.forward(reverseWithinLengths(input, I, T, B, lengths), { T, B, mask }).output;
    // sequence 1 (length 3), step t: the reverse layer's output after reading x[2], x[1], …, x[t]
    for (let t = 0; t < 3; t++) {
      const mine = output.subarray((t * B + 1) * 5 + 3, (t * B + 1) * 5 + 5);
      const expected = alone.subarray(((2 - t) * B + 1) * 2, ((2 - t) * B + 1) * 2 + 2);
      expect(Array.from(mine)).toEqual(Array.from(expected));
    }
    expect(layer.groups().map((g) => g.name)).toEqual(["forward.rnn", "reverse.rnn"]);
  });

  it("rejects layers with different input sizes", () => {
    expect(() => new Bidirectional(new CellLayer(elmanCell(2, 2)), new CellLayer(elmanCell(3, 2)))).toThrow(
      /takes 2 inputs/,
    );
  });
});

describe("Stack", () => {
  it("rejects a layer whose input size is not the previous output size", () => {
    expect(() => new Stack([new CellLayer(elmanCell(2, 3)), new CellLayer(elmanCell(2, 3))])).toThrow(
      /layer 1 takes 2 inputs but layer 0 outputs 3/,
    );
  });

  it("names its groups by layer", () => {
    const stack = new Stack([
      new CellLayer(elmanCell(2, 3)),
      new CellLayer(elmanCell(3, 3), { name: "top" }),
    ]);
    expect(stack.groups().map((g) => g.name)).toEqual(["layer0.rnn", "layer1.top"]);
  });
});
