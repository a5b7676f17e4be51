/**
 * Gradient checking: the compiled analytic gradient of every param, input and initial state
 * against central finite differences, all in float64. The loss is a random linear functional of
 * every output at every step and of the final states, so every gradient path is exercised. Data
 * is redrawn until the forward pass keeps clear of non-differentiable points (relu, abs at 0).
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
   * rounding error of a central difference at this eps.
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
  readonly ok: boolean;
}

export interface GradcheckResult {
  readonly cell: string;
  readonly T: number;
  readonly B: number;
  readonly seed: number;
  readonly eps: number;
  readonly rows: readonly GradRow[];
  readonly ok: boolean;
}

const FLOOR = 1e-3;

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
  const loss = (): number => {
    const trace = cell.forward(params, inputs, { T, B, initial });
    let l = 0;
    cell.outputs.forEach((o, k) => (l += dot(trace.outputs[o.name]!, data.outputGrads[k]!)));
    cell.states.forEach((s, k) => (l += dot(trace.final[s.name]!, data.finalGrads[k]!)));
    return l;
  };
  const trace = cell.forward(params, inputs, { T, B, initial });
  const grads = cell.createGrads();
  const back = cell.backward(params, trace, { outputs: named(cell.outputs, data.outputGrads), final: named(cell.states, data.finalGrads) }, grads);

  const roundoff = (64 * Number.EPSILON * (Math.abs(loss()) + 1)) / eps;
  const random = mulberry32(seed ^ 0x9e3779b9);
  const check = (kind: GradRow["kind"], name: string, values: Float64Array, analytic: ArrayLike<number>): GradRow => {
    const picks = choose(values.length, options.maxElements ?? 2000, random);
    let maxAbsError = 0, maxRelError = 0, ok = true, atKink = 0;
    for (const i of picks) {
      const keep = values[i]!;
      values[i] = keep + eps;
      const up = loss();
      values[i] = keep - eps;
      const down = loss();
      values[i] = keep;
      const numeric = (up - down) / (2 * eps);
      const a = analytic[i]!;
      const abs = Math.abs(a - numeric);
      const scale = Math.max(Math.abs(a), Math.abs(numeric), FLOOR);
      // Rounding in the loss, divided by 2·eps, bounds how exact a central difference can be.
      const agrees = abs <= tolerance * scale + roundoff;
      if (!agrees && margin < eps) {
        atKink++;
        continue;
      }
      maxAbsError = Math.max(maxAbsError, abs);
      maxRelError = Math.max(maxRelError, abs / scale);
      if (!agrees) ok = false;
    }
    return { kind, name, size: values.length, checked: picks.length - atKink, maxAbsError, maxRelError, atKink, ok };
  };
  const rows = [
    ...cell.params.map((p, k) => check("param", p.name, data.params[k]!, grads[p.name]!)),
    ...cell.inputs.map((x, k) => check("input", x.name, data.inputs[k]!, back.inputs[x.name]!)),
    ...cell.states.map((s, k) => check("initial", s.name, data.initial[k]!, back.initial[s.name]!)),
  ];
  return { cell: cell.name, T, B, seed, eps, rows, ok: rows.every((r) => r.ok) };
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
