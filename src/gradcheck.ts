/**
 * Gradient checking: the compiled analytic gradient of every param, input and initial state
 * against central finite differences, all in float64. The loss is a random linear functional of
 * every output at every step and of the final states, so every gradient path is exercised. Data
 * is redrawn until the forward pass keeps clear of non-differentiable points (relu, abs at 0).
 *
 * A forward pass that is not finite is reported (where: step, batch row, output or state) and
 * nothing is compared. A difference at the starting step that disagrees with the analytic value is
 * not yet called wrong: near a pole (1/x, log x close to 0) the truncation error of a central
 * difference is large, so the step is shrunk, with Richardson extrapolation, until the estimate
 * agrees or settles on another value. Only a settled disagreement is WRONG; each row reports the
 * smallest step it needed.
 */
import type { CellIR } from "../compiler/ir/cell.js";
import { kinkMargin } from "../compiler/ir/interpret.js";
import { sizeOf } from "../compiler/ir/graph.js";
import { mulberry32 } from "./runtime/random.js";
import type { Cell, Tensors } from "./runtime/types.js";

export interface GradcheckOptions {
  readonly steps?: number;
  readonly batch?: number;
  readonly seed?: number;
  /** At most this many elements per tensor are checked (a seeded random subset beyond it). */
  readonly maxElements?: number;
  /**
   * Pass when |analytic − numeric| ≤ tolerance · max(|analytic|, |numeric|, 1e-3) plus the
   * rounding error of a central difference at the step used.
   */
  readonly tolerance?: number;
}

export interface GradRow {
  readonly kind: "param" | "input" | "initial";
  readonly name: string;
  readonly size: number;
  readonly checked: number;
  readonly maxAbsError: number;
  readonly maxRelError: number;
  /** Elements not judged: data could not be kept clear of a kink, and there the difference disagreed. */
  readonly atKink: number;
  /** The smallest finite-difference step any element of this tensor needed (the starting eps if none shrank). */
  readonly step: number;
  /** Elements whose difference needed a step smaller than eps to agree or settle. */
  readonly refined: number;
  /** Elements not judged: however small the step, the difference did not settle on a value. */
  readonly unsettled: number;
  /**
   * Every checked element's analytic gradient and finite difference are both exactly 0: the loss
   * does not depend on this tensor at all (a state never assigned, a value no output reads), which
   * a check that only compares the two cannot tell from a match.
   */
  readonly zero: boolean;
  readonly ok: boolean;
}

/** The first value of the forward pass that is NaN or infinite. */
export interface NonFinite {
  readonly kind: "output" | "state";
  readonly name: string;
  /** The step (0-based); a state's value is the one after this step. */
  readonly t: number;
  /** The batch row. */
  readonly b: number;
  /** The element within the vector. */
  readonly index: number;
  readonly value: "NaN" | "Infinity" | "-Infinity";
}

export interface GradcheckResult {
  readonly cell: string;
  readonly T: number;
  readonly B: number;
  readonly seed: number;
  /** The starting finite-difference step. */
  readonly eps: number;
  readonly rows: readonly GradRow[];
  /** Set when the forward pass is not finite; then nothing is compared (`rows` is empty). */
  readonly nonFinite?: NonFinite;
  readonly ok: boolean;
}

const FLOOR = 1e-3;
/** Each refinement divides the step by this; at most `LEVELS` refinements. */
const SHRINK = 4;
const LEVELS = 6;

