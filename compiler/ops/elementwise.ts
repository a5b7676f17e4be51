/**
 * Elementwise ops. Binary ones broadcast a scalar against any shape; autodiff sums an adjoint back
 * down to a scalar argument, so the rules here never think about broadcasting.
 *
 * Each op's `scalar` is exactly what its emitted expression computes (the same operator, the same
 * `Math` function, the very helper the runtime exports), so constant folding and the reference
 * evaluator give the kernels' answer bit for bit — NaN, ±0 and ±∞ included.
 */
import type { Shape } from "../ast.js";
import { sigmoid, softplus } from "../../src/runtime/math.js";
import { numberLiteral } from "../codegen/literal.js";
import type { Attrs } from "../ir/graph.js";
import type { ElementwiseDef, Lanes, VjpContext } from "./types.js";
import { show } from "./types.js";

export function binaryShape(symbol: string) {
  return ([a, b]: readonly Shape[]): Shape | string => {
    if (a!.length === 0) return b!;
    if (b!.length === 0) return a!;
    if (a!.length === b!.length && a!.every((d, i) => d === b![i])) return a!;
    return `shapes ${show(a!)} and ${show(b!)} do not match in '${symbol}'`;
  };
}

const same = ([a]: readonly Shape[]): Shape => a!;

function binary(name: string, symbol: string, fn: (a: number, b: number) => number,
  vjp: (c: VjpContext) => readonly (number | null)[], commutative = false): ElementwiseDef {
  return {
    name, arity: 2, kind: "elementwise", cost: 1, commutative,
    shape: binaryShape(symbol),
    scalar: ([a, b]) => fn(a!, b!),
    expr: ([a, b]) => `(${a} ${symbol} ${b})`,
    vjp,
    // The op's name is its WebAssembly instruction's (`f64.add`, `f64x2.add`).
    wasm: (l) => (l.arg(0), l.arg(1), l.op(`${l.shape}.${name}`)),
  };
}

/** `f(a)` in lanes: the argument, then the instruction `shape.name`. */
export const lanesOf = (name: string) => (l: Lanes) => (l.arg(0), l.op(`${l.shape}.${name}`));

/** `(a > 0 ? x : y)` in lanes, x and y pushed by `then` and `otherwise` (both computed; neither reads memory). */
export function positive(l: Lanes, then: () => void, otherwise: () => void): void {
  then();
  otherwise();
  l.arg(0);
  l.constant(0);
  l.op(`${l.shape}.gt`);
  // A scalar select takes an i32 condition; in lanes the comparison is a mask of all ones or zeros.
  l.op(l.shape === "f64" ? "select" : "v128.bitselect");
}

type UnarySpec = Omit<ElementwiseDef, "arity" | "kind" | "shape" | "scalar" | "cost"> & { cost?: number; fn: (a: number) => number };

function unary({ fn, ...def }: UnarySpec): ElementwiseDef {
  return { arity: 1, kind: "elementwise", shape: same, cost: 1, scalar: ([a]) => fn(a!), ...def };
}

