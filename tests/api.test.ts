/**
 * The in-process API (`compile` from src/index.ts, the `Cell` of src/runtime/types.ts): dtypes,
 * shapes of forward and backward, `step` against `forward`, masks (padding carries the state,
 * outputs zeros, passes gradients straight through), errors that name the field, `initParams`,
 * and picking a cell from a file with several.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { CompileError, compile, type Cell, type Real, type Tensors } from "../src/index.js";
import { mulberry32 } from "./reference/index.js";

const LSTM_SRC = readFileSync("examples/cells/lstm.cell", "utf8");
const RNN_SRC = readFileSync("examples/cells/rnn.cell", "utf8");
const I = 8, H = 16;

/** Seeded tensors for each spec: `per` entries of each spec's size, uniform in ±scale. */
function fill(specs: Cell["params"], per: number, seed: number, scale = 0.5): Tensors {
  const random = mulberry32(seed);
  return Object.fromEntries(specs.map((s) => [s.name, Float64Array.from({ length: s.size * per }, () => (2 * random() - 1) * scale)]));
}

/** Rows `[from, from + count)` of a `[rows][n]` flat array. */
const rows = (a: Real, n: number, from: number, count = 1): number[] => Array.from(a.subarray(from * n, (from + count) * n));

function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i]!, expected[i]!];
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) expect.fail(`${what}[${i}]: ${a} vs ${e}`);
  }
}

let lstm64: Cell, lstm32: Cell;
beforeAll(() => {
  lstm64 = compile(LSTM_SRC, { dtype: "f64", path: "lstm.cell" });
  lstm32 = compile(LSTM_SRC, { dtype: "f32", path: "lstm.cell" });
});

describe("compile", () => {
  it("gives the cell's spec: name, dtype, sizes, params, inputs, states, outputs", () => {
    expect(lstm64).toMatchObject({ name: "lstm", dtype: "f64", sizes: { I, H } });
    expect(lstm32.dtype).toBe("f32");
    expect(lstm64.params.map((p) => `${p.name}[${p.shape.join(",")}]`)).toEqual(
      ["f", "i", "g", "o"].flatMap((k) => [`W${k}[${H},${I}]`, `U${k}[${H},${H}]`, `b${k}[${H}]`]),
    );
    expect(lstm64.inputs).toEqual([{ name: "x", shape: [I], size: I }]);
    expect(lstm64.states.map((s) => s.name)).toEqual(["h", "c"]);
    expect(lstm64.outputs.map((s) => s.name)).toEqual(["h", "c"]);
  });

  it("allocates Float64Array for f64 and Float32Array for f32", () => {
    for (const [cell, Arr] of [[lstm64, Float64Array], [lstm32, Float32Array]] as const) {
      for (const t of [cell.createParams(), cell.createGrads(), cell.initParams(1)])
        for (const p of cell.params) {
          expect(t[p.name]).toBeInstanceOf(Arr);
          expect(t[p.name]!.length).toBe(p.size);
        }
      expect(Object.values(cell.createGrads()).every((g) => g.every((v) => v === 0))).toBe(true);
    }
  });

  it("honours sizes", () => {
    const small = compile(LSTM_SRC, { dtype: "f64", sizes: { H: 3 } });
    expect(small.sizes).toEqual({ I, H: 3 });
    expect(small.params.find((p) => p.name === "Uf")!.shape).toEqual([3, 3]);
  });

  it("a file with two cells and no `cell` option: an error naming both; `cell` picks one", () => {
    const two = `${RNN_SRC}\n${LSTM_SRC}`;
    expect(() => compile(two)).toThrow(/2 cells \(rnn, lstm\)/);
    expect(compile(two, { cell: "lstm", dtype: "f64" }).name).toBe("lstm");
    expect(() => compile(two, { cell: "gru" })).toThrow(/no cell named 'gru' \(have rnn, lstm\)/);
  });

  it("a cell with errors throws a CompileError rendered as file:line:col: error", () => {
    const bad = LSTM_SRC.replace("Uf[H, H]", "Uf[2*H, H]");
    let caught: unknown;
    try {
      compile(bad, { path: "bad.cell" });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CompileError);
    expect((caught as Error).message).toMatch(/^bad\.cell:\d+:\d+: error/);
  });
});

