/**
 * The state history and tape of a recording in the cell's WebAssembly memory (runtime/cell.ts):
 * laid out with the workspace, so products read and write them in place. The memory lays out
 * again (and grows, detaching every view of it) when a call comes at another T and B, and
 * `release()` lets it go: recordings still held — not yet backpropagated, retained, or given back
 * and not yet reused — move to plain arrays first and give the same bits as if nothing happened.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { renderJavaScript } from "../compiler/codegen/module.js";
import { LOADER_BINDINGS } from "../src/runtime/abi.js";
import * as runtime from "../src/runtime/index.js";
import type { Cell, Kernels, Real, Tensors, Trace } from "../src/runtime/index.js";
import { Rng } from "../src/train/init.js";

const SOURCE = readFileSync("examples/cells/lstm.cell", "utf8");

/** What each forward kernel call saw: its state history and tape, and its workspace's buffer. */
interface Seen {
  readonly kept: Real[];
  readonly memory: ArrayBufferLike;
}

/** The LSTM of `dtype`, its forward kernel wrapped to report what it was given. */
function spiedCell(dtype: "f32" | "f64", seen: Seen[]): Cell {
  const [compiled] = compileSource(SOURCE, { dtype, sizes: { I: 4, H: 8 }, path: "lstm.cell" });
  const defineCell = (spec: Parameters<typeof runtime.defineCell>[0], kernels: Kernels) =>
    runtime.defineCell(spec, {
      ...kernels,
      forward: (T, B, P, X, S, Y, R, M, WS, ...rest) => {
        seen.push({ kept: [...S, ...R], memory: WS[0]!.buffer });
        kernels.forward(T, B, P, X, S, Y, R, M, WS, ...rest);
      },
    });
  const run = new Function(LOADER_BINDINGS[0], renderJavaScript(compiled!.module, "function")) as (r: object) => Cell;
  return run({ ...runtime, defineCell });
}

const inArena = (s: Seen) => s.kept.every((a) => a.buffer === s.memory);

/** Inputs and output seeds of one call at (T, B), drawn from `seed`. */
function data(cell: Cell, T: number, B: number, seed: number) {
  const rng = new Rng(seed);
  const fill = (n: number) => {
    const values = Array.from({ length: n }, () => rng.uniform(-1, 1));
    return cell.dtype === "f32" ? Float32Array.from(values) : Float64Array.from(values);
  };
  const named = (specs: readonly { name: string; size: number }[], per: number): Tensors => Object.fromEntries(specs.map((s) => [s.name, fill(per * s.size)]));
  return { T, B, x: named(cell.inputs, T * B), seeds: { outputs: named(cell.outputs, T * B), final: named(cell.states, B) } };
}
type Call = ReturnType<typeof data>;

/** Everything a backward of `trace` gives, as numbers (param gradients, input and initial-state gradients). */
function gradients(cell: Cell, params: Tensors, trace: Trace, call: Call, retain = true): number[][] {
  const grads = cell.createGrads();
  const result = cell.backward(params, trace, call.seeds, grads, { retain });
  return [...Object.values(grads), ...Object.values(result.inputs), ...Object.values(result.initial)].map((a) => Array.from(a));
}

/** What a fresh cell gives for `call`: its outputs, final states and gradients, nothing else run in between. */
function reference(dtype: "f32" | "f64", params: Tensors, call: Call) {
  const cell = spiedCell(dtype, []);
  const trace = cell.forward(params, call.x, { T: call.T, B: call.B });
  return { outputs: Object.values(trace.outputs).map((a) => Array.from(a)), grads: gradients(cell, params, trace, call) };
}

afterEach(() => runtime.useSimd(true));

