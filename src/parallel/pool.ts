/**
 * The calling thread's side of a parallel cell: it checks every call as the cell itself does,
 * puts the data in shared memory (once; arrays already shared are used in place), hands each
 * lane its rows of the batch, and adds the lanes' param gradients into the caller's in lane
 * order. Calls run one at a time, in the order they are made.
 *
 * Where a platform has no workers (or no shared memory), the lanes run one after another on the
 * calling thread: the same code on the same rows, so the same numbers as with workers.
 */
import { DataError } from "../runtime/errors.js";
import { record, take } from "../runtime/cell.js";
import { destinations, type Taken } from "../runtime/into.js";
import { describe } from "../runtime/validate.js";
import { bumpParams, paramsVersion, trackParams } from "../runtime/params.js";
import { productsReady } from "../runtime/products.js";
import type { BackwardInto, BackwardResult, BackwardSeeds, Cell, CellSpec, ForwardInto, ForwardOptions, Real, TensorSpec, Tensors, Trace } from "../runtime/types.js";
import { addLanes, answer, Lane, LaneParams, loadCell } from "./lane.js";
import { clock, split, type BackwardTask, type CellSource, type DropTask, type ForwardTask, type PortableSource, type Reply, type Task, type TaskTiming } from "./protocol.js";

/** A started worker, as the platform gives it. */
export interface WorkerHandle {
  post(task: Task): void;
  /** Calls `reply` with each answer, and `fail` once if the worker stops or throws outside a task. */
  listen(reply: (r: Reply) => void, fail: (e: Error) => void): void;
  /** Whether the worker keeps the process alive (Node): only while a task is pending. */
  hold(busy: boolean): void;
  terminate(): Promise<void>;
}

/** What a runtime environment provides: Node's worker threads, a browser's `Worker`, or nothing. */
export interface Platform {
  /** Why workers cannot run here, or undefined when they can. */
  readonly unavailable: string | undefined;
  readonly cores: number;
  spawn(index: number): WorkerHandle;
  /** A module reference as a URL string every thread resolves alike. */
  moduleUrl(module: string | URL): string;
  /** The calling thread's CPU time in ms, where the platform can read it (for timelines). */
  readonly cpu?: () => number | undefined;
}

export interface ParallelOptions {
  /** Lanes the batch is split into (default: the cores there are). Each lane gets at least one row. */
  readonly threads?: number;
  /** Run the lanes in worker threads (default true where the platform has them). */
  readonly workers?: boolean;
  /** Time every call, in every thread (see `ParallelCell.timeline`); default false. */
  readonly timeline?: boolean;
}

/** One timed call of a parallel cell: wall-clock times in ms since the epoch, comparable between threads. */
export interface CallTiming {
  readonly op: "forward" | "backward";
  /** The call began (its turn came) and ended (its results were ready). */
  readonly start: number;
  readonly end: number;
  /** The calling thread's CPU ms from start to end, where the platform can read it. */
  readonly cpu?: number;
  /** Per lane: its task was posted, its reply arrived, and the lane's own timing. */
  readonly lanes: readonly { readonly post: number; readonly reply: number; readonly timing: TaskTiming | undefined }[];
}