describe("forward and backward", () => {
  const T = 3, B = 2;

  it.each([["f64"], ["f32"]] as const)("%s: shapes of the trace, the grads and the returned gradients", (dtype) => {
    const cell = dtype === "f64" ? lstm64 : lstm32;
    const Arr = dtype === "f64" ? Float64Array : Float32Array;
    const conv = (t: Tensors) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Arr.from(v)]));
    const params = cell.initParams(3);
    const trace = cell.forward(params, conv(fill(cell.inputs, T * B, 4)), { T, B });
    expect(trace).toMatchObject({ T, B });
    expect(trace.tapeBytes).toBeGreaterThan(0);
    for (const o of ["h", "c"]) {
      expect(trace.outputs[o]).toBeInstanceOf(Arr);
      expect(trace.outputs[o]!.length).toBe(T * B * H);
      expect(trace.final[o]!.length).toBe(B * H);
    }
    const grads = cell.createGrads();
    const back = cell.backward(params, trace, { outputs: conv(fill(cell.outputs, T * B, 5)) }, grads);
    expect(Object.keys(back.inputs)).toEqual(["x"]);
    expect(back.inputs["x"]!.length).toBe(T * B * I);
    expect(Object.keys(back.initial)).toEqual(["h", "c"]);
    for (const s of ["h", "c"]) expect(back.initial[s]!.length).toBe(B * H);
    for (const p of cell.params) expect(grads[p.name]!.some((v) => v !== 0), p.name).toBe(true);
  });

  it("f32 agrees with f64 to float32 precision", () => {
    const run = (cell: Cell) => {
      const Arr = cell.dtype === "f64" ? Float64Array : Float32Array;
      const conv = (t: Tensors) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Arr.from(v)]));
      const params = conv(fill(cell.params, 1, 6));
      const trace = cell.forward(params, conv(fill(cell.inputs, T * B, 7)), { T, B, initial: conv(fill(cell.states, B, 8)) });
      const grads = cell.createGrads();
      const back = cell.backward(params, trace, { outputs: conv(fill(cell.outputs, T * B, 9)), final: conv(fill(cell.states, B, 10)) }, grads);
      return { trace, grads, back };
    };
    const [a, b] = [run(lstm32), run(lstm64)];
    expectClose("outputs.h", a.trace.outputs["h"]!, b.trace.outputs["h"]!, 1e-5);
    expectClose("grads.Uf", a.grads["Uf"]!, b.grads["Uf"]!, 1e-4);
    expectClose("inputs.x", a.back.inputs["x"]!, b.back.inputs["x"]!, 1e-4);
    expectClose("initial.c", a.back.initial["c"]!, b.back.initial["c"]!, 1e-4);
  });

  it("backward accumulates into grads: twice gives double", () => {
    const params = fill(lstm64.params, 1, 11);
    const trace = lstm64.forward(params, fill(lstm64.inputs, T * B, 12), { T, B });
    const seeds = { outputs: fill(lstm64.outputs, T * B, 13) };
    const once = lstm64.createGrads(), twice = lstm64.createGrads();
    lstm64.backward(params, trace, seeds, once);
    lstm64.backward(params, trace, seeds, twice);
    lstm64.backward(params, trace, seeds, twice);
    expectClose("grads.Wo", twice["Wo"]!, once["Wo"]!.map((v) => 2 * v), 1e-14);
  });

  it("traces are independent: backward of an earlier trace, after other forwards, steps and sizes, is its own", () => {
    // The kernels share a workspace (and forward's own buffers share memory with backward's):
    // nothing a later call leaves there may reach an earlier trace's backward.
    const params = fill(lstm64.params, 1, 21);
    const seeds = { outputs: fill(lstm64.outputs, T * B, 23) };
    const alone = lstm64.createGrads();
    const fresh = compile(LSTM_SRC, { dtype: "f64" });
    const want = fresh.backward(params, fresh.forward(params, fill(lstm64.inputs, T * B, 22), { T, B }), seeds, alone);
    const early = lstm64.forward(params, fill(lstm64.inputs, T * B, 22), { T, B });
    const other = lstm64.forward(params, fill(lstm64.inputs, T * B, 24), { T, B });
    lstm64.backward(params, other, seeds, lstm64.createGrads());
    lstm64.forward(params, fill(lstm64.inputs, 3 * (B + 1), 25), { T: 3, B: B + 1 });
    lstm64.step(params, fill(lstm64.inputs, B, 26), lstm64.createState(B));
    const grads = lstm64.createGrads();
    const got = lstm64.backward(params, early, seeds, grads);
    for (const p of lstm64.params) expectClose(`grads.${p.name}`, grads[p.name]!, alone[p.name]!, 1e-14);
    expectClose("inputs.x", got.inputs["x"]!, want.inputs["x"]!, 1e-14);
    expectClose("initial.h", got.initial["h"]!, want.initial["h"]!, 1e-14);
  });
});

