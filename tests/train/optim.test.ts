import { describe, expect, it } from "vitest";
import { Adam, clipGradNorm, gradNorm, Sgd, zeroGrads, type ParamGroup } from "../../src/train/optim.js";

/** One group holding a single vector param `w` with its gradient. */
function group(params: number[], grads: number[]): ParamGroup {
  return {
    name: "g",
    params: { w: Float64Array.from(params) },
    grads: { w: Float64Array.from(grads) },
    shapes: { w: [params.length] },
  };
}

function expectValues(actual: ArrayLike<number>, expected: number[], digits = 12): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, i) => expect(actual[i]).toBeCloseTo(value, digits));
}

describe("Sgd", () => {
  it("steps p -= lr·g without momentum", () => {
    const g = group([1, -2], [0.5, 0.25]);
    new Sgd({ lr: 0.1 }).step([g]);
    expectValues(g.params["w"]!, [0.95, -2.025]);
  });

  it("starts the momentum buffer at the first gradient, then buf = μ·buf + g", () => {
    const g = group([1, -2], [0.5, 0.25]);
    const sgd = new Sgd({ lr: 0.1, momentum: 0.9 });
    sgd.step([g]); // buf = [0.5, 0.25]
    expectValues(g.params["w"]!, [0.95, -2.025]);
    g.grads["w"]!.set([0.1, -0.3]);
    sgd.step([g]); // buf = 0.9·[0.5, 0.25] + [0.1, −0.3] = [0.55, −0.075]
    expectValues(g.params["w"]!, [0.95 - 0.055, -2.025 + 0.0075]);
  });

  it("applies dampening from the second step on", () => {
    const g = group([1], [0.5]);
    const sgd = new Sgd({ lr: 0.1, momentum: 0.9, dampening: 0.5 });
    sgd.step([g]); // buf = 0.5 (no dampening on the first step)
    g.grads["w"]!.set([0.1]);
    sgd.step([g]); // buf = 0.9·0.5 + 0.5·0.1 = 0.5
    expectValues(g.params["w"]!, [1 - 0.05 - 0.05]);
  });

  it("uses g + μ·buf with Nesterov momentum", () => {
    const g = group([1, -2], [0.5, 0.25]);
    new Sgd({ lr: 0.1, momentum: 0.9, nesterov: true }).step([g]); // step = 1.9·g
    expectValues(g.params["w"]!, [1 - 0.095, -2 - 0.0475]);
  });

  it("adds weight decay to the gradient", () => {
    const g = group([1], [0.5]);
    new Sgd({ lr: 0.1, weightDecay: 0.01 }).step([g]); // g = 0.5 + 0.01·1
    expectValues(g.params["w"]!, [1 - 0.051]);
  });

  it("rejects Nesterov without momentum", () => {
    expect(() => new Sgd({ lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
  });
});

describe("Adam", () => {
  it("matches two bias-corrected steps computed by formula", () => {
    const g = group([1], [0.5]);
    const adam = new Adam({ lr: 0.1 });
    // t = 1: m = 0.05, v = 2.5e-4; m̂ = 0.5, v̂ = 0.25 → p = 1 − 0.1·0.5/(0.5 + 1e-8)
    adam.step([g]);
    expect(g.params["w"]![0]).toBeCloseTo(0.900000002, 12);
    // t = 2, g = −0.2: m = 0.025, v = 2.8975e-4; m̂ = 0.025/0.19, v̂ = 2.8975e-4/0.001999
    g.grads["w"]!.set([-0.2]);
    adam.step([g]);
    const expected = 0.900000002 - (0.1 * (0.025 / 0.19)) / (Math.sqrt(2.8975e-4 / (1 - 0.999 ** 2)) + 1e-8);
    expect(g.params["w"]![0]).toBeCloseTo(expected, 10);
    expect(g.params["w"]![0]).toBeCloseTo(0.8654394181165108, 10);
  });

  it("adds L2 weight decay to the gradient before the moments", () => {
    const g = group([2], [0.3]);
    new Adam({ lr: 0.1, weightDecay: 0.1 }).step([g]); // g = 0.5; first step moves by lr·sign
    expect(g.params["w"]![0]).toBeCloseTo(1.900000002, 10);
  });

  it("counts steps per param, so groups stepped separately stay PyTorch-exact", () => {
    const a = group([1], [0.5]);
    const b = group([1], [0.5]);
    const adam = new Adam({ lr: 0.1 });
    adam.step([a]);
    adam.step([b]);
    expect(a.params["w"]![0]).toBeCloseTo(b.params["w"]![0]!, 15);
  });
});

describe("gradient clipping", () => {
  it("scales all gradients to the global norm and returns the norm before clipping", () => {
    const groups = [group([0, 0], [3, 0]), group([0], [4])]; // global norm 5
    const norm = clipGradNorm(groups, 1);
    expect(norm).toBeCloseTo(5, 12);
    const scale = 1 / (5 + 1e-6);
    expectValues(groups[0]!.grads["w"]!, [3 * scale, 0]);
    expectValues(groups[1]!.grads["w"]!, [4 * scale]);
    expect(gradNorm(groups)).toBeCloseTo(1, 6);
  });

  it("leaves gradients below the threshold untouched", () => {
    const groups = [group([0, 0], [0.3, 0.4])];
    expect(clipGradNorm(groups, 1)).toBeCloseTo(0.5, 12);
    expectValues(groups[0]!.grads["w"]!, [0.3, 0.4], 15);
  });

  it("zeroes gradients", () => {
    const groups = [group([1, 2], [3, 4])];
    zeroGrads(groups);
    expectValues(groups[0]!.grads["w"]!, [0, 0]);
  });
});
