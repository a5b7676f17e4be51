/**
 * One lane of a parallel cell: the compiled cell run on rows `[b0, b1)` of the batch. A worker
 * runs one lane; where there are no workers, the calling thread runs every lane in turn, with the
 * same code and so the same numbers. A lane copies its rows out of the whole-batch arrays, calls
 * the cell's own `forward` and `backward`, and copies its rows of the results back.
 */
import { DataError } from "../runtime/errors.js";
import type { Cell, Real, TensorSpec, Trace } from "../runtime/types.js";
import type { BackwardTask, ForwardTask, PortableSource } from "./protocol.js";

/** Loads the cell of `source`: imports an emitted module, or compiles `.cell` source in this thread. */
export async function loadCell(source: PortableSource): Promise<Cell> {
  if ("source" in source) {
    const { compile } = await import("../index.js");
    return compile(source.source, source.options ?? {});
  }
  const name = source.export ?? "cell";
  const module = (await import(source.module)) as Record<string, unknown>;
  const cell = module[name] ?? (source.export === undefined ? module["default"] : undefined);
  if (!isCell(cell)) throw new DataError(`module: ${source.module} exports no cell '${name}' (an emitted module exports 'cell')`);
  return cell;
}

const isCell = (v: unknown): v is Cell =>
  typeof v === "object" && v !== null && ["forward", "backward", "createParams"].every((k) => typeof (v as Record<string, unknown>)[k] === "function");

/** Rows `[b0, b1)` of every step of a `[T][B][n]` array (T = 1 for `[B][n]`), as a new array. */
export function gather<A extends Real | Uint8Array>(from: A, T: number, B: number, n: number, b0: number, b1: number): A {
  const rows = b1 - b0;
  const out = new (from.constructor as new (length: number) => A)(T * rows * n);
  for (let t = 0; t < T; t++) out.set(from.subarray((t * B + b0) * n, (t * B + b1) * n), t * rows * n);
  return out;
}

/** Writes `from` (`[T][b1 - b0][n]`) into rows `[b0, b1)` of `to` (`[T][B][n]`). */
export function scatter(from: Real, to: Real, T: number, B: number, n: number, b0: number): void {
  const rows = from.length / (T * n);
  for (let t = 0; t < T; t++) to.set(from.subarray(t * rows * n, (t + 1) * rows * n), (t * B + b0) * n);
}

const named = (specs: readonly TensorSpec[], arrays: readonly (Real | null)[]): Record<string, Real> => {
  const out: Record<string, Real> = {};
  specs.forEach((s, k) => {
    const a = arrays[k];
    if (a) out[s.name] = a;
  });
  return out;
};

interface Kept {
  readonly trace: Trace;
  readonly T: number;
  readonly B: number;
  readonly b0: number;
  readonly b1: number;
}

/** Runs forward and backward tasks on `cell`, keeping each trace until its backward or drop. */
export class Lane {
  private readonly traces = new Map<number, Kept>();

  constructor(readonly cell: Cell) {}

  forward(task: ForwardTask): number {
    const { cell } = this;
    const { T, B, b0, b1 } = task;
    const rows = b1 - b0;
    const inputs = named(cell.inputs, task.inputs.map((x, k) => gather(x, T, B, cell.inputs[k]!.size, b0, b1)));
    const initial = named(cell.states, task.initial.map((s, k) => s && gather(s, 1, B, cell.states[k]!.size, b0, b1)));
    const mask = task.mask ? gather(task.mask, T, B, 1, b0, b1) : undefined;
    const trace = cell.forward(named(cell.params, task.params), inputs, mask ? { T, B: rows, initial, mask } : { T, B: rows, initial });
    cell.outputs.forEach((o, k) => scatter(trace.outputs[o.name]!, task.outputs[k]!, T, B, o.size, b0));
    cell.states.forEach((s, k) => scatter(trace.final[s.name]!, task.final[k]!, 1, B, s.size, b0));
    this.traces.set(task.trace, { trace, T, B, b0, b1 });
    return trace.tapeBytes;
  }

  backward(task: BackwardTask): void {
    const { cell } = this;
    const kept = this.traces.get(task.trace);
    if (!kept) throw new DataError("trace: this lane holds no such trace (was it made by this parallel cell's forward?)");
    const { T, B, b0, b1 } = kept;
    const outputs = named(cell.outputs, task.outputGrads.map((g, k) => g && gather(g, T, B, cell.outputs[k]!.size, b0, b1)));
    const final = named(cell.states, task.finalGrads.map((g, k) => g && gather(g, 1, B, cell.states[k]!.size, b0, b1)));
    task.grads.forEach((g) => g.fill(0));
    const result = cell.backward(named(cell.params, task.params), kept.trace, { outputs, final }, named(cell.params, task.grads));
    cell.inputs.forEach((x, k) => scatter(result.inputs[x.name]!, task.inputGrads[k]!, T, B, x.size, b0));
    cell.states.forEach((s, k) => scatter(result.initial[s.name]!, task.initialGrads[k]!, 1, B, s.size, b0));
    // A trace serves one backward: its tape is freed now, not when the caller's trace is collected.
    this.traces.delete(task.trace);
  }

  drop(trace: number): void {
    this.traces.delete(trace);
  }
}
