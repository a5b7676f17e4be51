/**
 * The activation and arithmetic functions beyond the first set: `square`, `x^n`, `rsqrt`,
 * `softsign`, `gelu`, `elu`, `leaky_relu`, `clip`, elementwise `max`/`min`; and the internal ops
 * their derivatives use (`erf`, the derivative masks). As in `elementwise.ts`, each `scalar` is
 * exactly what `expr` computes, so constant folding gives the kernels' answer bit for bit.
 *
 * Subgradients at the kinks are PyTorch's: leaky_relu'(0) = slope, elu'(0) = α, clip' = 1 on
 * [lo, hi] inclusive (as `clamp`), and max(a, b) with a = b sends half the gradient to each side
 * (as `torch.maximum`).
 */
import { elu, erf, gelu, powi, POWI_INLINE, softsign } from "../../src/runtime/math.js";
import { numberLiteral } from "../codegen/literal.js";
import type { Attrs } from "../ir/graph.js";
import { binaryShape, positive } from "./elementwise.js";
import type { ElementwiseDef } from "./types.js";

const same = ([a]: readonly import("../ast.js").Shape[]) => a!;
const num = (attrs: Attrs, key: string): number => Number(attrs[key]);
const lit = (attrs: Attrs, key: string): string => numberLiteral(num(attrs, key));

type Spec = Omit<ElementwiseDef, "arity" | "kind" | "shape" | "scalar" | "cost"> & { cost?: number; fn: (a: number, attrs: Attrs) => number };

function unary({ fn, ...def }: Spec): ElementwiseDef {
  return { arity: 1, kind: "elementwise", shape: same, cost: 1, scalar: ([a], attrs) => fn(a!, attrs), ...def };
}

/** `x·x·…·x` (n factors, from the left), `1 / (…)` for n < 0, `Math.pow` beyond `POWI_INLINE`. */
function powExpr(a: string, n: number): string {
  if (n === 0) return "1";
  if (Math.abs(n) > POWI_INLINE) return `Math.pow(${a}, ${numberLiteral(n)})`;
  const product = Array<string>(Math.abs(n)).fill(a).join(" * ");
  return n < 0 ? `(1 / (${product}))` : Math.abs(n) === 1 ? a : `(${product})`;
}

/** 1 where a > b, ½ where a = b, 0 where a < b (and 1 where either is NaN, as PyTorch). */
const maxShare = (a: number, b: number): number => (a < b ? 0 : a === b ? 0.5 : 1);

function extremum(name: "maximum" | "minimum", syntax: string): ElementwiseDef {
  const pick = name === "maximum" ? Math.max : Math.min;
  const fnName = name === "maximum" ? "Math.max" : "Math.min";
  return {
    name, syntax: [syntax], arity: 2, kind: "elementwise", cost: 1, commutative: true,
    shape: binaryShape(syntax),
    scalar: ([a, b]) => pick(a!, b!),
    expr: ([a, b]) => `${fnName}(${a}, ${b})`,
    wasm: (l) => (l.arg(0), l.arg(1), l.op(`${l.shape}.${name === "maximum" ? "max" : "min"}`)),
    vjp: ({ graph, g, args: [a, b] }) => {
      const [first, second] = name === "maximum" ? [a!, b!] : [b!, a!];
      return [graph.mul(g, graph.apply("max_share", [first, second])), graph.mul(g, graph.apply("max_share", [second, first]))];
    },
    kink: ([a, b]) => Math.abs(a! - b!),
  };
}

