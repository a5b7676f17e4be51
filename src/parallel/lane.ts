/**
 * One lane of a parallel cell: the compiled cell run on rows `[b0, b1)` of the batch. A worker
 * runs one lane; where there are no workers, the calling thread runs every lane in turn, with the
 * same code and so the same numbers. A lane copies its rows out of the whole-batch arrays, calls
 * the cell's own `forward` and `backward`, and copies its rows of the results back: the rows of a
 * `[T][B][n]` array are not contiguous, and the kernels take whole arrays. The lane's own arrays
 * (row copies, the cell's outputs and input gradients) are reused from call to call.
 */
import { DataError } from "../runtime/errors.js";
import { bumpParams, trackParams } from "../runtime/params.js";
import { DONE, INTO } from "../runtime/cell.js";
import type { Cell, Real, TensorSpec, Tensors, Trace } from "../runtime/types.js";
import { clock, type BackwardTask, type DropTask, type ForwardTask, type Mark, type PortableSource, type Reply, type SumTask } from "./protocol.js";

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

type Buffer = Real | Uint8Array;

/**
 * Arrays a lane uses again from call to call, by type and length: fresh memory costs a page
 * fault per page on first touch, which at s3's sizes is as much as the copies themselves.
 */
export class Scratch {
  private readonly free = new Map<string, Buffer[]>();
  private static key = (a: { constructor: { name: string } }, n: number) => `${a.constructor.name} ${n}`;

  take<A extends Buffer>(like: A, n: number): A {
    return (this.free.get(Scratch.key(like, n))?.pop() as A | undefined) ?? new (like.constructor as new (length: number) => A)(n);
  }

  give(arrays: readonly (Buffer | null | undefined)[]): void {
    for (const a of arrays) {
      if (!a) continue;
      const key = Scratch.key(a, a.length);
      const list = this.free.get(key);
      if (list) list.push(a);
      else this.free.set(key, [a]);
    }
  }
}

/** Rows `[b0, b1)` of every step of a `[T][B][n]` array (T = 1 for `[B][n]`), in an array from `scratch` (or a new one). */
export function gather<A extends Buffer>(from: A, T: number, B: number, n: number, b0: number, b1: number, scratch?: Scratch): A {
  const rows = b1 - b0;
  const out = scratch ? scratch.take(from, T * rows * n) : new (from.constructor as new (length: number) => A)(T * rows * n);
  for (let t = 0; t < T; t++) out.set(from.subarray((t * B + b0) * n, (t * B + b1) * n), t * rows * n);
  return out;
}

/** Writes `from` (`[T][b1 - b0][n]`) into rows `[b0, b1)` of `to` (`[T][B][n]`). */
export function scatter(from: Real, to: Real, T: number, B: number, n: number, b0: number): void {
  const rows = from.length / (T * n);
  for (let t = 0; t < T; t++) to.set(from.subarray(t * rows * n, (t + 1) * rows * n), (t * B + b0) * n);
}

/**
 * Adds `lanes[0][i]`, `lanes[1][i]`, … into `into[i]` for `i` in `[i0, i1)`, in lane order, rounding
 * after each addition (float32: `Math.fround`) as `into[i] += lanes[k][i]` lane after lane would:
 * the same bits whoever adds which range. One pass over `into` instead of one per lane.
 */
export function addLanes(into: Real, lanes: readonly Real[], i0: number, i1: number): void {
  if (into instanceof Float32Array && lanes.length === 2) {
    const a = lanes[0]!, b = lanes[1]!;
    for (let i = i0; i < i1; i++) into[i] = Math.fround(into[i]! + a[i]!) + b[i]!;
  } else if (into instanceof Float32Array) {
    for (let i = i0; i < i1; i++) {
      let s = into[i]!;
      for (let k = 0; k < lanes.length; k++) s = Math.fround(s + lanes[k]![i]!);
      into[i] = s;
    }
  } else {
    for (let i = i0; i < i1; i++) {
      let s = into[i]!;
      for (let k = 0; k < lanes.length; k++) s += lanes[k]![i]!;
      into[i] = s;
    }
  }
}

/** Lane `k`'s share `[i0, i1)` of `n` elements split over `lanes` lanes. */
export const share = (n: number, k: number, lanes: number): [number, number] => [Math.floor((n * k) / lanes), Math.floor((n * (k + 1)) / lanes)];

const named = (specs: readonly TensorSpec[], arrays: readonly (Real | null)[]): Record<string, Real> => {
  const out: Record<string, Real> = {};
  specs.forEach((s, k) => {
    const a = arrays[k];
    if (a) out[s.name] = a;
  });
  return out;
};

