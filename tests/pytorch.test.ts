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
import { checkSource, compileSource } from "../compiler/index.js";
import { main } from "../src/cli.js";
import { exportPytorchCell } from "../src/export.js";
import { Names, isPythonIdentifier, pyComment, pyNumber, pyString } from "../compiler/export/pytorch-names.js";
import { load } from "../src/load.js";
import { mulberry32 } from "../src/runtime/random.js";
import type { Cell, Tensors } from "../src/runtime/types.js";
import { loadParams, saveParams } from "../src/train/serialize.js";
import { randomVectorCells } from "./helpers/random-cell.js";
import { pythonOnce } from "./helpers/python.js";

const python = await pythonOnce();
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
function makeCase(label: string, text: string, seed: number, masked: boolean, path = `${label}.cell`): Case {
  const k = cases.length;
  const [compiled] = compileSource(text, { dtype: "f64", path });
  const cell = load(compiled!.code);
  const random = mulberry32(seed);
  const make = (n: number) => Float64Array.from({ length: n }, () => (2 * random() - 1) * 0.5);
  const [T, B] = [3 + (seed % 2), 2 + (seed % 3)];
  const record = (specs: readonly { name: string; size: number }[], per: number) => Object.fromEntries(specs.map((s) => [s.name, make(s.size * per)]));
  const params = record(cell.params, 1);
  const module = join(dir, `cell_${k}.py`);
  writeFileSync(module, exportPytorchCell(text, path).text);
  const paramsFile = join(dir, `params_${k}.json`);
  writeFileSync(paramsFile, saveParams([{ name: cell.name, params, grads: {}, shapes: Object.fromEntries(cell.params.map((p) => [p.name, p.shape])) }]));
  const mask = masked ? Uint8Array.from({ length: T * B }, (_, i) => (i < B || random() < 0.7 ? 1 : 0)) : undefined;
  return {
    label, text, cell, T, B, params, mask, module, paramsFile, savedFile: join(dir, `saved_${k}.json`),
    inputs: record(cell.inputs, T * B), initial: record(cell.states, B),
    outputGrads: record(cell.outputs, T * B), finalGrads: record(cell.states, B),
  };
}

/**
 * Names that are Python keywords, builtins, names the module itself uses, `nn.Module` attributes,
 * class-private `__` names, and Greek letters Python folds (`ϐ` is read as `β`); a file name that
 * tries to end a comment and to declare the module's encoding.
 */
