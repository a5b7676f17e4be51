/**
 * `into`: forward writes outputs and final states, backward input and initial-state gradients,
 * into arrays the caller owns — the same numbers as new arrays, checked (names, dtype, length, no
 * shared memory) with errors naming the field, and a training loop that uses it allocates no
 * array per call.
 */
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import { compile, type Cell, type Tensors } from "../src/index.js";
import { Rng } from "../src/train/init.js";
import { dataError } from "./helpers/data-error.js";

const CELLS = ["lstm", "gru", "lnlstm"] as const;
const T = 5, B = 3;
const cells = new Map<string, Cell>();
beforeAll(() => {
  for (const name of CELLS) {
    const source = readFileSync(`examples/cells/${name}.cell`, "utf8");
    cells.set(name, compile(source, { dtype: "f64" }));
    cells.set(`${name} unoptimized`, compile(source, { dtype: "f64", optimize: false }));
    cells.set(`${name} f32`, compile(source, { dtype: "f32" }));
  }
});
const variants = CELLS.flatMap((c) => [c, `${c} unoptimized`, `${c} f32`]);

const filled = (cell: Cell, n: number, rng: Rng) => {
  const values = Array.from({ length: n }, () => rng.uniform(-1, 1));
  return cell.dtype === "f32" ? Float32Array.from(values) : Float64Array.from(values);
};
const named = (cell: Cell, specs: readonly { name: string; size: number }[], per: number, rng: Rng): Tensors =>
  Object.fromEntries(specs.map((s) => [s.name, filled(cell, per * s.size, rng)]));
/** Arrays full of noise: a call writing into them must leave no trace of it. */
const noise = (cell: Cell, specs: readonly { name: string; size: number }[], per: number) => named(cell, specs, per, new Rng(99));
const plain = (t: object) => JSON.stringify(Object.entries(t).map(([k, a]) => [k, Array.from(a as ArrayLike<number>)]));

/** One forward and backward of `cell` on seeded data, with `into` options or without. */
function trainStep(cell: Cell, into: { forward?: object; backward?: object }, mask?: Uint8Array) {
  const rng = new Rng(5);
  const params = cell.initParams(3);
  const x = named(cell, cell.inputs, T * B, rng);
  const initial = named(cell, cell.states, B, rng);
  const seeds = { outputs: named(cell, cell.outputs, T * B, rng), final: named(cell, cell.states, B, rng) };
  const trace = cell.forward(params, x, { T, B, initial, ...(mask ? { mask } : {}), ...(into.forward ? { into: into.forward } : {}) });
  const grads = cell.createGrads();
  const result = cell.backward(params, trace, seeds, grads, into.backward ? { into: into.backward } : {});
  return { trace, grads, result };
}

