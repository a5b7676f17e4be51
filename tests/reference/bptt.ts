/**
 * The driver shared by the reference cells: each cell gives one step of one sequence (`step`) and
 * that step's hand-written adjoint (`back`); this file runs them over `[T][B]` and backpropagates
 * through time. It also builds seeded eval inputs and checks a reference's own BPTT against
 * central finite differences of its own forward (so the oracle is itself checked, independently
 * of the compiler).
 */
import { mulberry32, zeros, type Mat, type Vec } from "./math.js";

/**
 * One step's named values for one batch entry (`{ h: [...], c: [...] }`). Typed as vectors, which
 * most cells have; a value declared with shape `[]` is a number and one of shape `[n, m]` a list of
 * rows (as the eval JSON nests them, read with `matOf`).
 */
export type Named = Record<string, Vec>;
/** Params by name: a matrix as a list of rows, a vector, or (shape `[]`) a number. */
export type Params = Record<string, Mat | Vec | number>;
/** `[T][B][n]` */
export type Seq = number[][][];

export interface TensorDecl {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface ReferenceCell<Cache = unknown> {
  /** The cell's name and its `.cell` file under examples/cells. */
  readonly name: string;
  readonly file: string;
  readonly params: readonly TensorDecl[];
  readonly inputs: readonly TensorDecl[];
  readonly states: readonly TensorDecl[];
  readonly outputs: readonly TensorDecl[];
  /**
   * The test data's entries are uniform in ±dataScale (default 0.5): a cell with `max` sets it so
   * that each max takes either side somewhere in a T=3, B=2 run (both derivative branches tested).
   */
  readonly dataScale?: number;
  /** One step of one sequence: new states, this step's outputs, and what `back` needs. */
  step(p: Params, x: Named, s: Named): { states: Named; outputs: Named; cache: Cache };
  /**
   * The step's adjoint: given dLoss/d(new states) from later steps and dLoss/d(outputs) of this
   * step, accumulates param gradients into `gp` and returns dLoss/d(inputs) and d(previous states).
   */
  back(p: Params, cache: Cache, dNext: Named, dOut: Named, gp: Params): { dx: Named; dPrev: Named };
  /**
   * For a cell with `max(a, b)`: a − b of each max this step, by a name for it. The tests check that
   * their data gives every max both signs and never a tie (where the subgradient is a choice).
   */
  maxMargins?(cache: Cache): Record<string, number[]>;
}

/** The `rnnc eval` input (SPEC §2), as plain nested arrays. */
export interface EvalData {
  T: number;
  B: number;
  params: Params;
  inputs: Record<string, Seq>;
  initial?: Record<string, Vec[]>;
  outputGrads?: Record<string, Seq>;
  finalGrads?: Record<string, Vec[]>;
}

export interface EvalResult {
  outputs: Record<string, Seq>;
  final: Record<string, Vec[]>;
  grads?: { params: Params; inputs: Record<string, Seq>; initial: Record<string, Vec[]> };
}

/** A named value of shape `[n, m]` (a list of rows), stored where `Named` says `Vec`. */
export const matOf = (v: Vec | undefined): Mat => v as unknown as Mat;
/** A list of rows stored as a `Named` value. */
export const asNamed = (v: Mat): Vec => v as unknown as Vec;

const zerosLike = (shape: readonly number[]): Mat | Vec | number =>
  shape.length === 0 ? 0 : shape.length === 1 ? zeros(shape[0]!) : Array.from({ length: shape[0]! }, () => zeros(shape[1]!));

/** A deep copy of a nested number array (a number is returned as is). */
const copy = <V>(v: V): V => (Array.isArray(v) ? (v.map(copy) as V) : v);

/** Forward over `[T][B]`, and (when seeds are given) backprop through time. */
export function runReference(cell: ReferenceCell, data: EvalData): EvalResult {
  const { T, B, params } = data;
  const at = (seq: Record<string, Seq> | undefined, decls: readonly TensorDecl[], t: number, b: number): Named =>
    Object.fromEntries(decls.map((d) => [d.name, (copy(seq?.[d.name]?.[t]?.[b]) ?? zerosLike(d.shape)) as Vec]));
  const atB = (v: Record<string, Vec[]> | undefined, decls: readonly TensorDecl[], b: number): Named =>
    Object.fromEntries(decls.map((d) => [d.name, (copy(v?.[d.name]?.[b]) ?? zerosLike(d.shape)) as Vec]));
  const seqOf = (decls: readonly TensorDecl[]): Record<string, Seq> =>
    Object.fromEntries(decls.map((d) => [d.name, Array.from({ length: T }, () => new Array<Vec>(B))]));
  const batchOf = (decls: readonly TensorDecl[]): Record<string, Vec[]> =>
    Object.fromEntries(decls.map((d) => [d.name, new Array<Vec>(B)]));

  const outputs = seqOf(cell.outputs);
  const final = batchOf(cell.states);
  const withGrads = data.outputGrads !== undefined || data.finalGrads !== undefined;
  const gp: Params = Object.fromEntries(cell.params.map((p) => [p.name, zerosLike(p.shape)]));
  const gx = seqOf(cell.inputs);
  const gInitial = batchOf(cell.states);

  for (let b = 0; b < B; b++) {
    let s = atB(data.initial, cell.states, b);
    const caches: unknown[] = [];
    for (let t = 0; t < T; t++) {
      const r = cell.step(params, at(data.inputs, cell.inputs, t, b), s);
      for (const o of cell.outputs) outputs[o.name]![t]![b] = r.outputs[o.name]!;
      caches.push(r.cache);
      s = r.states;
    }
    for (const st of cell.states) final[st.name]![b] = s[st.name]!;
    if (!withGrads) continue;
    let dS = atB(data.finalGrads, cell.states, b);
    for (let t = T - 1; t >= 0; t--) {
      const r = cell.back(params, caches[t], dS, at(data.outputGrads, cell.outputs, t, b), gp);
      for (const x of cell.inputs) gx[x.name]![t]![b] = r.dx[x.name]!;
      dS = r.dPrev;
    }
    for (const st of cell.states) gInitial[st.name]![b] = dS[st.name]!;
  }
  return { outputs, final, ...(withGrads ? { grads: { params: gp, inputs: gx, initial: gInitial } } : {}) };
}

/** A seeded eval input with every field (T steps, B sequences), entries uniform in ±scale (default the cell's `dataScale`). */
export function randomEvalData(cell: ReferenceCell, T: number, B: number, seed: number, scale = cell.dataScale ?? 0.5): EvalData {
  const random = mulberry32(seed);
  const vec = (n: number): Vec => Array.from({ length: n }, () => (2 * random() - 1) * scale);
  const tensor = (shape: readonly number[]): Mat | Vec | number =>
    shape.length === 0 ? vec(1)[0]! : shape.length === 1 ? vec(shape[0]!) : Array.from({ length: shape[0]! }, () => vec(shape[1]!));
  const batch = (d: TensorDecl) => Array.from({ length: B }, () => tensor(d.shape) as Vec);
  const seq = (d: TensorDecl) => Array.from({ length: T }, () => batch(d));
  const named = <V>(decls: readonly TensorDecl[], f: (d: TensorDecl) => V): Record<string, V> =>
    Object.fromEntries(decls.map((d) => [d.name, f(d)]));
  return {
    T, B,
    params: named(cell.params, (p) => tensor(p.shape)),
    inputs: named(cell.inputs, seq),
    initial: named(cell.states, batch),
    outputGrads: named(cell.outputs, seq),
    finalGrads: named(cell.states, batch),
  };
}

/** The loss the seeds define: Σ outputGrads·outputs + Σ finalGrads·final. */
function loss(cell: ReferenceCell, data: EvalData): number {
  const r = runReference(cell, { ...data, outputGrads: undefined, finalGrads: undefined });
  let l = 0;
  const dotNested = (a: unknown, b: unknown): number =>
    Array.isArray(a) ? a.reduce((s: number, v, i) => s + dotNested(v, (b as unknown[])[i]), 0) : (a as number) * (b as number);
  for (const o of cell.outputs) l += dotNested(r.outputs[o.name], data.outputGrads?.[o.name]);
  for (const s of cell.states) l += dotNested(r.final[s.name], data.finalGrads?.[s.name]);
  return l;
}

/**
 * Central finite differences (eps 1e-6, float64) of the reference's own loss, for `count` seeded
 * elements of every param, input and initial state; returns the largest |analytic − numeric| /
 * max(1, |numeric|). Its truncation and rounding errors are ~1e-9, so ~1e-6 is the tolerance.
 */
export function maxFiniteDifferenceError(cell: ReferenceCell, data: EvalData, count: number, seed: number): { error: number; where: string } {
  const grads = runReference(cell, data).grads!;
  const random = mulberry32(seed);
  const eps = 1e-6;
  let worst = { error: 0, where: "" };
  const probe = (where: string, holder: Record<string | number, number>, i: string | number, analytic: number) => {
    const keep = holder[i]!;
    holder[i] = keep + eps;
    const up = loss(cell, data);
    holder[i] = keep - eps;
    const down = loss(cell, data);
    holder[i] = keep;
    const numeric = (up - down) / (2 * eps);
    const error = Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric));
    if (error > worst.error || worst.where === "") worst = { error, where: `${where}: analytic ${analytic}, numeric ${numeric}` };
  };
  /** Picks `count` random leaves of a nested array (and the same leaf of its gradient). */
  const sample = (field: string, value: unknown, grad: unknown) => {
    for (let k = 0; k < count; k++) {
      let v = value as unknown[], g = grad as unknown[], path = field;
      while (Array.isArray(v[0])) {
        const i = Math.floor(random() * v.length);
        path += `[${i}]`;
        v = v[i] as unknown[];
        g = g[i] as unknown[];
      }
      const i = Math.floor(random() * v.length);
      probe(`${path}[${i}]`, v as unknown as Record<number, number>, i, (g as number[])[i]!);
    }
  };
  for (const p of cell.params) {
    if (p.shape.length === 0) probe(`params.${p.name}`, data.params as Record<string, number>, p.name, grads.params[p.name] as number);
    else sample(`params.${p.name}`, data.params[p.name], grads.params[p.name]);
  }
  for (const x of cell.inputs) sample(`inputs.${x.name}`, data.inputs[x.name], grads.inputs[x.name]);
  for (const s of cell.states) sample(`initial.${s.name}`, data.initial![s.name], grads.initial[s.name]);
  return worst;
}
