/**
 * The scale-out example in its quick mode: rnnc's layer-norm LSTM trained in PyTorch with
 * DistributedDataParallel on two processes, then loaded back into rnnc, whose outputs on held-out
 * data equal PyTorch's. Skipped with a message without a Python that has PyTorch, except in CI.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../examples/pytorch-ddp/main.js";
import { pythonOnce } from "./helpers/python.js";

const python = await pythonOnce();
const run = "path" in python || Boolean(process.env["CI"]);
if (!run) console.warn(`tests/pytorch-ddp.test.ts: skipped: ${"missing" in python ? python.missing : ""}`);
const outDir = mkdtempSync(join(tmpdir(), "rnnc-ddp-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe.skipIf(!run)("pytorch-ddp example (quick)", () => {
  it("trains on two processes in PyTorch, and rnnc gives PyTorch's outputs with the trained weights", () => {
    const result = main({ quick: true, silent: true, outDir });
    expect(result.losses.map((l) => l.length), result.lines.join("\n")).toEqual([3, 3]);
    for (const losses of result.losses) expect(losses.at(-1)!).toBeLessThan(losses[0]! / 2);
    expect(result.replicasIdentical).toBe(true);
    expect(result.maxDifference).toBeLessThan(1e-12);
    expect(result.testMse.rnnc).toBeLessThan(result.testMse.untrained / 10);
    expect(Math.abs(result.testMse.rnnc - result.testMse.torch)).toBeLessThan(1e-12);
  }, 300_000);
});
