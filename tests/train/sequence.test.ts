import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/train/init.js";
import { CellLayer } from "../../src/train/layers.js";
import {
  batchify,
  gatherLastSteps,
  lengthsFromMask,
  maskFromLengths,
  oneHot,
  padLabels,
  padSequences,
  reverseWithinLengths,
  scatterLastSteps,
  truncatedBptt,
} from "../../src/train/sequence.js";
import { elmanCell } from "./cells.js";
import { randomArray, weightedSum } from "./helpers.js";

describe("padding and masks", () => {
  it("pads sequences time-major with a mask of their lengths", () => {
    const batch = padSequences(
      [
        [1, 2, 3, 4],
        [5, 6],
      ],
      2,
      { dtype: "f64" },
    );
    expect([batch.T, batch.B]).toEqual([2, 2]);
    // [t][b][k]: t = 0: [1, 2], [5, 6]; t = 1: [3, 4], padding
    expect(Array.from(batch.data)).toEqual([1, 2, 5, 6, 3, 4, 0, 0]);
    expect(Array.from(batch.mask)).toEqual([1, 1, 1, 0]);
    expect(Array.from(batch.lengths)).toEqual([2, 1]);
    expect(Array.from(padLabels([[7, 8, 9], [1]]))).toEqual([7, 1, 8, 0, 9, 0]);
  });

  it("recovers lengths from a mask and rejects a real step after padding", () => {
    expect(Array.from(lengthsFromMask(maskFromLengths([3, 0, 1], 3), 3, 3))).toEqual([3, 0, 1]);
    expect(() => lengthsFromMask(Uint8Array.of(1, 0, 1, 1), 2, 2)).toThrow(
      /sequence 1 has a real step at t = 1/,
    );
  });

  it("rejects a sequence longer than T", () => {
    expect(() => padSequences([[1, 2, 3]], 1, { T: 2 })).toThrow(/3 steps, more than T = 2/);
  });

  it("reverses within each length, twice being the identity", () => {
    const lengths = [3, 1];
    const data = Float64Array.of(1, 10, 2, 0, 3, 0); // [T = 3][B = 2][1]
    expect(Array.from(reverseWithinLengths(data, 1, 3, 2, lengths))).toEqual([3, 10, 2, 0, 1, 0]);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }),
        (T, raw) => {
          const lengthsT = raw.map((l) => Math.min(l, T));
          const x = randomArray(T * raw.length * 2, new Rng(T));
          const twice = reverseWithinLengths(
            reverseWithinLengths(x, 2, T, raw.length, lengthsT),
            2,
            T,
            raw.length,
            lengthsT,
          );
          expect(Array.from(twice)).toEqual(Array.from(x));
        },
      ),
      { seed: 42 },
    );
  });

  it("gathers each last real step, and scatters as its adjoint", () => {
    const [T, B, n] = [4, 3, 2];
    const lengths = [4, 2, 1];
    const x = randomArray(T * B * n, new Rng(1));
    const y = randomArray(B * n, new Rng(2));
    const last = gatherLastSteps(x, n, T, B, lengths);
    expect(Array.from(last.subarray(2, 4))).toEqual(
      Array.from(x.subarray((1 * B + 1) * n, (1 * B + 1) * n + n)),
    );
    expect(weightedSum(last, y)).toBeCloseTo(weightedSum(x, scatterLastSteps(y, n, T, B, lengths)), 12);
  });

  it("one-hot encodes labels", () => {
    expect(Array.from(oneHot([2, 0], 3))).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => oneHot([3], 3)).toThrow(/label 3/);
  });
});

describe("batchify", () => {
  it("lays a stream out in B columns as seed 001's figure (a…x, B = 4, T = 3)", () => {
    const letters = "abcdefghijklmnopqrstuvwxyz";
    const { steps, data } = batchify(
      Array.from(letters, (c) => c.charCodeAt(0)),
      4,
    );
    const row = (t: number) => String.fromCharCode(...data.subarray(t * 4, t * 4 + 4));
    expect(steps).toBe(6);
    expect([row(0), row(1), row(2)]).toEqual(["agms", "bhnt", "ciou"]); // x[1:T]
    expect([row(1), row(2), row(3)]).toEqual(["bhnt", "ciou", "djpv"]); // y[1:T], the next symbols
  });
});

