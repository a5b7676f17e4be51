/**
 * The runtime refuses what it cannot run, naming the field: `step` checks its tensors as `forward`
 * does, a trace's shape is out of the caller's reach, unknown names and options are errors with a
 * suggestion, `compile` checks its options, seeds are integers in [0, 2^32), and the arrays a call
 * needs at its T and B are checked against `MAX_ELEMENTS` before anything is allocated.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { dataError } from "./helpers/data-error.js";
import { compile, type Cell, type Tensors } from "../src/index.js";
import { MAX_ELEMENTS, defineCell, mulberry32, type Kernels } from "../src/runtime/index.js";
import { Rng, initializeParams } from "../src/train/init.js";

const LSTM_SRC = readFileSync("examples/cells/lstm.cell", "utf8");
const I = 8, H = 16;

let lstm: Cell;
beforeAll(() => {
  lstm = compile(LSTM_SRC, { dtype: "f64" });
});

const inputs = (T: number, B: number): Tensors => ({ x: new Float64Array(T * B * I).fill(0.5) });

describe("step checks its tensors as forward does", () => {
  const B = 2;
  const bad: [string, unknown][] = [
    ["a string", "a".repeat(B * I)],
    ["a plain Array", new Array(B * I).fill(0.5)],
    ["an Int32Array", new Int32Array(B * I)],
  ];

  it.each(bad)("inputs.x as %s: the same DataError from step and from forward", (_, x) => {
    const params = lstm.initParams(1);
    const fromStep = dataError(() => lstm.step(params, { x } as unknown as Tensors, lstm.createState(B)));
    const fromForward = dataError(() => lstm.forward(params, { x } as unknown as Tensors, { T: 1, B }));
    expect(fromStep).toMatch(/^inputs\.x: expected a Float32Array or Float64Array/);
    expect(fromStep).toBe(fromForward);
  });

  it("a param or a state that is not a float array, and a state whose B is not a count", () => {
    const params = lstm.initParams(1);
    const state = lstm.createState(B);
    expect(dataError(() => lstm.step({ ...params, Wf: new Array(H * I).fill(0) } as unknown as Tensors, inputs(1, B), state)))
      .toMatch(/^params\.Wf: expected a Float32Array or Float64Array, got an Array/);
    const badState = { ...state, states: { ...state.states, c: new Int32Array(B * H) } } as unknown as typeof state;
    expect(dataError(() => lstm.step(params, inputs(1, B), badState))).toMatch(/^state\.states\.c: expected a Float32Array or Float64Array/);
    expect(dataError(() => lstm.step(params, inputs(1, B), { ...state, B: 1.5 }))).toMatch(/^state\.B: expected a positive integer, got 1\.5/);
    expect(dataError(() => lstm.step(params, "x" as unknown as Tensors, state))).toMatch(/^inputs: expected an object/);
  });
});

describe("a trace keeps its shape", () => {
  it("T and B of a trace cannot be changed, and backward does not read them from the caller's object", () => {
    const [T, B] = [3, 2];
    const params = lstm.initParams(2);
    const seeds = { final: { h: new Float64Array(B * H).fill(1) } };
    const untouched = lstm.createGrads();
    lstm.backward(params, lstm.forward(params, inputs(T, B), { T, B }), seeds, untouched);

    const trace = lstm.forward(params, inputs(T, B), { T, B });
    expect(Object.isFrozen(trace) && Object.isFrozen(trace.outputs) && Object.isFrozen(trace.final)).toBe(true);
    for (const [key, value] of [["T", 1], ["B", 1]] as const) {
      try {
        (trace as unknown as Record<string, number>)[key] = value;
      } catch {
        // strict mode: assigning to a frozen property throws; either way it must not take
      }
    }
    expect([trace.T, trace.B]).toEqual([T, B]);
    const grads = lstm.createGrads();
    lstm.backward(params, trace, seeds, grads);
    for (const p of lstm.params) expect(Array.from(grads[p.name]!), p.name).toEqual(Array.from(untouched[p.name]!));
  });
});

describe("unknown names and options are errors naming the key", () => {
  const [T, B] = [2, 1];
  const initial = () => ({ h: new Float64Array(B * H), c: new Float64Array(B * H) });

  it("a misspelt initial state, with the nearest name", () => {
    const { h, c } = initial();
    expect(dataError(() => lstm.forward(lstm.initParams(0), inputs(T, B), { T, B, initial: { hh: h, c } })))
      .toMatch(/^initial\.hh: unknown name; did you mean 'h'\? \(expected h, c\)/);
  });

  it("an extra param, an extra input", () => {
    const params = { ...lstm.initParams(0), Wz: new Float64Array(H * I) };
    expect(dataError(() => lstm.forward(params, inputs(T, B), { T, B }))).toMatch(/^params\.Wz: unknown name/);
    expect(dataError(() => lstm.forward(lstm.initParams(0), { ...inputs(T, B), y: new Float64Array(T * B * I) }, { T, B })))
      .toMatch(/^inputs\.y: unknown name; \(expected x\)/);
  });

  it("backward: a seed named after no output or state, and an unknown seeds key", () => {
    const params = lstm.initParams(0);
    const trace = lstm.forward(params, inputs(T, B), { T, B });
    expect(dataError(() => lstm.backward(params, trace, { outputs: { hx: new Float64Array(T * B * H) } }, lstm.createGrads())))
      .toMatch(/^outputGrads\.hx: unknown name; did you mean 'h'\?/);
    expect(dataError(() => lstm.backward(params, trace, { final: { cc: new Float64Array(B * H) } }, lstm.createGrads())))
      .toMatch(/^finalGrads\.cc: unknown name; did you mean 'c'\?/);
    const misspelt = { finals: { c: new Float64Array(B * H) } } as unknown as { final: Tensors };
    expect(dataError(() => lstm.backward(params, trace, misspelt, lstm.createGrads())))
      .toMatch(/^seeds\.finals: unknown option; did you mean 'final'\? \(expected outputs, final\)/);
  });

  it("forward: an unknown option", () => {
    const options = { T, B, intial: initial() } as unknown as { T: number; B: number };
    expect(dataError(() => lstm.forward(lstm.initParams(0), inputs(T, B), options)))
      .toMatch(/^options\.intial: unknown option; did you mean 'initial'\?/);
  });

  it("initializeParams: an unknown option or scheme", () => {
    const cell = { params: lstm.params, states: lstm.states };
    expect(dataError(() => initializeParams(cell, lstm.createParams(), { seed: 1, weights: "xavier_normal" as "xavier" })))
      .toMatch(/options\.weights should be "pytorch", "xavier" or "orthogonal", got "xavier_normal"/);
    expect(dataError(() => initializeParams(cell, lstm.createParams(), { seed: 1, bias: "zero" } as unknown as { seed: number })))
      .toMatch(/unknown option 'bias'/);
  });
});

describe("compile checks its options", () => {
  it.each([
    [{ dtype: "f16" }, /^options\.dtype: expected "f32" or "f64", got "f16"$/],
    [{ products: "gpu" }, /^options\.products: expected "runtime" or "inline", got "gpu"$/],
    [{ optimize: "yes" }, /^options\.optimize: expected true or false, got "yes"$/],
    [{ dtpye: "f64" }, /^options\.dtpye: unknown option; did you mean 'dtype'\?/],
    [{ sizes: { H: "16" } }, /^options\.sizes\.H: expected a positive integer, got "16"$/],
    [{ sizes: { HH: 4 } }, /^options\.sizes\.HH: cell 'lstm' has no size 'HH'; did you mean 'H'\? \(sizes: I, H\)$/],
  ])("%o", (options, message) => {
    expect(dataError(() => compile(LSTM_SRC, options as object))).toMatch(message);
  });
});

describe("seeds are integers from 0 to 2^32 − 1", () => {
  it.each([[NaN], ["abc"], [0.5], [2 ** 32], [-1]])("initParams(%s) is an error naming the seed", (seed) => {
    expect(dataError(() => lstm.initParams(seed as number))).toMatch(/^initParams: seed: expected an integer from 0 to 4294967295 \(2\^32 − 1\), got /);
  });

  it("the ends of the range are seeds, and different ones", () => {
    expect(lstm.initParams(2 ** 32 - 1)["Wf"]).not.toEqual(lstm.initParams(0)["Wf"]);
  });

  it("Rng and initializeParams check their seed; mulberry32 takes a seed's signed view too", () => {
    expect(dataError(() => new Rng(0.5))).toMatch(/^Rng: seed: expected an integer/);
    expect(dataError(() => initializeParams(lstm, lstm.createParams(), { seed: NaN }))).toMatch(/options\.seed should be an integer from 0 to 2\^32 − 1, got NaN/);
    const [signed, unsigned] = [mulberry32(-1), mulberry32(2 ** 32 - 1)];
    expect([signed(), signed()]).toEqual([unsigned(), unsigned()]);
    expect(dataError(() => mulberry32(2 ** 32))).toMatch(/^seed: /);
  });
});

describe("sizes at run time are checked before allocating", () => {
  it("forward at a T·B whose state history is beyond the limit: a DataError naming T, B and the count", () => {
    const [T, B] = [2 ** 20, 2 ** 10];
    expect(dataError(() => lstm.forward(lstm.initParams(0), inputs(1, 1), { T, B })))
      .toMatch(/^forward at T = 1048576, B = 1024: the state history 'h' needs 17,179,885,568 numbers \(\(T\+1\)·B·16\), more than the limit of 1,073,741,824 \(2\^30\) numbers per array$/);
  });

  it("createState at a B beyond the limit", () => {
    expect(dataError(() => lstm.createState(2 ** 40))).toMatch(/^step at B = 1099511627776: the state 'h' needs 17,592,186,044,416 numbers \(B·16\)/);
  });

  it("a param beyond the limit (H = 1e5): createParams, createGrads and initParams say which", () => {
    const Wh = { name: "Wh", shape: [1e5, 1e5], size: 1e10 };
    const spec = { name: "big", dtype: "f32", sizes: { H: 1e5 }, params: [Wh], inputs: [], states: [], outputs: [], tape: [], workspace: [] } as const;
    const cell = defineCell(spec, {} as Kernels);
    for (const make of [() => cell.createParams(), () => cell.createGrads(), () => cell.initParams(1)])
      expect(dataError(make)).toBe(`params: param 'Wh' needs 10,000,000,000 numbers (100000·100000), more than the limit of ${MAX_ELEMENTS.toLocaleString("en-US")} (2^30) numbers per array`);
  });
});