/** A cell whose forward and backward split the batch over threads; calls return promises. */
export interface ParallelCell extends CellSpec {
  /** How many lanes the batch is split into. */
  readonly threads: number;
  /** Whether the lanes run in worker threads (false: one after another on this thread). */
  readonly workers: boolean;
  /** Why the lanes do not run in workers, when they do not. */
  readonly fallback: string | undefined;
  /** The cell itself, on this thread (`step`, a single-thread `forward`). */
  readonly cell: Cell;
  /** Zeroed params, in shared memory when workers run (then no call copies them), carrying a version. */
  createParams(): Tensors;
  /** The cell's `initParams(seed)`, in shared memory when workers run. */
  initParams(seed?: number): Tensors;
  createGrads(): Tensors;
  /** Says that arrays of `params` were written by hand (the cell's `paramsChanged`): the lanes restack their weights at the next call. */
  paramsChanged(params: Tensors): void;
  /**
   * The cell's `forward`, options and all: `record: false` runs the lanes' inference forward
   * (no tape kept anywhere), and `into` takes the caller's arrays for the outputs and final states.
   */
  forward(params: Tensors, inputs: Tensors, options: ForwardOptions): Promise<Trace>;
  /**
   * Accumulates into `grads` the sum of the lanes' param gradients, in lane order. A trace serves
   * one backward: the workers free its tape then (a second backward of it is an error).
   * `options.into` takes the caller's arrays for the input and initial-state gradients, as the cell's.
   */
  backward(params: Tensors, trace: Trace, seeds: BackwardSeeds, grads: Tensors, options?: ParallelBackwardOptions): Promise<BackwardResult>;
  /**
   * Zeroed arrays for the `into` options at (T, B), in shared memory when workers run: the lanes
   * then write the results straight into them (other arrays get a copy once the lanes are done).
   */
  createInto(T: number, B: number): { forward: Required<ForwardInto>; backward: Required<BackwardInto> };
  /**
   * Frees the tape the workers keep for `trace` without a backward (after a forward-only call):
   * their cells record the next forward into it. Resolves once asked; the workers answer nothing.
   */
  release(trace: Trace): Promise<void>;
  /** Stops the workers; later calls fail. */
  close(): Promise<void>;
  /** The timings of the calls since the last read, oldest first (with `{ timeline: true }`; else none). */
  timeline(): CallTiming[];
}

/** What a parallel cell's `backward` takes besides its arguments (the cell's `BackwardOptions.into`). */
export interface ParallelBackwardOptions {
  readonly into?: BackwardInto;
}

/** Runs task k of a list on lane k; resolves with the replies once every lane has answered. */
interface Lanes {
  /** `times`, when given, gets each lane's post and reply times. */
  run(tasks: readonly (ForwardTask | BackwardTask)[], times?: { post: number; reply: number }[]): Promise<Reply[]>;
  /** Hands drop task k to lane k, which answers none: it runs before the lane's next task. */
  drop(tasks: readonly DropTask[]): void;
  close(): Promise<void>;
}

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

function positiveInt(field: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new DataError(`${field}: expected a positive integer, got ${String(v)}`);
  return v;
}

function onlyKeys(field: string, value: unknown, known: readonly string[], what: string): object {
  if (typeof value !== "object" || value === null) throw new DataError(`${field}: expected ${what}`);
  for (const key in value) if (!known.includes(key)) throw new DataError(`${field}.${key}: unknown option (expected ${known.join(", ")})`);
  return value;
}

/** The named tensors of `field` that are given (null where absent), each checked. */
function some(field: string, tensors: unknown, specs: readonly TensorSpec[], per: number): (Real | null)[] {
  if (tensors === undefined) return specs.map(() => null);
  const given = onlyKeys(field, tensors, specs.map((s) => s.name), "an object of named Float32Array or Float64Array") as Record<string, Real>;
  const present = specs.filter((s) => hasOwn(given, s.name) && given[s.name] !== undefined);
  const arrays = take(field, Object.fromEntries(present.map((s) => [s.name, given[s.name]!])), present, per);
  return specs.map((s) => (present.includes(s) ? arrays[present.indexOf(s)]! : null));
}

/** A readable error for a lane's failure: the cell's own `DataError` as it is, anything else named. */
function laneError(lane: number, reply: Extract<Reply, { ok: false }>): Error {
  if (reply.name === "DataError") return new DataError(reply.message);
  return new Error(`rnnc parallel: worker ${lane} failed: ${reply.name}: ${reply.message}`);
}

function inProcess(cell: Cell, count: number, cpu: (() => number | undefined) | undefined): Lanes {
  // The lanes share the cell, and so the params object they call it with.
  const params = new LaneParams(cell);
  const lanes = Array.from({ length: count }, () => new Lane(cell, cpu, params));
  return {
    run: async (tasks, times) =>
      tasks.map((task, k) => {
        const post = clock();
        const reply = answer(lanes[k]!, task, post);
        times?.push({ post, reply: clock() });
        return reply;
      }),
    drop: (tasks) => tasks.forEach((task, k) => answer(lanes[k]!, task, clock())),
    close: async () => {},
  };
}

