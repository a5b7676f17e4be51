/**
 * Stacked weights are made once per params version, not per call: a cell keeps them in its
 * workspace and makes them again only for another params object, another array in it, or a newer
 * version (`bumpParams` / `cell.paramsChanged`, which the optimizers and loaders call). Results
 * are bit for bit those of restacking at every call (params without a version are restacked at
 * every call, as before).
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { bumpParams, compile, type Cell, type Tensors } from "../src/index.js";
import { defineCell, paramsVersion, type Kernels } from "../src/runtime/index.js";
import { KERNEL_PARAMETERS, type CellSpec, type KernelName } from "../src/runtime/abi.js";
import { Sgd } from "../src/train/optim.js";
import { loadParams, saveParams } from "../src/train/serialize.js";
import { Rng, initializeParams } from "../src/train/init.js";

const I = 8, H = 16, T = 5, B = 3;
let lstm: Cell;
beforeAll(() => {
  lstm = compile(readFileSync("examples/cells/lstm.cell", "utf8"), { dtype: "f32" });
});

const rng = new Rng(11);
const filled = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
const inputs = () => ({ x: filled(T * B * I) });
/** The same arrays in an object without a version: restacked at every call. */
const untracked = (p: Tensors): Tensors => ({ ...p });

/** Outputs, final states, input and initial-state gradients and param gradients of one forward + backward. */
function run(cell: Cell, params: Tensors, x: Tensors, seeds: { outputs: Tensors; final: Tensors }): Float32Array[] {
  const trace = cell.forward(params, x, { T, B });
  const grads = cell.createGrads();
  const back = cell.backward(params, trace, seeds, grads);
  const all = [trace.outputs, trace.final, back.inputs, back.initial, grads].flatMap((t) => Object.values(t));
  return all as Float32Array[];
}

/** `run` with `params` and with `reference`, on the same inputs and seeds. */
function both(params: Tensors, reference: Tensors, x: Tensors): [Float32Array[], Float32Array[]] {
  const seeds = { outputs: { h: filled(T * B * H) }, final: { c: filled(B * H) } };
  return [run(lstm, params, x, seeds), run(lstm, reference, x, seeds)];
}

describe("params versions", () => {
  it("createParams and initParams carry a version; bumpParams increments it; hand-built objects have none", () => {
    const p = lstm.initParams(1);
    expect(paramsVersion(p)).toBe(0);
    bumpParams(p);
    lstm.paramsChanged(p);
    expect(paramsVersion(p)).toBe(2);
    expect(paramsVersion(lstm.createParams())).toBe(0);
    expect(paramsVersion(untracked(p))).toBeUndefined();
    expect(Object.keys(p)).toEqual(lstm.params.map((s) => s.name));
    expect(JSON.stringify(Object.keys(p))).not.toContain("Version");
  });

  it("gives bit for bit the results of restacking at every call, across optimizer steps", () => {
    const params = lstm.initParams(2);
    const optimizer = new Sgd({ lr: 0.1 });
    for (let k = 0; k < 4; k++) {
      const x = inputs();
      const [cached, restacked] = both(params, untracked(params), x);
      expect(cached).toEqual(restacked);
      const grads = lstm.createGrads();
      lstm.backward(params, lstm.forward(params, x, { T, B }), { outputs: { h: filled(T * B * H) } }, grads);
      optimizer.step([{ name: "lstm", params, grads, shapes: {} }]);
    }
  });

  it("sees a hand edit once told (bumpParams or cell.paramsChanged), and not before", () => {
    const params = lstm.initParams(3);
    const x = inputs();
    const before = lstm.forward(params, x, { T, B }).outputs["h"]!.slice();
    params["Uf"]![5]! += 0.5;
    params["Wo"]![7]! -= 0.25;
    // Not told: the stacked copy is still that of the old params (documented behaviour; any call
    // with another params object, or at another T and B, would have stacked the edited ones).
    expect(lstm.forward(params, x, { T, B }).outputs["h"]).toEqual(before);
    lstm.paramsChanged(params);
    const told = lstm.forward(params, x, { T, B }).outputs["h"]!;
    expect(told).not.toEqual(before);
    expect(told).toEqual(lstm.forward(untracked(params), x, { T, B }).outputs["h"]);
    // A bias the gates' row loops read is copied into the workspace (float32): like a stacked
    // weight, not seen until told (the call before it, with another object, made the copy stale).
    const current = lstm.forward(params, x, { T, B }).outputs["h"]!.slice();
    params["bg"]![0]! += 1;
    expect(lstm.forward(params, x, { T, B }).outputs["h"]).toEqual(current);
    params["Ug"]![0]! += 1;
    bumpParams(params);
    const [cached, restacked] = both(params, untracked(params), x);
    expect(cached).toEqual(restacked);
  });

  it("sees a different params object, and a replaced array in the same object", () => {
    const p1 = lstm.initParams(4);
    const p2 = lstm.initParams(5);
    const x = inputs();
    const out = (p: Tensors) => lstm.forward(p, x, { T, B }).outputs["h"]!.slice();
    const r1 = out(untracked(p1));
    const r2 = out(untracked(p2));
    expect(r1).not.toEqual(r2);
    for (let k = 0; k < 3; k++) {
      expect(out(p1)).toEqual(r1);
      expect(out(p2)).toEqual(r2);
    }
    (p1 as Record<string, Float32Array>)["Ui"] = Float32Array.from(p2["Ui"]!);
    expect(out(p1)).toEqual(out(untracked(p1)));
    expect(out(p1)).not.toEqual(r1);
  });

  it("step sees the same changes (its own workspace)", () => {
    const params = lstm.initParams(6);
    const x = { x: filled(B * I) };
    const stepOnce = (p: Tensors) => {
      const state = lstm.createState(B);
      lstm.step(p, x, state);
      return state.outputs["h"]!.slice();
    };
    const first = stepOnce(params);
    expect(stepOnce(params)).toEqual(first);
    params["Wi"]![3]! += 0.5;
    expect(stepOnce(params)).toEqual(first); // not told
    lstm.paramsChanged(params);
    const edited = stepOnce(params);
    expect(edited).toEqual(stepOnce(untracked(params)));
    expect(edited).not.toEqual(first);
  });

  it("loadParams and initializeParams bump the version", () => {
    const params = lstm.initParams(7);
    const x = inputs();
    const group = { name: "lstm", params, grads: lstm.createGrads(), shapes: Object.fromEntries(lstm.params.map((p) => [p.name, p.shape])) };
    const saved = saveParams([group]);
    const original = lstm.forward(params, x, { T, B }).outputs["h"]!.slice();
    initializeParams(lstm, params, { seed: 9 });
    const drawn = lstm.forward(params, x, { T, B }).outputs["h"]!.slice();
    expect(drawn).toEqual(lstm.forward(untracked(params), x, { T, B }).outputs["h"]);
    expect(drawn).not.toEqual(original);
    loadParams(saved, [group]);
    expect(lstm.forward(params, x, { T, B }).outputs["h"]).toEqual(original);
  });

  it("release() gives the workspace back; the next call makes it again, with the same results", () => {
    const params = lstm.initParams(8);
    const x = inputs();
    const before = lstm.forward(params, x, { T, B }).outputs["h"]!.slice();
    lstm.release();
    expect(lstm.forward(params, x, { T, B }).outputs["h"]).toEqual(before);
  });
});

