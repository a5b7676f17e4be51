/**
 * ONNX export: the exported model, run by ONNX Runtime, equals rnnc's own forward (its float32
 * kernels; in float64, its reference evaluator, which its float64 kernels equal) — for every
 * example cell and for random cells, with params as initializers (from a saved params file) or as
 * inputs, with and without initial states, at several T and B on one session (both are symbolic
 * in the model).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { compileSource, type CellIR } from "../compiler/index.js";
import { runReference } from "../compiler/ir/interpret.js";
import { buildOnnx, exportOnnx, finalName, initialName } from "../compiler/export/onnx.js";
import { ONNX_LOWERINGS } from "../compiler/export/onnx-ops.js";
import { OPS } from "../compiler/ops/index.js";
import { main } from "../src/cli.js";
import { exportCell } from "../src/export.js";
import { load } from "../src/load.js";
import { mulberry32 } from "../src/runtime/random.js";
import type { CellSpec, DType, Real, Tensors } from "../src/runtime/types.js";
import { saveParams } from "../src/train/serialize.js";
import { randomCells } from "./helpers/random-cell.js";

interface Case {
  readonly params: "initializers" | "inputs";
  readonly initial: boolean;
  readonly dtype: DType;
}

const EXAMPLES = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).sort();
const source = (file: string) => readFileSync(join("examples/cells", file), "utf8");
/** Shapes the model is run at: none is known when it is exported. */
const SHAPES = [{ T: 5, B: 3 }, { T: 2, B: 1 }];
const TOLERANCE: Record<DType, number> = { f32: 1e-5, f64: 1e-9 };
/** ONNX Runtime warns, rightly, that initial states with a default are not constants. */
const QUIET = { logSeverityLevel: 3 } as const;

/** rnnc's forward: its float32 kernels, or in float64 its reference evaluator (the kernels' oracle). */
interface Forward {
  readonly ir: CellIR;
  readonly cell: CellSpec;
  run(dtype: DType, params: Tensors, inputs: Tensors, T: number, B: number, initial?: Tensors): { outputs: Tensors; final: Tensors };
}

const forwards = new Map<string, Forward>();
/** Compiling and loading is most of this file's time: once per text. */
function forwardOf(text: string): Forward {
  const key = text;
  if (forwards.has(key)) return forwards.get(key)!;
  const [compiled] = compileSource(text, { dtype: "f32", path: "cell.cell" });
  const cell = load(compiled!.code);
  const ir = compiled!.ir;
  const list = (specs: readonly { name: string }[], t: Tensors | undefined) => (t ? specs.map((s) => Float64Array.from(t[s.name]!)) : undefined);
  const named = (specs: readonly { name: string }[], arrays: readonly Float64Array[]) => Object.fromEntries(specs.map((s, k) => [s.name, arrays[k]!]));
  const forward: Forward = {
    ir, cell,
    run: (dtype, params, inputs, T, B, initial) => {
      if (dtype === "f32") return cell.forward(params, inputs, { T, B, initial });
      const ref = runReference(ir, { T, B, params: list(cell.params, params)!, inputs: list(cell.inputs, inputs)!, initial: list(cell.states, initial) });
      return { outputs: named(cell.outputs, ref.outputs), final: named(cell.states, ref.final) };
    },
  };
  forwards.set(key, forward);
  return forward;
}

/**
 * ONNX Runtime's and rnnc's forward of `text` on the same random numbers agree (relative to
 * max(1, |rnnc|)). With `initial`, the model's initial states are required inputs and are fed;
 * without, they keep their zero default (ONNX Runtime's JavaScript API cannot feed an input that
 * has a default).
 */
async function expectSameForward(text: string, c: Case, seed: number): Promise<void> {
  const { cell, run } = forwardOf(text);
  const random = mulberry32(seed);
  const make = (n: number) => {
    const a = c.dtype === "f32" ? new Float32Array(n) : new Float64Array(n);
    return a.map(() => (2 * random() - 1) * 0.5);
  };
  const params: Tensors = Object.fromEntries(cell.params.map((p) => [p.name, make(p.size)]));
  const initialStates = c.initial ? "required" : "optional";
  // Exported as `rnnc export` does: transposes folded into the products everywhere.
  const bytes = c.params === "inputs" ? exportCell(text, "cell.cell", { dtype: c.dtype, initialStates }).bytes : fromParamsFile(text, cell, params, c);
  const session = await ort.InferenceSession.create(bytes, QUIET);
  for (const { T, B } of SHAPES) {
    const inputs: Tensors = Object.fromEntries(cell.inputs.map((x) => [x.name, make(T * B * x.size)]));
    const initial: Tensors | undefined = c.initial ? Object.fromEntries(cell.states.map((s) => [s.name, make(B * s.size)])) : undefined;
    const expected = run(c.dtype, params, inputs, T, B, initial);
    const feeds: Record<string, ort.Tensor> = {};
    cell.inputs.forEach((x) => (feeds[x.name] = ortTensor(inputs[x.name]!, [T, B, x.size])));
    if (c.params === "inputs") cell.params.forEach((p) => (feeds[p.name] = ortTensor(params[p.name]!, p.shape)));
    if (initial) cell.states.forEach((s) => (feeds[initialName(s.name)] = ortTensor(initial[s.name]!, [B, s.size])));
    const got = await session.run(feeds);
    const where = `T=${T} B=${B} ${JSON.stringify(c)}`;
    cell.outputs.forEach((o) => expectClose(got[o.name]!, [T, B, o.size], expected.outputs[o.name]!, `${o.name} ${where}`, c.dtype));
    cell.states.forEach((s) => expectClose(got[finalName(s.name)]!, [B, s.size], expected.final[s.name]!, `final ${s.name} ${where}`, c.dtype));
  }
}

