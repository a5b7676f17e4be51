/**
 * `defineCell` wraps a compiled cell's kernels in the public `Cell` API: it checks names, types and
 * lengths (errors name the offending field), allocates outputs, keeps state histories and tapes
 * (one set in the arena with the workspace, others in a pool by (T, B)), keeps the tape and the
 * shape of each trace out of the user's reach, and tells the kernels when the weights they stacked
 * are stale (params.ts).
 */
import { boxMuller, drawInitial } from "./initial.js";
import { DataError } from "./errors.js";
import { checkElements } from "./limits.js";
import { chunkSteps, outputGradRows, type CellSpec, type KernelName, type Kernels, type Products, type Real, type RowKind, type TensorSpec } from "./abi.js";
import { bumpParams, paramsVersion, trackParams } from "./params.js";
import { compileLoops, createArena, type Arena, type BufferRequest } from "./products.js";
import { checkSeed, mulberry32 } from "./random.js";
import { ArrayPool } from "./pool.js";
import type { BackwardOptions, BackwardResult, BackwardSeeds, Cell, ForwardOptions, StepState, Tensors, Trace, TypesOf } from "./types.js";
import { destinations, type Taken } from "./into.js";
import { describe, object, onlyKeys, unknownName } from "./validate.js";

export { DataError };

export type { Kernels };

/** What `forward` recorded for `backward`, out of the caller's reach (T and B included). */
interface Recorded {
  readonly T: number;
  readonly B: number;
  readonly params: readonly Real[];
  readonly inputs: readonly Real[];
  readonly outputs: readonly Real[];
  readonly mask: Uint8Array | undefined;
  readonly kept: Kept;
}

/**
 * A recording's state history and tape, and the two as one set (as the pool keeps them). The
 * cell holds this object (not the trace) for the recording in its arena, and points it at plain
 * copies when the arena lays out again.
 */
interface Kept {
  history: Real[];
  tape: Real[];
  set: Real[];
}

/** Builds a record with own properties only (a name like `__proto__` stays a plain key). */
export function record(specs: readonly TensorSpec[], make: (s: TensorSpec, k: number) => Real): Tensors {
  return Object.fromEntries(specs.map((s, k) => [s.name, make(s, k)]));
}

/** How many rows a workspace buffer of each kind has at (T, B). */
const rowsOf = (T: number, B: number): Record<RowKind, number> => ({ one: 1, B, TB: T * B, chunk: chunkSteps(T, B) * B });

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

/**
 * Not public API: under this key of its options, `forward` takes arrays for its outputs and
 * `backward` for its input gradients (spec order), zeroed and used instead of new ones.
 * rnnc/parallel's lanes reuse theirs from call to call (fresh memory costs a page fault a page).
 */
export const INTO = Symbol.for("rnnc.into");
/**
 * Not public API: `cell[DONE](trace)` gives the state history and tape of a trace no backward
 * will read back for the next `forward`, as `backward` does (the trace stays usable until a
 * forward takes them). rnnc/parallel's lanes call it for a trace released without a backward:
 * else every forward-only call records into new memory (a page fault a page).
 */
export const DONE = Symbol.for("rnnc.done");
/** `options[INTO][k]`, zeroed, if it has `n` numbers; else a new array. */
const into = (options: object, k: number, n: number, alloc: (n: number) => Real): Real => {
  const a = (options as { [INTO]?: readonly Real[] })[INTO]?.[k];
  return a?.length === n ? a.fill(0) : alloc(n);
};

/**
 * Checks the named tensors of `field` against `specs` (each `per` × its size numbers) and writes
 * them to `out` in spec order: an object with no unknown names, each tensor a Float32Array or
 * Float64Array of the right length. A missing tensor is an error or, with `make`, a new zeroed one.
 * Allocates nothing when `out` is reused and every tensor is given (`step` calls it every step).
 */
function takeInto(out: Real[], field: string, tensors: unknown, specs: readonly TensorSpec[], per: number, make?: (n: number, k: number) => Real): Real[] {
  out.length = specs.length;
  if (tensors === undefined && make) {
    for (let k = 0; k < specs.length; k++) out[k] = make(specs[k]!.size * per, k);
    return out;
  }
  const named = object(field, tensors, "an object of named Float32Array or Float64Array") as Record<string, unknown>;
  let given = 0;
  for (let k = 0; k < specs.length; k++) {
    const s = specs[k]!;
    const a = hasOwn(named, s.name) ? named[s.name] : undefined;
    if (a === undefined) {
      if (!make) throw new DataError(`${field}.${s.name}: missing`);
      out[k] = make(s.size * per, k);
      continue;
    }
    check(field, s.name, a, s.size * per);
    out[k] = a as Real;
    given++;
  }
  let keys = 0;
  for (const _ in named) keys++;
  if (keys !== given) {
    const known = specs.map((s) => s.name);
    const key = Object.keys(named).find((k) => !known.includes(k));
    if (key !== undefined) throw unknownName(field, key, "name", known);
  }
  return out;
}