/** `cell` must be the float64 compilation of `ir`. */
export function gradcheck(ir: CellIR, cell: Cell, options: GradcheckOptions = {}): GradcheckResult {
  const T = options.steps ?? 4;
  const B = options.batch ?? 2;
  const tolerance = options.tolerance ?? 1e-5;
  const seed0 = options.seed ?? 0;
  const { data, eps, seed, margin } = drawData(ir, T, B, seed0);

  const named = (specs: readonly { name: string }[], arrays: readonly Float64Array[]): Tensors =>
    Object.fromEntries(specs.map((s, k) => [s.name, arrays[k]!]));
  const params = named(cell.params, data.params);
  const inputs = named(cell.inputs, data.inputs);
  const initial = named(cell.states, data.initial);
  const trace = cell.forward(params, inputs, { T, B, initial });
  const finite = (t: Tensors) => Object.values(t).every((a) => a.every(Number.isFinite));
  if (!finite(trace.outputs) || !finite(trace.final)) {
    const nonFinite = locateNonFinite(cell, params, data, T, B);
    if (nonFinite) return { cell: cell.name, T, B, seed, eps, rows: [], nonFinite, ok: false };
  }
  const loss = (): number => {
    const trace = cell.forward(params, inputs, { T, B, initial });
    let l = 0;
    cell.outputs.forEach((o, k) => (l += dot(trace.outputs[o.name]!, data.outputGrads[k]!)));
    cell.states.forEach((s, k) => (l += dot(trace.final[s.name]!, data.finalGrads[k]!)));
    return l;
  };
  const grads = cell.createGrads();
  const back = cell.backward(params, trace, { outputs: named(cell.outputs, data.outputGrads), final: named(cell.states, data.finalGrads) }, grads);

  // Rounding in the loss, divided by 2·h, bounds how exact a central difference at step h can be.
  const lossScale = 64 * Number.EPSILON * (Math.abs(loss()) + 1);
  const rounding = (h: number) => lossScale / h;
  const close = (x: number, y: number, h: number) =>
    Number.isFinite(x) && Number.isFinite(y) && Math.abs(x - y) <= tolerance * Math.max(Math.abs(x), Math.abs(y), FLOOR) + rounding(h);
  const random = mulberry32(seed ^ 0x9e3779b9);
  const check = (kind: GradRow["kind"], name: string, values: Float64Array, analytic: ArrayLike<number>): GradRow => {
    const picks = choose(values.length, options.maxElements ?? 2000, random);
    let maxAbsError = 0, maxRelError = 0, ok = true, atKink = 0, refined = 0, unsettled = 0, step = eps, zero = true;
    const difference = (i: number, h: number): number => {
      const keep = values[i]!;
      values[i] = keep + h;
      const up = loss();
      values[i] = keep - h;
      const down = loss();
      values[i] = keep;
      return (up - down) / (2 * h);
    };
    for (const i of picks) {
      const a = analytic[i]!;
      const estimate = refine(a, eps, (h) => difference(i, h), close, rounding);
      if (estimate.verdict !== "agrees" && margin < eps) {
        atKink++;
        continue;
      }
      if (estimate.step < eps) refined++;
      step = Math.min(step, estimate.step);
      if (estimate.verdict === "unsettled") {
        unsettled++;
        continue;
      }
      if (a !== 0 || estimate.numeric !== 0) zero = false;
      const abs = Math.abs(a - estimate.numeric);
      maxAbsError = Math.max(maxAbsError, abs);
      maxRelError = Math.max(maxRelError, abs / Math.max(Math.abs(a), Math.abs(estimate.numeric), FLOOR));
      if (estimate.verdict === "disagrees") ok = false;
    }
    const checked = picks.length - atKink - unsettled;
    return { kind, name, size: values.length, checked, maxAbsError, maxRelError, atKink, step, refined, unsettled, zero: zero && checked > 0, ok };
  };
  const rows = [
    ...cell.params.map((p, k) => check("param", p.name, data.params[k]!, grads[p.name]!)),
    ...cell.inputs.map((x, k) => check("input", x.name, data.inputs[k]!, back.inputs[x.name]!)),
    ...cell.states.map((s, k) => check("initial", s.name, data.initial[k]!, back.initial[s.name]!)),
  ];
  return { cell: cell.name, T, B, seed, eps, rows, ok: rows.every((r) => r.ok) };
}

interface Estimate {
  readonly numeric: number;
  readonly step: number;
  readonly verdict: "agrees" | "disagrees" | "unsettled";
}

/**
 * The central difference `diff(h)` compared with `analytic`: at `eps` first; on disagreement at
 * steps eps/4, eps/16, ..., each also extrapolated (Richardson: the h² term of the error removed).
 * It agrees as soon as either estimate is close to `analytic`; it disagrees once two successive
 * differences are close to each other (the estimate has settled) but not to `analytic`. Steps so
 * small that rounding alone could account for 1% of the value are not tried: agreement there
 * would mean little.
 */