async function inWorkers(platform: Platform, source: PortableSource, count: number): Promise<Lanes> {
  let nextId = 0;
  const workers = Array.from({ length: count }, (_, k) => {
    const handle = platform.spawn(k);
    const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
    let dead: Error | undefined;
    handle.listen(
      (reply) => {
        const waiting = pending.get(reply.id);
        pending.delete(reply.id);
        if (pending.size === 0) handle.hold(false);
        waiting?.resolve(reply);
      },
      (error) => {
        dead = new Error(`rnnc parallel: worker ${k} stopped: ${error.message}`);
        for (const { reject } of pending.values()) reject(dead);
        pending.clear();
        handle.hold(false);
      },
    );
    handle.hold(false);
    const send = (task: Task, time?: { post: number; reply: number }): Promise<Reply> =>
      new Promise((resolve, reject) => {
        if (dead) return reject(dead);
        pending.set(task.id, time ? { resolve: (r) => ((time.reply = clock()), resolve(r)), reject } : { resolve, reject });
        handle.hold(true);
        if (time) time.post = clock();
        handle.post(task);
      });
    return { handle, send };
  });
  const run = async (tasks: readonly (ForwardTask | BackwardTask)[], times?: { post: number; reply: number }[]): Promise<Reply[]> =>
    Promise.all(
      tasks.map((task, k) => {
        const time = times && { post: 0, reply: 0 };
        if (time) times!.push(time);
        return workers[k]!.send({ ...task, id: nextId++ }, time);
      }),
    );
  // No reply to wait for: a worker runs its tasks in the order they came, so the next call's
  // task finds the trace gone, and the caller does not wait a round trip for nothing.
  const drop = (tasks: readonly DropTask[]) => tasks.forEach((task, k) => workers[k]!.handle.post({ ...task, id: nextId++ }));
  const close = async () => void (await Promise.all(workers.map((w) => w.handle.terminate())));
  const loaded = await Promise.allSettled(workers.map((w) => w.send({ op: "load", id: nextId++, source })));
  const failed = loaded.findIndex((r) => r.status === "rejected" || !r.value.ok);
  if (failed >= 0) {
    await close();
    const r = loaded[failed]!;
    if (r.status === "rejected") throw r.reason as Error;
    const why = r.value.ok ? "" : `${r.value.name}: ${r.value.message}`;
    throw new Error(`rnnc parallel: worker ${failed} could not load the cell: ${why}`);
  }
  return { run, drop, close };
}

function portable(platform: Platform, source: CellSource): PortableSource {
  if (typeof source !== "object" || source === null) throw new DataError("source: expected { module } or { source, options }");
  if ("module" in source) {
    if (typeof source.module !== "string" && !(source.module instanceof URL)) throw new DataError("source.module: expected a URL or a string");
    return source.export === undefined ? { module: platform.moduleUrl(source.module) } : { module: platform.moduleUrl(source.module), export: source.export };
  }
  if (typeof source.source !== "string") throw new DataError("source.source: expected the text of a .cell file");
  for (const [key, value] of Object.entries(source.options ?? {}))
    if (typeof value === "function") throw new DataError(`source.options.${key}: a function cannot cross to a worker thread`);
  return source.options === undefined ? { source: source.source } : { source: source.source, options: source.options };
}

/** Starts a parallel cell on `platform` (see `ParallelCell`). */
export async function startParallel(platform: Platform, source: CellSource, options: ParallelOptions = {}): Promise<ParallelCell> {
  onlyKeys("options", options, ["threads", "workers", "timeline"], "an object { threads?, workers?, timeline? }");
  const threads = options.threads === undefined ? Math.max(1, platform.cores) : positiveInt("options.threads", options.threads);
  const from = portable(platform, source);
  const cell = await loadCell(from);
  // A browser's main thread compiles the SIMD products in the background: the lanes here use them too.
  await productsReady();
  const fallback = options.workers === false ? "options.workers is false" : threads === 1 ? "one thread" : platform.unavailable;
  const workers = fallback === undefined;
  const lanes = workers ? await inWorkers(platform, from, threads) : inProcess(cell, threads, platform.cpu);
  const timed = options.timeline === true ? { cpu: platform.cpu } : undefined;
  return parallelCell(cell, lanes, { threads, workers, fallback }, timed);
}

