/**
 * Inference without a tape (`forward(…, { record: false })`, the module's `infer` kernel), the
 * backward's options (input and initial-state gradients skipped in the kernel, the tape kept with
 * `retain`), and the arrays a cell keeps between calls (tape pooled by T and B, `release()`).
 */
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { instantiate } from "../src/instantiate.js";
import { randomCells } from "./helpers/random-cell.js";
import { propertySeed } from "./helpers/seed.js";
import { compile, type Cell, type Real, type Tensors } from "../src/index.js";
import { Rng } from "../src/train/init.js";
import { dataError } from "./helpers/data-error.js";

const CELLS = ["lstm", "gru", "lnlstm", "rnn"] as const;
const T = 5, B = 3;
const cells = new Map<string, Cell>();
beforeAll(() => {
  for (const name of CELLS) {
    const source = readFileSync(`examples/cells/${name}.cell`, "utf8");
    cells.set(name, compile(source, { dtype: "f64" }));
    cells.set(`${name} unoptimized`, compile(source, { dtype: "f64", optimize: false }));
    cells.set(`${name} inline`, compile(source, { dtype: "f32", products: "inline" }));
  }
});

const filled = (cell: Cell, n: number, rng: Rng) => {
  const values = Array.from({ length: n }, () => rng.uniform(-1, 1));
  return cell.dtype === "f32" ? Float32Array.from(values) : Float64Array.from(values);
};
const named = (cell: Cell, specs: readonly { name: string; size: number }[], per: number, rng: Rng): Tensors =>
  Object.fromEntries(specs.map((s) => [s.name, filled(cell, per * s.size, rng)]));

const variants = CELLS.flatMap((c) => [c, `${c} unoptimized`, `${c} inline`]);

describe("forward with record: false", () => {
  it.each(variants)("%s: the same outputs and final states (bit for bit in float64), with and without a mask, odd and even T", (name) => {
    const cell = cells.get(name)!;
    const rng = new Rng(3);
    const params = cell.initParams(2);
    for (const steps of [T, T + 1]) {
      const x = named(cell, cell.inputs, steps * B, rng);
      const initial = named(cell, cell.states, B, rng);
      const mask = Uint8Array.from({ length: steps * B }, (_, k) => (k % 4 === 3 ? 0 : 1));
      for (const options of [{ T: steps, B, initial }, { T: steps, B, initial, mask }]) {
        const kept = Object.fromEntries(Object.entries(initial).map(([k, v]) => [k, v.slice()]));
        const recorded = cell.forward(params, x, options);
        const inferred = cell.forward(params, x, { ...options, record: false });
        for (const [got, want] of [[inferred.outputs, recorded.outputs], [inferred.final, recorded.final]] as const) {
          if (cell.dtype === "f64") expect(got).toEqual(want);
          // In float32 the forward reads some values back from its float32 tape, which infer has not.
          else for (const k of Object.keys(want)) want[k]!.forEach((v, i) => expect(Math.abs(got[k]![i]! - v)).toBeLessThan(1e-6 * (1 + Math.abs(v))));
          expect(Object.keys(got)).toEqual(Object.keys(want));
        }
        expect(inferred.tapeBytes).toBe(0);
        expect(recorded.tapeBytes).toBeGreaterThan(0);
        expect(initial).toEqual(kept); // the caller's initial states are not written
      }
    }
  });

  it("refuses backward on its trace, naming the reason; refuses a record that is not a boolean", () => {
    const cell = cells.get("lstm")!;
    const params = cell.initParams(1);
    const x = named(cell, cell.inputs, T * B, new Rng(1));
    const trace = cell.forward(params, x, { T, B, record: false });
    expect(dataError(() => cell.backward(params, trace, {}, cell.createGrads()))).toMatch(/^trace: forward ran with \{ record: false \} and kept no tape/u);
    expect(dataError(() => cell.forward(params, x, { T, B, record: "no" as unknown as boolean }))).toBe('options.record: expected true or false, got a string');
  });
});

/** Param gradients, and the backward's result, with the given options. */
function backward(cell: Cell, options: Parameters<Cell["backward"]>[4], seed = 5) {
  const rng = new Rng(seed);
  const params = cell.initParams(seed);
  const x = named(cell, cell.inputs, T * B, rng);
  const seeds = { outputs: named(cell, cell.outputs, T * B, rng), final: named(cell, cell.states, B, rng) };
  const trace = cell.forward(params, x, { T, B, initial: named(cell, cell.states, B, rng) });
  const grads = cell.createGrads();
  const result = cell.backward(params, trace, seeds, grads, options);
  return { grads, result };
}