describe("step (online inference)", () => {
  it.each([[1, false], [3, true]])("B=%i (initial states given: %s): T steps equal forward's outputs and final states", (B, withInitial) => {
    const T = 5;
    const params = fill(lstm64.params, 1, 20);
    const xs = fill(lstm64.inputs, T * B, 21)["x"]!;
    const initial = withInitial ? fill(lstm64.states, B, 22) : undefined;
    const trace = lstm64.forward(params, { x: xs }, { T, B, initial });
    const state = lstm64.createState(B, initial);
    const [h, c] = [state.states["h"], state.states["c"]];
    const x = new Float64Array(B * I);
    for (let t = 0; t < T; t++) {
      x.set(xs.subarray(t * B * I, (t + 1) * B * I));
      lstm64.step(params, { x }, state);
      for (const o of ["h", "c"]) expectClose(`step ${t} ${o}`, state.outputs[o]!, rows(trace.outputs[o]!, B * H, t), 1e-12);
    }
    expect(state.states["h"], "states are updated in place").toBe(h);
    expect(state.states["c"]).toBe(c);
    for (const s of ["h", "c"]) expectClose(`final ${s}`, state.states[s]!, trace.final[s]!, 1e-12);
  });

  it("createState copies the initial states (the caller's arrays are not changed by step)", () => {
    const initial = fill(lstm64.states, 1, 23);
    const before = Float64Array.from(initial["h"]!);
    const state = lstm64.createState(1, initial);
    lstm64.step(lstm64.initParams(0), fill(lstm64.inputs, 1, 24), state);
    expect(initial["h"]).toEqual(before);
    expect(state.states["h"]).not.toEqual(before);
  });
});