/** The arrays of `tensors` in spec order, each checked for presence, type and length. */
export function take(field: string, tensors: Tensors | undefined, specs: readonly TensorSpec[], per: number): Real[] {
  return takeInto([], field, tensors, specs, per);
}

/** Checks tensor `field.name`; its name is only built for the error (`step` calls this every step). */
function check(field: string, name: string, a: unknown, length: number): void {
  if (!(a instanceof Float32Array || a instanceof Float64Array)) throw new DataError(`${field}.${name}: expected a Float32Array or Float64Array, got ${describe(a)}`);
  if (a.length !== length) throw new DataError(`${field}.${name}: expected ${length} numbers, got ${a.length}`);
}

/** `to` holding `from`'s numbers, or undefined if there is no `to`. */
const copyInto = (to: Real | undefined, from: Real): Real | undefined => (to?.set(from), to);

/**
 * Output gradients given (`rows` per step not 0) copied, each into `copy(k, n)`, with the padded
 * steps zeroed: padding gets no gradient. Those not given are zeros already.
 */
function zeroPadded(grads: Real[], rows: readonly number[], specs: readonly TensorSpec[], mask: Uint8Array, copy: (k: number, n: number) => Real): void {
  specs.forEach((s, k) => {
    if (rows[k] === 0) return;
    const g = copy(k, grads[k]!.length);
    g.set(grads[k]!);
    mask.forEach((keep, n) => keep === 0 && g.fill(0, n * s.size, (n + 1) * s.size));
    grads[k] = g;
  });
}

function positiveInt(field: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new DataError(`${field}: expected a positive integer, got ${typeof v === "string" ? JSON.stringify(v) : String(v)}`);
  return v;
}

const FORWARD_OPTIONS = ["T", "B", "initial", "mask", "record", "into"] as const;
const BACKWARD_FLAGS = ["inputGrads", "initialGrads", "retain"] as const;
const BACKWARD_OPTIONS = [...BACKWARD_FLAGS, "into"] as const;
const SEEDS = ["outputs", "final"] as const;
const STEP_STATE = ["B", "states", "outputs"] as const;

/**
 * The `Cell` of compiled kernels. An emitted module passes its spec as a literal, so the cell's
 * type knows its names and dtype (`TypesOf`); any other spec gives the general `Cell`.
 */