describe("backward options", () => {
  it.each(variants)("%s: without input and initial-state gradients, those are absent and the param gradients are the same bits", (name) => {
    const cell = cells.get(name)!;
    const full = backward(cell, {});
    expect(Object.keys(full.result)).toEqual(["inputs", "initial"]);
    for (const [inputGrads, initialGrads] of [[false, true], [true, false], [false, false]] as const) {
      const some = backward(cell, { inputGrads, initialGrads });
      expect(some.grads).toEqual(full.grads);
      expect("inputs" in some.result).toBe(inputGrads);
      expect("initial" in some.result).toBe(initialGrads);
      if (inputGrads) expect(some.result.inputs).toEqual(full.result.inputs);
      if (initialGrads) expect(some.result.initial).toEqual(full.result.initial);
    }
  });

  it("skips the input gradients' products in the optimized kernel: the module guards them", () => {
    const lstm = readFileSync("generated/lstm.ts", "utf8");
    const body = lstm.slice(lstm.indexOf("function backward("), lstm.indexOf("function step("));
    expect(body).toMatch(/if \(inputGrads\) \{\n\s*\/\/ dx = ∂L\/∂x\n\s*mm\.nn\(steps \* B, 64, 8, df_di_dg_do_pre/u);
  });

  it("gives the tape back after backward: a later forward reuses it, so the trace's next backward is an error unless retained", () => {
    const cell = cells.get("gru")!;
    const params = cell.initParams(1);
    const x = named(cell, cell.inputs, T * B, new Rng(2));
    const seeds = { final: named(cell, cell.states, B, new Rng(3)) };
    const grads = () => cell.createGrads();
    const [first, again, kept] = [grads(), grads(), grads()];
    const trace = cell.forward(params, x, { T, B });
    cell.backward(params, trace, seeds, first);
    cell.backward(params, trace, seeds, again); // no forward in between: the tape is still there
    expect(again).toEqual(first);
    const retained = cell.forward(params, x, { T, B }); // takes the first trace's tape
    expect(dataError(() => cell.backward(params, trace, seeds, grads()))).toMatch(/^trace: its tape went back to the cell after backward, and a later forward reused it; pass \{ retain: true \}/u);
    cell.backward(params, retained, seeds, grads(), { retain: true });
    cell.forward(params, x, { T, B });
    cell.forward(params, x, { T, B });
    cell.backward(params, retained, seeds, kept);
    expect(kept).toEqual(first);
    expect(dataError(() => cell.backward(params, retained, seeds, first, { keep: true } as never))).toMatch(/^options\.keep: unknown option/u);
  });
});

describe("arrays kept between calls", () => {
  it("a pooled tape gives the same bits as a fresh one, across sizes and after release()", () => {
    const cell = cells.get("lnlstm")!;
    const run = (steps: number, seed: number) => {
      const rng = new Rng(seed);
      const params = cell.initParams(seed);
      const x = named(cell, cell.inputs, steps * B, rng);
      const trace = cell.forward(params, x, { T: steps, B });
      const grads = cell.createGrads();
      const back = cell.backward(params, trace, { outputs: named(cell, cell.outputs, steps * B, rng) }, grads);
      return JSON.stringify([trace.outputs, trace.final, back, grads].map((t) => Object.values(t).map((a) => Array.from(a as ArrayLike<number>))));
    };
    const fresh = [run(T, 1), run(T + 2, 2), run(T, 3)];
    for (let round = 0; round < 2; round++) expect([run(T, 1), run(T + 2, 2), run(T, 3)]).toEqual(fresh);
    cell.release();
    expect([run(T, 1), run(T + 2, 2), run(T, 3)]).toEqual(fresh);
  });

  it("the outputs and gradients a call returns are the caller's: later calls do not write them", () => {
    const cell = cells.get("lstm")!;
    const params = cell.initParams(4);
    const rng = new Rng(9);
    const x1 = named(cell, cell.inputs, T * B, rng), x2 = named(cell, cell.inputs, T * B, rng);
    const t1 = cell.forward(params, x1, { T, B });
    const b1 = cell.backward(params, t1, { outputs: { h: filled(cell, T * B * 16, rng) } }, cell.createGrads());
    const kept = JSON.stringify([t1.outputs, t1.final, b1.inputs, b1.initial].map((t) => Object.values(t).map((a) => Array.from(a))));
    const t2 = cell.forward(params, x2, { T, B });
    cell.backward(params, t2, {}, cell.createGrads());
    expect(JSON.stringify([t1.outputs, t1.final, b1.inputs, b1.initial].map((t) => Object.values(t).map((a) => Array.from(a))))).toBe(kept);
  });
});

describe("random cells", () => {
  const extents = fc.record({ T: fc.integer({ min: 1, max: 4 }), B: fc.integer({ min: 1, max: 5 }) });
  const CONFIGS = [[false, "inline"], [true, "runtime"], [true, "inline"]] as const;

  it("record: false gives the recording forward's bits; skipping input and initial gradients leaves the param gradients' bits (float64)", () => {
    fc.assert(
      fc.property(randomCells, extents, fc.integer({ min: 1, max: 1000 }), (source, { T, B }, seed) => {
        for (const [optimize, products] of CONFIGS) {
          const [compiled] = compileSource(source, { dtype: "f64", optimize, products, path: "random.cell" });
          const cell = instantiate(compiled!);
          const rng = new Rng(seed);
          const params = cell.initParams(seed);
          const x = named(cell, cell.inputs, T * B, rng);
          const initial = named(cell, cell.states, B, rng);
          const mask = Uint8Array.from({ length: T * B }, () => (rng.next() < 0.25 ? 0 : 1));
          const recorded = cell.forward(params, x, { T, B, initial, mask });
          const inferred = cell.forward(params, x, { T, B, initial, mask, record: false });
          expect(inferred.outputs, source).toEqual(recorded.outputs);
          expect(inferred.final, source).toEqual(recorded.final);
          const seeds = { outputs: named(cell, cell.outputs, T * B, rng), final: named(cell, cell.states, B, rng) };
          const all = cell.createGrads(), some = cell.createGrads();
          const full = cell.backward(params, recorded, seeds, all, { retain: true });
          const part = cell.backward(params, recorded, seeds, some, { inputGrads: false, initialGrads: false });
          expect(some, source).toEqual(all);
          expect(Object.keys(part)).toEqual([]);
          expect(Object.keys(full)).toEqual(["inputs", "initial"]);
        }
      }),
      { seed: propertySeed(43, "inference: random cells"), numRuns: 20 },
    );
  }, 300_000);
});

describe("every example cell", () => {
  const files = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).sort();
  const cellsOf = (file: string) => {
    const source = readFileSync(`examples/cells/${file}`, "utf8");
    return [...source.matchAll(/^\s*cell\s+([A-Za-z_]\w*)/gm)].map((m) => ({ source, name: m[1]! }));
  };
  const bits = (a: Real, b: Real) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  const within = (a: Real, b: Real) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= 1e-5 * (1 + Math.abs(b[i]!)));

  it.each(files)("%s: record: false and step give the recording forward's bits in float64; with float32 runtime products record: false does too, step within rounding", (file) => {
    for (const { source, name } of cellsOf(file)) {
      for (const dtype of ["f64", "f32"] as const) {
        const cell = compile(source, { dtype, cell: name });
        const rng = new Rng(11);
        const params = cell.initParams(5);
        const x = named(cell, cell.inputs, T * B, rng);
        const mask = Uint8Array.from({ length: T * B }, (_, k) => (k % 5 === 4 ? 0 : 1));
        for (const options of [{ T, B }, { T, B, mask }]) {
          const recorded = cell.forward(params, x, options);
          const inferred = cell.forward(params, x, { ...options, record: false });
          for (const out of cell.outputs) expect(bits(inferred.outputs[out.name]!, recorded.outputs[out.name]!), `${name} ${dtype} ${out.name}`).toBe(true);
          for (const s of cell.states) expect(bits(inferred.final[s.name]!, recorded.final[s.name]!), `${name} ${dtype} final ${s.name}`).toBe(true);
        }
        const recorded = cell.forward(params, x, { T, B });
        const state = cell.createState(B);
        for (let t = 0; t < T; t++) {
          const xt = Object.fromEntries(cell.inputs.map((s) => [s.name, x[s.name]!.subarray(t * B * s.size, (t + 1) * B * s.size)]));
          cell.step(params, xt, state);
          for (const out of cell.outputs) {
            const want = recorded.outputs[out.name]!.subarray(t * B * out.size, (t + 1) * B * out.size);
            const got = state.outputs[out.name]!;
            expect(dtype === "f64" ? bits(got, want) : within(got, want), `${name} ${dtype} step ${t} ${out.name}`).toBe(true);
          }
        }
      }
    }
  });
});