describe("masks: 0 marks padding", () => {
  // B=2, T=4: sequence 0 has no padding; sequence 1 is padded at t=1 and at t=3.
  const T = 4, B = 2, KEPT = [0, 2];
  const mask = Uint8Array.from([1, 1, 1, 0, 1, 1, 1, 0]);
  const params = () => fill(lstm64.params, 1, 30);

  /** Runs sequence b's `steps` alone (B=1), returning trace, grads and backward result. */
  function alone(b: number, steps: number[], X: Tensors, init: Tensors, GY: Tensors, GS: Tensors) {
    const pick = (t: Tensors, n: number) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Float64Array.from(steps.flatMap((s) => rows(v, n, s * B + b)))]));
    const one = (t: Tensors, n: number) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Float64Array.from(rows(v, n, b))]));
    const p = params();
    const trace = lstm64.forward(p, pick(X, I), { T: steps.length, B: 1, initial: one(init, H) });
    const grads = lstm64.createGrads();
    const back = lstm64.backward(p, trace, { outputs: pick(GY, H), final: one(GS, H) }, grads);
    return { trace, grads, back };
  }

  it("forward: a padded step carries the state unchanged and outputs zeros; the rest is the unpadded sequence", () => {
    const X = fill(lstm64.inputs, T * B, 31), init = fill(lstm64.states, B, 32);
    const trace = lstm64.forward(params(), X, { T, B, initial: init, mask });
    const compact = alone(1, KEPT, X, init, fill(lstm64.outputs, T * B, 0), fill(lstm64.states, B, 0));
    const full = alone(0, [0, 1, 2, 3], X, init, fill(lstm64.outputs, T * B, 0), fill(lstm64.states, B, 0));
    for (const o of ["h", "c"]) {
      expect(rows(trace.outputs[o]!, H, 1 * B + 1).every((v) => v === 0), `${o} at padded t=1`).toBe(true);
      expect(rows(trace.outputs[o]!, H, 3 * B + 1).every((v) => v === 0), `${o} at padded t=3`).toBe(true);
      expectClose(`${o} at t=0`, rows(trace.outputs[o]!, H, 0 * B + 1), rows(compact.trace.outputs[o]!, H, 0), 1e-12);
      expectClose(`${o} at t=2`, rows(trace.outputs[o]!, H, 2 * B + 1), rows(compact.trace.outputs[o]!, H, 1), 1e-12);
      // The trailing padded step carried the state: the final state is the one after t=2.
      expectClose(`final ${o} (padded)`, rows(trace.final[o]!, H, 1), compact.trace.final[o]!, 1e-12);
      expectClose(`final ${o} (unpadded)`, rows(trace.final[o]!, H, 0), full.trace.final[o]!, 1e-12);
      expectClose(`${o} unpadded`, Array.from({ length: T }, (_, t) => rows(trace.outputs[o]!, H, t * B)).flat(), full.trace.outputs[o]!, 1e-12);
    }
  });

  it("backward: zero input gradients at padded steps; the rest as if the padding were not there", () => {
    const X = fill(lstm64.inputs, T * B, 33), init = fill(lstm64.states, B, 34);
    const GY = fill(lstm64.outputs, T * B, 35), GS = fill(lstm64.states, B, 36);
    const p = params();
    const trace = lstm64.forward(p, X, { T, B, initial: init, mask });
    const grads = lstm64.createGrads();
    const back = lstm64.backward(p, trace, { outputs: GY, final: GS }, grads);
    const gx = back.inputs["x"]!;
    expect(rows(gx, I, 1 * B + 1).every((v) => v === 0), "dx at padded t=1").toBe(true);
    expect(rows(gx, I, 3 * B + 1).every((v) => v === 0), "dx at padded t=3").toBe(true);

    const compact = alone(1, KEPT, X, init, GY, GS);
    const full = alone(0, [0, 1, 2, 3], X, init, GY, GS);
    expectClose("dx at t=0 (padded sequence)", rows(gx, I, 1), rows(compact.back.inputs["x"]!, I, 0), 1e-10);
    expectClose("dx at t=2 (padded sequence)", rows(gx, I, 2 * B + 1), rows(compact.back.inputs["x"]!, I, 1), 1e-10);
    for (const s of ["h", "c"]) {
      expectClose(`initial ${s} (padded)`, rows(back.initial[s]!, H, 1), compact.back.initial[s]!, 1e-10);
      expectClose(`initial ${s} (unpadded)`, rows(back.initial[s]!, H, 0), full.back.initial[s]!, 1e-10);
    }
    for (const q of lstm64.params)
      expectClose(`grads.${q.name}`, grads[q.name]!, full.grads[q.name]!.map((v, i) => v + compact.grads[q.name]![i]!), 1e-10);
  });
});

