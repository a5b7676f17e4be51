/**
 * An output the caller gives no gradient: the backward reads it as one chunk's rows of zeros, the
 * same rows at every step (`outputGradRows`, the kernel's `GYrows`), instead of a T·B array of
 * zeros. The gradients are the bits an explicit array of zeros gives — float32 and float64, with
 * and without passes, masks, chunk edges, an output read in the deferred phase (relu_rnn's `y`,
 * whose gradient goes into products) — and the backward makes no T·B array for such an output.
 */
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import { compile, type Cell, type Tensors } from "../src/index.js";
import { CHUNK_ROWS, chunkSteps, outputGradRows } from "../src/runtime/abi.js";
import { Rng } from "../src/train/init.js";

const sizes = { I: 3, H: 4 };
const CELLS = ["lstm", "gru", "relu_rnn"] as const;
// (T, B) crossing chunk edges, as tests/chunks.test.ts: one step; chunks of 3, 3, 1 steps; a chunk
// of one step of more rows than a chunk aims at; a full chunk, then a short one.
const CASES: readonly (readonly [number, number])[] = [[1, 1], [7, 100], [2, CHUNK_ROWS + 1], [CHUNK_ROWS / 2 + 3, 2]];

const cells = new Map<string, Cell>();
beforeAll(() => {
  for (const name of CELLS) {
    const source = readFileSync(`examples/cells/${name}.cell`, "utf8");
    for (const dtype of ["f32", "f64"] as const) {
      cells.set(`${name} ${dtype}`, compile(source, { sizes, dtype }));
      cells.set(`${name} ${dtype} unoptimized`, compile(source, { sizes, dtype, optimize: false }));
    }
    cells.set(`${name} f32 inline products`, compile(source, { sizes, dtype: "f32", products: "inline" }));
  }
});
const variants = CELLS.flatMap((c) => [`${c} f32`, `${c} f32 unoptimized`, `${c} f32 inline products`, `${c} f64`, `${c} f64 unoptimized`]);

const arrayOf = (cell: Cell, n: number) => (cell.dtype === "f32" ? new Float32Array(n) : new Float64Array(n));
const filled = (cell: Cell, n: number, rng: Rng) => {
  const a = arrayOf(cell, n);
  for (let k = 0; k < n; k++) a[k] = rng.uniform(-1, 1);
  return a;
};
const tensors = (cell: Cell, specs: readonly { name: string; size: number }[], rows: number, rng: Rng): Tensors =>
  Object.fromEntries(specs.map((s) => [s.name, filled(cell, rows * s.size, rng)]));
/** Every byte of every array, in order: equal bits, −0 and NaN payloads included. */
const bits = (t: Tensors) => Object.entries(t).map(([k, a]) => [k, Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))]);

/**
 * The gradients of one train step whose output seeds are `given` (the rest left out, or passed as
 * explicit zeros when `zerosFor` is true), on data from `seed`.
 */
function gradients(cell: Cell, T: number, B: number, mask: Uint8Array | undefined, given: ReadonlySet<string>, zerosFor: boolean) {
  const rng = new Rng(17);
  const params = cell.initParams(5);
  const inputs = tensors(cell, cell.inputs, T * B, rng);
  const initial = tensors(cell, cell.states, B, rng);
  const all = tensors(cell, cell.outputs, T * B, rng);
  const final = tensors(cell, cell.states, B, rng);
  const outputs: Tensors = {};
  for (const o of cell.outputs) {
    if (given.has(o.name)) outputs[o.name] = all[o.name]!;
    else if (zerosFor) outputs[o.name] = arrayOf(cell, T * B * o.size);
  }
  const trace = cell.forward(params, inputs, { T, B, initial, ...(mask ? { mask } : {}) });
  const grads = cell.createGrads();
  const back = cell.backward(params, trace, { outputs, final }, grads);
  return { grads: bits(grads), inputs: bits(back.inputs!), initial: bits(back.initial!) };
}

/** Every subset of the cell's outputs but all of them: the outputs given a gradient. */
const subsets = (cell: Cell): Set<string>[] => {
  const names = cell.outputs.map((o) => o.name);
  const out: Set<string>[] = [];
  for (let m = 0; m < (1 << names.length) - 1; m++) out.push(new Set(names.filter((_, k) => m & (1 << k))));
  return out;
};