export function defineCell<const S extends CellSpec>(spec: S, kernels: Kernels): Cell<TypesOf<S>>;
export function defineCell(spec: CellSpec, kernels: Kernels): Cell {
  const Arr = spec.dtype === "f32" ? Float32Array : Float64Array;
  const alloc = (n: number): Real => new Arr(n);
  const fan = spec.states[0]?.size ?? 1;
  /** The lengths of a recording's state history (T + 1 steps) and tape at (T, B), in that order. */
  const keptLengths = (T: number, B: number): number[] => [...spec.states.map((s) => (T + 1) * B * s.size), ...spec.tape.map((v) => T * B * v.size)];
  // The kernels' element loops as WebAssembly, compiled when an arena first runs one.
  const loops = compileLoops(kernels.loops);
  // What each trace of this cell recorded; a trace of another cell is not found here.
  const recordings = new WeakMap<Trace, Recorded>();

  /** Checks every array a call at (T, B) allocates against the limit, before allocating any. */
  function checkSizes(T: number, B: number, kernel: "forward" | "step"): void {
    const at = kernel === "step" ? `step at B = ${B}` : `${kernel} at T = ${T}, B = ${B}`;
    const per = (what: string, specs: readonly TensorSpec[], rows: number, formula: string) =>
      specs.forEach((s) => checkElements(`${what} '${s.name}'`, rows * s.size, `${formula}·${s.size}`, at));
    if (kernel === "forward") {
      per("the state history", spec.states, (T + 1) * B, "(T+1)·B");
      per("the output", spec.outputs, T * B, "T·B");
      per("the taped value", spec.tape, T * B, "T·B");
      per("the input gradient", spec.inputs, T * B, "T·B");
    } else {
      per("the state", spec.states, B, "B");
      per("the output", spec.outputs, B, "B");
    }
    const rows = rowsOf(T, B);
    const formula: Record<RowKind, string> = { one: "", B: "B·", TB: "T·B·", chunk: `${rows.chunk / B}·B·` };
    spec.workspace.forEach((w, k) => checkElements(`workspace buffer ${k}`, w.size * rows[w.rows], `${formula[w.rows]}${w.size}`, at));
    const s = spec.staging;
    if (s) checkElements("the staging area", s.fixed + B * s.B + T * B * s.TB, `${s.fixed} + B·${s.B} + T·B·${s.TB}`, at);
  }

  // Workspace for the last (T, B) seen, one for sequences and one for `step`, each in its own
  // arena (where the runtime's products run): steady-state training and inference allocate none.
  // Buffers of values derived from params alone keep them across calls, tagged with the params
  // they were derived from (see params.ts); a kernel derives them again only when they are stale.
  // With `recordings`, a WebAssembly arena also holds one set of state history and tape at that
  // (T, B) (`kept()`, not zeroed); `recordings.leave` is told before a layout or release ends it.
  const workspaceCache = (kernel: "forward" | "step", recordings?: { leave(kept: Real[], T: number, B: number): void }) => {
    let cached: { T: number; B: number; arrays: Real[]; kept: Real[] | undefined } | undefined;
    let arena: Arena | undefined;
    const arenaOf = () => (arena ??= createArena(spec.dtype, { loops }));
    const derivedBy = (k: KernelName) => spec.workspace.flatMap((w, i) => (w.derived?.includes(k) ? [i] : []));
    const derived = { forward: derivedBy("forward"), backward: derivedBy("backward"), step: derivedBy("step"), infer: derivedBy("infer") };
    // What the derived buffers hold: `derivedAt[i]` is the generation of params buffer i was
    // derived from; a new object, array or version (or no version at all) is a new generation.
    const derivedAt: number[] = spec.workspace.map(() => -1);
    let generation = 0;
    let lastParams: object | undefined;
    let lastVersion: number | undefined;
    const lastArrays: Real[] = [];
    return {
      arrays(T: number, B: number): Real[] {
        if (!cached || cached.T !== T || cached.B !== B) {
          checkSizes(T, B, kernel);
          const rows = rowsOf(T, B);
          const staging = spec.staging ? spec.staging.fixed + B * spec.staging.B + T * B * spec.staging.TB : 0;
          const buffers: BufferRequest[] = spec.workspace.map((w) => ({ length: w.size * rows[w.rows], group: w.kernel }));
          if (cached?.kept) recordings?.leave(cached.kept, cached.T, cached.B);
          // Only where products run in WebAssembly: plain loops gain nothing from it.
          const kept = recordings && arenaOf().simd ? keptLengths(T, B).map((length) => ({ length, zero: false })) : [];
          const laid = arenaOf().layout([...buffers, ...kept], staging);
          cached = { T, B, arrays: laid.slice(0, buffers.length), kept: kept.length > 0 ? laid.slice(buffers.length) : undefined };
          derivedAt.fill(-1);
        }
        return cached.arrays;
      },
      /** The set of state history and tape in the arena at the last (T, B) laid out, if any. */
      kept: (): Real[] | undefined => cached?.kept,
      products: (): Products => arenaOf().products,
      /** Whether kernel `k`, called with `params` (arrays `P`), must derive its buffers again; they are current after it runs. */
      paramsChanged(k: KernelName, params: object, P: readonly Real[]): boolean {
        const version = paramsVersion(params);
        let same = version !== undefined && params === lastParams && version === lastVersion;
        for (let j = 0; same && j < P.length; j++) same = P[j] === lastArrays[j];
        if (!same) {
          generation++;
          lastParams = params;
          lastVersion = version;
          lastArrays.length = 0;
          lastArrays.push(...P);
        }
        let stale = false;
        for (const i of derived[k]) if (derivedAt[i] !== generation) (stale = true), (derivedAt[i] = generation);
        return stale;
      },
      /** Lets go of the arena and everything remembered about params. */
      release(): void {
        if (cached?.kept) recordings?.leave(cached.kept, cached.T, cached.B);
        cached = undefined;
        arena = undefined;
        lastParams = undefined;
        lastArrays.length = 0;
        derivedAt.fill(-1);
      },
    };
  };
  const workspace = workspaceCache("forward", { leave });
  const stepWorkspace = workspaceCache("step");

  // The state history and tape of recordings `backward` is done with, zero output gradients and
  // unwanted input gradients, kept per (T, B) for the next call.
  const pool = new ArrayPool();
  // Traces of `forward` with `record: false`, and traces whose tape a later `forward` took; the
  // trace whose tape each set given back to the pool was (it stays usable until a forward takes it).
  const unrecorded = new WeakSet<Trace>();
  const released = new WeakSet<Trace>();
  let owners = new WeakMap<Real[], Trace>();
  // Read-only zeros (missing initial states and output gradients): one shared array per size.
  const zeros = (n: number) => pool.sharedSet(`zeros ${n}`, () => [alloc(n)])[0]!;
  const historyAndTape = (T: number, B: number): Real[] => keptLengths(T, B).map(alloc);
  // The last recording into the arena's set (holding no trace: a trace dropped unread is collected
  // as before, though its recording keeps the set until a layout, `release()` or a later forward
  // it was given back for).
  let arenaKept: Kept | undefined;
  const keptOf = (set: Real[]): Kept => ({ history: set.slice(0, spec.states.length), tape: set.slice(spec.states.length), set });

  /**
   * Where a recording at (T, B) (the workspace's) writes: the arena's set when no recording holds
   * it or it was given back, else a set from the pool. A trace that gave the set back is done with it now.
   */
  function takeKept(T: number, B: number): Kept {
    const inArena = workspace.kept();
    const free = inArena !== undefined && (arenaKept === undefined || owners.has(inArena));
    const set = free ? inArena : pool.take(`${T}x${B}`, () => historyAndTape(T, B));
    const previous = owners.get(set);
    if (previous !== undefined) {
      owners.delete(set);
      recordings.delete(previous);
      released.add(previous);
    }
    const kept = keptOf(set);
    if (free) arenaKept = kept;
    return kept;
  }

  /**
   * The arena lays out again or goes, and its set at (T, B) with it: the recording in it (a trace
   * may still read it: retained, not yet backpropagated, or given back and not yet taken) moves to
   * plain arrays holding the same numbers, given back to the pool if it was.
   */
  function leave(set: Real[], T: number, B: number): void {
    const kept = arenaKept;
    arenaKept = undefined;
    const owner = owners.get(set);
    owners.delete(set);
    if (kept === undefined || kept.set !== set) return;
    Object.assign(kept, keptOf(set.map((a) => a.slice())));
    if (owner === undefined) return;
    owners.set(kept.set, owner);
    pool.give(`${T}x${B}`, kept.set);
  }

  function forward(params: Tensors, inputs: Tensors, options: ForwardOptions): Trace {
    onlyKeys("options", object("options", options, "an object { T, B, initial?, mask?, record? }"), FORWARD_OPTIONS);
    const T = positiveInt("T", options.T);
    const B = positiveInt("B", options.B);
    const recording = options.record ?? true;
    if (typeof recording !== "boolean") throw new DataError(`options.record: expected true or false, got ${describe(recording)}`);
    checkSizes(T, B, "forward");
    const P = take("params", params, spec.params, 1);
    const X = take("inputs", inputs, spec.inputs, T * B);
    const mask = options.mask;
    if (mask !== undefined && (!(mask instanceof Uint8Array) || mask.length !== T * B))
      throw new DataError(`mask: expected a Uint8Array of ${T * B} entries ([T][B])`);
    // Missing initial states are zeros the call only reads: one shared array per size.
    const initial = takeInto([], "initial", options.initial, spec.states, B, zeros);
    const taken: Taken = [["params", spec.params, P], ["inputs", spec.inputs, X], ["options.initial", spec.states, initial]];
    const outputsInto = destinations(options.into, "outputs", spec, T * B, taken);
    const finalInto = destinations(options.into, "final", spec, B, taken, undefined, "options.initial");
    const Y = spec.outputs.map((o, k) => outputsInto?.[k]?.fill(0) ?? into(options, k, T * B * o.size, alloc));
    const WS = workspace.arrays(T, B);
    if (!recording) {
      // Only the current state, updated in place: the final states are these arrays.
      const S = initial.map((a, k) => copyInto(finalInto?.[k], a) ?? a.slice());
      kernels.infer(T, B, P, X, S, Y, mask, WS, workspace.products(), workspace.paramsChanged("infer", params, P));
      const trace: Trace = Object.freeze({
        T, B,
        outputs: Object.freeze(record(spec.outputs, (_, k) => Y[k]!)),
        final: Object.freeze(record(spec.states, (_, k) => S[k]!)),
        tapeBytes: 0,
      });
      unrecorded.add(trace);
      return trace;
    }
    const kept = takeKept(T, B);
    const { history: S, tape: R } = kept;
    S.forEach((h, k) => h.set(initial[k]!));
    kernels.forward(T, B, P, X, S, Y, R, mask, WS, workspace.products(), workspace.paramsChanged("forward", params, P));
    // Frozen: the caller cannot change the shape `backward` reads (it reads the recording anyway).
    const trace: Trace = Object.freeze({
      T, B,
      outputs: Object.freeze(record(spec.outputs, (_, k) => Y[k]!)),
      final: Object.freeze(record(spec.states, (s, k) => copyInto(finalInto?.[k], S[k]!.subarray(T * B * s.size)) ?? S[k]!.slice(T * B * s.size))),
      tapeBytes: kept.set.reduce((n, a) => n + a.byteLength, 0),
    });
    recordings.set(trace, { T, B, params: P, inputs: X, outputs: Y, mask, kept });
    return trace;
  }

  function backwardOptions(options: unknown): Required<Omit<BackwardOptions, "into">> {
    const o = object("options", options, "an object { inputGrads?, initialGrads?, retain?, into? }") as BackwardOptions;
    onlyKeys("options", o, BACKWARD_OPTIONS);
    for (const key of BACKWARD_FLAGS) {
      const v = o[key];
      if (v !== undefined && typeof v !== "boolean") throw new DataError(`options.${key}: expected true or false, got ${describe(v)}`);
    }
    return { inputGrads: o.inputGrads ?? true, initialGrads: o.initialGrads ?? true, retain: o.retain ?? false };
  }

  function backward(params: Tensors, trace: Trace, seeds: BackwardSeeds, grads: Tensors, options: BackwardOptions = {}): BackwardResult {
    const rec = recordings.get(trace);
    if (!rec) {
      if (unrecorded.has(trace)) throw new DataError("trace: forward ran with { record: false } and kept no tape; call forward without it to backpropagate");
      if (released.has(trace)) throw new DataError("trace: its tape went back to the cell after backward, and a later forward reused it; pass { retain: true } to backward to keep it");
      throw new DataError("trace: not a trace returned by this cell's forward");
    }
    const { T, B } = rec;
    onlyKeys("seeds", object("seeds", seeds, "an object { outputs?, final? }"), SEEDS);
    const { inputGrads, initialGrads, retain } = backwardOptions(options);
    const P = take("params", params, spec.params, 1);
    const GP = take("grads", grads, spec.params, 1);
    const key = `${T}x${B}`;
    // An output given no gradient is read as one chunk's rows of zeros, the same at every step.
    const GYrows = spec.outputs.map(() => outputGradRows(true, T, B).perStep);
    const GY = takeInto([], "outputGrads", seeds.outputs, spec.outputs, T * B, (_, k) => {
      const none = outputGradRows(false, T, B);
      GYrows[k] = none.perStep;
      return zeros(none.rows * spec.outputs[k]!.size);
    });
    if (rec.mask) zeroPadded(GY, GYrows, spec.outputs, rec.mask, (k, n) => pool.sharedSet(`padded output grad ${k} ${key}`, () => [alloc(n)])[0]!);
    const final = takeInto([], "finalGrads", seeds.final, spec.states, B, zeros);
    const taken: Taken = [
      ["params", spec.params, P], ["grads", spec.params, GP], ["seeds.outputs", spec.outputs, GY], ["seeds.final", spec.states, final],
      ["trace.outputs", spec.outputs, rec.outputs], ["inputs of the trace", spec.inputs, rec.inputs],
    ];
    const inputsInto = destinations(options.into, "inputs", spec, T * B, taken, inputGrads ? undefined : "options.inputGrads is false");
    const initialInto = destinations(options.into, "initial", spec, B, taken, initialGrads ? undefined : "options.initialGrads is false", "seeds.final");
    // The kernel turns the final-state gradients into the initial-state ones in place: in the
    // caller's arrays, new ones, or (not asked for) scratch.
    const GS = initialGrads
      ? final.map((a, k) => copyInto(initialInto?.[k], a) ?? a.slice())
      : pool.sharedSet(`state grads ${B}`, () => final.map((a) => alloc(a.length))).map((g, k) => copyInto(g, final[k]!)!);
    // Input gradients nobody asked for: scratch, which an optimized kernel does not even write.
    const GX = inputGrads
      ? spec.inputs.map((x, k) => inputsInto?.[k]?.fill(0) ?? into(options, k, T * B * x.size, alloc))
      : pool.sharedSet(`input grads ${key}`, () => spec.inputs.map((x) => alloc(T * B * x.size)));
    const WS = workspace.arrays(T, B);
    const changed = workspace.paramsChanged("backward", params, P);
    // Read after the layout: a recording in the arena's set moves out when the arena lays out again.
    const { history, tape } = rec.kept;
    kernels.backward(T, B, P, rec.inputs, history, rec.outputs, tape, rec.mask, GY, GYrows, GS, GP, GX, WS, workspace.products(), changed, inputGrads, initialGrads);
    if (!retain) done(trace);
    // A gradient turned off is absent (the overloads in types.ts type the result accordingly).
    return {
      ...(inputGrads ? { inputs: record(spec.inputs, (_, k) => GX[k]!) } : {}),
      ...(initialGrads ? { initial: record(spec.states, (_, k) => GS[k]!) } : {}),
    } as BackwardResult;
  }

  /** Gives the history and tape of `trace` back for the next forward at its (T, B), once (the arena's set stays there). */
  function done(trace: Trace): void {
    const rec = recordings.get(trace);
    if (!rec || owners.has(rec.kept.set)) return;
    owners.set(rec.kept.set, trace);
    if (rec.kept.set !== workspace.kept()) pool.give(`${rec.T}x${rec.B}`, rec.kept.set);
  }

  function createState(B = 1, initial?: Tensors): StepState {
    positiveInt("B", B);
    checkSizes(1, B, "step");
    const states = takeInto([], "initial", initial, spec.states, B, alloc).map((a) => a.slice());
    return {
      B,
      states: record(spec.states, (_, k) => states[k]!),
      outputs: record(spec.outputs, (o) => alloc(B * o.size)),
    };
  }

  // `step` reuses these argument lists: the steady state allocates nothing.
  const stepArgs = { P: [] as Real[], X: [] as Real[], S: [] as Real[], Y: [] as Real[] };

  function step(params: Tensors, inputs: Tensors, state: StepState): void {
    onlyKeys("state", object("state", state, "a state from createState"), STEP_STATE);
    const B = positiveInt("state.B", state.B);
    takeInto(stepArgs.P, "params", params, spec.params, 1);
    takeInto(stepArgs.X, "inputs", inputs, spec.inputs, B);
    takeInto(stepArgs.S, "state.states", state.states, spec.states, B);
    takeInto(stepArgs.Y, "state.outputs", state.outputs, spec.outputs, B);
    const WS = stepWorkspace.arrays(1, B);
    kernels.step(B, stepArgs.P, stepArgs.X, stepArgs.S, stepArgs.Y, WS, stepWorkspace.products(), stepWorkspace.paramsChanged("step", params, stepArgs.P));
  }

  const checkParamSizes = () => spec.params.forEach((p) => checkElements(`param '${p.name}'`, p.size, p.shape.join("·"), "params"));
  const paramArrays = (): Tensors => (checkParamSizes(), record(spec.params, (p) => alloc(p.size)));

  const cell: Cell = {
    ...spec,
    createParams: () => trackParams(paramArrays()),
    createGrads: paramArrays,
    initParams(seed = 0) {
      const random = mulberry32(checkSeed(seed, "initParams: seed"));
      const bound = 1 / Math.sqrt(fan);
      checkParamSizes();
      const draws = { uniform: random, normal: boxMuller(random) };
      return trackParams(
        record(spec.params, (p) => {
          const data = alloc(p.size);
          if (p.init) drawInitial(p.init, p.shape, data, draws);
          else for (let i = 0; i < p.size; i++) data[i] = (2 * random() - 1) * bound;
          return data;
        }),
      );
    },
    paramsChanged: bumpParams,
    release() {
      workspace.release();
      stepWorkspace.release();
      pool.clear();
      owners = new WeakMap();
    },
    forward,
    backward,
    createState,
    step,
  };
  // Not enumerable: a copy of the cell's fields (`{ ...cell }`) does not carry it.
  Object.defineProperty(cell, DONE, { value: done });
  return cell;
}
