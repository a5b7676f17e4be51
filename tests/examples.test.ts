/**
 * The examples of examples/ in their quick mode: each trains a small model for a few seconds,
 * seeded, and must actually learn — the loss falls and the task figure clears chance by a wide
 * margin. Figures go to a temporary directory. (Full runs and their figures: examples/README.md.)
 */

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main as charLm } from "../examples/char-lm.js";
import { main as charMingru } from "../examples/char-mingru.js";
import { parseArgs } from "../examples/common.js";
import { main as echo, echoStream } from "../examples/echo.js";
import { loadNames, main as names } from "../examples/names.js";
import { main as sineCosine } from "../examples/sine-cosine.js";
import { CLASSES, SYMBOLS, generateSequence, main as temporalOrder } from "../examples/temporal-order.js";
import { Rng } from "../src/train/index.js";

const outDir = mkdtempSync(join(tmpdir(), "rnnc-examples-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const quick = { quick: true, silent: true, outDir } as const;

function expectSvgs(files: readonly string[]): void {
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, "utf8")).toMatch(/^<svg[^>]*>[\s\S]*<\/svg>\s*$/);
  }
}

describe("sine-cosine (seed 003)", () => {
  it("an LSTM learns to predict the next [sin, cos] point", () => {
    const result = sineCosine(quick);
    expect(result.trainLoss.at(-1)!).toBeLessThan(result.trainLoss[0]! / 10);
    expect(result.testMse).toBeLessThan(1e-3);
    expect(result.testMse).toBeLessThan(result.initialTestMse / 100);
    expectSvgs(result.figures);
  });
});

describe("temporal-order (seed 001)", () => {
  it("generates the seed's sequences: B … E, X/Y at t1 and t2 giving the class", () => {
    const rng = new Rng(5);
    for (const level of ["easy", "hard"] as const) {
      for (let k = 0; k < 200; k++) {
        const s = generateSequence(level, rng);
        const text = s.symbols.map((i) => SYMBOLS[i]).join("");
        const [low, high] = level === "easy" ? [7, 8] : [100, 110];
        expect(text.length).toBeGreaterThanOrEqual(low);
        expect(text.length).toBeLessThanOrEqual(high);
        expect(text[0]).toBe("B");
        expect(text.at(-1)).toBe("E");
        expect(text.replace(/[XY]/g, "").length).toBe(text.length - 2);
        const order = text.replace(/[^XY]/g, "");
        expect(CLASSES[s.label]).toBe({ XX: "Q", XY: "R", YX: "S", YY: "U" }[order]);
        expect(text[s.t1]).toBe(order[0]);
        expect(text[s.t2]).toBe(order[1]);
      }
    }
  });

  it("on easy sequences the LSTM learns the class far above the 25 % chance", () => {
    const result = temporalOrder(quick);
    const lstm = result.runs.find((r) => r.kind === "lstm")!;
    expect(lstm.loss.at(-1)!).toBeLessThan(lstm.loss[0]! * 0.5);
    expect(lstm.finalAccuracy).toBeGreaterThan(0.9);
    const rnn = result.runs.find((r) => r.kind === "rnn")!;
    expect(rnn.loss.at(-1)!).toBeLessThan(rnn.loss[0]!);
    expectSvgs(result.figures); // loss curves and the hidden-state heatmaps
  });
});

describe("echo (seed 001)", () => {
  it("the echo target is the input delayed, zeros first", () => {
    const { x, y } = echoStream(50, 3, new Rng(1));
    expect(Array.from(y.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(y.subarray(3))).toEqual(Array.from(x.subarray(0, 47)));
  });

  it("truncated BPTT learns to echo a bit stream 3 steps later", () => {
    const result = echo(quick);
    expect(result.initialTestAccuracy).toBeLessThan(0.6);
    expect(result.chunkLosses.slice(-10).reduce((a, b) => a + b) / 10).toBeLessThan(
      result.chunkLosses.slice(0, 10).reduce((a, b) => a + b) / 10 / 2,
    );
    expect(result.testAccuracy).toBeGreaterThan(0.95);
    expectSvgs(result.figures);
  });
});

describe("names (seed 002)", () => {
  it("reads faker's German and Italian surname lists with the shared names removed", () => {
    const data = loadNames();
    expect(data.german.length).toBeGreaterThan(1000);
    expect(data.italian.length).toBeGreaterThan(1000);
    const italian = new Set(data.italian);
    expect(data.german.filter((n) => italian.has(n))).toEqual([]);
    for (const name of data.common) {
      expect(data.german).not.toContain(name);
      expect(data.italian).not.toContain(name);
    }
    expect(data.vocabulary).toContain("ü");
  });

  it("the Elman RNN and the LSTM tell German from Italian surnames", () => {
    const result = names({ ...quick, classify: ["Tribbiani"] });
    expect(result.cells.map((c) => c.kind)).toEqual(["rnn", "lstm"]);
    for (const cell of result.cells) {
      expect(cell.trainLoss.at(-1)!).toBeLessThan(cell.trainLoss[0]!);
      expect(cell.testAccuracy).toBeGreaterThan(0.8); // the larger class alone is 56 %
      expect(cell.classified[0]!.language).toBe("Italian");
    }
    expectSvgs(result.figures);
  });
});

describe("char-lm (seed 004)", () => {
  it("a 2-layer LSTM's bits per character fall, and it samples text", () => {
    const result = charLm(quick);
    expect(result.validBpc[0]!).toBeGreaterThan(5.5); // ≈ log2(vocabulary) untrained
    expect(result.validBpc.at(-1)!).toBeLessThan(result.validBpc[0]! - 0.8);
    expect(result.samples.map((s) => s.temperature)).toEqual([0.5, 0.8, 1.0]);
    for (const sample of result.samples) expect(sample.text).toHaveLength(40);
    expectSvgs(result.figures);
  });
});

describe("char-mingru (issue 13)", () => {
  it("minGRU and the LSTM, trained with the same budget, both lower their bits per character", () => {
    const result = charMingru(quick);
    expect(result.runs.map((r) => r.kind)).toEqual(["mingru", "lstm"]);
    const [mingru, lstm] = result.runs;
    for (const run of result.runs) {
      expect(run.validBpc[0]!).toBeGreaterThan(5.5); // ≈ log2(vocabulary) untrained
      expect(run.validBpc.at(-1)!).toBeLessThan(run.validBpc[0]! - 0.8);
      expect(run.trainBpc).toHaveLength(2);
      expect(run.epochSeconds).toHaveLength(2);
      for (const s of run.epochSeconds) expect(s).toBeGreaterThan(0);
    }
    // minGRU's two products per layer read the input only: fewer params than the LSTM's eight.
    expect(mingru!.params).toBeLessThan(lstm!.params / 2);
    expectSvgs(result.figures);
    const svg = readFileSync(result.figures[0]!, "utf8");
    for (const name of ["minGRU validation", "LSTM validation"]) expect(svg).toContain(name);
  });
});

describe("example command lines", () => {
  it("parse --quick, --epochs, --seed and task flags", () => {
    const args = parseArgs(["--quick", "--epochs", "3", "--seed=7", "--classify", "Rossi", "--retrain"], ["retrain"]);
    expect(args.quick).toBe(true);
    expect(args.epochs).toBe(3);
    expect(args.seed).toBe(7);
    expect(args.flags["classify"]).toBe("Rossi");
    expect(args.flags["retrain"]).toBe(true);
    expect(() => parseArgs(["--epochs", "x"])).toThrow(/--epochs needs an integer/);
  });
});
