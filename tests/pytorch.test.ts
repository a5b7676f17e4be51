/**
 * PyTorch export: the exported module, run by PyTorch in float64, gives rnnc's outputs and final
 * states, and PyTorch autograd on a loss gives rnnc's BPTT gradients (every param, input and
 * initial state), to 1e-9 relative — for every example cell and random cells of the property
 * generator, with and without a mask. Params go to Python through rnnc's params JSON
 * (`saveParams` → `load_rnnc_params`) and back (`save_rnnc_params` → `loadParams`), bit for bit.
 *
 * One Python process runs all cells. Without a Python that has PyTorch the tests are skipped with
 * a message, except in CI (`CI` set), where that is a failure.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { findPython } from "../examples/pytorch-ddp/python.js";
import { main } from "../src/cli.js";
import { exportPytorchCell } from "../src/export.js";
import { load } from "../src/load.js";
import { mulberry32 } from "../src/runtime/random.js";
import type { Cell, Tensors } from "../src/runtime/types.js";
import { loadParams, saveParams } from "../src/train/serialize.js";
import { randomCells } from "./helpers/random-cell.js";

const python = findPython();
const found = "path" in python;
if (!found && !process.env["CI"]) console.warn(`tests/pytorch.test.ts: skipped: ${python.missing}`);
const TOLERANCE = 1e-9;
const EXAMPLES = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).sort();
const dir = mkdtempSync(join(tmpdir(), "rnnc-pytorch-"));

interface Case {
  readonly label: string;
  readonly text: string;
  readonly cell: Cell;
  readonly T: number;
  readonly B: number;
  readonly params: Tensors;
  readonly inputs: Tensors;
  readonly initial: Tensors;
  readonly mask: Uint8Array | undefined;
  readonly outputGrads: Tensors;
  readonly finalGrads: Tensors;
  readonly module: string;
  readonly paramsFile: string;
  readonly savedFile: string;
}

type Flat = Record<string, (number | string)[]>;
interface Result {
  readonly error?: string;
  readonly outputs: Flat;
  readonly final: Flat;
  readonly params: Flat;
  readonly inputs: Flat;
  readonly initial: Flat;
}

/** A case: the cell exported and compiled (float64), seeded random numbers, rnnc's params saved. */
function makeCase(label: string, text: string, seed: number, masked: boolean): Case {
  const k = cases.length;
  const [compiled] = compileSource(text, { dtype: "f64", path: `${label}.cell` });
  const cell = load(compiled!.code);
  const random = mulberry32(seed);
  const make = (n: number) => Float64Array.from({ length: n }, () => (2 * random() - 1) * 0.5);
  const [T, B] = [3 + (seed % 2), 2 + (seed % 3)];
  const record = (specs: readonly { name: string; size: number }[], per: number) => Object.fromEntries(specs.map((s) => [s.name, make(s.size * per)]));
  const params = record(cell.params, 1);
  const module = join(dir, `cell_${k}.py`);
  writeFileSync(module, exportPytorchCell(text, `${label}.cell`).text);
  const paramsFile = join(dir, `params_${k}.json`);
  writeFileSync(paramsFile, saveParams([{ name: cell.name, params, grads: {}, shapes: Object.fromEntries(cell.params.map((p) => [p.name, p.shape])) }]));
  const mask = masked ? Uint8Array.from({ length: T * B }, (_, i) => (i < B || random() < 0.7 ? 1 : 0)) : undefined;
  return {
    label, text, cell, T, B, params, mask, module, paramsFile, savedFile: join(dir, `saved_${k}.json`),
    inputs: record(cell.inputs, T * B), initial: record(cell.states, B),
    outputGrads: record(cell.outputs, T * B), finalGrads: record(cell.states, B),
  };
}

const cases: Case[] = [];
let results: Result[] = [];

/** Runs every case in one Python process. */
function runPython(): Result[] {
  const plain = (t: Tensors) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Array.from(v)]));
  const job = cases.map((c) => ({
    module: c.module, paramsFile: c.paramsFile, savedFile: c.savedFile, T: c.T, B: c.B,
    inputs: plain(c.inputs), initial: plain(c.initial), mask: c.mask ? Array.from(c.mask) : null,
    outputGrads: plain(c.outputGrads), finalGrads: plain(c.finalGrads),
  }));
  const jobFile = join(dir, "job.json");
  writeFileSync(jobFile, JSON.stringify(job));
  if (!("path" in python)) throw new Error(python.missing);
  const run = spawnSync(python.path, ["tests/pytorch-driver.py", jobFile], { encoding: "utf8", maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`the PyTorch driver failed (${run.status}):\n${run.stderr}`);
  return JSON.parse(run.stdout) as Result[];
}