const HOSTILE = `cell lambda {
  size I = 3, H = 2
  input print[I], mask[I]
  state self[H], torch[H]
  param training[H, I], forward[H, H], __W[H, I], _parameters[H], ϐ[H], β[H], class[H], to[H, H]
  import = tanh(training·print + forward·self + __W·mask + _parameters)
  math = σ(ϐ ⊙ import + β - class)
  self = import ⊙ math + to·self[t-1]
  torch = softplus(self) - torch
  output initial = self[t-1] + torch
  output exec = sum(self) * β
  output __init__ = [1; 2]
}
`;
const HOSTILE_PATH = "x.cell\n# -*- coding: utf_7 -*-\nimport os; os.system('touch PWNED')\r\u2028\u202e";

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
function expectSame(c: Case, r: Result | undefined): void {
  const where = (what: string) => `${c.label} (T=${c.T} B=${c.B}${c.mask ? " masked" : ""}): ${what}`;
  if (r === undefined) expect.fail("missing" in python ? python.missing : "no result from Python");
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
    cases.push(makeCase("hostile", HOSTILE, 5, true, HOSTILE_PATH));
    fc.sample(randomVectorCells, { seed: 14, numRuns: 40 }).forEach((text, k) => cases.push(makeCase(`random_${k}`, text, k, k % 3 === 0)));
    // Without PyTorch (in CI) every test below fails with the reason, starting with the next.
    if (found) results = runPython();
  }, 600_000);

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

  it("keeps every name of a hostile cell inert, and its numbers right", () => {
    const k = cases.findIndex((c) => c.label === "hostile");
    expectSame(cases[k]!, results[k]!);
    const text = readFileSync(cases[k]!.module, "utf8");
    expect(text.split("\n").slice(0, 2).join("\n")).not.toMatch(/coding/);
    expect(text).not.toMatch(/^import os/m);
    expect(text).not.toMatch(/[\r\u2028\u202e]/u);
    expect(text).toContain('self._parameters["training"] = nn.Parameter(');
    expect(text).toContain('self._parameters["\\u03d0"]'); // ϐ, which Python would read as β
  });

  it("converts the built-in LSTM and GRU to and from nn.LSTM / nn.GRU, and names the field of bad data", () => {
    const lstm = join(dir, "lstm.py"), gru = join(dir, "gru_torch.py");
    writeFileSync(lstm, exportPytorchCell(readFileSync("examples/cells/lstm.cell", "utf8"), "lstm.cell").text);
    writeFileSync(gru, exportPytorchCell(readFileSync("examples/cells/gru_torch.cell", "utf8"), "gru_torch.cell").text);
    if (!("path" in python)) throw new Error(python.missing);
    const run = spawnSync(python.path, ["tests/pytorch-checks.py", lstm, gru, dir], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as { lstm: Record<string, number>; gru: Record<string, number>; errors: Record<string, string | boolean | null> };
    for (const [what, d] of [...Object.entries(r.lstm), ...Object.entries(r.gru)]) expect(d, what).toBeLessThan(1e-12);
    expect(r.errors).toMatchObject({
      malformed: expect.stringMatching(/malformed\.json: malformed JSON/),
      nan: expect.stringMatching(/NaN is not a JSON number/),
      missing: expect.stringMatching(/group 'lstm': missing param 'Uf'/),
      unknown: expect.stringMatching(/group 'lstm': unknown param 'Ux'/),
      rows: expect.stringMatching(/'lstm\.Wf' has 15 entries, expected 16 \(shape \[16, 8\]\)/),
      bool: expect.stringMatching(/'lstm\.bf\[3\]' should be a finite number, got true/),
      string: expect.stringMatching(/'lstm\.bf\[0\]' should be a finite number, got "1"/),
      version: expect.stringMatching(/'version' 2 is not supported/),
      groups: expect.stringMatching(/choose the group holding cell 'lstm' \(groups: a, b\)/),
      unchanged: true,
      state_shape: expect.stringMatching(/state_dict\['weight_hh_l0'\]: expected shape \[64, 16\], got \[63, 16\]/),
      state_missing: expect.stringMatching(/state_dict: missing 'bias_ih_l0'/),
      state_dtype: expect.stringMatching(/state_dict\['bias_hh_l0'\]: expected a floating-point tensor, got torch\.int64/),
      save_inf: expect.stringMatching(/cannot save 'lstm\.Uo\[1\]\[2\]': inf is not a finite number/),
      input_shape: expect.stringMatching(/input 'x': expected shape \[T, B, 8\] = \[2, 3, 8\], got \[2, 3, 7\]/),
      initial_name: expect.stringMatching(/initial: unknown state 'k' \(expected h, c\)/),
    });
  }, 300_000);

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
    // With --params and --dtype f64, the module starts from those params, in float64.
    const [gru] = checkSource(readFileSync("examples/cells/gru.cell", "utf8"), { sizes: { H: 4 } });
    const random = mulberry32(9);
    const params = Object.fromEntries(gru!.params.map((p) => [p.name, Float64Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => random() - 0.5)]));
    const json = saveParams([{ name: "gru", params, grads: {}, shapes: Object.fromEntries(gru!.params.map((p) => [p.name, p.shape])) }]);
    writeFileSync(join(dir, "good.json"), json);
    expect(await main(["export", "examples/cells/gru.cell", "--format", "pytorch", "--size", "H=4", "--params", join(dir, "good.json"), "--dtype", "f64", "--out", out], io)).toBe(0);
    if (!("path" in python)) throw new Error(python.missing);
    const script = `import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("gru", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
s = m.Sequence()
print(json.dumps({"dtype": str(next(s.parameters()).dtype), "params": json.loads(m.rnnc_params_json(s))}))`;
    const run = spawnSync(python.path, ["-c", script, out], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ dtype: "torch.float64", params: JSON.parse(json) });
  }, 300_000);
});

describe("PyTorch export, without Python", () => {
  it("reports a cell without inputs at the cell, and a cell with errors as the compiler does", async () => {
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(t) };
    writeFileSync(join(dir, "noin.cell"), "cell c {\n  size H = 2\n  state h[H]\n  param b[H]\n  h = h + b\n}\n");
    expect(await main(["export", join(dir, "noin.cell"), "--format", "pytorch", "--out", join(dir, "noin.py")], io)).toBe(1);
    expect(lines.join("\n")).toMatch(/noin\.cell:1:1: error\[E5001\]: cell 'c' has no input/);
    writeFileSync(join(dir, "bad.cell"), "cell c {\n  size I = 2\n  input x[I]\n  state h[I]\n  h = tanh(W·x)\n}\n");
    expect(await main(["export", join(dir, "bad.cell"), "--format", "pytorch", "--out", join(dir, "bad.py")], io)).toBe(1);
    expect(lines.join("\n")).toMatch(/bad\.cell:5:12: error\[E3001\]: unknown name 'W'/);
  });

  it("writes names, strings and comments that Python cannot read as anything else", () => {
    expect(pyString('a"b\\c\n\u2028é𝔘')).toBe('"a\\u0022b\\u005cc\\u000a\\u2028\\u00e9\\U0001d518"');
    expect(pyComment("x\ny\r\u202e z·σ\\")).toBe("x\\u000ay\\u000d\\u202e z·σ\\u005c");
    expect(pyNumber(1e-5)).toBe("0.00001");
    expect([pyNumber(16), pyNumber(-0), pyNumber(Infinity), pyNumber(NaN), pyNumber(1e21)]).toEqual(["16.0", "-0.0", "math.inf", "math.nan", "1e+21"]);
    const names = new Names(["torch"]);
    expect(["lambda", "torch", "print", "ϐ", "β", "__W", "h", "h"].map((n, k) => names.name(`k${k}`, n)))
      .toEqual(["lambda_", "torch_", "print_", "u3d0", "β", "v__W", "h", "h_"]);
    expect([isPythonIdentifier("ϐ"), isPythonIdentifier("β1"), isPythonIdentifier("ͺ"), isPythonIdentifier("1a")]).toEqual([false, true, false, false]);
  });
});
