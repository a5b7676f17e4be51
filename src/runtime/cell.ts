/**
 * `defineCell` wraps a compiled cell's kernels in the public `Cell` API: it checks names and
 * lengths (errors name the offending field), allocates outputs, state history and tape, and keeps
 * the tape out of the user's reach.
 */
import { createArena, type Arena, type Products } from "./products.js";
import { mulberry32 } from "./random.js";
import type {
  BackwardResult, BackwardSeeds, Cell, CellSpec, ForwardOptions, Real, StepState, TensorSpec, Tensors, Trace,
} from "./types.js";

/** Wrong input to a cell — a missing tensor, a wrong length or type — naming the offending field. */
export class DataError extends Error {
  override name = "DataError";
}

export interface Kernels {
  forward(T: number, B: number, P: readonly Real[], X: readonly Real[], S: readonly Real[], Y: readonly Real[],
    R: readonly Real[], M: Uint8Array | undefined, WS: readonly Real[], mm: Products): void;
  backward(T: number, B: number, P: readonly Real[], X: readonly Real[], S: readonly Real[], Y: readonly Real[],
    R: readonly Real[], M: Uint8Array | undefined, GY: readonly Real[], GS: readonly Real[], GP: readonly Real[],
    GX: readonly Real[], WS: readonly Real[], mm: Products): void;
  step(B: number, P: readonly Real[], X: readonly Real[], S: readonly Real[], Y: readonly Real[], WS: readonly Real[], mm: Products): void;
}

interface Recorded {
  readonly params: readonly Real[];
  readonly inputs: readonly Real[];
  readonly history: readonly Real[];
  readonly outputs: readonly Real[];
  readonly tape: readonly Real[];
  readonly mask: Uint8Array | undefined;
}

/** Builds a record with own properties only (a name like `__proto__` stays a plain key). */
export function record(specs: readonly TensorSpec[], make: (s: TensorSpec, k: number) => Real): Tensors {
  return Object.fromEntries(specs.map((s, k) => [s.name, make(s, k)]));
}

function own(tensors: Tensors | undefined, name: string): Real | undefined {
  return tensors && Object.prototype.hasOwnProperty.call(tensors, name) ? tensors[name] : undefined;
}

/** The arrays of `tensors` in spec order, each checked for presence, type and length. */
export function take(field: string, tensors: Tensors | undefined, specs: readonly TensorSpec[], per: number): Real[] {
  return specs.map((s) => {
    const a = own(tensors, s.name);
    if (a === undefined) throw new DataError(`${field}.${s.name}: missing`);
    check(`${field}.${s.name}`, a, s.size * per);
    return a;
  });
}

function takeOptional(field: string, tensors: Tensors | undefined, specs: readonly TensorSpec[], per: number, make: (n: number) => Real): Real[] {
  return specs.map((s) => {
    const a = own(tensors, s.name);
    if (a === undefined) return make(s.size * per);
    check(`${field}.${s.name}`, a, s.size * per);
    return a;
  });
}

function check(field: string, a: unknown, length: number): void {
  if (!(a instanceof Float32Array || a instanceof Float64Array)) throw new DataError(`${field}: expected a Float32Array or Float64Array`);
  if (a.length !== length) throw new DataError(`${field}: expected ${length} numbers, got ${a.length}`);
}

/** Copies of output gradients with the padded steps zeroed: padding gets no gradient. */
function zeroPadded(grads: Real[], specs: readonly TensorSpec[], mask: Uint8Array): void {
  specs.forEach((s, k) => {
    const g = grads[k]!.slice();
    mask.forEach((keep, n) => keep === 0 && g.fill(0, n * s.size, (n + 1) * s.size));
    grads[k] = g;
  });
}

function positiveInt(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new DataError(`${field}: expected a positive integer, got ${v}`);
}

