import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Dense } from "../../src/train/dense.js";
import { CellLayer } from "../../src/train/layers.js";
import type { ParamGroup } from "../../src/train/optim.js";
import { loadParamsFile, saveParamsFile } from "../../src/train/node.js";
import { importTorchGru, importTorchLstm, loadParams, saveParams, toNested } from "../../src/train/serialize.js";
import { elmanCell, gruTorchCell, lstmCell } from "./cells.js";

function model(seed: number): ParamGroup[] {
  return [
    ...new CellLayer(elmanCell(3, 2), { init: { seed } }).groups(),
    ...new Dense(2, 4, { seed, dtype: "f32" }).groups(),
  ];
}

function values(groups: readonly ParamGroup[]): number[][] {
  return groups.flatMap((g) => Object.values(g.params).map((data) => Array.from(data)));
}

describe("saving and loading params", () => {
  it("round-trips f64 and f32 params exactly, with matrices as lists of rows", () => {
    const saved = model(1);
    const json = saveParams(saved);
    expect(JSON.parse(json).groups.rnn.Wx).toEqual(toNested(saved[0]!.params["Wx"]!, [2, 3]));
    expect(JSON.parse(json).groups.rnn.Wx).toHaveLength(2);
    const loaded = model(2);
    expect(values(loaded)).not.toEqual(values(saved));
    loadParams(json, loaded);
    expect(values(loaded)).toEqual(values(saved));
  });

  it("round-trips through a file", () => {
    const directory = mkdtempSync(join(tmpdir(), "rnnc-params-"));
    try {
      const path = join(directory, "model.json");
      saveParamsFile(path, model(3));
      const loaded = model(4);
      loadParamsFile(path, loaded);
      expect(values(loaded)).toEqual(values(model(3)));
    } finally {
      rmSync(directory, { recursive: true });
    }
  });

  const edit = (change: (groups: Record<string, Record<string, unknown>>) => void): string => {
    const document = JSON.parse(saveParams(model(1)));
    change(document.groups);
    return JSON.stringify(document);
  };

  it.each([
    [
      "a matrix with a row too few",
      (g: Record<string, Record<string, unknown>>) => (g["rnn"]!["Wx"] as unknown[]).pop(),
      /'rnn\.Wx' has 1 entries, expected 2/,
    ],
    [
      "a row too long",
      (g: Record<string, Record<string, unknown>>) => (g["rnn"]!["Wh"] as number[][])[1]!.push(0),
      /'rnn\.Wh\[1\]' has 3 entries, expected 2/,
    ],
    [
      "a non-number",
      (g: Record<string, Record<string, unknown>>) => ((g["dense"]!["b"] as unknown[])[2] = "x"),
      /'dense\.b\[2\]' should be a finite number/,
    ],
    [
      "a missing param",
      (g: Record<string, Record<string, unknown>>) => delete g["rnn"]!["b"],
      /group 'rnn': missing param 'b'/,
    ],
    [
      "an unknown param",
      (g: Record<string, Record<string, unknown>>) => (g["dense"]!["V"] = [1]),
      /group 'dense': unknown param 'V'/,
    ],
    [
      "a missing group",
      (g: Record<string, Record<string, unknown>>) => delete g["dense"],
      /missing group 'dense'/,
    ],
  ])("names the field of %s, and writes nothing", (_, change, message) => {
    const target = model(5);
    const before = values(target);
    expect(() => loadParams(edit(change), target)).toThrow(message);
    expect(values(target)).toEqual(before);
  });

  it("rejects a document of another format", () => {
    expect(() => loadParams(JSON.stringify({ groups: {} }), model(1))).toThrow(/'format'/);
  });
});

// PyTorch layout with known values: W_ih [4H, I], W_hh [4H, H] and two biases, blocks i, f, g, o.
const I = 2;
const H = 2;
const weightIh = Array.from({ length: 4 * H }, (_, r) =>
  Array.from({ length: I }, (_, c) => (((r * I + c) % 7) - 3) / 10),
);
const weightHh = Array.from({ length: 4 * H }, (_, r) =>
  Array.from({ length: H }, (_, c) => (((r * H + c) % 5) - 2) / 8),
);
const biasIh = Array.from({ length: 4 * H }, (_, r) => ((r % 3) - 1) / 10);
const biasHh = Array.from({ length: 4 * H }, (_, r) => (r % 4) / 20);
const lstmStateDict = {
  weight_ih_l0: weightIh,
  weight_hh_l0: weightHh,
  bias_ih_l0: biasIh,
  bias_hh_l0: biasHh,
};