export const elementwiseOps: readonly ElementwiseDef[] = [
  binary("add", "+", (a, b) => a + b, ({ g }) => [g, g], true),
  binary("sub", "-", (a, b) => a - b, ({ graph, g }) => [g, graph.neg(g)]),
  binary("mul", "*", (a, b) => a * b, ({ graph, g, args: [a, b] }) => [graph.mul(g, b!), graph.mul(g, a!)], true),
  binary("div", "/", (a, b) => a / b, ({ graph, g, out, args: [, b] }) => [
    graph.div(g, b!),
    graph.neg(graph.div(graph.mul(g, out), b!)),
  ]),
  unary({ name: "neg", fn: (a) => -a, expr: ([a]) => `(-${a})`, vjp: ({ graph, g }) => [graph.neg(g)], wasm: lanesOf("neg") }),
  unary({
    name: "sigmoid", syntax: ["σ", "sigmoid"], cost: 8, helpers: ["sigmoid"], map: "sigmoid",
    fn: sigmoid,
    expr: ([a]) => `sigmoid(${a})`,
    vjp: ({ graph, g, out }) => [graph.mul(g, graph.mul(out, graph.sub(graph.const(1), out)))],
  }),
  unary({
    name: "tanh", syntax: ["tanh"], cost: 8, map: "tanh",
    fn: Math.tanh,
    expr: ([a]) => `Math.tanh(${a})`,
    vjp: ({ graph, g, out }) => [graph.mul(g, graph.sub(graph.const(1), graph.mul(out, out)))],
  }),
  unary({
    name: "relu", syntax: ["relu"],
    fn: (a) => Math.max(a, 0),
    expr: ([a]) => `Math.max(${a}, 0)`,
    wasm: (l) => (l.arg(0), l.constant(0), l.op(`${l.shape}.max`)),
    vjp: ({ graph, g, args: [a] }) => [graph.mul(g, graph.unary("step", a!))],
    kink: ([a]) => Math.abs(a!),
  }),
  unary({
    name: "exp", syntax: ["exp"], cost: 8, map: "exp",
    fn: Math.exp,
    expr: ([a]) => `Math.exp(${a})`,
    vjp: ({ graph, g, out }) => [graph.mul(g, out)],
  }),
  unary({
    name: "log", syntax: ["log"], cost: 8,
    fn: Math.log,
    expr: ([a]) => `Math.log(${a})`,
    vjp: ({ graph, g, args: [a] }) => [graph.div(g, a!)],
  }),
  unary({
    name: "softplus", syntax: ["softplus"], cost: 12, helpers: ["softplus"],
    fn: softplus,
    expr: ([a]) => `softplus(${a})`,
    vjp: ({ graph, g, args: [a] }) => [graph.mul(g, graph.unary("sigmoid", a!))],
  }),
  unary({
    name: "sqrt", syntax: ["sqrt"], cost: 4,
    fn: Math.sqrt,
    expr: ([a]) => `Math.sqrt(${a})`,
    wasm: lanesOf("sqrt"),
    vjp: ({ graph, g, out }) => [graph.div(graph.mul(g, graph.const(0.5)), out)],
  }),
  unary({
    name: "abs", syntax: ["abs"],
    fn: Math.abs,
    expr: ([a]) => `Math.abs(${a})`,
    wasm: lanesOf("abs"),
    vjp: ({ graph, g, args: [a] }) => [graph.mul(g, graph.unary("sign", a!))],
    kink: ([a]) => Math.abs(a!),
  }),
  unary({
    name: "sin", syntax: ["sin"], cost: 8,
    fn: Math.sin,
    expr: ([a]) => `Math.sin(${a})`,
    vjp: ({ graph, g, args: [a] }) => [graph.mul(g, graph.unary("cos", a!))],
  }),
  unary({
    name: "cos", syntax: ["cos"], cost: 8,
    fn: Math.cos,
    expr: ([a]) => `Math.cos(${a})`,
    vjp: ({ graph, g, args: [a] }) => [graph.neg(graph.mul(g, graph.unary("sin", a!)))],
  }),
  // Derivatives of relu and abs; their own derivative is zero almost everywhere.
  unary({
    name: "step", fn: (a) => (a > 0 ? 1 : 0), expr: ([a]) => `(${a} > 0 ? 1 : 0)`, vjp: () => [null],
    wasm: (l) => positive(l, () => l.constant(1), () => l.constant(0)),
  }),
  unary({ name: "sign", fn: Math.sign, expr: ([a]) => `Math.sign(${a})`, vjp: () => [null] }),
  /** A scalar repeated to the node's shape. */
  {
    name: "broadcast", arity: 1, kind: "elementwise", cost: 0,
    shape: ([a], _attrs, given) => {
      if (a!.length !== 0) return `only a scalar broadcasts, not ${show(a!)}`;
      return given ?? "a broadcast needs the shape it broadcasts to";
    },
    scalar: ([a]) => a!,
    expr: ([a]) => a!,
    vjp: ({ graph, g }) => [graph.sum(g)],
    wasm: (l) => l.arg(0),
  },
  /** A number literal. */
  {
    name: "const", arity: 0, kind: "elementwise", cost: 0,
    attrs: { value: { type: "number" } },
    shape: () => [],
    scalar: (_args, attrs: Attrs) => Number(attrs["value"]),
    expr: (_args, attrs) => numberLiteral(Number(attrs["value"])),
    vjp: () => [],
    wasm: (l, attrs) => l.constant(Number(attrs["value"])),
  },
];
