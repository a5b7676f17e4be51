import { describe, expect, it } from "vitest";
import { Rng } from "../../src/train/init.js";
import {
  accuracy,
  argmaxRows,
  meanSquaredError,
  softmax,
  softmaxCrossEntropy,
} from "../../src/train/loss.js";
import { maxRelativeError, numericGradient, randomArray } from "./helpers.js";

describe("softmaxCrossEntropy", () => {
  it("is ln C for equal logits, with gradient (1/C − onehot)/rows", () => {
    const { loss, grad } = softmaxCrossEntropy(new Float64Array(8), [1, 3]);
    expect(loss).toBeCloseTo(Math.log(4), 12);
    expect(Array.from(grad)).toEqual([0.125, -0.375, 0.125, 0.125, 0.125, 0.125, 0.125, -0.375]);
  });

  it("matches a hand computation: logits [1, 2, 3], target 0", () => {
    const { loss } = softmaxCrossEntropy(Float64Array.of(1, 2, 3), [0]);
    expect(loss).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 1, 12);
  });

  it("has the gradient of its loss (float64 finite differences)", () => {
    const rng = new Rng(7);
    const logits = randomArray(5 * 4, rng, 3);
    const targets = [0, 3, 2, 1, 3];
    const mask = Uint8Array.of(1, 1, 0, 1, 1);
    const { grad } = softmaxCrossEntropy(logits, targets, { mask });
    const numeric = numericGradient(logits, () => softmaxCrossEntropy(logits, targets, { mask }).loss);
    expect(maxRelativeError(grad, numeric)).toBeLessThan(1e-8);
    expect(Array.from(grad.subarray(8, 12))).toEqual([0, 0, 0, 0]); // the masked row
  });

  it("stays finite for huge logits (log-sum-exp)", () => {
    const { loss, grad } = softmaxCrossEntropy(Float64Array.of(1000, 0, -1000), [1]);
    expect(loss).toBeCloseTo(1000, 9);
    expect(grad[0]).toBeCloseTo(1, 12);
    expect(grad[1]).toBeCloseTo(-1, 12);
    expect(Number.isFinite(grad[2]!)).toBe(true);
  });

  it("rejects targets outside the classes", () => {
    expect(() => softmaxCrossEntropy(new Float64Array(6), [0, 3])).toThrow(/target 3 of row 1/);
  });
});

describe("meanSquaredError", () => {
  it("averages over elements of the counted rows", () => {
    const prediction = Float64Array.of(1, 2, 3, 4, 5, 6);
    const target = [0, 2, 3, 3, 0, 0];
    const { loss, grad } = meanSquaredError(prediction, target, { mask: Uint8Array.of(1, 1, 0) });
    expect(loss).toBeCloseTo((1 + 0 + 0 + 1) / 4, 12);
    expect(Array.from(grad)).toEqual([0.5, 0, 0, 0.5, 0, 0]);
  });

  it("has the gradient of its loss", () => {
    const rng = new Rng(3);
    const prediction = randomArray(12, rng);
    const target = randomArray(12, rng);
    const { grad } = meanSquaredError(prediction, target);
    const numeric = numericGradient(prediction, () => meanSquaredError(prediction, target).loss);
    expect(maxRelativeError(grad, numeric)).toBeLessThan(1e-8);
  });
});

describe("softmax, argmax and accuracy", () => {
  it("sharpens with a low temperature and flattens with a high one", () => {
    const logits = [1, 2];
    const [, p1] = softmax(logits, 2);
    const [, cold] = softmax(logits, 2, 0.1);
    const [, hot] = softmax(logits, 2, 100);
    expect(p1).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(cold!).toBeGreaterThan(0.9999);
    expect(hot).toBeCloseTo(0.5, 2);
  });

  it("counts rows whose argmax is the target, skipping masked rows", () => {
    const logits = Float64Array.of(0, 1, 5, 2, 3, 1, 0, 9);
    expect(Array.from(argmaxRows(logits, 2))).toEqual([1, 0, 0, 1]);
    expect(accuracy(logits, [1, 0, 1, 0])).toBe(0.5);
    expect(accuracy(logits, [1, 0, 1, 0], { mask: Uint8Array.of(1, 1, 0, 0) })).toBe(1);
  });
});