describe("importing PyTorch nn.LSTM weights", () => {
  it("takes gate blocks in the order i, f, g, o and sums the two biases", () => {
    const cell = lstmCell(I, H);
    const params = cell.createParams();
    importTorchLstm(lstmStateDict, cell, params);
    ["i", "f", "g", "o"].forEach((gate, block) => {
      const rows = (m: number[][]) => m.slice(block * H, (block + 1) * H).flat();
      expect(Array.from(params[`W${gate}`]!)).toEqual(rows(weightIh));
      expect(Array.from(params[`U${gate}`]!)).toEqual(rows(weightHh));
      const summed = biasIh.slice(block * H, (block + 1) * H).map((v, k) => v + biasHh[block * H + k]!);
      expect(Array.from(params[`b${gate}`]!)).toEqual(summed);
    });
  });

  it("runs one step of the imported cell as PyTorch's LSTM equations on the raw state dict", () => {
    const cell = lstmCell(I, H);
    const params = cell.createParams();
    importTorchLstm(lstmStateDict, cell, params);
    const [x, h0, c0] = [
      [0.5, -1],
      [0.2, -0.3],
      [0.1, 0.4],
    ];
    const state = cell.createState(1, { h: Float64Array.from(h0), c: Float64Array.from(c0) });
    cell.step(params, { x: Float64Array.from(x) }, state);

    // gates = W_ih·x + b_ih + W_hh·h + b_hh, split into i, f, g, o (PyTorch's documented order)
    const dot = (row: number[], v: number[]) => row.reduce((sum, w, k) => sum + w * v[k]!, 0);
    const gates = weightIh.map((row, r) => dot(row, x) + biasIh[r]! + dot(weightHh[r]!, h0) + biasHh[r]!);
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    const block = (k: number) => gates.slice(k * H, (k + 1) * H);
    const [i, f, g, o] = [
      block(0).map(sigmoid),
      block(1).map(sigmoid),
      block(2).map(Math.tanh),
      block(3).map(sigmoid),
    ];
    const c1 = c0.map((c, k) => f[k]! * c + i[k]! * g[k]!);
    const h1 = c1.map((c, k) => o[k]! * Math.tanh(c));
    Array.from(state.states["c"]!).forEach((v, k) => expect(v).toBeCloseTo(c1[k]!, 14));
    Array.from(state.states["h"]!).forEach((v, k) => expect(v).toBeCloseTo(h1[k]!, 14));
    // the same numbers, computed once outside JavaScript
    expect(Array.from(state.states["h"]!)).toEqual([
      expect.closeTo(0.013295804098247615, 14),
      expect.closeTo(0.15034976393735447, 14),
    ]);
    expect(Array.from(state.states["c"]!)).toEqual([
      expect.closeTo(0.0301650268512688, 14),
      expect.closeTo(0.2650164610629798, 14),
    ]);
  });

  it("reads the keys of another layer, direction and prefix", () => {
    const cell = lstmCell(I, H);
    const params = cell.createParams();
    const renamed = Object.fromEntries(
      Object.entries(lstmStateDict).map(([k, v]) => [`rnn.${k.replace("_l0", "_l1")}_reverse`, v]),
    );
    importTorchLstm(renamed, cell, params, { layer: 1, reverse: true, prefix: "rnn." });
    expect(Array.from(params["Wo"]!)).toEqual(weightIh.slice(3 * H).flat());
  });

  it("names a missing key or a wrongly shaped tensor, and writes nothing", () => {
    const cell = lstmCell(I, H);
    const params = cell.createParams();
    const { bias_hh_l0: _, ...withoutBias } = lstmStateDict;
    expect(() => importTorchLstm(withoutBias, cell, params)).toThrow(
      /'bias_hh_l0' should be a list of 8 .*missing/,
    );
    expect(() =>
      importTorchLstm({ ...lstmStateDict, weight_ih_l0: weightIh.slice(1) }, cell, params),
    ).toThrow(/'weight_ih_l0' has 7 entries, expected 8/);
    expect(Object.values(params).every((data) => data.every((v) => v === 0))).toBe(true);
  });
});

describe("importing PyTorch nn.GRU weights", () => {
  // Blocks r, z, n: the first 3H rows of the LSTM test's numbers.
  const gruStateDict = {
    weight_ih_l0: weightIh.slice(0, 3 * H),
    weight_hh_l0: weightHh.slice(0, 3 * H),
    bias_ih_l0: biasIh.slice(0, 3 * H),
    bias_hh_l0: biasHh.slice(0, 3 * H),
  };

  it("takes blocks r, z, n and keeps PyTorch's two biases per gate", () => {
    const cell = gruTorchCell(I, H);
    const params = cell.createParams();
    importTorchGru(gruStateDict, cell, params);
    ["r", "z", "n"].forEach((gate, block) => {
      expect(Array.from(params[`W_i${gate}`]!)).toEqual(weightIh.slice(block * H, (block + 1) * H).flat());
      expect(Array.from(params[`W_h${gate}`]!)).toEqual(weightHh.slice(block * H, (block + 1) * H).flat());
      expect(Array.from(params[`b_i${gate}`]!)).toEqual(biasIh.slice(block * H, (block + 1) * H));
      expect(Array.from(params[`b_h${gate}`]!)).toEqual(biasHh.slice(block * H, (block + 1) * H));
    });
  });

  it("runs one step of the imported cell as PyTorch's GRU equations on the raw state dict", () => {
    const cell = gruTorchCell(I, H);
    const params = cell.createParams();
    importTorchGru(gruStateDict, cell, params);
    const [x, h0] = [
      [0.5, -1],
      [0.2, -0.3],
    ];
    const state = cell.createState(1, { h: Float64Array.from(h0) });
    cell.step(params, { x: Float64Array.from(x) }, state);

    // r = σ(W_ir x + b_ir + W_hr h + b_hr), z likewise, n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    const dot = (row: number[], v: number[]) => row.reduce((sum, w, k) => sum + w * v[k]!, 0);
    const fromInput = gruStateDict.weight_ih_l0.map((row, j) => dot(row, x) + biasIh[j]!);
    const fromHidden = gruStateDict.weight_hh_l0.map((row, j) => dot(row, h0) + biasHh[j]!);
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    const h1 = h0.map((h, k) => {
      const r = sigmoid(fromInput[k]! + fromHidden[k]!);
      const z = sigmoid(fromInput[H + k]! + fromHidden[H + k]!);
      const n = Math.tanh(fromInput[2 * H + k]! + r * fromHidden[2 * H + k]!);
      return (1 - z) * n + z * h;
    });
    Array.from(state.states["h"]!).forEach((v, k) => expect(v).toBeCloseTo(h1[k]!, 14));
    // the same numbers, computed once outside JavaScript
    expect(Array.from(state.states["h"]!)).toEqual([
      expect.closeTo(0.09767728139186614, 14),
      expect.closeTo(-0.17791615425459947, 14),
    ]);
  });
});