/** The model exported as `rnnc export --params` does it: params saved to a file and read back. */
function fromParamsFile(text: string, cell: { name: string; params: readonly { name: string; shape: readonly number[] }[] }, params: Tensors, c: Case) {
  const shapes = Object.fromEntries(cell.params.map((p) => [p.name, p.shape]));
  const json = saveParams([{ name: cell.name, params, grads: {}, shapes }]);
  const initialStates = c.initial ? "required" : "optional";
  return exportCell(text, "cell.cell", { dtype: c.dtype, params: { json, path: "params.json" }, initialStates }).bytes;
}

const ortTensor = (data: Real, dims: readonly number[]) => new ort.Tensor(data instanceof Float32Array ? "float32" : "float64", data, dims);

function expectClose(got: ort.Tensor, dims: readonly number[], want: Real, what: string, dtype: DType): void {
  expect(got, what).toBeDefined();
  expect(got.dims, what).toEqual(dims);
  const data = got.data as Real;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(data[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    if (!(err <= TOLERANCE[dtype])) expect.fail(`${what}[${i}]: ONNX Runtime ${data[i]} vs rnnc ${want[i]}`);
  }
}

const CASES: readonly Case[] = [
  { params: "initializers", initial: false, dtype: "f32" },
  { params: "inputs", initial: true, dtype: "f32" },
  { params: "initializers", initial: true, dtype: "f64" },
  { params: "inputs", initial: false, dtype: "f64" },
];

describe("ONNX export", () => {
  it("has an ONNX lowering for every op", () => {
    const missing = [...OPS.values()].filter((op) => op.kind !== "leaf" && !ONNX_LOWERINGS.has(op.name)).map((op) => op.name);
    expect(missing).toEqual([]);
  });

  it.each(EXAMPLES)("runs %s in ONNX Runtime as rnnc runs it", async (file) => {
    for (const [k, c] of CASES.entries()) await expectSameForward(source(file), c, 100 + k);
  });

  it("runs random cells in ONNX Runtime as rnnc runs them", async () => {
    const cells = fc.sample(randomCells, { seed: 14, numRuns: 24 });
    for (const [k, text] of cells.entries()) {
      try {
        // ONNX Runtime's CPU provider implements Erf (gelu's export) for float32 only: a float64
        // model with gelu is valid ONNX but does not run there, so such a cell runs as float32.
        const c = CASES[k % CASES.length]!;
        await expectSameForward(text, text.includes("gelu(") && c.dtype === "f64" ? { ...c, dtype: "f32" } : c, k);
      } catch (e) {
        throw new Error(`random cell ${k}:\n${text}\n${(e as Error).message}`);
      }
    }
  });

  it("places what needs no state outside the scan: fixed outputs, next states and outputs from the input only; products of varying matrices", async () => {
    const text = `cell edge {
      size I = 3, H = 2
      input x[I]
      state h[H], c[H], k[H]
      param W[H, I], b[H], U[H, H]
      h = tanh(W·x)
      c = c + h * sum(c)
      output y = b
      output z = x
      output s = σ(W·x) * mean(c)
      output m = transpose(U * mean(c))·c + (U * sum(x))·(U·c) + (Uᵀ·b) * c
    }`;
    for (const [k, c] of CASES.entries()) await expectSameForward(text, c, k);
  });

  it("hoists the LSTM's input products out of the scan and stacks its gate products", () => {
    const [lstm] = compileSource(source("lstm.cell"));
    const graph = buildOnnx(lstm!.ir).graph!;
    const scan = graph.node.find((n) => n.opType === "Scan")!;
    const body = scan.attribute.find((a) => a.name === "body")!.g!;
    const ops = (nodes: readonly { opType: string }[]) => nodes.map((n) => n.opType);
    expect(ops(graph.node).filter((op) => op === "Gemm")).toHaveLength(1); // [Wf; Wi; Wg; Wo]·x for all T·B rows
    expect(ops(body.node).filter((op) => op === "Gemm")).toHaveLength(1); // [Uf; Ui; Ug; Uo]·h per step
    expect(body.input.map((i) => i.name)).toHaveLength(2 + 4); // h, c and the four gates' input products
  });

  it("rejects a cell without inputs, and a params file that does not fit, naming the field", () => {
    expect(() => exportCell("cell c {\n size H = 2\n state h[H]\n param b[H]\n h = h + b\n}\n", "c.cell")).toThrow(/no input/);
    const json = JSON.stringify({ format: "rnnc-params", version: 1, groups: { rnn: { W: [[1]] } } });
    expect(() => exportCell(source("rnn.cell"), "rnn.cell", { params: { json, path: "p.json" } })).toThrow("p.json: group 'rnn': missing param 'Wx'");
  });

  it("is a command: rnnc export FILE.cell --format onnx", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rnnc-onnx-"));
    const out = join(dir, "gru.onnx");
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(t) };
    expect(await main(["export", "examples/cells/gru.cell", "--format", "onnx", "--out", out, "--size", "H=4"], io)).toBe(0);
    const session = await ort.InferenceSession.create(readFileSync(out), QUIET);
    expect(session.outputNames).toContain("final_h");
    expect(await main(["export", "examples/cells/gru.cell"], io)).toBe(2);
    writeFileSync(join(dir, "bad.json"), "{");
    expect(await main(["export", "examples/cells/gru.cell", "--format", "onnx", "--params", join(dir, "bad.json"), "--out", out], io)).toBe(1);
    expect(lines.join("\n")).toMatch(/bad\.json: malformed JSON/);
  });
});