describe("the recording in the cell's WebAssembly memory", () => {
  it.each(["f32", "f64"] as const)("%s: a forward records into the memory of its workspace; a second recording held at once gets plain arrays", (dtype) => {
    const seen: Seen[] = [];
    const cell = spiedCell(dtype, seen);
    const params = cell.initParams(1);
    const call = data(cell, 3, 2, 2);
    const first = cell.forward(params, call.x, { T: 3, B: 2 });
    const second = cell.forward(params, call.x, { T: 3, B: 2 }); // the first still holds the memory's set
    gradients(cell, params, first, call, false); // gives it back
    cell.forward(params, call.x, { T: 3, B: 2 });
    expect(seen.map(inArena)).toEqual([true, false, true]);
    expect(seen[2]!.kept.every((a, k) => a === seen[0]!.kept[k])).toBe(true);
    expect(gradients(cell, params, second, call)).toEqual(reference(dtype, params, call).grads);
  });

  it("with the plain products (useSimd(false)) every recording is in plain arrays, as before", () => {
    runtime.useSimd(false);
    const seen: Seen[] = [];
    const cell = spiedCell("f32", seen);
    const params = cell.initParams(1);
    const call = data(cell, 3, 2, 2);
    cell.forward(params, call.x, { T: 3, B: 2 });
    expect(seen.map(inArena)).toEqual([false]);
  });

  it.each(["f32", "f64"] as const)("%s: traces held while the memory lays out again (growing, then reused by a smaller size) or is released keep their bits", (dtype) => {
    const seen: Seen[] = [];
    const cell = spiedCell(dtype, seen);
    const params = cell.initParams(3);
    const small = data(cell, 3, 2, 4);
    const large = data(cell, 50, 40, 5); // more than the memory holds after the small call
    const tiny = data(cell, 2, 1, 6);
    const expected = [small, large, tiny].map((call) => reference(dtype, params, call));
    const run = (call: Call) => cell.forward(params, call.x, { T: call.T, B: call.B });
    const check = (trace: Trace, k: number, retain = true) => {
      expect(Object.values(trace.outputs).map((a) => Array.from(a))).toEqual(expected[k]!.outputs);
      expect(gradients(cell, params, trace, [small, large, tiny][k]!, retain)).toEqual(expected[k]!.grads);
    };

    // Not yet backpropagated when the memory grows (its first views are detached then).
    const pending = run(small);
    const before = seen[0]!.memory;
    check(run(large), 1);
    expect(before.byteLength).toBe(0);
    expect(inArena(seen[0]!) && inArena(seen[1]!)).toBe(true);
    check(pending, 0);

    // Retained, then a smaller size lays out over the same memory (no growth: the views stay, the numbers would not).
    const retained = run(large);
    check(retained, 1);
    const grown = seen.at(-1)!.memory;
    check(run(tiny), 2);
    expect(seen.at(-1)!.memory).toBe(grown);
    check(retained, 1);

    // Given back by a backward without retain, not yet reused by a forward at its size: still usable.
    const givenBack = run(tiny);
    check(givenBack, 2, false);
    check(run(small), 0);
    check(givenBack, 2, false);

    // Held across release().
    const held = run(small);
    cell.release();
    check(run(large), 1);
    check(held, 0);
  });

  it("a trace moved out of the memory is given back to the pool as before: the next forward at its size takes it, then its backward is an error", () => {
    const cell = spiedCell("f32", []);
    const params = cell.initParams(7);
    const small = data(cell, 3, 2, 8);
    const large = data(cell, 4, 5, 9);
    const trace = cell.forward(params, small.x, { T: 3, B: 2 });
    gradients(cell, params, trace, small, false);
    cell.forward(params, large.x, { T: 4, B: 5 }); // moves the given-back recording out, into the pool
    cell.forward(params, small.x, { T: 3, B: 2 }); // lays out again, records into the memory's set
    cell.forward(params, small.x, { T: 3, B: 2 }); // the memory's set is held: takes the pooled arrays
    expect(() => gradients(cell, params, trace, small)).toThrow(/^trace: its tape went back to the cell after backward, and a later forward reused it/u);
  });
});