describe("when the kernels are told to derive their stacked weights", () => {
  const spec: CellSpec = {
    name: "probe", dtype: "f64", sizes: {},
    params: [{ name: "W", shape: [2, 2], size: 4 }],
    inputs: [{ name: "x", shape: [2], size: 2 }],
    states: [{ name: "h", shape: [2], size: 2 }],
    outputs: [],
    tape: [],
    workspace: [{ size: 4, rows: "one", derived: ["forward", "backward", "step", "infer"] }],
  };
  /** Where each kernel takes its `paramsChanged` flag (the ABI's parameter list). */
  const flag = (k: KernelName) => (KERNEL_PARAMETERS[k] as readonly string[]).indexOf("paramsChanged");
  /** Kernels that record the `paramsChanged` flag of each call. */
  const probe = () => {
    const calls: string[] = [];
    const kernels: Kernels = {
      forward: (...a) => void calls.push(`forward ${a[flag("forward")]}`),
      backward: (...a) => void calls.push(`backward ${a[flag("backward")]}`),
      step: (...a) => void calls.push(`step ${a[flag("step")]}`),
      infer: (...a) => void calls.push(`infer ${a[flag("infer")]}`),
    };
    return { cell: defineCell(spec, kernels), calls };
  };
  const x = (n: number) => ({ x: new Float64Array(2 * n) });

  it("once per params version: the backward reuses the forward's copy", () => {
    const { cell, calls } = probe();
    const p = cell.createParams();
    for (let k = 0; k < 2; k++) {
      const trace = cell.forward(p, x(2), { T: 2, B: 1 });
      cell.backward(p, trace, {}, cell.createGrads());
      cell.paramsChanged(p);
    }
    expect(calls).toEqual(["forward true", "backward false", "forward true", "backward false"]);
  });

  it("again for another object, a new (T, B) layout, after release, and at every call without a version", () => {
    const { cell, calls } = probe();
    const p = cell.createParams(), q = cell.createParams();
    cell.forward(p, x(1), { T: 1, B: 1 });
    cell.forward(p, x(1), { T: 1, B: 1 });
    cell.forward(q, x(1), { T: 1, B: 1 });
    cell.forward(q, x(2), { T: 2, B: 1 });
    cell.release();
    cell.forward(q, x(2), { T: 2, B: 1 });
    cell.forward({ ...q }, x(2), { T: 2, B: 1 });
    cell.forward({ ...q }, x(2), { T: 2, B: 1 });
    expect(calls).toEqual(["forward true", "forward false", "forward true", "forward true", "forward true", "forward true", "forward true"]);
  });

  it("step keeps its own copy", () => {
    const { cell, calls } = probe();
    const p = cell.createParams();
    const state = cell.createState(1);
    cell.step(p, x(1), state);
    cell.step(p, x(1), state);
    cell.forward(p, x(1), { T: 1, B: 1 });
    cell.step(p, x(1), state);
    bumpParams(p);
    cell.step(p, x(1), state);
    expect(calls).toEqual(["step true", "step false", "forward true", "step false", "step true"]);
  });
});