/** Options giving a cell call arrays to write its results into (runtime/cell.ts `INTO`; a runtime without it makes new ones). */
const into = (arrays: readonly Real[]): object => ({ [INTO]: arrays });

interface Kept {
  readonly trace: Trace;
  /** The lane's copies of its rows of the inputs and mask, which the cell's trace reads in its backward. */
  readonly held: readonly (Buffer | undefined)[];
  readonly T: number;
  readonly B: number;
  readonly b0: number;
  readonly b1: number;
}

/**
 * The params object a lane calls its cell with. A task brings the params arrays only when they
 * are not the ones it brought before (arrays crossing to a worker arrive as new objects every
 * time), and always their generation: the object is kept while both stay the same, so the cell
 * keeps the weights it stacked; a new generation bumps its version (runtime/params.ts).
 */
export class LaneParams {
  private tensors: Tensors | undefined;
  private arrays: readonly Real[] = [];
  private generation = -1;

  constructor(private readonly cell: Cell) {}

  of(task: ForwardTask | BackwardTask): Tensors {
    const P = task.params;
    if (P && !(P.length === this.arrays.length && P.every((a, k) => a === this.arrays[k]))) {
      this.tensors = trackParams(named(this.cell.params, P));
      this.arrays = P;
      this.generation = task.generation;
    }
    if (!this.tensors) throw new Error("internal error: a task without params before any with them");
    if (this.generation !== task.generation) {
      bumpParams(this.tensors);
      this.generation = task.generation;
    }
    return this.tensors;
  }
}

/** Runs forward and backward tasks on `cell`, keeping each trace until its backward or drop. */
export class Lane {
  private readonly traces = new Map<number, Kept>();
  private readonly scratch = new Scratch();
  /** The marks of the running task, when it asked for timing. */
  marks: Mark[] | undefined;

  /**
   * `cpu` reads the thread's CPU time in ms, where the platform can (for timed tasks); lanes that
   * share a cell (on the calling thread) share its `params` too.
   */
  constructor(
    readonly cell: Cell,
    private readonly cpu?: () => number | undefined,
    readonly params: LaneParams = new LaneParams(cell),
  ) {}

  mark(phase: string): void {
    if (!this.marks) return;
    const cpu = this.cpu?.();
    this.marks.push(cpu === undefined ? { phase, at: clock() } : { phase, at: clock(), cpu });
  }

  forward(task: ForwardTask): number {
    const { cell } = this;
    const params = this.params.of(task); // first: a task's params arrays are taken even if it fails
    const { T, B, b0, b1, record } = task;
    const rows = b1 - b0;
    const X = task.inputs.map((x, k) => gather(x, T, B, cell.inputs[k]!.size, b0, b1, this.scratch));
    const S = task.initial.map((s, k) => s && gather(s, 1, B, cell.states[k]!.size, b0, b1, this.scratch));
    const mask = task.mask ? gather(task.mask, T, B, 1, b0, b1, this.scratch) : undefined;
    const initial = named(cell.states, S);
    // The cell writes its outputs into arrays of the lane's (which a trace keeps until the
    // backward), and an inference its final states too (a recording copies them out of its history).
    const Y = task.outputs.map((y, k) => this.scratch.take(y, T * rows * cell.outputs[k]!.size));
    const F = record ? [] : task.final.map((f, k) => this.scratch.take(f, rows * cell.states[k]!.size));
    this.mark("gather");
    let trace: Trace;
    try {
      const options = { T, B: rows, initial, ...(mask ? { mask } : {}) };
      trace = record
        ? cell.forward(params, named(cell.inputs, X), { ...options, ...into(Y) })
        : cell.forward(params, named(cell.inputs, X), { ...options, record: false, into: { outputs: named(cell.outputs, Y), final: named(cell.states, F) } });
    } catch (e) {
      this.scratch.give([...X, mask, ...Y, ...F]);
      throw e;
    } finally {
      this.scratch.give(S); // copied into the state history, or into F
    }
    this.mark("cell");
    cell.outputs.forEach((o, k) => scatter(trace.outputs[o.name]!, task.outputs[k]!, T, B, o.size, b0));
    cell.states.forEach((s, k) => scatter(trace.final[s.name]!, task.final[k]!, 1, B, s.size, b0));
    this.mark("scatter");
    if (record) this.traces.set(task.trace, { trace, held: [...X, mask, ...Y], T, B, b0, b1 });
    else this.scratch.give([...X, mask, ...Y, ...F]);
    return trace.tapeBytes;
  }

