/**
 * Data-parallel cells (`rnnc/parallel`): the batch split over worker threads gives the outputs,
 * final states and input and initial-state gradients of the cell itself bit for bit, and its
 * param gradients to 1e-12 in float64 (1e-5 in float32: the lanes' sums are added in another
 * order), for odd splits, with masks and initial states; the same lanes on the calling thread give
 * the workers' numbers bit for bit. Workers are Node threads over the built package (dist/), as a
 * user's program runs them.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackwardResult, BackwardSeeds, Cell, Real, Tensors, Trace } from "../src/runtime/types.js";
import { split } from "../src/parallel/protocol.js";

const DIST = new URL("../dist/src/", import.meta.url);
if (!existsSync(new URL("parallel/node.js", DIST))) throw new Error("dist/ is missing: run npm run build");
const { parallel } = (await import(new URL("parallel/node.js", DIST).href)) as typeof import("../src/parallel/node.js");
const { compile, emitModules, DataError } = (await import(new URL("index.js", DIST).href)) as typeof import("../src/index.js");
const { mulberry32, bumpParams } = (await import(new URL("runtime/index.js", DIST).href)) as typeof import("../src/runtime/index.js");
const { Adam, zeroGrads } = (await import(new URL("train/index.js", DIST).href)) as typeof import("../src/train/index.js");

const LSTM = readFileSync("examples/cells/lstm.cell", "utf8");
const GRU = readFileSync("examples/cells/gru.cell", "utf8");
const MLSTM = readFileSync("examples/cells/mlstm.cell", "utf8");
const SIZES = { I: 3, H: 5 };

let dir: string;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), "rnnc-parallel-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Seeded data for one call: inputs, initial states, a mask with sequences of different lengths, seeds. */
function data(cell: Cell, T: number, B: number, seed: number) {
  const random = mulberry32(seed);
  const Arr = cell.dtype === "f32" ? Float32Array : Float64Array;
  const draw = (n: number): Real => new Arr(n).map(() => 2 * random() - 1);
  const named = (specs: readonly { name: string; size: number }[], per: number): Tensors => Object.fromEntries(specs.map((s) => [s.name, draw(s.size * per)]));
  const lengths = Array.from({ length: B }, (_, b) => T - (b % T));
  const mask = new Uint8Array(T * B).map((_, n) => (Math.floor(n / B) < lengths[n % B]! ? 1 : 0));
  return {
    inputs: named(cell.inputs, T * B),
    initial: named(cell.states, B),
    mask,
    outputs: named(cell.outputs, T * B),
    final: named(cell.states, B),
  };
}

type Results = Map<string, Real>;

/** Everything one forward and backward leaves, by name; `masked` adds the mask. */
async function results(
  run: { forward: Cell["forward"] | ((...a: Parameters<Cell["forward"]>) => Promise<ReturnType<Cell["forward"]>>); backward: (params: Tensors, trace: Trace, seeds: BackwardSeeds, grads: Tensors) => unknown; createGrads(): Tensors },
  cell: Cell, params: Tensors, T: number, B: number, masked: boolean,
): Promise<{ forward: Results; backward: Results; grads: Results }> {
  const d = data(cell, T, B, 7 * B + T);
  const trace = await run.forward(params, d.inputs, masked ? { T, B, initial: d.initial, mask: d.mask } : { T, B, initial: d.initial });
  const grads = run.createGrads();
  // Grads start non-zero: backward adds to them.
  for (const g of Object.values(grads)) g.fill(0.25);
  const back = (await run.backward(params, trace, { outputs: d.outputs, final: d.final }, grads)) as BackwardResult;
  const forward: Results = new Map();
  cell.outputs.forEach((o) => forward.set(`outputs.${o.name}`, trace.outputs[o.name]!));
  cell.states.forEach((s) => forward.set(`final.${s.name}`, trace.final[s.name]!));
  const backward: Results = new Map();
  cell.inputs.forEach((x) => backward.set(`inputs.${x.name}`, back.inputs[x.name]!));
  cell.states.forEach((s) => backward.set(`initial.${s.name}`, back.initial[s.name]!));
  const gradsOut: Results = new Map(cell.params.map((p) => [p.name, grads[p.name]!]));
  return { forward, backward, grads: gradsOut };
}

function expectBits(a: Results, b: Results): void {
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [name, x] of a) {
    const y = b.get(name)!;
    const first = x.findIndex((v, i) => !Object.is(v, y[i]));
    expect(first, `${name}[${first}]: ${x[first]} vs ${y[first]}`).toBe(-1);
  }
}

