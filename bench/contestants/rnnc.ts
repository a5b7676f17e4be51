/**
 * rnnc itself, compiled in-process with `compile(source, options)` from the package's index:
 * with all passes, with passes off, and with all passes but products inline (JavaScript only), float32.
 * The cells are examples/cells/lstm.cell (SPEC §1's LSTM) and examples/cells/gru.cell.
 * - train: zero the grads, `forward` over T steps for the batch, `backward` with dLoss/dh = 1 at
 *   every step (loss = sum of the first output), accumulating every param grad and returning input
 *   grads. Outputs, final states, input and initial-state gradients go into arrays made once in
 *   prepare (the `into` option), as a training loop that reuses its buffers has them.
 * - forward: `forward` only, for inference (`record: false`: no tape, as PyTorch's forward runs
 *   under `inference_mode` and ONNX Runtime's and TF.js's record nothing), its outputs and final
 *   states going `into` arrays made once in prepare.  - step: `step` on a state from `createState(B)`.
 * If the package does not export `compile` yet, the contestant reports itself unavailable.
 */

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Cell, Real } from "../../src/runtime/types.js";
import type { DType, ProductsMode } from "../../src/runtime/abi.js";
import { Unavailable, type Contestant, type Prepared } from "../harness.js";
import { inputData, PARAM_SEED, type Workload } from "../workloads.js";

export interface CompileOptions {
  sizes?: Record<string, number>;
  dtype?: DType;
  cell?: string;
  optimize?: boolean;
  products?: ProductsMode;
}
export type Compile = (source: string, options?: CompileOptions) => Cell;

const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository root: the nearest folder above with rnnc's package.json. */
export function repoRoot(): string {
  for (let dir = here; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "rnnc") return dir;
    if (path.dirname(dir) === dir) throw new Error("cannot find rnnc's package.json above " + here);
  }
}

let compileFn: Promise<Compile> | null = null;

/** `compile` from the compiled package index next to this bench (dist/src/index.js). */
export function loadCompile(): Promise<Compile> {
  compileFn ??= (async () => {
    const index = path.resolve(here, "..", "..", "src", "index.js");
    let mod: { compile?: unknown };
    try {
      mod = (await import(pathToFileURL(index).href)) as { compile?: unknown };
    } catch (e) {
      const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
      throw new Unavailable(`rnnc: compile() not available (${why})`);
    }
    if (typeof mod.compile !== "function") throw new Unavailable("rnnc: compile() not available (src/index.ts does not export it)");
    return mod.compile as Compile;
  })();
  return compileFn;
}

export function cellSource(kind: string): { source: string; name: string } {
  const file = path.join(repoRoot(), "examples", "cells", `${kind}.cell`);
  if (!existsSync(file)) throw new Unavailable(`rnnc: ${path.relative(repoRoot(), file)} not found`);
  const source = readFileSync(file, "utf8");
  const names = [...source.matchAll(/^\s*cell\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]);
  return { source, name: names.includes(kind) ? kind : names[0] ?? kind };
}

/** Compiles the workload's cell at its sizes. */
export async function compileCell(w: Workload, optimize: boolean, products: ProductsMode = "runtime"): Promise<{ cell: Cell; ms: number }> {
  const compile = await loadCompile();
  const { source, name } = cellSource(w.cell);
  const t0 = process.hrtime.bigint();
  const cell = compile(source, { sizes: { I: w.I, H: w.H }, dtype: "f32", cell: name, optimize, products });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const input = cell.inputs[0];
  if (cell.inputs.length !== 1 || input.size !== w.I) throw new Error(`${name}: expected one input of size ${w.I}`);
  return { cell, ms };
}

function prepareCell(cell: Cell, w: Workload): Prepared {
  const params = cell.initParams(PARAM_SEED);
  const inputs = { [cell.inputs[0].name]: inputData(w) };
  if (w.kind === "step") {
    const state = cell.createState(w.B);
    return { run: () => cell.step(params, inputs, state) };
  }
  let tapeBytes = 0;
  const info = () => ({ tapeBytesPerStep: tapeBytes / (w.T * w.B) });
  const opts = { T: w.T, B: w.B };
  // Results go into arrays made once, as a program that reuses its buffers would (`into`);
  // written here, as the data are, so the memory children count them with the caller's data.
  const arrays = (specs: readonly { name: string; size: number }[], rows: number) => Object.fromEntries(specs.map((s) => [s.name, new Float32Array(rows * s.size).fill(1)]));
  const forwardOpts = { ...opts, into: { outputs: arrays(cell.outputs, w.T * w.B), final: arrays(cell.states, w.B) } };
  if (w.kind === "forward") {
    const inferOpts = { ...forwardOpts, record: false };
    return { run: () => void cell.forward(params, inputs, inferOpts) };
  }
  const out = cell.outputs[0];
  const seeds = { outputs: { [out.name]: new Float32Array(w.T * w.B * out.size).fill(1) } };
  const grads = cell.createGrads();
  const gradList: Real[] = Object.values(grads);
  const backwardOpts = { into: { inputs: arrays(cell.inputs, w.T * w.B), initial: arrays(cell.states, w.B) } };
  return {
    run: () => {
      for (const g of gradList) g.fill(0);
      const trace = cell.forward(params, inputs, forwardOpts);
      tapeBytes = trace.tapeBytes;
      cell.backward(params, trace, seeds, grads, backwardOpts);
    },
    info,
  };
}