describe("into", () => {
  it.each(variants)("%s: the same bits as new arrays, with and without a mask; the results are the given arrays", (name) => {
    const cell = cells.get(name)!;
    for (const mask of [undefined, Uint8Array.from({ length: T * B }, (_, k) => (k % 4 === 3 ? 0 : 1))]) {
      const fresh = trainStep(cell, {}, mask);
      const forward = { outputs: noise(cell, cell.outputs, T * B), final: noise(cell, cell.states, B) };
      const backward = { inputs: noise(cell, cell.inputs, T * B), initial: noise(cell, cell.states, B) };
      const owned = trainStep(cell, { forward, backward }, mask);
      for (const k of ["outputs", "final"] as const) {
        expect(plain(owned.trace[k])).toBe(plain(fresh.trace[k]));
        for (const [n, a] of Object.entries(owned.trace[k])) expect(a).toBe(forward[k][n]);
      }
      for (const k of ["inputs", "initial"] as const) {
        expect(plain(owned.result[k])).toBe(plain(fresh.result[k]));
        for (const [n, a] of Object.entries(owned.result[k])) expect(a).toBe(backward[k][n]);
      }
      expect(plain(owned.grads)).toBe(plain(fresh.grads));
    }
  });

  it("takes some names and makes new arrays for the rest; record: false writes its outputs and final states there too", () => {
    const cell = cells.get("lstm")!;
    const fresh = trainStep(cell, {});
    const h = noise(cell, [cell.outputs[0]!], T * B)["h"]!;
    const c0 = new Float64Array(B * 16).fill(7);
    const some = trainStep(cell, { forward: { outputs: { h } }, backward: { initial: { c: c0 } } });
    expect(some.trace.outputs["h"]).toBe(h);
    expect(some.result.initial["c"]).toBe(c0);
    expect(plain(some.trace.outputs)).toBe(plain(fresh.trace.outputs));
    expect(plain(some.result.initial)).toBe(plain(fresh.result.initial));

    const params = cell.initParams(3);
    const x = named(cell, cell.inputs, T * B, new Rng(5));
    const expected = cell.forward(params, x, { T, B, record: false });
    const into = { outputs: noise(cell, cell.outputs, T * B), final: noise(cell, cell.states, B) };
    const inferred = cell.forward(params, x, { T, B, record: false, into });
    expect(inferred.final["h"]).toBe(into.final["h"]);
    expect(plain(inferred.outputs)).toBe(plain(expected.outputs));
    expect(plain(inferred.final)).toBe(plain(expected.final));
  });

  it("a state carried over in place: into.final may be options.initial's own array, into.initial the final-state seed's", () => {
    for (const name of ["lstm", "gru f32"]) {
      const cell = cells.get(name)!;
      const params = cell.initParams(3);
      const rng = new Rng(6);
      const x = named(cell, cell.inputs, T * B, rng);
      const start = named(cell, cell.states, B, rng);
      for (const record of [true, false]) {
        const expected = cell.forward(params, x, { T, B, initial: start, record });
        const carried = Object.fromEntries(Object.entries(start).map(([k, v]) => [k, v.slice()]));
        const trace = cell.forward(params, x, { T, B, initial: carried, record, into: { final: carried } });
        expect(plain(carried)).toBe(plain(expected.final));
        expect(plain(trace.outputs)).toBe(plain(expected.outputs));
      }
      const trace = cell.forward(params, x, { T, B, initial: start });
      const seed = named(cell, cell.states, B, rng);
      const expected = cell.backward(params, trace, { final: seed }, cell.createGrads(), { retain: true });
      const inPlace = Object.fromEntries(Object.entries(seed).map(([k, v]) => [k, v.slice()]));
      const result = cell.backward(params, trace, { final: inPlace }, cell.createGrads(), { into: { initial: inPlace } });
      expect(result.initial).toEqual(inPlace);
      expect(plain(inPlace)).toBe(plain(expected.initial));
    }
  });

  it("a trace whose outputs the caller owns backprops as one with its own, while the arrays are left alone", () => {
    // The mLSTM's backward reads the trace's outputs (generated/mlstm.ts: its backward takes Y).
    const cell = compile(readFileSync("examples/cells/mlstm.cell", "utf8"), { dtype: "f64" });
    expect(readFileSync("generated/mlstm.ts", "utf8")).toMatch(/function backward\([^)]*\n {2}Y: readonly Real\[\],/u);
    const fresh = trainStep(cell, {});
    const outputs = noise(cell, cell.outputs, T * B);
    const owned = trainStep(cell, { forward: { outputs } });
    expect(plain(owned.grads)).toBe(plain(fresh.grads));
    expect(plain(owned.result)).toBe(plain(fresh.result));
  });

  it("errors name the field: group, name, dtype, length, shared memory, a gradient turned off", () => {
    const cell = cells.get("lstm")!;
    const f32 = cells.get("lstm f32")!;
    const params = cell.initParams(1);
    const x = named(cell, cell.inputs, T * B, new Rng(1));
    const fwd = (into: unknown, c: Cell = cell, p: Tensors = params, inputs: Tensors = x) => () => c.forward(p, inputs, { T, B, into } as never);
    const h = () => new Float64Array(T * B * 16);
    expect(dataError(fwd(5))).toBe("options.into: expected an object { outputs?, final? }, got number");
    expect(dataError(fwd({ output: {} }))).toBe("options.into.output: unknown option; did you mean 'outputs'? (expected outputs, final)");
    expect(dataError(fwd({ outputs: { hh: h() } }))).toBe("options.into.outputs.hh: unknown name; did you mean 'h'? (expected h, c)");
    expect(dataError(fwd({ outputs: { h: new Float64Array(3) } }))).toBe("options.into.outputs.h: expected 240 numbers, got 3");
    expect(dataError(fwd({ final: { c: new Float64Array(3 * 16) }, outputs: { h: new Float32Array(T * B * 16) } }))).toBe(
      "options.into.outputs.h: expected a Float64Array (the cell's dtype is f64), got Float32Array",
    );
    const x32 = named(f32, f32.inputs, T * B, new Rng(1));
    expect(dataError(fwd({ outputs: { c: h() } }, f32, f32.initParams(1), x32))).toBe("options.into.outputs.c: expected a Float32Array (the cell's dtype is f32), got Float64Array");
    const shared = new Float64Array(2 * T * B * 16);
    expect(dataError(fwd({ outputs: { h: shared.subarray(0, T * B * 16), c: shared.subarray(T * B * 16 - 1, 2 * T * B * 16 - 1) } }))).toBe(
      "options.into.outputs.c: shares memory with options.into.outputs.h; pass an array of its own",
    );
    const wide = { x: new Float64Array(T * B * 16) };
    expect(dataError(fwd({ outputs: { h: new Float64Array(wide.x.buffer) } }, cell, params, { x: wide.x.subarray(0, T * B * 8) }))).toBe(
      "options.into.outputs.h: shares memory with inputs.x; pass an array of its own",
    );
    expect(dataError(fwd({ final: { h: params["Uf"]!.subarray(16, 64) } }))).toBe("options.into.final.h: shares memory with params.Uf; pass an array of its own");

    const trace = cell.forward(params, x, { T, B });
    const final = { h: new Float64Array(B * 16) };
    const bwd = (options: object) => () => cell.backward(params, trace, { final }, cell.createGrads(), { retain: true, ...options });
    expect(dataError(bwd({ into: { outputs: {} } }))).toBe("options.into.outputs: unknown option; (expected inputs, initial)");
    expect(dataError(bwd({ inputGrads: false, into: { inputs: { x: new Float64Array(T * B * 8) } } }))).toBe("options.into.inputs: given, but options.inputGrads is false");
    expect(dataError(bwd({ initialGrads: false, into: { initial: {} } }))).toBe("options.into.initial: given, but options.initialGrads is false");
    expect(dataError(bwd({ into: { initial: { h: final.h.subarray(0, B * 16 - 1), c: new Float64Array(B * 16) } } }))).toBe("options.into.initial.h: expected 48 numbers, got 47");
    const halves = new Float64Array(2 * B * 16);
    expect(dataError(() => cell.backward(params, trace, { final: { h: halves.subarray(0, B * 16) } }, cell.createGrads(), { retain: true, into: { initial: { c: halves.subarray(B * 16 - 1, 2 * B * 16 - 1) } } }))).toBe(
      "options.into.initial.c: shares memory with seeds.final.h; pass an array of its own",
    );
    expect(dataError(bwd({ into: { initial: { c: final.h } } }))).toBe("options.into.initial.c: shares memory with seeds.final.h; pass an array of its own");
    expect(dataError(bwd({ into: { inputs: { x: trace.outputs["h"]!.subarray(0, T * B * 8) } } }))).toBe(
      "options.into.inputs.x: shares memory with trace.outputs.h; pass an array of its own",
    );
  });

  it("a training loop writing into its own arrays allocates no array per call", () => {
    const cell = cells.get("lstm f32")!;
    const T = 16, B = 8; // arrays of kilobytes: off the V8 heap, counted in arrayBuffers
    const params = cell.initParams(1);
    const x = named(cell, cell.inputs, T * B, new Rng(2));
    const seeds = { outputs: { h: new Float32Array(T * B * 16).fill(1) } };
    const grads = cell.createGrads();
    const forward = { T, B, into: { outputs: noise(cell, cell.outputs, T * B), final: noise(cell, cell.states, B) } };
    const backward = { into: { inputs: noise(cell, cell.inputs, T * B), initial: noise(cell, cell.states, B) } };
    const step = () => cell.backward(params, cell.forward(params, x, forward), seeds, grads, backward);
    step();
    step();
    // Garbage of earlier tests (files share this worker) freed during a measure would hide arrays
    // made in it: collect it first.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    const before = process.memoryUsage().arrayBuffers;
    for (let k = 0; k < 5; k++) step();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(0);
    // Without `into`, each call makes its results: the same measure sees them (kept from the collector).
    gc();
    const start = process.memoryUsage().arrayBuffers;
    const kept: unknown[] = [];
    for (let k = 0; k < 5; k++) {
      const trace = cell.forward(params, x, { T, B });
      kept.push(trace, cell.backward(params, trace, seeds, grads));
    }
    expect(process.memoryUsage().arrayBuffers - start).toBeGreaterThanOrEqual(5 * T * B * (16 + 16 + 8) * 4);
  });
});