describe("truncated BPTT", () => {
  // A scalar Elman cell h_t = tanh(wx·x_t + wh·h_{t-1} + b), computed by hand below.
  const [wx, wh, b] = [0.7, 0.9, -0.1];
  const layerWithParams = () => {
    const layer = new CellLayer(elmanCell(1, 1));
    layer.params["Wx"]!.set([wx]);
    layer.params["Wh"]!.set([wh]);
    layer.params["b"]!.set([b]);
    return layer;
  };
  const xs = [0.5, -1, 0.25, 1, -0.5, 0.75, 0.1];
  const handStates = (): number[] => {
    const states: number[] = [];
    let h = 0;
    for (const x of xs) states.push((h = Math.tanh(wx * x + wh * h + b)));
    return states;
  };

  it("carries the state from chunk to chunk (outputs equal the unbroken run)", () => {
    const layer = layerWithParams();
    const outputs: number[] = [];
    const chunks = truncatedBptt(layer, Float64Array.from(xs), { steps: xs.length, B: 1, period: 3 });
    const spans: [number, number][] = [];
    for (const chunk of chunks) {
      spans.push([chunk.start, chunk.T]);
      outputs.push(...chunk.output);
    }
    expect(spans).toEqual([
      [0, 3],
      [3, 3],
      [6, 1],
    ]);
    handStates().forEach((h, t) => expect(outputs[t]).toBeCloseTo(h, 14));
  });

  it("cuts the gradient at both borders of a chunk", () => {
    const layer = layerWithParams();
    const states = handStates();
    for (const chunk of truncatedBptt(layer, Float64Array.from(xs), { steps: xs.length, B: 1, period: 3 })) {
      if (chunk.index !== 1) continue;
      chunk.backward(Float64Array.of(1, 1, 1)); // loss = h_3 + h_4 + h_5
    }
    // Forward-mode derivative of the chunk's loss by wh, starting from zero at the chunk's start
    // (h_2 is a constant there): dh_t/dwh = (1 − h_t²)·(h_{t−1} + wh·dh_{t−1}/dwh).
    let dh = 0;
    let truncated = 0;
    for (let t = 3; t < 6; t++) {
      dh = (1 - states[t]! ** 2) * (states[t - 1]! + wh * dh);
      truncated += dh;
    }
    expect(layer.grads["Wh"]![0]).toBeCloseTo(truncated, 12);
    // The unbroken derivative differs, so the comparison above can tell a cut from no cut.
    let full = 0;
    dh = 0;
    for (let t = 0; t < 6; t++) {
      dh = (1 - states[t]! ** 2) * ((states[t - 1] ?? 0) + wh * dh);
      if (t >= 3) full += dh;
    }
    expect(Math.abs(full - truncated)).toBeGreaterThan(1e-3);
  });

  it("gives the unbroken run's outputs for any period and batch (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        (period, steps, B) => {
          const layer = new CellLayer(elmanCell(2, 3), { init: { seed: period } });
          const input = randomArray(steps * B * 2, new Rng(steps));
          const whole = layer.forward(input, { T: steps, B });
          const pieces: number[] = [];
          const chunks = truncatedBptt(layer, input, { steps, B, period });
          let result = chunks.next();
          while (result.done !== true) {
            pieces.push(...result.value.output);
            result = chunks.next();
          }
          pieces.forEach((v, i) => expect(v).toBeCloseTo(whole.output[i]!, 12));
          Array.from(result.value[0]!["h"]!).forEach((v, i) =>
            expect(v).toBeCloseTo(whole.final[0]!["h"]![i]!, 12),
          );
        },
      ),
      { seed: 42, numRuns: 40 },
    );
  });
});