/**
 * rnnc with all passes, with passes off, or with all passes and products inline (the module's
 * own tiled JavaScript loops instead of the runtime's WebAssembly SIMD products).
 */
export function rnncContestant(optimize: boolean, products: ProductsMode = "runtime"): Contestant {
  const inline = products === "inline";
  return {
    id: inline ? "rnnc-js" : optimize ? "rnnc" : "rnnc-O0",
    label: inline ? "rnnc, JS products" : optimize ? "rnnc" : "rnnc, passes off",
    unsupported: () => null,
    async prepare(w: Workload): Promise<Prepared> {
      const { cell, ms } = await compileCell(w, optimize, products);
      const p = prepareCell(cell, w);
      const info = p.info;
      return { ...p, info: () => ({ ...(info?.() ?? {}), compileMs: ms }) };
    },
  };
}

/** What `rnnc-2t` drives: `rnnc/parallel`'s cell split over worker threads by batch (issue 10
 *  item 6). Its forward and backward return promises; `close()` ends the workers. */
interface ParallelCell {
  readonly inputs: readonly { readonly name: string }[];
  readonly outputs: readonly { readonly name: string; readonly size: number }[];
  readonly workers: boolean;
  readonly fallback: string | undefined;
  initParams(seed?: number): Record<string, Real>;
  createGrads(): Record<string, Real>;
  createInto(T: number, B: number): { forward: Into; backward: Into };
  forward(params: Record<string, Real>, inputs: Record<string, Real>, opts: { T: number; B: number; record?: boolean; into?: Into }): Promise<unknown>;
  backward(params: Record<string, Real>, trace: unknown, seeds: unknown, grads: Record<string, Real>, opts?: { into?: Into }): Promise<unknown>;
  close(): Promise<void>;
}
type Into = Record<string, Record<string, Real>>;
type Parallel = (source: { source: string; options: CompileOptions }, options: { threads: number }) => Promise<ParallelCell>;

/** `parallel` of the package's `rnnc/parallel` (Node build), or why there is none. */
async function loadParallel(): Promise<Parallel> {
  const file = path.resolve(here, "..", "..", "src", "parallel", "node.js");
  if (!existsSync(file)) throw new Unavailable("rnnc-2t: rnnc/parallel not built (no src/parallel/node.ts)");
  const mod = (await import(pathToFileURL(file).href)) as { parallel?: unknown };
  if (typeof mod.parallel !== "function") throw new Unavailable("rnnc-2t: rnnc/parallel exports no parallel()");
  return mod.parallel as Parallel;
}

/**
 * rnnc with all passes, each batch split over `threads` worker threads (`rnnc/parallel`), driven
 * as the one-thread contestant drives its cell: the same kind of input and seed arrays (plain,
 * which the parallel cell stages in shared memory), reused at every call, and params from the
 * parallel cell's own `initParams` (shared, with a version), as a user's program would have them.
 * Forward = `record: false` (no lane keeps a tape), train = forward and backward, each with its
 * results `into` arrays made once in prepare by the parallel cell's `createInto` (shared: the
 * lanes write them in place), as the one-thread contestant's go into arrays made once.
 */
export function rnncThreaded(threads: number): Contestant {
  return {
    id: `rnnc-${threads}t`,
    label: `rnnc, ${threads} threads`,
    unsupported: (w) => (w.kind === "step" ? `rnnc-${threads}t: B = 1, nothing to split` : null),
    async prepare(w: Workload): Promise<Prepared> {
      const parallel = await loadParallel();
      const { source, name } = cellSource(w.cell);
      const par = await parallel({ source, options: { sizes: { I: w.I, H: w.H }, dtype: "f32", cell: name, optimize: true } }, { threads });
      if (!par.workers) {
        await par.close();
        throw new Unavailable(`rnnc-${threads}t: no worker threads (${par.fallback ?? "unknown reason"})`);
      }
      const params = par.initParams(PARAM_SEED);
      const inputs = { [par.inputs[0].name]: inputData(w) };
      const into = par.createInto(w.T, w.B);
      for (const group of [into.forward, into.backward]) for (const arrays of Object.values(group)) for (const a of Object.values(arrays)) a.fill(1);
      const forwardOpts = { T: w.T, B: w.B, into: into.forward };
      const inferOpts = { ...forwardOpts, record: false };
      const backwardOpts = { into: into.backward };
      const out = par.outputs[0];
      const seeds = { outputs: { [out.name]: new Float32Array(w.T * w.B * out.size).fill(1) } };
      const grads = par.createGrads();
      const gradList: Real[] = Object.values(grads);
      const once = async (): Promise<void> => {
        if (w.kind === "forward") return void (await par.forward(params, inputs, inferOpts));
        for (const g of gradList) g.fill(0);
        const trace = await par.forward(params, inputs, forwardOpts);
        await par.backward(params, trace, seeds, grads, backwardOpts);
      };
      return {
        async sample(reps) {
          const t0 = process.hrtime.bigint();
          for (let k = 0; k < reps; k++) await once();
          return Number(process.hrtime.bigint() - t0) / 1e9 / reps;
        },
        dispose: () => void par.close(),
      };
    },
  };
}
