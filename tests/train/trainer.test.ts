import { describe, expect, it } from "vitest";
import { Dense } from "../../src/train/dense.js";
import { Rng } from "../../src/train/init.js";
import { meanSquaredError } from "../../src/train/loss.js";
import { Sgd, zeroGrads } from "../../src/train/optim.js";
import { fit, minibatches, ProgressBar, type ProgressStream } from "../../src/train/trainer.js";

/** A stream that records what is written; a terminal when `isTTY`. */
function recorder(isTTY: boolean): ProgressStream & { readonly text: () => string } {
  const chunks: string[] = [];
  return { isTTY, write: (text: string) => chunks.push(text), text: () => chunks.join("") };
}

describe("ProgressBar", () => {
  it("renders label, bar, count, percentage and metrics", () => {
    const bar = new ProgressBar(8, { label: "train", barWidth: 8, stream: recorder(false), now: () => 0 });
    expect(bar.render(2, { loss: 0.5, acc: "97%" })).toBe(
      "train  [##------]  2/8  25%  loss 0.5000  acc 97%  eta 0.0s",
    );
  });

  it("prints plain lines at each tenth of the way when not on a terminal", () => {
    const stream = recorder(false);
    const bar = new ProgressBar(20, { stream, now: () => 0 });
    for (let done = 1; done <= 20; done++) bar.update(done, { loss: 1 / done });
    bar.finish();
    const lines = stream
      .text()
      .split("\n")
      .filter((line) => line !== "");
    expect(lines).toHaveLength(11);
    expect(stream.text()).not.toContain("\r");
    expect(lines.at(-1)).toContain("20/20  100%");
  });

  it("redraws one line in place on a terminal, at most every 50 ms", () => {
    const stream = recorder(true);
    let clock = 0;
    const bar = new ProgressBar(100, { stream, now: () => clock });
    for (let done = 1; done <= 100; done++) {
      clock += 10;
      bar.update(done);
    }
    bar.finish({ loss: 0.25 });
    const text = stream.text();
    expect(text.split("\r").length - 1).toBe(22); // 20 redraws 50 ms apart, the completed bar, the final line
    expect(text.split("\n")).toHaveLength(2); // a single line, ended by finish
    expect(text).toContain("loss 0.2500");
  });
});

describe("fit", () => {
  it("runs epochs over batches, records mean losses and metrics, and the loss falls", () => {
    const rng = new Rng(1);
    const inputs = Float64Array.from({ length: 64 }, () => rng.normal());
    const targets = inputs.map((x) => 3 * x - 1);
    const dense = new Dense(1, 1, { dtype: "f64" });
    const sgd = new Sgd({ lr: 0.1 });
    const stream = recorder(false);
    const history = fit({
      epochs: 5,
      batches: () => minibatches(64, 16, rng),
      step: (batch) => {
        const x = Float64Array.from(batch, (i) => inputs[i]!);
        const { loss, grad } = meanSquaredError(
          dense.forward(x),
          Float64Array.from(batch, (i) => targets[i]!),
        );
        zeroGrads(dense.groups());
        dense.backward(x, grad);
        sgd.step(dense.groups());
        return loss;
      },
      evaluate: () => ({ w: dense.W[0]! }),
      progress: { stream, now: () => 0, label: "fit" },
    });
    expect(history.map((r) => r.epoch)).toEqual([0, 1, 2, 3, 4]);
    expect(history[0]!.batchLosses).toHaveLength(4);
    expect(history[4]!.loss).toBeLessThan(history[0]!.loss / 10);
    expect(history[4]!.metrics["w"]).toBeCloseTo(3, 0);
    expect(stream.text()).toContain("fit 5/5");
  });

  it("stops with an error when the loss is not finite", () => {
    expect(() => fit({ epochs: 1, batches: () => [0], step: () => NaN, progress: false })).toThrow(
      /loss became NaN at epoch 1, batch 1/,
    );
  });
});

describe("minibatches", () => {
  it("covers every index once, shuffled with an rng, in order without", () => {
    expect(minibatches(5, 2)).toEqual([[0, 1], [2, 3], [4]]);
    const shuffled = minibatches(10, 3, new Rng(2));
    expect(shuffled.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(shuffled.flat()).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
