/**
 * Running a compiled cell on seeded data, and comparing two runs: bit for bit, or to a relative
 * tolerance with the same pattern of non-finite values.
 */
import type { CellIR } from "../compiler/ir/cell.js";
import { sizeOf } from "../compiler/ir/graph.js";
import { runReference } from "../compiler/ir/interpret.js";
import { randomData as dataFor, type Data } from "../tests/helpers/data.js";
import type { Cell, Real, Tensors } from "../src/runtime/types.js";

export const T = 3;
export const B = 2;

export type { Data };

/** Every array a run produces, labelled: `outputs.y`, `final.h`, `grads.W0`, `grads.inputs.x`, … */
export type Run = ReadonlyArray<readonly [label: string, values: ArrayLike<number>]>;

/** The fuzz's data for a cell: T steps of B sequences, drawn from `seed`. */
export const randomData = (ir: CellIR, seed: number): Data => dataFor(ir, T, B, seed);

/** Elements one run touches: params, sequences, states; the fuzz skips running cells far beyond toy sizes. */
export function runElements(ir: CellIR): number {
  const n = (ds: readonly { shape: readonly number[] }[]) => ds.reduce((s, d) => s + sizeOf(d.shape), 0);
  return 3 * n(ir.params) + T * B * (n(ir.inputs) + n(ir.outputs) + 4 * n(ir.states));
}

function named(cell: Cell, specs: readonly { name: string }[], arrays: readonly Float64Array[]): Tensors {
  const convert = (a: Float64Array): Real => (cell.dtype === "f32" ? Float32Array.from(a) : a.slice());
  return Object.fromEntries(specs.map((s, k) => [s.name, convert(arrays[k]!)]));
}

/** Forward over T steps and the full backward. */
export function runCell(cell: Cell, d: Data): Run {
  const params = named(cell, cell.params, d.params);
  const trace = cell.forward(params, named(cell, cell.inputs, d.inputs), { T, B, initial: named(cell, cell.states, d.initial) });
  const grads = cell.createGrads();
  const seeds = { outputs: named(cell, cell.outputs, d.outputGrads), final: named(cell, cell.states, d.finalGrads) };
  const back = cell.backward(params, trace, seeds, grads);
  return [
    ...cell.outputs.map((o) => [`outputs.${o.name}`, trace.outputs[o.name]!] as const),
    ...cell.states.map((s) => [`final.${s.name}`, trace.final[s.name]!] as const),
    ...cell.params.map((p) => [`grads.${p.name}`, grads[p.name]!] as const),
    ...cell.inputs.map((x) => [`grads.inputs.${x.name}`, back.inputs[x.name]!] as const),
    ...cell.states.map((s) => [`grads.initial.${s.name}`, back.initial[s.name]!] as const),
  ];
}

/** T calls of `step`, from the same initial states: the outputs and final states. */
export function runSteps(cell: Cell, d: Data): Run {
  const params = named(cell, cell.params, d.params);
  const state = cell.createState(B, named(cell, cell.states, d.initial));
  const outputs = cell.outputs.map((o) => new Float64Array(T * B * o.size));
  for (let t = 0; t < T; t++) {
    const slice = d.inputs.map((x, k) => x.subarray(t * B * cell.inputs[k]!.size, (t + 1) * B * cell.inputs[k]!.size));
    cell.step(params, named(cell, cell.inputs, slice), state);
    cell.outputs.forEach((o, k) => outputs[k]!.set(state.outputs[o.name]!, t * B * o.size));
  }
  return [
    ...cell.outputs.map((o, k) => [`outputs.${o.name}`, outputs[k]!] as const),
    ...cell.states.map((s) => [`final.${s.name}`, state.states[s.name]!] as const),
  ];
}

/** The reference evaluator on the same data, labelled as `runCell` labels. */
export function runReferenceOf(ir: CellIR, d: Data): Run {
  const ref = runReference(ir, { T, B, ...d });
  return [
    ...ir.outputs.map((o, k) => [`outputs.${o.name}`, ref.outputs[k]!] as const),
    ...ir.states.map((s, k) => [`final.${s.name}`, ref.final[k]!] as const),
    ...ir.params.map((p, k) => [`grads.${p.name}`, ref.grads!.params[k]!] as const),
    ...ir.inputs.map((x, k) => [`grads.inputs.${x.name}`, ref.grads!.inputs[k]!] as const),
    ...ir.states.map((s, k) => [`grads.initial.${s.name}`, ref.grads!.initial[k]!] as const),
  ];
}

export const isForward = (label: string) => label.startsWith("outputs.") || label.startsWith("final.");

/** Tolerance per label: a number (relative, floor 1), or "bits" for identical values (any NaN equals any NaN). */
export type Tolerance = (label: string) => number | "bits";

function agree(a: number, b: number, tol: number | "bits"): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (tol === "bits") return Object.is(a, b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

export interface Difference {
  readonly label: string;
  readonly detail: string;
  /** Relative size of the difference (Infinity for a non-finite pattern or length that differs). */
  readonly size: number;
}

function difference(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y) || !Number.isFinite(x) || !Number.isFinite(y)) return x === y ? 0 : Infinity;
  return Math.abs(x - y) / Math.max(1, Math.abs(x), Math.abs(y));
}

/** The largest disagreement between two runs (labels present in both), or undefined. */
export function worstDifference(a: Run, b: Run, tol: Tolerance): Difference | undefined {
  const other = new Map(b);
  let worst: Difference | undefined;
  for (const [label, xs] of a) {
    const ys = other.get(label);
    if (!ys) continue;
    if (xs.length !== ys.length) return { label, detail: `${label}: ${xs.length} vs ${ys.length} numbers`, size: Infinity };
    const t = tol(label);
    for (let i = 0; i < xs.length; i++) {
      if (agree(xs[i]!, ys[i]!, t)) continue;
      const size = difference(xs[i]!, ys[i]!);
      if (!worst || size > worst.size) worst = { label, detail: `${label}[${i}]: ${fmt(xs[i]!)} vs ${fmt(ys[i]!)}`, size };
    }
  }
  return worst;
}

const fmt = (v: number) => (Object.is(v, -0) ? "-0" : String(v));

export const allFinite = (run: Run) => run.every(([, xs]) => Array.prototype.every.call(xs, Number.isFinite));