function expectClose(got: (number | string)[] | undefined, want: ArrayLike<number>, what: string): void {
  expect(got, what).toBeDefined();
  expect(got!.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = Number(got![i]);
    const err = Math.abs(g - want[i]!) / Math.max(1, Math.abs(want[i]!));
    if (!(err <= TOLERANCE) && !(Number.isNaN(g) && Number.isNaN(want[i]!))) expect.fail(`${what}[${i}]: PyTorch ${g} vs rnnc ${want[i]}`);
  }
}

/** rnnc's float64 forward and BPTT on the case's numbers, against PyTorch's. */
function expectSame(c: Case, r: Result): void {
  const where = (what: string) => `${c.label} (T=${c.T} B=${c.B}${c.mask ? " masked" : ""}): ${what}`;
  if (r.error) expect.fail(where(`Python failed:\n${r.error}`));
  const { cell } = c;
  const trace = cell.forward(c.params, c.inputs, { T: c.T, B: c.B, initial: c.initial, mask: c.mask });
  const grads = cell.createGrads();
  const back = cell.backward(c.params, trace, { outputs: c.outputGrads, final: c.finalGrads }, grads);
  for (const o of cell.outputs) expectClose(r.outputs[o.name], trace.outputs[o.name]!, where(`output ${o.name}`));
  for (const s of cell.states) expectClose(r.final[s.name], trace.final[s.name]!, where(`final ${s.name}`));
  for (const p of cell.params) expectClose(r.params[p.name], grads[p.name]!, where(`d loss/d ${p.name}`));
  for (const x of cell.inputs) expectClose(r.inputs[x.name], back.inputs[x.name]!, where(`d loss/d input ${x.name}`));
  for (const s of cell.states) expectClose(r.initial[s.name], back.initial[s.name]!, where(`d loss/d initial ${s.name}`));
  // save_rnnc_params wrote what load_rnnc_params read: rnnc loads it back bit for bit.
  const back2 = cell.createParams();
  loadParams(readFileSync(c.savedFile, "utf8"), [{ name: cell.name, params: back2, grads: {}, shapes: Object.fromEntries(cell.params.map((p) => [p.name, p.shape])) }]);
  for (const p of cell.params) expect(Array.from(back2[p.name]!), where(`saved ${p.name}`)).toEqual(Array.from(c.params[p.name]!));
}

describe.skipIf(!found && !process.env["CI"])("PyTorch export", () => {
  beforeAll(() => {
    EXAMPLES.forEach((file, k) => {
      const text = readFileSync(join("examples/cells", file), "utf8");
      cases.push(makeCase(file.replace(/\.cell$/, ""), text, 10 + k, false));
      cases.push(makeCase(file.replace(/\.cell$/, ""), text, 20 + k, true));
    });
    fc.sample(randomCells, { seed: 14, numRuns: 40 }).forEach((text, k) => cases.push(makeCase(`random_${k}`, text, k, k % 3 === 0)));
    results = runPython();
  }, 120_000);

  it("finds a Python with PyTorch (required in CI)", () => {
    expect(found, "path" in python ? "" : python.missing).toBe(true);
  });

  it.each(EXAMPLES)("runs %s in PyTorch as rnnc runs it: outputs, final states, every gradient", (file) => {
    const label = file.replace(/\.cell$/, "");
    const mine = cases.flatMap((c, k) => (c.label === label ? [k] : []));
    expect(mine).toHaveLength(2);
    for (const k of mine) expectSame(cases[k]!, results[k]!);
  });

  it("runs 40 random cells in PyTorch as rnnc runs them", () => {
    let checked = 0;
    cases.forEach((c, k) => {
      if (!c.label.startsWith("random_")) return;
      try {
        expectSame(c, results[k]!);
      } catch (e) {
        throw new Error(`${c.label}:\n${c.text}\n${(e as Error).message}`);
      }
      checked++;
    });
    expect(checked).toBe(40);
  });

  it("is a command: rnnc export FILE.cell --format pytorch, with --params", async () => {
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(t) };
    const out = join(dir, "gru.py");
    expect(await main(["export", "examples/cells/gru.cell", "--format", "pytorch", "--out", out, "--size", "H=4"], io)).toBe(0);
    expect(readFileSync(out, "utf8")).toContain("class Gru(GruCell):");
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ format: "rnnc-params", version: 1, groups: { gru: { Wu: [[1]] } } }));
    expect(await main(["export", "examples/cells/gru.cell", "--format", "pytorch", "--params", join(dir, "bad.json"), "--out", out], io)).toBe(1);
    expect(lines.join("\n")).toMatch(/bad\.json: group 'gru': missing param 'Uu'/);
    expect(await main(["export", "examples/cells/gru.cell", "--format", "torch"], io)).toBe(2);
  });
});