function parallelCell(cell: Cell, lanes: Lanes, how: { threads: number; workers: boolean; fallback: string | undefined }, timed: { cpu: (() => number | undefined) | undefined } | undefined): ParallelCell {
  const spec: CellSpec = { name: cell.name, dtype: cell.dtype, sizes: cell.sizes, params: cell.params, inputs: cell.inputs, states: cell.states, outputs: cell.outputs, tape: cell.tape, workspace: cell.workspace, ...(cell.staging ? { staging: cell.staging } : {}) };
  const Arr = cell.dtype === "f32" ? Float32Array : Float64Array;
  /** A zeroed array, shared between threads when the lanes run in workers. */
  const alloc = (n: number): Real => {
    if (!how.workers) return new Arr(n);
    const memory = new SharedArrayBuffer(n * Arr.BYTES_PER_ELEMENT);
    return cell.dtype === "f32" ? new Float32Array(memory) : new Float64Array(memory);
  };
  /** `a` if the lanes can read it in place, else a shared copy (into `into` when given). */
  const shared = (a: Real, into?: Real): Real => {
    if (!how.workers || a.buffer instanceof SharedArrayBuffer) return a;
    const copy = into ?? alloc(a.length);
    copy.set(a);
    return copy;
  };
  const paramMirrors = cell.params.map((p) => alloc(p.size));
  // Shared copies of the caller's inputs and seeds, kept from call to call (the lanes copy their
  // rows out during the call): fresh memory would cost a page fault per page on every call.
  const staging = new Map<string, Real>();
  const reused = (key: string, n: number): Real => {
    let a = staging.get(key);
    if (a?.length !== n) staging.set(key, (a = alloc(n)));
    return a;
  };
  /** The shared copy of the caller's mask, by length (the lanes copy their rows out during the call). */
  const masks = new Map<number, Uint8Array>();
  const staged = (key: string, a: Real): Real => {
    if (!how.workers || a.buffer instanceof SharedArrayBuffer) return a;
    const copy = reused(key, a.length);
    copy.set(a);
    return copy;
  };
  /**
   * The caller's own copy of a result array (on one thread, the array itself: it is new). A new
   * zeroed array then `set`, not `slice()`: a slice of shared memory is made in memory just
   * mapped, which faulted a page at a time again (s3 train step: 1032 minor faults against 18).
   */
  const handed = (a: Real): Real => {
    if (!how.workers) return a;
    const copy = new Arr(a.length);
    copy.set(a);
    return copy;
  };
  const laneGrads = Array.from({ length: how.threads }, () => cell.params.map((p) => alloc(p.size)));
  /** Where workers wait for each other before adding their sums into the caller's gradients (protocol.ts `SumTask`). */
  const barrier = how.workers ? new Int32Array(new SharedArrayBuffer(8)) : undefined;
  /** A recorded trace's lanes, and what its backward's `into` may not write (as the cell checks it). */
  const traces = new WeakMap<Trace, { id: number; T: number; B: number; lanes: ReturnType<typeof split>; freed: boolean; outputs: readonly Real[]; inputs: readonly Real[] }>();
  /** Traces of `forward` with `record: false`: the lanes kept nothing for them. */
  const unrecorded = new WeakSet<Trace>();
  let nextTrace = 0;
  let closed = false;
  // Calls run one at a time: a call's shared buffers (param mirrors, lane gradients) are its own.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <R>(run: () => Promise<R>): Promise<R> => {
    const result = queue.then(() => {
      if (closed) throw new DataError("parallel cell: closed");
      return run();
    });
    queue = result.catch(() => undefined);
    return result;
  };
  const timings: CallTiming[] = [];
  const dispatch = async (tasks: readonly (ForwardTask | BackwardTask)[]): Promise<Reply[]> => {
    const times: { post: number; reply: number }[] | undefined = timed ? [] : undefined;
    const replies = await lanes.run(timed ? tasks.map((t) => ({ ...t, timing: true })) : tasks, times);
    replies.forEach((r, k) => {
      if (!r.ok) throw laneError(k, r);
    });
    if (times && called) {
      const at = (r: Reply) => (r.ok ? r.timing : undefined);
      called.lanes = times.map((t, k) => ({ ...t, timing: at(replies[k]!) }));
    }
    return replies;
  };
  /** The timing of the running call, with `timeline`. */
  let called: { op: "forward" | "backward"; start: number; cpu0: number | undefined; lanes: CallTiming["lanes"] } | undefined;
  const begin = (op: "forward" | "backward") => {
    if (timed) called = { op, start: clock(), cpu0: timed.cpu?.(), lanes: [] };
  };
  const finish = () => {
    if (!timed || !called) return;
    const end = clock();
    const cpu1 = called.cpu0 === undefined ? undefined : timed.cpu?.();
    const { op, start, lanes: laneTimes } = called;
    timings.push(cpu1 === undefined ? { op, start, end, lanes: laneTimes } : { op, start, end, cpu: cpu1 - called.cpu0!, lanes: laneTimes });
    called = undefined;
  };
  const drop = (id: number, n: number): void => lanes.drop(Array.from({ length: n }, (): DropTask => ({ op: "drop", id: 0, trace: id })));
  // A trace collected before its backward (or release) frees its tape in the workers too.
  const forgotten = new FinalizationRegistry<{ id: number; lanes: number }>(({ id, lanes: n }) => {
    if (!closed) void exclusive(async () => drop(id, n)).catch(() => undefined);
  });
  /** The record of a trace this cell made and has not freed, or a `DataError`. */
  const recorded = (trace: Trace) => {
    const rec = traces.get(trace);
    if (!rec && unrecorded.has(trace)) throw new DataError("trace: forward ran with { record: false } and kept no tape; call forward without it to backpropagate");
    if (!rec) throw new DataError("trace: not a trace returned by this parallel cell's forward");
    if (rec.freed) throw new DataError("trace: already used by a backward or released; a parallel cell frees a trace's tape then (run forward again)");
    return rec;
  };
  /** The caller's param arrays (for the `into` checks) and the lanes' shared copies of them. */
  const sharedParams = (params: Tensors) => {
    const given = take("params", params, cell.params, 1);
    return { given, P: given.map((p, k) => shared(p, paramMirrors[k])) };
  };
  // The params' generation, as the cell itself tells them apart (runtime/params.ts): another
  // object, another array in it, a newer version or none at all is a new one. The lanes restack
  // their weights only for a new generation.
  let generation = 0;
  let last: { params: object; version: number | undefined; arrays: readonly Real[] } | undefined;
  const generationOf = (params: Tensors): number => {
    const version = paramsVersion(params);
    const arrays = cell.params.map((p) => params[p.name]!);
    const same = last !== undefined && version !== undefined && last.params === params && last.version === version && arrays.every((a, k) => a === last!.arrays[k]);
    if (!same) {
      generation++;
      last = { params, version, arrays };
    }
    return generation;
  };
  // The params arrays each lane was last sent: a task carries them only when they changed.
  const sent: (readonly Real[] | undefined)[] = [];
  const newParams = (lane: number, P: readonly Real[]): readonly Real[] | undefined => {
    const last = sent[lane];
    if (last && last.every((a, k) => a === P[k])) return undefined;
    return (sent[lane] = P);
  };

  /**
   * The arrays the lanes write a result into: the caller's `into` array where the lanes can write
   * it in place (shared memory, or lanes on this thread), else a shared array kept from call to
   * call, copied into the caller's once the lanes are done; with no `into`, that shared array too,
   * the caller getting a copy (on one thread, a new array). New shared arrays every call cost far more: the lanes' first touch of fresh memory
   * faults a page at a time (s3: about 10 ms of each lane's CPU per forward), and a message
   * carrying a new SharedArrayBuffer costs the calling thread more than the copy.
   */
  const destined = (what: string, specs: readonly TensorSpec[], rows: number, given: readonly (Real | undefined)[] | undefined): Real[] =>
    specs.map((s, k) => {
      const to = given?.[k];
      if (to && (!how.workers || to.buffer instanceof SharedArrayBuffer)) return to;
      return how.workers ? reused(`${what} ${k}`, rows * s.size) : alloc(rows * s.size);
    });
  /** A result as the caller gets it: its `into` array, given the lanes' numbers if they wrote others, or a copy of its own. */
  const delivered = (a: Real, given: Real | undefined): Real => {
    if (given === undefined) return handed(a);
    if (given !== a) given.set(a);
    return given;
  };

  const forward = (params: Tensors, inputs: Tensors, options: ForwardOptions): Promise<Trace> =>
    exclusive(async () => {
      begin("forward");
      onlyKeys("options", options, ["T", "B", "initial", "mask", "record", "into"], "an object { T, B, initial?, mask?, record?, into? }");
      const T = positiveInt("T", options.T);
      const B = positiveInt("B", options.B);
      const recording = options.record ?? true;
      if (typeof recording !== "boolean") throw new DataError(`options.record: expected true or false, got ${describe(recording)}`);
      const { given, P } = sharedParams(params);
      const gen = generationOf(params);
      const inputArrays = take("inputs", inputs, cell.inputs, T * B);
      const X = inputArrays.map((x, k) => staged(`inputs ${k}`, x));
      const initialArrays = some("initial", options.initial, cell.states, B);
      const initial = initialArrays.map((s, k) => s && staged(`initial ${k}`, s));
      const mask = options.mask;
      if (mask !== undefined && (!(mask instanceof Uint8Array) || mask.length !== T * B)) throw new DataError(`mask: expected a Uint8Array of ${T * B} entries ([T][B])`);
      const taken: Taken = [["params", cell.params, given], ["inputs", cell.inputs, inputArrays], ["options.initial", cell.states, initialArrays.map((a) => a ?? undefined)]];
      const outputsInto = destinations(options.into, "outputs", spec, T * B, taken);
      const finalInto = destinations(options.into, "final", spec, B, taken, undefined, "options.initial");
      let M = mask ?? null;
      if (mask && how.workers && !(mask.buffer instanceof SharedArrayBuffer)) {
        let staged = masks.get(mask.length);
        if (!staged) masks.set(mask.length, (staged = new Uint8Array(new SharedArrayBuffer(mask.length))));
        staged.set(mask);
        M = staged;
      }
      const Y = destined("outputs", cell.outputs, T * B, outputsInto);
      const F = destined("final", cell.states, B, finalInto);
      const rows = split(B, how.threads);
      const id = recording ? nextTrace++ : -1;
      const tasks = rows.map(({ b0, b1 }, k): ForwardTask => ({ op: "forward", id: 0, trace: id, record: recording, T, B, b0, b1, params: newParams(k, P), generation: gen, inputs: X, initial, mask: M, outputs: Y, final: F }));
      const replies = await dispatch(tasks);
      const trace: Trace = Object.freeze({
        T, B,
        outputs: Object.freeze(record(cell.outputs, (_, k) => delivered(Y[k]!, outputsInto?.[k]))),
        final: Object.freeze(record(cell.states, (_, k) => delivered(F[k]!, finalInto?.[k]))),
        tapeBytes: replies.reduce((n, r) => n + (r.ok ? (r.tapeBytes ?? 0) : 0), 0),
      });
      if (recording) {
        traces.set(trace, { id, T, B, lanes: rows, freed: false, outputs: cell.outputs.map((o) => trace.outputs[o.name]!), inputs: inputArrays });
        forgotten.register(trace, { id, lanes: rows.length }, trace);
      } else unrecorded.add(trace);
      finish();
      return trace;
    });

  const backward = (params: Tensors, trace: Trace, seeds: BackwardSeeds, grads: Tensors, options: ParallelBackwardOptions = {}): Promise<BackwardResult> =>
    exclusive(async () => {
      begin("backward");
      const rec = recorded(trace);
      const { id, T, B } = rec;
      onlyKeys("seeds", seeds, ["outputs", "final"], "an object { outputs?, final? }");
      onlyKeys("options", options, ["into"], "an object { into? }");
      const { given, P } = sharedParams(params);
      const gen = generationOf(params);
      const GP = take("grads", grads, cell.params, 1);
      const outputSeeds = some("outputGrads", seeds.outputs, cell.outputs, T * B);
      const finalSeeds = some("finalGrads", seeds.final, cell.states, B);
      const GY = outputSeeds.map((g, k) => g && staged(`outputGrads ${k}`, g));
      const GS = finalSeeds.map((g, k) => g && staged(`finalGrads ${k}`, g));
      const taken: Taken = [
        ["params", cell.params, given], ["grads", cell.params, GP],
        ["seeds.outputs", cell.outputs, outputSeeds.map((a) => a ?? undefined)], ["seeds.final", cell.states, finalSeeds.map((a) => a ?? undefined)],
        ["trace.outputs", cell.outputs, rec.outputs], ["inputs of the trace", cell.inputs, rec.inputs],
      ];
      const inputsInto = destinations(options.into, "inputs", spec, T * B, taken);
      const initialInto = destinations(options.into, "initial", spec, B, taken, undefined, "seeds.final");
      const GX = destined("inputGrads", cell.inputs, T * B, inputsInto);
      const GI = destined("initialGrads", cell.states, B, initialInto);
      const n = rec.lanes.length;
      // The lanes' sums are added in lane order: the result does not depend on which finished first.
      // Workers add them into the caller's arrays themselves when those are shared, each lane its
      // share of the elements once all are done (no round trip, and not on this thread); else here.
      const sum = barrier && GP.every((g) => g.buffer instanceof SharedArrayBuffer) ? { grads: GP, lanes: laneGrads.slice(0, n), barrier } : undefined;
      if (sum) Atomics.store(barrier!, 0, 0), Atomics.store(barrier!, 1, 0);
      const tasks = rec.lanes.map((_, k): BackwardTask => ({
        op: "backward", id: 0, trace: id, params: newParams(k, P), generation: gen, outputGrads: GY, finalGrads: GS, grads: laneGrads[k]!, inputGrads: GX, initialGrads: GI,
        ...(sum ? { sum: { ...sum, lane: k } } : {}),
      }));
      rec.freed = true;
      forgotten.unregister(trace);
      await dispatch(tasks);
      if (!sum) GP.forEach((g, p) => addLanes(g, laneGrads.slice(0, n).map((l) => l[p]!), 0, g.length));
      finish();
      return {
        inputs: record(cell.inputs, (_, k) => delivered(GX[k]!, inputsInto?.[k])),
        initial: record(cell.states, (_, k) => delivered(GI[k]!, initialInto?.[k])),
      };
    });

  const copyOf = (tensors: Tensors): Tensors => record(cell.params, (p) => shared(tensors[p.name]!, alloc(p.size)));
  return {
    ...spec,
    ...how,
    cell,
    createParams: () => trackParams(record(cell.params, (p) => alloc(p.size))),
    createGrads: () => record(cell.params, (p) => alloc(p.size)),
    createInto(T: number, B: number) {
      positiveInt("T", T);
      positiveInt("B", B);
      return {
        forward: { outputs: record(cell.outputs, (o) => alloc(T * B * o.size)), final: record(cell.states, (s) => alloc(B * s.size)) },
        backward: { inputs: record(cell.inputs, (x) => alloc(T * B * x.size)), initial: record(cell.states, (s) => alloc(B * s.size)) },
      };
    },
    initParams: (seed?: number) => trackParams(copyOf(cell.initParams(seed))),
    paramsChanged: bumpParams,
    timeline: () => timings.splice(0),
    forward,
    backward,
    release: (trace: Trace) =>
      exclusive(async () => {
        if (unrecorded.has(trace)) return; // the lanes kept nothing for it
        const rec = recorded(trace);
        rec.freed = true;
        forgotten.unregister(trace);
        drop(rec.id, rec.lanes.length);
      }),
    close: () => {
      const stop = queue.then(() => {
        if (closed) return;
        closed = true;
        return lanes.close();
      });
      queue = stop;
      return stop;
    },
  };
}