describe("an output given no gradient", () => {
  it("is read as one chunk's rows of zeros, the same at every step; a given one advances B rows a step", () => {
    expect(outputGradRows(true, 64, 32)).toEqual({ rows: 64 * 32, perStep: 32 });
    expect(outputGradRows(false, 64, 32)).toEqual({ rows: chunkSteps(64, 32) * 32, perStep: 0 });
    expect(outputGradRows(false, 3, CHUNK_ROWS + 1)).toEqual({ rows: CHUNK_ROWS + 1, perStep: 0 });
  });

  it.each(variants)("%s: the same bits as explicit zeros, at chunk edges, with and without a mask", (name) => {
    const cell = cells.get(name)!;
    for (const [T, B] of CASES) {
      for (const masked of [false, true]) {
        const mask = masked ? Uint8Array.from({ length: T * B }, (_, k) => ((k * 7) % 5 === 0 ? 0 : 1)) : undefined;
        for (const given of subsets(cell)) {
          const what = `T = ${T}, B = ${B}, ${masked ? "masked" : "no mask"}, given: ${[...given].join(", ") || "none"}`;
          const want = gradients(cell, T, B, mask, given, true);
          const got = gradients(cell, T, B, mask, given, false);
          expect(got.grads, what).toEqual(want.grads);
          expect(got.inputs, what).toEqual(want.inputs);
          expect(got.initial, what).toEqual(want.initial);
        }
      }
    }
  });

  it("with no output gradients at all (`seeds.outputs` left out), the same bits as explicit zeros", () => {
    for (const name of ["lstm f32", "gru f64", "relu_rnn f32"]) {
      const cell = cells.get(name)!;
      const [T, B] = [7, 100];
      const rng = new Rng(3);
      const params = cell.initParams(1);
      const inputs = tensors(cell, cell.inputs, T * B, rng);
      const final = tensors(cell, cell.states, B, rng);
      const zeros = Object.fromEntries(cell.outputs.map((o) => [o.name, arrayOf(cell, T * B * o.size)]));
      const run = (seeds: object) => {
        const grads = cell.createGrads();
        const back = cell.backward(params, cell.forward(params, inputs, { T, B }), seeds, grads);
        return [bits(grads), bits(back.inputs!), bits(back.initial!)];
      };
      expect(run({ final }), name).toEqual(run({ outputs: zeros, final }));
    }
  });

  it("makes no T·B array in the backward", () => {
    // Arrays of kilobytes: off the V8 heap, counted in arrayBuffers.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    for (const [name, given] of [["lstm", "h"], ["gru", null]] as const) {
      const source = readFileSync(`examples/cells/${name}.cell`, "utf8");
      for (const dtype of ["f32", "f64"] as const) {
        // A cell of its own: the backward's first call at this (T, B) makes whatever it makes.
        const cell = compile(source, { sizes: { I: 8, H: 16 }, dtype });
        const T = 256, B = 8;
        const oneArray = T * B * 16 * (dtype === "f32" ? 4 : 8);
        const rng = new Rng(2);
        const params = cell.initParams(1);
        const inputs = tensors(cell, cell.inputs, T * B, rng);
        const outputs: Tensors = given ? { [given]: filled(cell, T * B * 16, rng) } : {};
        const seeds = { outputs, final: tensors(cell, cell.states, B, rng) };
        const grads = cell.createGrads();
        const into = { inputs: tensors(cell, cell.inputs, T * B, rng), initial: tensors(cell, cell.states, B, rng) };
        for (const mask of [undefined, Uint8Array.from({ length: T * B }, (_, k) => (k % 3 === 0 ? 0 : 1))]) {
          const trace = cell.forward(params, inputs, { T, B, ...(mask ? { mask } : {}) });
          gc();
          const before = process.memoryUsage().arrayBuffers;
          cell.backward(params, trace, seeds, grads, { into });
          const made = process.memoryUsage().arrayBuffers - before;
          // With a mask, a given output's gradient is copied once with the padding zeroed.
          const copies = mask && given ? 1 : 0;
          expect(made, `${name} ${dtype} ${mask ? "masked" : "no mask"}`).toBeLessThan((copies + 0.5) * oneArray);
        }
      }
    }
  });
});