function expectClose(a: Results, b: Results, tol: number): void {
  for (const [name, x] of a) {
    const y = b.get(name)!;
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / Math.max(1, Math.abs(x[i]!)));
    expect(worst, name).toBeLessThanOrEqual(tol);
  }
}

describe("split", () => {
  it("gives each lane consecutive rows, the first lanes one more, and no lane without rows", () => {
    expect(split(7, 2)).toEqual([{ b0: 0, b1: 4 }, { b0: 4, b1: 7 }]);
    expect(split(7, 3)).toEqual([{ b0: 0, b1: 3 }, { b0: 3, b1: 5 }, { b0: 5, b1: 7 }]);
    expect(split(1, 2)).toEqual([{ b0: 0, b1: 1 }]);
    expect(split(3, 8)).toEqual([{ b0: 0, b1: 1 }, { b0: 1, b1: 2 }, { b0: 2, b1: 3 }]);
  });
});

describe.each([
  ["f64", 1e-12],
  ["f32", 1e-5],
] as const)("a parallel LSTM (%s) against the cell itself", (dtype, tol) => {
  const options = { dtype, sizes: SIZES };
  const cell = compile(LSTM, options);
  let two: Awaited<ReturnType<typeof parallel>>;
  let three: Awaited<ReturnType<typeof parallel>>;
  let inProcess: Awaited<ReturnType<typeof parallel>>;
  beforeAll(async () => {
    [two, three, inProcess] = await Promise.all([
      parallel({ source: LSTM, options }, { threads: 2 }),
      parallel({ source: LSTM, options }, { threads: 3 }),
      parallel({ source: LSTM, options }, { threads: 2, workers: false }),
    ]);
  }, 120_000);
  afterAll(async () => void (await Promise.all([two?.close(), three?.close(), inProcess?.close()])));

  it("runs its lanes in workers, and says so", () => {
    expect([two.threads, two.workers, two.fallback]).toEqual([2, true, undefined]);
    expect([inProcess.threads, inProcess.workers, inProcess.fallback]).toEqual([2, false, "options.workers is false"]);
    expect(two.params).toEqual(cell.params);
    expect(two.initParams(4)).toEqual(cell.initParams(4));
    expect(two.initParams(4).Wf!.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  for (const B of [1, 3, 7])
    for (const masked of [false, true])
      it(`B = ${B}${masked ? ", masked" : ""}: outputs and input gradients bit for bit, param gradients to ${tol}`, async () => {
        const T = 4;
        const params = cell.initParams(B);
        const one = await results(cell, cell, params, T, B, masked);
        for (const par of [two, three]) {
          const got = await results(par, cell, params, T, B, masked);
          expectBits(one.forward, got.forward);
          expectBits(one.backward, got.backward);
          expectClose(one.grads, got.grads, tol);
        }
        // The lanes on this thread compute what the workers compute, to the bit.
        const workers = await results(two, cell, params, T, B, masked);
        const here = await results(inProcess, cell, params, T, B, masked);
        expectBits(workers.forward, here.forward);
        expectBits(workers.backward, here.backward);
        expectBits(workers.grads, here.grads);
      });

  it("reads params in shared memory in place and copies others, with the same numbers", async () => {
    const shared = two.initParams(2);
    const plain = cell.initParams(2);
    const a = await results(two, cell, shared, 3, 5, false);
    const b = await results(two, cell, plain, 3, 5, false);
    expectBits(a.forward, b.forward);
    expectBits(a.grads, b.grads);
  });

  it("adds the lanes' sums into shared grads in the workers and into others here, to the same bits", async () => {
    const params = cell.initParams(6);
    for (const par of [two, three]) {
      const shared = await results(par, cell, params, 3, 7, true);
      const plain = await results({ forward: par.forward, backward: par.backward, createGrads: () => cell.createGrads() }, cell, params, 3, 7, true);
      expect(par.createGrads().Wf!.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(cell.createGrads().Wf!.buffer).not.toBeInstanceOf(SharedArrayBuffer);
      expectBits(shared.grads, plain.grads);
    }
  });

  it("gives the same numbers on every run, whichever worker finishes first", async () => {
    const params = cell.initParams(9);
    const first = await results(two, cell, params, 5, 7, true);
    for (let k = 0; k < 3; k++) {
      const again = await results(two, cell, params, 5, 7, true);
      expectBits(first.grads, again.grads);
      expectBits(first.backward, again.backward);
    }
  });
});

describe("inference and into", () => {
  const T = 4, B = 7;
  for (const dtype of ["f32", "f64"] as const)
    for (const workers of [true, false])
      it(`record: false and into give the cell's numbers bit for bit, in the caller's arrays (${dtype}, ${workers ? "workers" : "one thread"})`, async () => {
        const options = { dtype, sizes: SIZES };
        const cell = compile(LSTM, options);
        const par = await parallel({ source: LSTM, options }, { threads: 2, workers });
        try {
          const params = cell.initParams(3);
          const d = data(cell, T, B, 11);
          const expected = cell.forward(params, d.inputs, { T, B, initial: d.initial, mask: d.mask, record: false });
          const grads = cell.createGrads();
          const back = cell.backward(params, cell.forward(params, d.inputs, { T, B, initial: d.initial, mask: d.mask }), { outputs: d.outputs, final: d.final }, grads);
          const Arr = dtype === "f32" ? Float32Array : Float64Array;
          const noise = (specs: readonly { name: string; size: number }[], per: number): Tensors => Object.fromEntries(specs.map((s) => [s.name, new Arr(s.size * per).fill(-7)]));
          const plain = { forward: { outputs: noise(cell.outputs, T * B), final: noise(cell.states, B) }, backward: { inputs: noise(cell.inputs, T * B), initial: noise(cell.states, B) } };
          const made = par.createInto(T, B);
          expect(made.forward.outputs["h"]!.buffer instanceof SharedArrayBuffer).toBe(workers);
          for (const into of [plain, made, plain]) {
            // Inference: the lanes keep no trace, and the results are the caller's arrays.
            const inferred = await par.forward(params, d.inputs, { T, B, initial: d.initial, mask: d.mask, record: false, into: into.forward });
            expect(inferred.tapeBytes).toBe(0);
            for (const o of cell.outputs) expect(inferred.outputs[o.name]).toBe(into.forward.outputs[o.name]);
            for (const s of cell.states) expect(inferred.final[s.name]).toBe(into.forward.final[s.name]);
            expectBits(named(cell, expected), named(cell, inferred));
            await expect(par.backward(params, inferred, {}, par.createGrads())).rejects.toThrow(new DataError("trace: forward ran with { record: false } and kept no tape; call forward without it to backpropagate"));
            await par.release(inferred); // nothing to free: resolves
            // A recording forward and its backward, into the caller's arrays.
            for (const a of [...Object.values(into.forward.outputs), ...Object.values(into.forward.final)]) a.fill(-7);
            const trace = await par.forward(params, d.inputs, { T, B, initial: d.initial, mask: d.mask, into: into.forward });
            expect(trace.outputs["h"]).toBe(into.forward.outputs["h"]);
            expectBits(named(cell, expected), named(cell, trace));
            const parGrads = par.createGrads();
            const result = await par.backward(params, trace, { outputs: d.outputs, final: d.final }, parGrads, { into: into.backward });
            for (const x of cell.inputs) expect(result.inputs[x.name]).toBe(into.backward.inputs[x.name]);
            for (const s of cell.states) expect(result.initial[s.name]).toBe(into.backward.initial[s.name]);
            expectBits(gradients(cell, back), gradients(cell, result));
            expectClose(new Map(cell.params.map((p) => [p.name, grads[p.name]!])), new Map(cell.params.map((p) => [p.name, parGrads[p.name]!])), dtype === "f32" ? 1e-5 : 1e-12);
          }
          // A state carried over in place: into.final may be the initial state's own array, into.initial the final-state seed's.
          const carried = made.forward.final;
          for (const s of cell.states) carried[s.name]!.set(d.initial[s.name]!);
          const inPlace = await par.forward(params, d.inputs, { T, B, initial: carried, mask: d.mask, record: false, into: { final: carried } });
          expect(inPlace.final["c"]).toBe(carried["c"]);
          expectBits(named(cell, expected), named(cell, inPlace));
        } finally {
          await par.close();
        }
      });

  /** A trace's outputs and final states, by name. */
  function named(cell: Cell, trace: Trace): Results {
    return new Map([...cell.outputs.map((o) => [`outputs.${o.name}`, trace.outputs[o.name]!] as const), ...cell.states.map((s) => [`final.${s.name}`, trace.final[s.name]!] as const)]);
  }
  function gradients(cell: Cell, r: BackwardResult): Results {
    return new Map([...cell.inputs.map((x) => [`inputs.${x.name}`, r.inputs[x.name]!] as const), ...cell.states.map((s) => [`initial.${s.name}`, r.initial[s.name]!] as const)]);
  }

  it("checks record and into as the cell does: the same DataError, naming the field", async () => {
    const options = { dtype: "f32" as const, sizes: SIZES };
    const cell = compile(LSTM, options);
    const par = await parallel({ source: LSTM, options }, { threads: 2 });
    try {
      const params = par.initParams(0);
      const x = new Float32Array(2 * 3 * 3);
      const h = () => new Float32Array(2 * 3 * 5);
      const shared = new Float32Array(40);
      const init = new Float32Array(15);
      const message = (run: () => unknown): string => {
        try {
          run();
        } catch (e) {
          return (e as Error).message;
        }
        throw new Error("expected an error");
      };
      const bad: unknown[] = [
        { record: "no" },
        { into: 5 },
        { into: { inputs: { x: new Float32Array(18) } } },
        { into: { outputs: { h: new Float64Array(30) } } },
        { into: { outputs: { h: new Float32Array(29) } } },
        { into: { outputs: { hh: h() } } },
        { into: { outputs: { h: x } } },
        { into: { outputs: { h: shared.subarray(0, 30) }, final: { h: shared.subarray(25, 40) } } },
        { initial: { h: init }, into: { final: { c: init } } },
        { initial: { h: init }, into: { final: { h: init.subarray(1) } } },
      ];
      for (const extra of bad) {
        const opts = { T: 2, B: 3, ...(extra as object) } as never;
        const expected = message(() => cell.forward(params, { x }, opts));
        expect(expected).toMatch(/^options\./u);
        await expect(par.forward(params, { x }, opts)).rejects.toThrow(new DataError(expected));
      }
      const trace = await par.forward(params, { x }, { T: 2, B: 3 });
      const cellTrace = cell.forward(params, { x }, { T: 2, B: 3 });
      const seed = h();
      const backBad: unknown[] = [
        { into: { outputs: { h: h() } } },
        { into: { inputs: { x: new Float32Array(17) } } },
        { into: { inputs: { x } } },
        { into: { initial: { h: seed } } },
        { into: { initial: { h: seed.subarray(0, 15) } } },
        { into: { inputs: { x: seed.subarray(0, 18) } } },
      ];
      for (const opts of backBad) {
        const expected = message(() => cell.backward(params, cellTrace, { outputs: { h: seed } }, cell.createGrads(), opts as never));
        expect(expected).toMatch(/^options\./u);
        await expect(par.backward(params, trace, { outputs: { h: seed } }, par.createGrads(), opts as never)).rejects.toThrow(new DataError(expected));
      }
      // The trace is still there after the refused calls.
      await par.backward(params, trace, { outputs: { h: seed } }, par.createGrads(), { into: { inputs: { x: new Float32Array(18) } } });
    } finally {
      await par.close();
    }
  });
});

describe("training with a parallel cell", () => {
  it("Adam on params in shared memory, updated in place, follows the one-thread run", async () => {
    const options = { dtype: "f64" as const, sizes: SIZES };
    const cell = compile(LSTM, options);
    const par = await parallel({ source: LSTM, options }, { threads: 2 });
    const T = 3, B = 5;
    const d = data(cell, T, B, 11);
    const train = async (run: { forward: Function; backward: Function }, params: Tensors, grads: Tensors): Promise<number[]> => {
      const adam = new Adam({ lr: 0.05 });
      const group = { name: "lstm", params, grads, shapes: Object.fromEntries(cell.params.map((p) => [p.name, p.shape])) };
      const losses: number[] = [];
      for (let k = 0; k < 5; k++) {
        zeroGrads([group]);
        const trace = await run.forward(params, d.inputs, { T, B, initial: d.initial, mask: d.mask });
        const h = trace.outputs.h as Real;
        losses.push(Array.from(h).reduce((a, v) => a + v * v, 0) / 2);
        await run.backward(params, trace, { outputs: { h } }, grads);
        adam.step([group]);
      }
      return losses;
    };
    const oneParams = cell.initParams(3);
    const twoParams = par.initParams(3);
    const one = await train(cell, oneParams, cell.createGrads());
    const two = await train(par, twoParams, par.createGrads());
    // The lanes restack the weights after each optimizer step (it bumps the params' version), as
    // a cell that restacks at every call (params without a version) does.
    const untracked = { forward: (p: Tensors, ...rest: unknown[]) => (cell.forward as Function)({ ...p }, ...rest), backward: (p: Tensors, ...rest: unknown[]) => (cell.backward as Function)({ ...p }, ...rest) };
    const truth = await train(untracked, cell.initParams(3), cell.createGrads());
    expect(two[4]).toBeLessThan(two[0]!);
    two.forEach((loss, k) => expect(Math.abs(loss - one[k]!)).toBeLessThanOrEqual(1e-10 * Math.abs(one[k]!)));
    two.forEach((loss, k) => expect(Math.abs(loss - truth[k]!)).toBeLessThanOrEqual(1e-10 * Math.abs(truth[k]!)));
    for (const p of cell.params) {
      const worst = Math.max(...Array.from(oneParams[p.name]!, (v, i) => Math.abs(v - twoParams[p.name]![i]!)));
      expect(worst, p.name).toBeLessThanOrEqual(1e-10);
    }
    expect(twoParams["Wf"]!.buffer).toBeInstanceOf(SharedArrayBuffer);
    await par.close();
  });
});

describe("params versions in the lanes", () => {
  const options = { dtype: "f64" as const, sizes: SIZES };
  const cell = compile(LSTM, options);
  const forwardOf = async (run: { forward: Function }, params: Tensors): Promise<Results> => {
    // Two lanes of 3 rows: lanes on one thread share the cell, which lays out its workspace (and
    // restacks) again for another (T, B).
    const d = data(cell, 3, 6, 21);
    const trace = (await run.forward(params, d.inputs, { T: 3, B: 6, initial: d.initial })) as Trace;
    return new Map(cell.outputs.map((o) => [o.name, trace.outputs[o.name]!]));
  };

  for (const workers of [true, false])
    it(`restack the weights when the params change, and only then, as the cell does (${workers ? "workers" : "one thread"})`, async () => {
      const par = await parallel({ source: LSTM, options }, { threads: 2, workers });
      const params = par.initParams(5);
      const own = compile(LSTM, options);
      const other = compile(LSTM, options);
      // A params object without a version: stacked again at every call.
      const fresh = () => forwardOf(other, { ...params });
      expectBits(await forwardOf(own, params), await forwardOf(par, params));
      // Written without telling the cell: both keep the weights they stacked, so both differ from a
      // cell that stacks them now (the write is seen), and agree with each other to the bit.
      params["Wf"]!.forEach((v, i, a) => (a[i] = 2 * v));
      const stale = await forwardOf(own, params);
      expect([...stale.get("h")!]).not.toEqual([...(await fresh()).get("h")!]);
      expectBits(stale, await forwardOf(par, params));
      // Told (an optimizer or loadParams does this), both restack and see the write.
      par.paramsChanged(params);
      expectBits(await fresh(), await forwardOf(own, params));
      expectBits(await fresh(), await forwardOf(par, params));
      // Another params object is another generation too, with or without a version.
      const copy: Tensors = { ...params, Wf: params["Wf"]!.map((v) => v / 2) };
      expectBits(await forwardOf(other, { ...copy }), await forwardOf(par, copy));
      bumpParams(copy);
      expectBits(await forwardOf(other, { ...copy }), await forwardOf(par, copy));
      await par.close();
    });
});

describe("arrays the lanes reuse", () => {
  it("are a trace's until its backward: forwards of several sizes, then their backwards in reverse, give the cell's numbers", async () => {
    const options = { dtype: "f64" as const };
    const cell = compile(MLSTM, options);
    const par = await parallel({ source: MLSTM, options }, { threads: 2 });
    const params = cell.initParams(3);
    const shapes = [[3, 5], [3, 5], [2, 5], [3, 4]] as const;
    const calls = shapes.map(([T, B], k) => ({ T, B, d: data(cell, T, B, 31 + k) }));
    const forwards = async (run: { forward: Function }) => {
      const traces: Trace[] = [];
      for (const { T, B, d } of calls) traces.push(await run.forward(params, d.inputs, { T, B, initial: d.initial, mask: d.mask }));
      return traces;
    };
    const [mine, theirs] = [await forwards(cell), await forwards(par)];
    // Every array a call returned stays the caller's: the later calls (of the same sizes too) change none.
    const returned: [Results, Results][] = [];
    for (let k = calls.length - 1; k >= 0; k--) {
      const { d } = calls[k]!;
      const seeds = { outputs: d.outputs, final: d.final };
      const [g1, g2] = [cell.createGrads(), par.createGrads()];
      const one = cell.backward(params, mine[k]!, seeds, g1);
      const two = await par.backward(params, theirs[k]!, seeds, g2);
      const named = (r: BackwardResult, t: Trace): Results =>
        new Map([...Object.entries(t.outputs), ...Object.entries(t.final), ...Object.entries(r.inputs), ...Object.entries(r.initial)].map(([n, a], i) => [`${i} ${n}`, a as Real]));
      expectBits(named(one, mine[k]!), named(two, theirs[k]!));
      expectClose(new Map(Object.entries(g1)), new Map(Object.entries(g2)), 1e-12);
      returned.push([named(one, mine[k]!), named(two, theirs[k]!)]);
    }
    for (const [one, two] of returned) expectBits(one, two);
    await par.close();
  });
});

describe("released traces", () => {
  it("give their tape back to the cell (runtime/cell.ts DONE), once: the next forward records into it, the one after into new memory", async () => {
    const { DONE } = (await import(new URL("runtime/cell.js", DIST).href)) as typeof import("../src/runtime/cell.js");
    const cell = compile(LSTM, { dtype: "f64", sizes: SIZES });
    const done = (cell as unknown as Record<symbol, (t: Trace) => void>)[DONE]!;
    const params = cell.initParams(1);
    const d = data(cell, 3, 2, 5);
    const other = data(cell, 3, 2, 6);
    const forward = (inputs = d.inputs) => cell.forward(params, inputs, { T: 3, B: 2, initial: d.initial });
    const backward = (t: Trace) => {
      const grads = cell.createGrads();
      const r = cell.backward(params, t, { outputs: d.outputs, final: d.final }, grads, { retain: true });
      return new Map<string, Real>([...Object.entries(grads), ...Object.entries(r.inputs), ...Object.entries(r.initial)]);
    };
    const first = forward();
    const second = forward();
    done(first);
    done(first);
    const third = forward();
    const fourth = forward(other.inputs);
    expect(() => backward(first)).toThrow(/^trace: its tape went back to the cell/u);
    // Had the tape been given twice, the fourth forward (other inputs) would have recorded over the third's.
    expectBits(backward(second), backward(third));
    expectBits(backward(cell.forward(params, other.inputs, { T: 3, B: 2, initial: d.initial })), backward(fourth));
  });

  it("leave a parallel cell's numbers as the cell's: released forwards, then a forward and its backward", async () => {
    const options = { dtype: "f64" as const, sizes: SIZES };
    const cell = compile(LSTM, options);
    const params = cell.initParams(2);
    for (const workers of [true, false]) {
      const par = await parallel({ source: LSTM, options }, { threads: 2, workers });
      for (let k = 0; k < 3; k++) {
        const d = data(cell, 4, 3, 40 + k);
        await par.release(await par.forward(params, d.inputs, { T: 4, B: 3, initial: d.initial, mask: d.mask }));
      }
      expectBits((await results(par, cell, params, 4, 3, true)).backward, (await results(cell, cell, params, 4, 3, true)).backward);
      expectBits((await results(par, cell, params, 4, 3, true)).forward, (await results(cell, cell, params, 4, 3, true)).forward);
      await par.close();
    }
  });
});

describe("timeline", () => {
  it("times each call in every thread, in order, when asked", async () => {
    const options = { dtype: "f64" as const, sizes: SIZES };
    for (const workers of [true, false]) {
      const par = await parallel({ source: LSTM, options }, { threads: 2, workers, timeline: true });
      const params = par.initParams(1);
      const trace = await par.forward(params, { x: new Float64Array(2 * 3 * 3) }, { T: 2, B: 3 });
      await par.backward(params, trace, { outputs: { h: new Float64Array(2 * 3 * 5).fill(1) } }, par.createGrads());
      const calls = par.timeline();
      expect(calls.map((c) => c.op)).toEqual(["forward", "backward"]);
      expect(par.timeline()).toEqual([]);
      for (const call of calls) {
        expect(call.lanes).toHaveLength(2);
        expect(call.cpu).toBeGreaterThanOrEqual(0);
        for (const lane of call.lanes) {
          const marks = lane.timing!.marks;
          // Workers add the lanes' sums into the caller's shared grads themselves, after waiting for each other.
          const summed = workers && call.op === "backward" ? ["wait", "sum"] : [];
          expect(marks.map((m) => m.phase)).toEqual(["start", "gather", "cell", "scatter", ...summed, "end"]);
          // In order within a thread; between threads, to their clocks' agreement (well under 1 ms).
          const times = [lane.timing!.received, ...marks.map((m) => m.at)];
          times.forEach((t, k) => k > 0 && expect(t, `mark ${k}`).toBeGreaterThanOrEqual(times[k - 1]!));
          expect(lane.post).toBeGreaterThanOrEqual(call.start);
          expect(lane.timing!.received).toBeGreaterThan(lane.post - 1);
          expect(lane.reply).toBeGreaterThan(marks.at(-1)!.at - 1);
          expect(call.end).toBeGreaterThanOrEqual(lane.reply);
          // Up to date at each mark (Linux; a thread's count alone lags by up to a scheduler tick,
          // and phases this short then read the same CPU time): each mark's reading takes some.
          if (existsSync("/proc/thread-self/schedstat")) marks.forEach((m, k) => k > 0 && expect(m.cpu! - marks[k - 1]!.cpu!, m.phase).toBeGreaterThan(0));
          else marks.forEach((m, k) => k > 0 && expect(m.cpu! - marks[k - 1]!.cpu!).toBeGreaterThanOrEqual(0));
        }
      }
      await par.close();
    }
  });

  it.runIf(existsSync("/proc/thread-self/schedstat"))("reads this thread's CPU time up to date, not as of the last scheduler tick", async () => {
    const { threadCpu } = (await import(new URL("parallel/cpu-node.js", DIST).href)) as typeof import("../src/parallel/cpu-node.js");
    const readings = Array.from({ length: 50 }, () => threadCpu()!);
    // A tick comes every 1–10 ms; 50 readings take well under one, and each reading costs CPU time.
    readings.forEach((r, k) => k > 0 && expect(r, `reading ${k}`).toBeGreaterThan(readings[k - 1]!));
  });
});

describe("a parallel cell from an emitted module", () => {
  it("loads the module's cell in each worker (a path or a URL) and matches compile()", async () => {
    const runtime = new URL("runtime/index.js", DIST).href;
    const emitted = await emitModules(GRU, { sizes: SIZES, dtype: "f64", lang: "js", runtime });
    const path = join(dir, "gru.js");
    writeFileSync(path, emitted.modules[0]!.code);
    const cell = compile(GRU, { sizes: SIZES, dtype: "f64" });
    const params = cell.initParams(1);
    const one = await results(cell, cell, params, 3, 5, true);
    for (const module of [path, pathToFileURL(path)]) {
      const par = await parallel({ module }, { threads: 2 });
      const got = await results(par, cell, params, 3, 5, true);
      expectBits(one.forward, got.forward);
      expectBits(one.backward, got.backward);
      expectClose(one.grads, got.grads, 1e-12);
      await par.close();
    }
  });
});

describe("errors", () => {
  const options = { dtype: "f64" as const, sizes: SIZES };
  /** A module whose cell is the LSTM's, with `forward` replaced in worker threads only. */
  const faulty = (name: string, body: string): string => {
    const path = join(dir, `${name}.js`);
    writeFileSync(path, `
      import { isMainThread } from "node:worker_threads";
      const { compile } = await import(${JSON.stringify(new URL("index.js", DIST).href)});
      const base = compile(${JSON.stringify(LSTM)}, ${JSON.stringify(options)});
      export const cell = isMainThread ? base : { ...base, forward() { ${body} } };`);
    return path;
  };

  it("bad data is the cell's own DataError, naming the field, before any worker runs", async () => {
    const par = await parallel({ source: LSTM, options }, { threads: 2 });
    const params = par.initParams(0);
    const x = new Float64Array(2 * 3 * 3);
    await expect(par.forward(params, { x: new Float64Array(5) }, { T: 2, B: 3 })).rejects.toThrow(new DataError("inputs.x: expected 18 numbers, got 5"));
    await expect(par.forward(params, { x, y: x }, { T: 2, B: 3 })).rejects.toThrow(/^inputs\.y: unknown name; .*expected x/u);
    await expect(par.forward(params, { x }, { T: 2, B: 3, initial: { c: new Float64Array(2) } })).rejects.toThrow("initial.c: expected 15 numbers, got 2");
    await expect(par.forward(params, { x }, { T: 2, B: 0 })).rejects.toThrow("B: expected a positive integer, got 0");
    await expect(par.backward(params, cell0Trace(), {}, par.createGrads())).rejects.toThrow(/^trace: not a trace returned by this parallel cell's forward/u);
    // The cell still works after the errors.
    const trace = await par.forward(params, { x }, { T: 2, B: 3 });
    expect(trace.outputs["h"]!.length).toBe(2 * 3 * 5);
    // A trace serves one backward (the workers free its tape), or none after release().
    await par.backward(params, trace, {}, par.createGrads());
    await expect(par.backward(params, trace, {}, par.createGrads())).rejects.toThrow(/^trace: already used by a backward or released/u);
    const unused = await par.forward(params, { x }, { T: 2, B: 3 });
    await par.release(unused);
    await expect(par.backward(params, unused, {}, par.createGrads())).rejects.toThrow(/^trace: already used by a backward or released/u);
    await expect(par.release(unused)).rejects.toThrow(/^trace: already used/u);
    await par.close();
    await expect(par.forward(params, { x }, { T: 2, B: 3 })).rejects.toThrow("parallel cell: closed");
  });
  const cell0Trace = () => {
    const cell = compile(LSTM, options);
    return cell.forward(cell.initParams(0), { x: new Float64Array(3) }, { T: 1, B: 1 });
  };

  it("an exception in a worker is raised in the caller, naming the worker", async () => {
    const par = await parallel({ module: faulty("throws", 'throw new RangeError("no such row");') }, { threads: 2 });
    await expect(par.forward(par.initParams(0), { x: new Float64Array(3 * 2) }, { T: 1, B: 2 })).rejects.toThrow("rnnc parallel: worker 0 failed: RangeError: no such row");
    await par.close();
  });

  it("a worker that dies fails the call, and every later one, instead of hanging", async () => {
    const par = await parallel({ module: faulty("exits", "process.exit(3);") }, { threads: 2 });
    const call = () => par.forward(par.initParams(0), { x: new Float64Array(3 * 2) }, { T: 1, B: 2 });
    await expect(call()).rejects.toThrow(/^rnnc parallel: worker [01] stopped: it exited with code 3$/u);
    await expect(call()).rejects.toThrow(/stopped: it exited with code 3/u);
    await par.close();
  });

  it("a cell that does not load is an error from parallel(): the compiler's, or the worker's", async () => {
    await expect(parallel({ source: "cell broken { state h[H] }" }, { threads: 2 })).rejects.toThrow(/error/u);
    const path = join(dir, "loads-on-main-only.js");
    writeFileSync(path, `
      import { isMainThread } from "node:worker_threads";
      if (!isMainThread) throw new Error("no kernels in this thread");
      const { compile } = await import(${JSON.stringify(new URL("index.js", DIST).href)});
      export const cell = compile(${JSON.stringify(LSTM)});`);
    await expect(parallel({ module: path }, { threads: 2 })).rejects.toThrow(/^rnnc parallel: worker 0 could not load the cell: .*no kernels in this thread/u);
    await expect(parallel({ module: join(dir, "missing.js") }, { threads: 2 })).rejects.toThrow(/missing\.js/u);
    await expect(parallel({ module: join(dir, "throws.js"), export: "kernel" }, { threads: 2 })).rejects.toThrow(/exports no cell 'kernel'/u);
    await expect(parallel({ source: LSTM }, { threads: 0 })).rejects.toThrow("options.threads: expected a positive integer, got 0");
    await expect(parallel({ source: LSTM }, { thread: 2 } as never)).rejects.toThrow(/^options\.thread: unknown option/u);
  });
});

describe("the process", () => {
  it("exits when the program is done, with or without close()", () => {
    for (const close of [true, false]) {
      const script = `
        const { parallel } = await import(${JSON.stringify(new URL("parallel/node.js", DIST).href)});
        const par = await parallel({ source: ${JSON.stringify(LSTM)}, options: { dtype: "f64" } }, { threads: 2 });
        const params = par.initParams(1);
        const trace = await par.forward(params, { x: new Float64Array(2 * 3 * 8) }, { T: 2, B: 3 });
        await par.backward(params, trace, { outputs: { h: new Float64Array(2 * 3 * 16).fill(1) } }, par.createGrads());
        ${close ? "await par.close();" : ""}
        console.log("done", trace.outputs.h.length);`;
      const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
      expect(run.error, "the process did not exit").toBeUndefined();
      expect(run.stderr).toBe("");
      expect([run.status, run.stdout.trim()]).toEqual([0, "done 96"]);
    }
  });

  it("starts its workers under V8's and the process's own options, which Node refuses a worker", () => {
    // Node throws ERR_WORKER_INVALID_EXEC_ARGV for these in a worker's execArgv (V8 applies them to every thread anyway).
    const script = `
      const { parallel } = await import(${JSON.stringify(new URL("parallel/node.js", DIST).href)});
      const par = await parallel({ source: ${JSON.stringify(LSTM)}, options: { dtype: "f64" } }, { threads: 2 });
      const again = await parallel({ source: ${JSON.stringify(LSTM)}, options: { dtype: "f64" } }, { threads: 2 });
      const trace = await par.forward(par.initParams(1), { x: new Float64Array(2 * 3 * 8) }, { T: 2, B: 3 });
      await again.forward(again.initParams(1), { x: new Float64Array(2 * 3 * 8) }, { T: 2, B: 3, record: false });
      await par.close(), await again.close();
      console.log("done", par.workers, typeof gc, trace.outputs.h.length);`;
    const flags = ["--max-old-space-size=512", "--expose-gc", "--stack-trace-limit=20", "--input-type=module"];
    const run = spawnSync(process.execPath, [...flags, "-e", script], { encoding: "utf8", timeout: 60_000 });
    expect(run.stderr).toBe("");
    expect([run.status, run.stdout.trim()]).toEqual([0, "done true function 96"]);
  });
});
