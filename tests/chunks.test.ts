/**
 * The time loop in chunks of steps: values hoisted out of the recurrence and the backward's
 * deferred gradient work run `chunkSteps(T, B)` steps at a time (about `CHUNK_ROWS` rows), in
 * workspace buffers of one chunk's rows. Every edge of the chunking — T = 1, a chunk of one step
 * (B ≥ CHUNK_ROWS), a last chunk shorter than the others, masks, inference, both product modes —
 * gives what the unoptimized build (no hoisting, no deferral, no chunks) gives: forward bits
 * in float64, gradients to 1e-12 (Exactness in the README).
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { compile, type Cell, type Tensors } from "../src/index.js";
import { CHUNK_ROWS, chunkSteps } from "../src/runtime/abi.js";
import { Rng } from "../src/train/init.js";

const sizes = { I: 3, H: 4 };
// (T, B) crossing chunk edges: steps per chunk in the comment.
const CASES: readonly (readonly [number, number])[] = [
  [1, 1], // one step, one chunk
  [7, 100], // 3 steps per chunk: 3, 3, 1
  [2, CHUNK_ROWS + 1], // a chunk of one step, of more rows than a chunk aims at
  [CHUNK_ROWS / 2 + 3, 2], // a full chunk of 128 steps, then one of 3
];

const filled = (n: number, rng: Rng) => Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
const tensors = (specs: readonly { name: string; size: number }[], rows: number, rng: Rng): Tensors =>
  Object.fromEntries(specs.map((s) => [s.name, filled(rows * s.size, rng)]));

/** Outputs, final states and every gradient of one train step, and the outputs without a record. */
function run(cell: Cell, T: number, B: number, seed: number, masked: boolean) {
  const rng = new Rng(seed);
  const params = cell.initParams(seed);
  const inputs = tensors(cell.inputs, T * B, rng);
  const initial = tensors(cell.states, B, rng);
  const mask = masked ? Uint8Array.from({ length: T * B }, (_, k) => ((k * 7) % 5 === 0 ? 0 : 1)) : undefined;
  const seeds = { outputs: tensors(cell.outputs, T * B, rng), final: tensors(cell.states, B, rng) };
  const opts = { T, B, initial, ...(mask ? { mask } : {}) };
  const trace = cell.forward(params, inputs, opts);
  const inferred = cell.forward(params, inputs, { ...opts, record: false });
  const grads = cell.createGrads();
  const back = cell.backward(params, trace, seeds, grads);
  return { outputs: trace.outputs, final: trace.final, inferred: inferred.outputs, inferredFinal: inferred.final, grads, inputs: back.inputs!, initial: back.initial! };
}

function expectClose(got: Tensors, want: Tensors, what: string): void {
  for (const [name, w] of Object.entries(want)) {
    const g = got[name]!;
    let worst = 0;
    for (let k = 0; k < w.length; k++) worst = Math.max(worst, Math.abs(g[k]! - w[k]!) / Math.max(1, Math.abs(w[k]!)));
    expect(worst, `${what} ${name}`).toBeLessThanOrEqual(1e-12);
  }
}