export function defineCell(spec: CellSpec, kernels: Kernels): Cell {
  const Arr = spec.dtype === "f32" ? Float32Array : Float64Array;
  const alloc = (n: number): Real => new Arr(n);
  const fan = spec.states[0]?.size ?? 1;
  // What each trace of this cell recorded; a trace of another cell is not found here.
  const recordings = new WeakMap<Trace, Recorded>();
  // Workspace for the last (T, B) seen, one for sequences and one for `step`, each in its own
  // arena (where the runtime's products run): steady-state training and inference allocate none.
  const workspaceCache = () => {
    let cached: { T: number; B: number; arrays: Real[] } | undefined;
    let arena: Arena | undefined;
    const arenaOf = () => (arena ??= createArena(spec.dtype));
    return {
      arrays(T: number, B: number): Real[] {
        if (!cached || cached.T !== T || cached.B !== B) {
          const rows = { one: 1, B, TB: T * B };
          const staging = spec.staging ? spec.staging.fixed + B * spec.staging.B + T * B * spec.staging.TB : 0;
          const buffers = spec.workspace.map((w) => ({ length: w.size * rows[w.rows], group: w.kernel }));
          cached = { T, B, arrays: arenaOf().layout(buffers, staging) };
        }
        return cached.arrays;
      },
      products: (): Products => arenaOf().products,
    };
  };
  const workspace = workspaceCache();
  const stepWorkspace = workspaceCache();

  function forward(params: Tensors, inputs: Tensors, options: ForwardOptions): Trace {
    const { T, B } = options;
    positiveInt("T", T);
    positiveInt("B", B);
    const P = take("params", params, spec.params, 1);
    const X = take("inputs", inputs, spec.inputs, T * B);
    const mask = options.mask;
    if (mask !== undefined && (!(mask instanceof Uint8Array) || mask.length !== T * B))
      throw new DataError(`mask: expected a Uint8Array of ${T * B} entries ([T][B])`);
    const initial = takeOptional("initial", options.initial, spec.states, B, alloc);
    const S = spec.states.map((s, k) => {
      const h = alloc((T + 1) * B * s.size);
      h.set(initial[k]!);
      return h;
    });
    const Y = spec.outputs.map((o) => alloc(T * B * o.size));
    const R = spec.tape.map((v) => alloc(T * B * v.size));
    kernels.forward(T, B, P, X, S, Y, R, mask, workspace.arrays(T, B), workspace.products());
    const trace: Trace = {
      T, B,
      outputs: record(spec.outputs, (_, k) => Y[k]!),
      final: record(spec.states, (s, k) => S[k]!.slice(T * B * s.size)),
      tapeBytes: [...S, ...R].reduce((n, a) => n + a.byteLength, 0),
    };
    recordings.set(trace, { params: P, inputs: X, history: S, outputs: Y, tape: R, mask });
    return trace;
  }

  function backward(params: Tensors, trace: Trace, seeds: BackwardSeeds, grads: Tensors): BackwardResult {
    const rec = recordings.get(trace);
    if (!rec) throw new DataError("trace: not a trace returned by this cell's forward");
    const { T, B } = trace;
    const P = take("params", params, spec.params, 1);
    const GP = take("grads", grads, spec.params, 1);
    const GY = takeOptional("outputGrads", seeds.outputs, spec.outputs, T * B, alloc);
    if (rec.mask) zeroPadded(GY, spec.outputs, rec.mask);
    const GS = takeOptional("finalGrads", seeds.final, spec.states, B, alloc).map((a) => a.slice());
    const GX = spec.inputs.map((x) => alloc(T * B * x.size));
    kernels.backward(T, B, P, rec.inputs, rec.history, rec.outputs, rec.tape, rec.mask, GY, GS, GP, GX, workspace.arrays(T, B), workspace.products());
    return { inputs: record(spec.inputs, (_, k) => GX[k]!), initial: record(spec.states, (_, k) => GS[k]!) };
  }

  function createState(B = 1, initial?: Tensors): StepState {
    positiveInt("B", B);
    const states = takeOptional("initial", initial, spec.states, B, alloc).map((a) => a.slice());
    return {
      B,
      states: record(spec.states, (_, k) => states[k]!),
      outputs: record(spec.outputs, (o) => alloc(B * o.size)),
    };
  }

  // `step` reuses these argument lists: the steady state allocates nothing.
  const stepArgs = { P: [] as Real[], X: [] as Real[], S: [] as Real[], Y: [] as Real[] };
  const fill = (list: Real[], field: string, tensors: Tensors, specs: readonly TensorSpec[], per: number) => {
    list.length = specs.length;
    for (let k = 0; k < specs.length; k++) {
      const s = specs[k]!;
      const a = own(tensors, s.name);
      if (a === undefined) throw new DataError(`${field}.${s.name}: missing`);
      if (a.length !== s.size * per) check(`${field}.${s.name}`, a, s.size * per);
      list[k] = a;
    }
  };

  function step(params: Tensors, inputs: Tensors, state: StepState): void {
    fill(stepArgs.P, "params", params, spec.params, 1);
    fill(stepArgs.X, "inputs", inputs, spec.inputs, state.B);
    fill(stepArgs.S, "state.states", state.states, spec.states, state.B);
    fill(stepArgs.Y, "state.outputs", state.outputs, spec.outputs, state.B);
    kernels.step(state.B, stepArgs.P, stepArgs.X, stepArgs.S, stepArgs.Y, stepWorkspace.arrays(1, state.B), stepWorkspace.products());
  }

  return {
    ...spec,
    createParams: () => record(spec.params, (p) => alloc(p.size)),
    createGrads: () => record(spec.params, (p) => alloc(p.size)),
    initParams(seed = 0) {
      const random = mulberry32(seed);
      const bound = 1 / Math.sqrt(fan);
      return record(spec.params, (p) => alloc(p.size).map(() => (2 * random() - 1) * bound));
    },
    forward,
    backward,
    createState,
    step,
  };
}
