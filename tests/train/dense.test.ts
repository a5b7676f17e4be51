import { describe, expect, it } from "vitest";
import { Dense } from "../../src/train/dense.js";
import { Rng } from "../../src/train/init.js";
import { maxRelativeError, numericGradient, randomArray, weightedSum } from "./helpers.js";

describe("Dense", () => {
  it("computes y = W·h + b per row", () => {
    const dense = new Dense(2, 2, { dtype: "f64" });
    dense.W.set([1, 2, 3, 4]);
    dense.b.set([0.5, -1]);
    expect(Array.from(dense.forward(Float64Array.of(1, 1, 0, 2)))).toEqual([3.5, 6, 4.5, 7]);
  });

  it("initialises W and b within ±1/√inputSize, reproducibly", () => {
    const a = new Dense(16, 4, { seed: 5 });
    const b = new Dense(16, 4, { seed: 5 });
    expect(Array.from(a.W)).toEqual(Array.from(b.W));
    expect(Math.max(...Array.from(a.W, Math.abs), ...Array.from(a.b, Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Array.from(new Dense(16, 4, { init: "xavier" }).b)).toEqual([0, 0, 0, 0]);
  });

  it("has the gradients of its output for W, b and the input (finite differences)", () => {
    const rng = new Rng(11);
    const [T, B, H, O] = [3, 2, 4, 3];
    const dense = new Dense(H, O, { dtype: "f64", seed: 1 });
    const x = randomArray(T * B * H, rng);
    const weights = randomArray(T * B * O, rng);
    const loss = () => weightedSum(dense.forward(x), weights);
    const dx = dense.backward(x, weights);
    expect(maxRelativeError(dense.gradW, numericGradient(dense.W, loss))).toBeLessThan(1e-8);
    expect(maxRelativeError(dense.gradB, numericGradient(dense.b, loss))).toBeLessThan(1e-8);
    expect(maxRelativeError(dx, numericGradient(x, loss))).toBeLessThan(1e-8);
  });

  it("accumulates gradients across calls", () => {
    const dense = new Dense(2, 1, { dtype: "f64" });
    const x = Float64Array.of(1, 2);
    dense.backward(x, Float64Array.of(1));
    dense.backward(x, Float64Array.of(1));
    expect(Array.from(dense.gradW)).toEqual([2, 4]);
    expect(Array.from(dense.gradB)).toEqual([2]);
  });

  it("rejects inputs that are not whole rows", () => {
    expect(() => new Dense(3, 1).forward(new Float32Array(4))).toThrow(/not a multiple of 3/);
  });
});
