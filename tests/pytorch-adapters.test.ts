/**
 * Layout adapters (`rnnc/train`): `nn.LSTM`, `nn.GRU` and Keras `LSTM` weights onto the built-in
 * cells give those frameworks' outputs — PyTorch's own modules (when a Python with PyTorch is
 * found; required in CI) and TF.js's Keras-layout LSTM layer — and back again bit for bit; every
 * key, shape, dtype and number of bad weights is an error naming the field.
 */
import { spawnSync } from "node:child_process";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../src/runtime/random.js";
import type { Cell, Tensors } from "../src/runtime/types.js";
import { exportLayout, importLayout, type LayoutName } from "../src/train/adapters.js";
import { pythonOnce } from "./helpers/python.js";
import { gruTorchCell, lstmCell } from "./train/cells.js";

const [I, H, T, B] = [3, 4, 5, 2];
const python = await pythonOnce();
const needTorch = "path" in python || Boolean(process.env["CI"]);
if (!needTorch && "missing" in python) console.warn(`tests/pytorch-adapters.test.ts: the PyTorch comparison is skipped: ${python.missing}`);

function randomParams(cell: Cell, seed: number): Tensors {
  const random = mulberry32(seed);
  return Object.fromEntries(cell.params.map((p) => [p.name, Float64Array.from({ length: p.size }, () => random() - 0.5)]));
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    if (!(err <= tolerance)) expect.fail(`${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

const CELLS: [LayoutName, () => Cell][] = [["torch.nn.LSTM", () => lstmCell(I, H)], ["torch.nn.GRU", () => gruTorchCell(I, H)], ["keras.LSTM", () => lstmCell(I, H)]];

describe("layout adapters", () => {
  it.each(CELLS)("%s: export then import gives the params back bit for bit", (layout, make) => {
    const cell = make();
    const params = randomParams(cell, 3);
    const weights = exportLayout(layout, cell, params, { prefix: "rnn." });
    const back = cell.createParams();
    importLayout(layout, weights, cell, back, { prefix: "rnn.", dtype: "float64" });
    for (const p of cell.params) expect(Array.from(back[p.name]!), p.name).toEqual(Array.from(params[p.name]!));
  });

  it("keras.LSTM: the Keras layout runs in TF.js's LSTM layer as lstm.cell runs in rnnc", async () => {
    await tf.setBackend("cpu");
    const cell = lstmCell(I, H);
    const random = mulberry32(7);
    const fill = (n: number) => Float32Array.from({ length: n }, () => random() - 0.5);
    const [kernel, recurrent, bias] = [fill(I * 4 * H), fill(H * 4 * H), fill(4 * H)];
    const layer = tf.layers.lstm({ units: H, returnSequences: true, recurrentActivation: "sigmoid", inputShape: [T, I] });
    const model = tf.sequential({ layers: [layer] });
    layer.setWeights([tf.tensor2d(kernel, [I, 4 * H]), tf.tensor2d(recurrent, [H, 4 * H]), tf.tensor1d(bias)]);
    const x = fill(T * B * I); // rnnc's [T][B][I]
    const batchMajor = tf.tidy(() => tf.tensor3d(x, [T, B, I]).transpose([1, 0, 2]));
    const want = tf.tidy(() => (model.predict(batchMajor) as tf.Tensor).transpose([1, 0, 2]).dataSync());
    const params = cell.createParams();
    const tensor = (data: Float32Array, shape: number[]) => ({ dtype: "float32", shape, data: Array.from(data) });
    importLayout("keras.LSTM", { "lstm/kernel:0": tensor(kernel, [I, 4 * H]), "lstm/recurrent_kernel:0": tensor(recurrent, [H, 4 * H]), "lstm/bias:0": tensor(bias, [4 * H]) },
      cell, params, { prefix: "lstm/", suffix: ":0" });
    const got = cell.forward(params, { x: Float64Array.from(x) }, { T, B }).outputs["h"]!;
    expectClose(got, want, 1e-5, "h");
  });

  it.skipIf(!needTorch)("torch.nn.LSTM and torch.nn.GRU: PyTorch's own modules give rnnc's outputs after import (prefix, reverse)", () => {
    if (!("path" in python)) throw new Error(python.missing);
    const script = `
import json, torch
torch.manual_seed(0)
x = torch.randn(${T}, ${B}, ${I}, dtype=torch.float64)
lstm = torch.nn.Sequential(torch.nn.LSTM(${I}, ${H}, dtype=torch.float64))
gru = torch.nn.GRU(${I}, ${H}, bidirectional=True, dtype=torch.float64)
state = lambda m: {k: v.tolist() for k, v in m.state_dict().items()}
print(json.dumps({"x": x.reshape(-1).tolist(), "lstm": state(lstm), "lstm_y": lstm(x)[0].reshape(-1).tolist(),
                  "gru": state(gru), "gru_y": gru(x)[0].reshape(-1).tolist()}))`;
    const run = spawnSync(python.path, ["-c", script], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as { x: number[]; lstm: Record<string, unknown>; lstm_y: number[]; gru: Record<string, unknown>; gru_y: number[] };
    const x = Float64Array.from(r.x);
    const lstm = lstmCell(I, H), lstmParams = lstm.createParams();
    importLayout("torch.nn.LSTM", r.lstm, lstm, lstmParams, { prefix: "0." });
    expectClose(lstm.forward(lstmParams, { x }, { T, B }).outputs["h"]!, r.lstm_y, 1e-12, "nn.LSTM h");
    const gru = gruTorchCell(I, H);
    // [T, B, 2H]: the forward direction's h, then the reverse direction's (run on time reversed).
    const half = (k: number, t: number) => r.gru_y.slice(t * B * 2 * H).slice(0, B * 2 * H).filter((_, i) => Math.floor(i / H) % 2 === k);
    const reversed = (a: ArrayLike<number>, n: number) => Float64Array.from({ length: T * n }, (_, i) => a[(T - 1 - Math.floor(i / n)) * n + (i % n)]!);
    for (const reverse of [false, true]) {
      const params = gru.createParams();
      importLayout("torch.nn.GRU", r.gru, gru, params, { dtype: "float64", reverse });
      const h = gru.forward(params, { x: reverse ? reversed(x, B * I) : x }, { T, B }).outputs["h"]!;
      const want = Array.from({ length: T }, (_, t) => half(reverse ? 1 : 0, t)).flat();
      expectClose(reverse ? reversed(h, B * H) : h, want, 1e-12, `nn.GRU h${reverse ? " (reverse)" : ""}`);
    }
  }, 300_000);

  it("names the field of every bad key, shape, dtype and number, and writes nothing", () => {
    const cell = lstmCell(I, H);
    const params = randomParams(cell, 1);
    const good = exportLayout("torch.nn.LSTM", cell, params);
    const before = JSON.stringify(Object.values(params).map((p) => Array.from(p)));
    const bad = (weights: Record<string, unknown>, options = {}) => () => importLayout("torch.nn.LSTM", weights, cell, params, options);
    const { bias_hh_l0: _dropped, ...missing } = good;
    expect(bad(missing)).toThrow("torch.nn.LSTM weights: missing 'bias_hh_l0' (expected weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0)");
    expect(bad({ ...good, weight_hh_l0: { ...good["weight_hh_l0"]!, shape: [16, 3] } })).toThrow("torch.nn.LSTM weights: weight_hh_l0.shape: expected [16, 4], got [16, 3]");
    expect(bad({ ...good, bias_ih_l0: { ...good["bias_ih_l0"]!, dtype: "int64" } })).toThrow(`torch.nn.LSTM weights: bias_ih_l0.dtype: expected "float32" or "float64", got "int64"`);
    expect(bad(good, { dtype: "float32" })).toThrow(`torch.nn.LSTM weights: weight_ih_l0.dtype: expected "float32", got "float64"`);
    expect(bad({ ...good, bias_ih_l0: { ...good["bias_ih_l0"]!, dtype: "float32" } })).toThrow(/torch.nn.LSTM weights: bias_ih_l0\.data\[0\]: .* is not a float32 value/);
    const nested = Array.from({ length: 4 * H }, () => Array(I).fill(0));
    nested[5]![2] = "x";
    expect(bad({ ...good, weight_ih_l0: nested })).toThrow(`torch.nn.LSTM weights: 'weight_ih_l0[5][2]' should be a finite number, got "x"`);
    expect(bad({ ...good, weight_ih_l0: nested.slice(1) })).toThrow("torch.nn.LSTM weights: 'weight_ih_l0' has 15 entries, expected 16 (shape [16, 3])");
    expect(JSON.stringify(Object.values(params).map((p) => Array.from(p)))).toBe(before);
    const huge = { ...good, bias_ih_l0: { ...good["bias_ih_l0"]!, data: Array(4 * H).fill(3e38) }, bias_hh_l0: { ...good["bias_ih_l0"]!, data: Array(4 * H).fill(3e38) } };
    const f32 = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Float32Array.from(v)]));
    expect(() => importLayout("torch.nn.LSTM", huge, cell, f32)).toThrow("torch.nn.LSTM: param 'bi'[0] would be 6e+38, beyond the float32 range of the cell's params");
    expect(() => importLayout("torch.nn.GRU", good, cell, params)).toThrow(/cell 'lstm' has no param 'W_ir' \(the torch.nn.GRU layout fills W_ir, .*options.names\)/);
    expect(() => importLayout("mxnet.LSTM" as LayoutName, good, cell, params)).toThrow("unknown layout 'mxnet.LSTM' (expected torch.nn.LSTM, torch.nn.GRU, keras.LSTM)");
  });

  it("maps the built-in names onto a cell that calls its params differently", () => {
    const cell = lstmCell(I, H);
    const params = randomParams(cell, 2);
    const renamed = { name: "mine", params: cell.params.map((p) => ({ ...p, name: `my_${p.name}` })) };
    const names = Object.fromEntries(cell.params.map((p) => [p.name, `my_${p.name}`]));
    const mine: Tensors = Object.fromEntries(renamed.params.map((p) => [p.name, new Float64Array(p.size)]));
    importLayout("keras.LSTM", exportLayout("keras.LSTM", cell, params), renamed, mine, { names });
    for (const p of cell.params) expect(Array.from(mine[`my_${p.name}`]!)).toEqual(Array.from(params[p.name]!));
  });
});