describe("errors name the offending field", () => {
  const T = 2, B = 1;
  const ok = () => ({ params: lstm64.createParams(), inputs: { x: new Float64Array(T * B * I) } });

  it("a wrong-length param", () => {
    const { params, inputs } = ok();
    params["Wf"] = new Float64Array(5);
    expect(() => lstm64.forward(params, inputs, { T, B })).toThrow("params.Wf: expected 128 numbers, got 5");
  });

  it("a missing param", () => {
    const { params, inputs } = ok();
    delete params["Ug"];
    expect(() => lstm64.forward(params, inputs, { T, B })).toThrow("params.Ug: missing");
  });

  it("a param that is not a typed array", () => {
    const { params, inputs } = ok();
    (params as Record<string, unknown>)["bf"] = new Array(16).fill(0);
    expect(() => lstm64.forward(params, inputs, { T, B })).toThrow(/params\.bf: expected a Float32Array or Float64Array/);
  });

  it("a wrong-length input, and a missing one", () => {
    const { params } = ok();
    expect(() => lstm64.forward(params, { x: new Float64Array(7) }, { T, B })).toThrow(`inputs.x: expected ${T * B * I} numbers, got 7`);
    expect(() => lstm64.forward(params, {}, { T, B })).toThrow("inputs.x: missing");
  });

  it("wrong-length initial states, a bad mask, a bad T", () => {
    const { params, inputs } = ok();
    expect(() => lstm64.forward(params, inputs, { T, B, initial: { c: new Float64Array(3) } })).toThrow(`initial.c: expected ${B * H} numbers, got 3`);
    expect(() => lstm64.forward(params, inputs, { T, B, mask: new Uint8Array(3) })).toThrow(/^mask: /);
    expect(() => lstm64.forward(params, inputs, { T: 0, B })).toThrow(/^T: expected a positive integer/);
  });

  it("backward with wrong-length seeds or grads", () => {
    const { params, inputs } = ok();
    const trace = lstm64.forward(params, inputs, { T, B });
    expect(() => lstm64.backward(params, trace, { outputs: { h: new Float64Array(1) } }, lstm64.createGrads())).toThrow(/^outputGrads\.h: expected/);
    expect(() => lstm64.backward(params, trace, { final: { c: new Float64Array(1) } }, lstm64.createGrads())).toThrow(/^finalGrads\.c: expected/);
    expect(() => lstm64.backward(params, trace, {}, { ...lstm64.createGrads(), bo: new Float64Array(2) })).toThrow("grads.bo: expected 16 numbers, got 2");
  });

  it("a foreign trace: a look-alike object", () => {
    const { params, inputs } = ok();
    const real = lstm64.forward(params, inputs, { T, B });
    const copy = { ...real };
    expect(() => lstm64.backward(params, copy, {}, lstm64.createGrads())).toThrow(/^trace: /);
  });

  // The runtime keeps one registry of traces for all cells, so these two pass its check: the first
  // then fails inside the kernel with a TypeError, the second silently returns NaN gradients.
  it("a foreign trace: one returned by another cell's forward", () => {
    const rnn = compile(RNN_SRC, { dtype: "f64" });
    const rnnTrace = rnn.forward(rnn.createParams(), { x: new Float64Array(T * B * I) }, { T, B });
    const { params } = ok();
    expect(() => lstm64.backward(params, rnnTrace, {}, lstm64.createGrads())).toThrow(/^trace: /);
  });

  it("a foreign trace: one from the same cell compiled at another size", () => {
    const small = compile(LSTM_SRC, { dtype: "f64", sizes: { H: 8 } });
    const smallTrace = small.forward(small.initParams(1), { x: new Float64Array(T * B * I).fill(0.5) }, { T, B });
    const seeds = { final: { h: new Float64Array(B * H).fill(1) } };
    expect(() => lstm64.backward(lstm64.initParams(1), smallTrace, seeds, lstm64.createGrads())).toThrow(/^trace: /);
  });

  it("step: wrong-length inputs and states", () => {
    const state = lstm64.createState(2);
    const params = lstm64.createParams();
    expect(() => lstm64.step(params, { x: new Float64Array(I) }, state)).toThrow(`inputs.x: expected ${2 * I} numbers, got ${I}`);
    expect(() => lstm64.createState(2, { h: new Float64Array(H) })).toThrow(`initial.h: expected ${2 * H} numbers, got ${H}`);
  });
});

describe("initParams", () => {
  it("is deterministic per seed, differs across seeds, and stays within ±1/√H", () => {
    const [a, b, c] = [lstm64.initParams(42), lstm64.initParams(42), lstm64.initParams(43)];
    const bound = 1 / Math.sqrt(H);
    for (const p of lstm64.params) {
      expect(a[p.name], p.name).toEqual(b[p.name]);
      expect(a[p.name], p.name).not.toEqual(c[p.name]);
      const values = Array.from(a[p.name]!);
      expect(Math.max(...values.map(Math.abs)), p.name).toBeLessThanOrEqual(bound);
    }
    const all = Object.values(a).flatMap((v) => Array.from(v));
    expect(Math.max(...all)).toBeGreaterThan(0.9 * bound);
    expect(Math.min(...all)).toBeLessThan(-0.9 * bound);
    expect(Math.abs(all.reduce((s, v) => s + v, 0) / all.length)).toBeLessThan(0.1 * bound);
  });

  it("the bound follows the hidden size: H=4 gives ±1/2", () => {
    const small = compile(LSTM_SRC, { dtype: "f64", sizes: { H: 4 } });
    const all = Object.values(small.initParams(1)).flatMap((v) => Array.from(v));
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(0.5);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(0.45);
  });
});