function refine(
  analytic: number, eps: number, diff: (h: number) => number,
  close: (x: number, y: number, h: number) => boolean, rounding: (h: number) => number,
): Estimate {
  let h = eps;
  let d = diff(h);
  if (close(d, analytic, h)) return { numeric: d, step: h, verdict: "agrees" };
  for (let level = 1; level <= LEVELS; level++) {
    const next = h / SHRINK;
    if (level > 1 && rounding(next) > 1e-2 * Math.max(Math.abs(analytic), FLOOR)) break;
    const dn = diff(next);
    const extrapolated = dn + (dn - d) / (SHRINK * SHRINK - 1);
    if (close(dn, analytic, next)) return { numeric: dn, step: next, verdict: "agrees" };
    if (close(extrapolated, analytic, next)) return { numeric: extrapolated, step: next, verdict: "agrees" };
    if (close(dn, d, next)) return { numeric: dn, step: next, verdict: "disagrees" };
    [h, d] = [next, dn];
  }
  return { numeric: d, step: h, verdict: "unsettled" };
}

/** Steps the cell one step at a time and returns the first output or state that is not finite. */
function locateNonFinite(cell: Cell, params: Tensors, data: Drawn, T: number, B: number): NonFinite | undefined {
  const initial = Object.fromEntries(cell.states.map((s, k) => [s.name, data.initial[k]!]));
  const state = cell.createState(B, initial);
  for (let t = 0; t < T; t++) {
    const inputs = Object.fromEntries(cell.inputs.map((x, k) => [x.name, data.inputs[k]!.subarray(t * B * x.size, (t + 1) * B * x.size)]));
    cell.step(params, inputs, state);
    const found =
      firstNonFinite("state", cell.states, state.states, t, B) ?? firstNonFinite("output", cell.outputs, state.outputs, t, B);
    if (found) return found;
  }
  return undefined;
}

function firstNonFinite(kind: NonFinite["kind"], specs: Cell["states"], values: Tensors, t: number, B: number): NonFinite | undefined {
  for (const spec of specs) {
    const v = values[spec.name]!;
    for (let b = 0; b < B; b++) {
      for (let index = 0; index < spec.size; index++) {
        const x = v[b * spec.size + index]!;
        if (!Number.isFinite(x)) return { kind, name: spec.name, t, b, index, value: Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity" };
      }
    }
  }
  return undefined;
}

/** "state 'h' after step t=2, batch row 1, element 3 is NaN". */
export function describeNonFinite(n: NonFinite): string {
  const where = n.kind === "state" ? `state '${n.name}' after step t=${n.t}` : `output '${n.name}' at step t=${n.t}`;
  return `${where}, batch row ${n.b}, element ${n.index} is ${n.value}`;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function choose(n: number, max: number, random: () => number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= max) return all;
  for (let i = 0; i < max; i++) {
    const j = i + Math.floor(random() * (n - i));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, max).sort((a, b) => a - b);
}

interface Drawn {
  readonly params: Float64Array[];
  readonly inputs: Float64Array[];
  readonly initial: Float64Array[];
  readonly outputGrads: Float64Array[];
  readonly finalGrads: Float64Array[];
}

/**
 * Random data whose forward pass stays at least 1e-4 from any kink, eps 1% of that margin at most.
 * Some cells sit on a kink whatever the data (`relu(-relu(x))` is exactly 0); then the closest
 * draw is used with eps ≥ 1e-8, and elements whose difference crosses the kink are not judged.
 */
function drawData(ir: CellIR, T: number, B: number, seed0: number): { data: Drawn; eps: number; seed: number; margin: number } {
  let best: { data: Drawn; margin: number; seed: number } | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    const seed = seed0 + attempt;
    const random = mulberry32(seed);
    const fill = (n: number) => Float64Array.from({ length: n }, () => 2 * random() - 1);
    const n = (d: { shape: readonly number[] }) => sizeOf(d.shape);
    const scale = (a: Float64Array, s: number) => a.map((v) => v * s);
    const fan = Math.sqrt(Math.max(1, ir.states[0] ? n(ir.states[0]) : 1));
    const data: Drawn = {
      params: ir.params.map((p) => scale(fill(n(p)), p.shape.length === 2 ? 1 / fan : 0.5)),
      inputs: ir.inputs.map((x) => fill(T * B * n(x))),
      initial: ir.states.map((s) => scale(fill(B * n(s)), 0.5)),
      outputGrads: ir.outputs.map((o) => fill(T * B * n(o))),
      finalGrads: ir.states.map((s) => fill(B * n(s))),
    };
    const margin = kinkMargin(ir, { T, B, ...data });
    if (!best || margin > best.margin) best = { data, margin, seed };
    if (margin >= 1e-4) break;
  }
  const { data, margin, seed } = best!;
  return { data, eps: Math.max(1e-8, Math.min(1e-6, margin / 100)), seed, margin };
}
