/**
 * `max(v)` and `min(v)`, reductions of a vector (or matrix) to a scalar, and `softmax(v)`.
 *
 * A reduction's gradient goes to the elements equal to the result, split evenly between ties
 * (PyTorch's `evenly_distribute_backward` for `max()` without a dimension). Softmax subtracts the
 * maximum before `exp` (stable) and its derivative reuses its output: out ⊙ (g − Σ g ⊙ out).
 */
import type { Shape } from "../ast.js";
import type { ReduceDef, StructuralDef, Tensor } from "./types.js";
import { show } from "./types.js";

function extremum(name: "max" | "min"): ReduceDef {
  const pick = name === "max" ? Math.max : Math.min;
  const init = name === "max" ? -Infinity : Infinity;
  return {
    name, syntax: [name], arity: 1, kind: "reduce", cost: 1,
    shape: ([a]) => (a!.length >= 1 ? [] : `${name} of one argument takes a vector or a matrix, not a scalar`),
    evaluate: ([a]: readonly Tensor[]) => Float64Array.of(a!.data.reduce((acc, x) => pick(acc, x), init)),
    finish: (acc) => acc,
    fold: { init: name === "max" ? "-Infinity" : "Infinity", step: (acc, x) => `Math.${name}(${acc}, ${x})` },
    vjp: ({ graph, g, out, args: [a] }) => {
      const picked = graph.apply("equal", [a!, out]);
      return [graph.mul(picked, graph.div(g, graph.sum(picked)))];
    },
    // The gap between the two largest (smallest) elements: where it closes, the pick changes.
    kink: (xs) => {
      if (xs.length < 2) return Infinity;
      const sorted = Float64Array.from(xs).sort();
      return name === "max" ? sorted[sorted.length - 1]! - sorted[sorted.length - 2]! : sorted[1]! - sorted[0]!;
    },
  };
}

/** The reference: max, the sum of exp(x − max) from element 0 on, then each exp(x − max) / sum. */
function softmaxOf(x: Float64Array): Float64Array {
  const m = x.reduce((acc, v) => Math.max(acc, v), -Infinity);
  let sum = 0;
  for (const v of x) sum += Math.exp(v - m);
  return x.map((v) => Math.exp(v - m) / sum);
}

const softmax: StructuralDef = {
  name: "softmax", syntax: ["softmax"], arity: 1, kind: "structural", cost: 20,
  shape: ([a]: readonly Shape[]) => (a!.length === 1 ? a! : `softmax takes a vector, not ${show(a!)}`),
  evaluate: ([a]) => softmaxOf(a!.data),
  vjp: ({ graph, g, out }) => [graph.mul(out, graph.sub(g, graph.sum(graph.mul(g, out))))],
  emit: (w) => {
    const [n] = w.argShapes[0] as [number];
    const i = w.fresh("i"), m = w.fresh("max"), s = w.fresh("total");
    // A block of its own: outside a row loop its names sit beside other ops' in one scope.
    w.line("{");
    w.line(`let ${m} = -Infinity;`);
    w.line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) ${m} = Math.max(${m}, ${w.arg(0, i)});`);
    w.line(`let ${s} = 0;`);
    w.line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) ${s} += Math.exp(${w.arg(0, i)} - ${m});`);
    w.line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) ${w.store(i, `Math.exp(${w.arg(0, i)} - ${m}) / ${s}`)}`);
    w.line("}");
  },
};

export const extremaOps: readonly (ReduceDef | StructuralDef)[] = [extremum("max"), extremum("min"), softmax];