describe("chunks of steps", () => {
  it("chunkSteps is about CHUNK_ROWS rows, at least one step, at most T", () => {
    expect(chunkSteps(1, 1)).toBe(1);
    expect(chunkSteps(32, 1)).toBe(32);
    expect(chunkSteps(1000, 1)).toBe(CHUNK_ROWS);
    expect(chunkSteps(64, 32)).toBe(CHUNK_ROWS / 32);
    expect(chunkSteps(7, 100)).toBe(3);
    expect(chunkSteps(5, CHUNK_ROWS)).toBe(1);
    expect(chunkSteps(5, 10 * CHUNK_ROWS)).toBe(1);
    // The cases below do cross chunk edges.
    expect(CASES.filter(([T, B]) => chunkSteps(T, B) < T && T % chunkSteps(T, B) !== 0).length).toBe(2);
  });

  const pairs = new Map<string, { chunked: Cell; reference: Cell }>();
  const CELLS = ["lstm", "mingru", "gru"] as const;
  const VARIANTS = [...CELLS, "lstm inline"];
  beforeAll(() => {
    for (const name of CELLS) {
      const source = readFileSync(`examples/cells/${name}.cell`, "utf8");
      pairs.set(name, { chunked: compile(source, { dtype: "f64", sizes }), reference: compile(source, { dtype: "f64", sizes, optimize: false }) });
      if (name === "lstm") pairs.set(`${name} inline`, { chunked: compile(source, { dtype: "f64", sizes, products: "inline" }), reference: compile(source, { dtype: "f64", sizes, optimize: false, products: "inline" }) });
    }
  });

  for (const variant of VARIANTS) {
    {
      it(`${variant}: forward bits, inference bits and gradients to 1e-12 at every chunk edge`, () => {
        const { chunked, reference } = pairs.get(variant)!;
        CASES.forEach(([T, B], k) => {
          for (const masked of k % 2 === 0 ? [false] : [false, true]) {
            const got = run(chunked, T, B, 10 + k, masked);
            const want = run(reference, T, B, 10 + k, masked);
            const at = `T=${T} B=${B}${masked ? " masked" : ""}`;
            expect(got.outputs, `${at} outputs`).toEqual(want.outputs);
            expect(got.final, `${at} final`).toEqual(want.final);
            expect(got.inferred, `${at} inferred`).toEqual(want.outputs);
            expect(got.inferredFinal, `${at} inferred final`).toEqual(want.final);
            expectClose(got.grads, want.grads, `${at} param grad`);
            expectClose(got.inputs, want.inputs, `${at} input grad`);
            expectClose(got.initial, want.initial, `${at} initial grad`);
          }
        });
      });
    }
  }

  it("the kernels take steps per chunk as the runtime sizes their buffers (chunkSteps)", () => {
    const lstm = readFileSync("generated/lstm.ts", "utf8");
    const rule = `const chunk = Math.min(T, Math.ceil(${CHUNK_ROWS} / B));`;
    for (const kernel of ["forward", "backward", "infer"]) {
      const start = lstm.indexOf(`function ${kernel}(`);
      expect(lstm.slice(start, lstm.indexOf("\n}\n", start)), kernel).toContain(rule);
    }
    for (const [T, B] of CASES) expect(chunkSteps(T, B)).toBe(Math.min(T, Math.ceil(CHUNK_ROWS / B)));
  });

  it("the optimized LSTM's hoisted and deferred buffers hold one chunk's rows", () => {
    const { chunked } = pairs.get("lstm")!;
    const kinds = chunked.workspace.filter((w) => w.rows === "chunk");
    expect(kinds.map((w) => w.kernel).sort()).toEqual(["backward", "forward"]);
    expect(chunked.workspace.some((w) => w.rows === "TB")).toBe(false);
  });

  it("a trace recorded before the workspace grows backpropagates as a fresh cell's", () => {
    const source = readFileSync("examples/cells/lstm.cell", "utf8");
    const cell = compile(source, { dtype: "f64", sizes });
    const fresh = compile(source, { dtype: "f64", sizes });
    const rng = new Rng(5);
    const params = cell.initParams(5);
    const small = { x: filled(4 * 2 * sizes.I, rng) };
    const seeds = { outputs: { h: filled(4 * 2 * sizes.H, rng) } };
    const early = cell.forward(params, small, { T: 4, B: 2 });
    // A larger call lays the workspace out again (its memory grows) before the early trace's backward.
    const big = cell.forward(params, { x: filled(20 * 300 * sizes.I, rng) }, { T: 20, B: 300 });
    cell.backward(params, big, { outputs: { h: filled(20 * 300 * sizes.H, rng) } }, cell.createGrads());
    const got = cell.createGrads(), want = fresh.createGrads();
    const a = cell.backward(params, early, seeds, got);
    const b = fresh.backward(params, fresh.forward(params, small, { T: 4, B: 2 }), seeds, want);
    expect(got).toEqual(want);
    expect(a).toEqual(b);
  });
});