const SQRT_2_OVER_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export const functionOps: readonly ElementwiseDef[] = [
  unary({
    name: "square", syntax: ["square"],
    fn: (a) => a * a,
    expr: ([a]) => `(${a} * ${a})`,
    wasm: (l) => (l.arg(0), l.arg(0), l.op(`${l.shape}.mul`)),
    vjp: ({ graph, g, args: [a] }) => [graph.mul(g, graph.mul(graph.const(2), a!))],
  }),
  /** `x^n`, n an integer literal (no function name: the parser reads `^`). */
  unary({
    name: "pow", attrs: { n: { type: "integer", min: -(2 ** 31) } },
    fn: (a, attrs) => powi(a, num(attrs, "n")),
    expr: ([a], attrs) => powExpr(a!, num(attrs, "n")),
    vjp: ({ graph, g, node, args: [a] }) => {
      const n = num(node.attrs, "n");
      if (n === 0) return [null];
      const lower = n === 2 ? a! : graph.apply("pow", [a!], { n: n - 1 });
      return [n === 1 ? g : graph.mul(g, graph.mul(graph.const(n), lower))];
    },
  }),
  unary({
    name: "rsqrt", syntax: ["rsqrt"], cost: 4,
    fn: (a) => 1 / Math.sqrt(a),
    expr: ([a]) => `(1 / Math.sqrt(${a}))`,
    wasm: (l) => (l.constant(1), l.arg(0), l.op(`${l.shape}.sqrt`), l.op(`${l.shape}.div`)),
    vjp: ({ graph, g, out }) => [graph.mul(g, graph.mul(graph.const(-0.5), graph.mul(out, graph.mul(out, out))))],
  }),
  unary({
    name: "softsign", syntax: ["softsign"], cost: 3, helpers: ["softsign"],
    fn: softsign,
    expr: ([a]) => `softsign(${a})`,
    vjp: ({ graph, g, args: [a] }) => {
      const d = graph.add(graph.const(1), graph.unary("abs", a!));
      return [graph.div(g, graph.mul(d, d))];
    },
  }),
  unary({
    name: "gelu", syntax: ["gelu"], cost: 20, helpers: ["gelu"],
    fn: gelu,
    expr: ([a]) => `gelu(${a})`,
    // Φ(x) + x·φ(x)
    vjp: ({ graph, g, args: [a] }) => {
      const c = (v: number) => graph.const(v);
      const cdf = graph.mul(c(0.5), graph.add(c(1), graph.unary("erf", graph.mul(a!, c(Math.SQRT1_2)))));
      const density = graph.mul(graph.unary("exp", graph.mul(c(-0.5), graph.mul(a!, a!))), c(INV_SQRT_2PI));
      return [graph.mul(g, graph.add(cdf, graph.mul(a!, density)))];
    },
  }),
  unary({
    name: "erf", cost: 16, helpers: ["erf"],
    fn: erf,
    expr: ([a]) => `erf(${a})`,
    vjp: ({ graph, g, args: [a] }) => [graph.mul(g, graph.mul(graph.const(SQRT_2_OVER_PI), graph.unary("exp", graph.neg(graph.mul(a!, a!)))))],
  }),
  unary({
    name: "elu", syntax: ["elu"], cost: 8, helpers: ["elu"],
    attrs: { alpha: { type: "number", default: 1 } }, constArgs: ["alpha"],
    fn: (a, attrs) => elu(a, num(attrs, "alpha")),
    expr: ([a], attrs) => `elu(${a}, ${lit(attrs, "alpha")})`,
    vjp: ({ graph, g, node, args: [a] }) => [graph.mul(g, graph.apply("elu_grad", [a!], { alpha: node.attrs["alpha"]! }))],
    kink: ([a], attrs) => (num(attrs, "alpha") === 1 ? Infinity : Math.abs(a!)),
  }),
  /** elu'(x): 1 for x > 0, α·eˣ otherwise (α at 0, as PyTorch). */
  unary({
    name: "elu_grad", cost: 8, attrs: { alpha: { type: "number", default: 1 } },
    fn: (a, attrs) => (a > 0 ? 1 : num(attrs, "alpha") * Math.exp(a)),
    expr: ([a], attrs) => `(${a} > 0 ? 1 : ${lit(attrs, "alpha")} * Math.exp(${a}))`,
    // elu''(x) = elu'(x) − step(x): 0 for x > 0, α·eˣ otherwise.
    vjp: ({ graph, g, out, args: [a] }) => [graph.mul(g, graph.sub(out, graph.unary("step", a!)))],
  }),
  unary({
    name: "leaky_relu", syntax: ["leaky_relu"],
    attrs: { slope: { type: "number", default: 0.01 } }, constArgs: ["slope"],
    fn: (a, attrs) => (a > 0 ? a : a * num(attrs, "slope")),
    expr: ([a], attrs) => `(${a} > 0 ? ${a} : ${a} * ${lit(attrs, "slope")})`,
    wasm: (l, attrs) => positive(l, () => l.arg(0), () => (l.arg(0), l.constant(num(attrs, "slope")), l.op(`${l.shape}.mul`))),
    vjp: ({ graph, g, node, args: [a] }) => {
      const slope = num(node.attrs, "slope");
      return [graph.mul(g, graph.add(graph.const(slope), graph.mul(graph.unary("step", a!), graph.const(1 - slope))))];
    },
    kink: ([a]) => Math.abs(a!),
  }),
  unary({
    name: "clip", syntax: ["clip"],
    attrs: { lo: { type: "number" }, hi: { type: "number" } }, constArgs: ["lo", "hi"],
    attrsProblem: (attrs) => (num(attrs, "lo") <= num(attrs, "hi") ? null : `the lower bound ${num(attrs, "lo")} is above the upper bound ${num(attrs, "hi")}`),
    fn: (a, attrs) => Math.min(Math.max(a, num(attrs, "lo")), num(attrs, "hi")),
    expr: ([a], attrs) => `Math.min(Math.max(${a}, ${lit(attrs, "lo")}), ${lit(attrs, "hi")})`,
    wasm: (l, attrs) => (l.arg(0), l.constant(num(attrs, "lo")), l.op(`${l.shape}.max`), l.constant(num(attrs, "hi")), l.op(`${l.shape}.min`)),
    vjp: ({ graph, g, node, args: [a] }) => [graph.mul(g, graph.apply("inside", [a!], { lo: node.attrs["lo"]!, hi: node.attrs["hi"]! }))],
    kink: ([a], attrs) => Math.min(Math.abs(a! - num(attrs, "lo")), Math.abs(a! - num(attrs, "hi"))),
  }),
  /** clip'(x): 1 on [lo, hi], bounds included (as PyTorch's `clamp`), 0 outside and for NaN. */
  unary({
    name: "inside", attrs: { lo: { type: "number" }, hi: { type: "number" } },
    fn: (a, attrs) => (a >= num(attrs, "lo") && a <= num(attrs, "hi") ? 1 : 0),
    expr: ([a], attrs) => `(${a} >= ${lit(attrs, "lo")} && ${a} <= ${lit(attrs, "hi")} ? 1 : 0)`,
    vjp: () => [null],
  }),
  extremum("maximum", "max"),
  extremum("minimum", "min"),
  /** The share of max(a, b)'s gradient that goes to a. */
  {
    name: "max_share", arity: 2, kind: "elementwise", cost: 1,
    shape: binaryShape("max_share"),
    scalar: ([a, b]) => maxShare(a!, b!),
    expr: ([a, b]) => `(${a} < ${b} ? 0 : ${a} === ${b} ? 0.5 : 1)`,
    vjp: () => [null, null],
  },
  /** 1 where a = b, else 0: which elements a max or min reduction picked. */
  {
    name: "equal", arity: 2, kind: "elementwise", cost: 1, commutative: true,
    shape: binaryShape("equal"),
    scalar: ([a, b]) => (a === b ? 1 : 0),
    expr: ([a, b]) => `(${a} === ${b} ? 1 : 0)`,
    vjp: () => [null, null],
  },
];