  /** The backward of the lane's rows, then, with `task.sum`, its share of adding every lane's sums into the caller's. */
  backward(task: BackwardTask): void {
    let done = false;
    try {
      this.backwardRows(task);
      done = true;
    } finally {
      if (task.sum) this.sum(task.sum, done);
    }
  }

  /**
   * Waits until every lane's backward is done or failed (`done`: this one's), then, if none
   * failed, adds every lane's sums into this lane's share of the caller's param gradients.
   * A failed lane still arrives, so no lane waits for ever; then no lane adds anything.
   */
  private sum(task: SumTask, done: boolean): void {
    const { barrier, lanes } = task;
    if (!done) Atomics.add(barrier, 1, 1);
    const arrived = Atomics.add(barrier, 0, 1) + 1;
    if (arrived === lanes.length) Atomics.notify(barrier, 0);
    else for (let n = arrived; n < lanes.length; n = Atomics.load(barrier, 0)) Atomics.wait(barrier, 0, n);
    this.mark("wait");
    if (!done || Atomics.load(barrier, 1) > 0) return;
    task.grads.forEach((g, p) => addLanes(g, lanes.map((l) => l[p]!), ...share(g.length, task.lane, lanes.length)));
    this.mark("sum");
  }

  private backwardRows(task: BackwardTask): void {
    const { cell } = this;
    const params = this.params.of(task);
    const kept = this.traces.get(task.trace);
    if (!kept) throw new DataError("trace: this lane holds no such trace (was it made by this parallel cell's forward?)");
    const { T, B, b0, b1 } = kept;
    const GY = task.outputGrads.map((g, k) => g && gather(g, T, B, cell.outputs[k]!.size, b0, b1, this.scratch));
    const GS = task.finalGrads.map((g, k) => g && gather(g, 1, B, cell.states[k]!.size, b0, b1, this.scratch));
    const GX = task.inputGrads.map((g, k) => this.scratch.take(g, T * (b1 - b0) * cell.inputs[k]!.size));
    task.grads.forEach((g) => g.fill(0));
    this.mark("gather");
    try {
      const seeds = { outputs: named(cell.outputs, GY), final: named(cell.states, GS) };
      const result = cell.backward(params, kept.trace, seeds, named(cell.params, task.grads), into(GX));
      this.mark("cell");
      cell.inputs.forEach((x, k) => scatter(result.inputs[x.name]!, task.inputGrads[k]!, T, B, x.size, b0));
      cell.states.forEach((s, k) => scatter(result.initial[s.name]!, task.initialGrads[k]!, 1, B, s.size, b0));
      this.mark("scatter");
    } finally {
      this.scratch.give([...GY, ...GS, ...GX]);
      // A trace serves one backward: its tape is freed now, not when the caller's trace is collected.
      this.drop(task.trace);
    }
  }

  /**
   * Forgets a trace: its row copies go back to the lane's scratch, and its history and tape to the
   * cell (for a trace no backward read, runtime/cell.ts `DONE`): the next forward records into
   * them instead of new memory, whose first touch costs a page fault a page.
   */
  drop(trace: number): void {
    const kept = this.traces.get(trace);
    this.traces.delete(trace);
    if (!kept) return;
    (this.cell as { [DONE]?: (trace: Trace) => void })[DONE]?.(kept.trace);
    this.scratch.give(kept.held);
  }
}

/** A task's failure as its reply: the error's name and message, to be raised in the calling thread. */
export function failure(id: number, e: unknown): Reply {
  const error = e instanceof Error ? e : new Error(String(e));
  return { id, ok: false, name: error.name, message: error.message };
}

/**
 * Runs a forward, backward or drop task on `lane` and gives its reply (the error it met, if it
 * failed); timed when the task asks, `received` being when its message arrived.
 */
export function answer(lane: Lane, task: ForwardTask | BackwardTask | DropTask, received: number): Reply {
  const timed = task.op !== "drop" && task.timing === true;
  if (timed) (lane.marks = []), lane.mark("start");
  try {
    let reply: Reply = { id: task.id, ok: true };
    if (task.op === "forward") reply = { id: task.id, ok: true, tapeBytes: lane.forward(task) };
    else if (task.op === "backward") lane.backward(task);
    else lane.drop(task.trace);
    if (!timed) return reply;
    lane.mark("end");
    return { ...reply, timing: { received, marks: lane.marks! } };
  } catch (e) {
    return failure(task.id, e);
  } finally {
    lane.marks = undefined;
  }
}
