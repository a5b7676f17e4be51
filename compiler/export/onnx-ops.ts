/**
 * Each IR op as ONNX ops: one entry per op of `compiler/ops/`, keyed by its name (leaves, which
 * are graph inputs, initializers and scan inputs, are placed by the exporter, not here).
 *
 * A value that varies per row (per batch entry inside the scan, per step and batch entry outside
 * it) has one leading axis of rows before its IR shape: a vector is `[rows, n]`, a scalar `[rows]`.
 * A value the same for every row (params, constants, what is computed from them) has its IR shape.
 * ONNX broadcasting aligns trailing axes, so a fixed value meets a varying one as it is; only a
 * varying scalar needs trailing axes of size 1 to meet a vector or a matrix.
 */
import type { Shape } from "../ast.js";
import type { Node } from "../ir/graph.js";
import type { AttrValue } from "./onnx-proto.js";

/** An argument of an op: the ONNX value's name, its IR shape, and whether it has a rows axis. */
export interface OnnxArg {
  readonly name: string;
  readonly shape: Shape;
  readonly varying: boolean;
}

/** Where lowerings add nodes: a graph (the main one, or the scan body). */
export interface OnnxBuilder {
  readonly dtype: "f32" | "f64";
  /** Adds a node and returns the name of its output. */
  op(type: string, inputs: readonly string[], attrs?: Readonly<Record<string, AttrValue>>): string;
  /** An int64 vector constant. */
  ints(values: readonly number[]): string;
  /** A scalar constant of the cell's float type. */
  scalar(value: number): string;
  /** An int64 `[1]` holding the number of rows of varying values here. */
  rows(): string;
}

export interface OnnxLoweringContext {
  readonly b: OnnxBuilder;
  readonly node: Node;
  readonly args: readonly OnnxArg[];
  /** The IR shape of the result. */
  readonly shape: Shape;
}

export type OnnxLowering = (c: OnnxLoweringContext) => string;

/** `a` with trailing axes of size 1 up to IR rank `rank` (only a varying scalar ever needs them). */
function toRank(b: OnnxBuilder, a: OnnxArg, rank: number): string {
  if (!a.varying || a.shape.length >= rank) return a.name;
  const axes = Array.from({ length: rank - a.shape.length }, (_, k) => 1 + a.shape.length + k);
  return b.op("Unsqueeze", [a.name, b.ints(axes)]);
}

/** `a` (IR rank `rank`) repeated over the rows of this graph, when it is not varying already. */
function toRows(b: OnnxBuilder, a: OnnxArg, name: string, rank: number): string {
  if (a.varying) return name;
  return b.op("Expand", [name, b.op("Concat", [b.rows(), b.ints(Array<number>(rank).fill(1))], { axis: 0 })]);
}

/** The permutation swapping the last two axes. */
const swapLast = (a: OnnxArg): number[] => (a.varying ? [0, 2, 1] : [1, 0]);

const unary = (type: string): OnnxLowering => ({ b, args: [a] }) => b.op(type, [a!.name]);
const binary = (type: string): OnnxLowering => ({ b, args, shape }) =>
  b.op(type, args.map((a) => toRank(b, a, shape.length)));

/**
 * Products avoid `Transpose` → `MatMul` on a vector where they can: ONNX Runtime 1.30's extended
 * optimizations fuse that pair into a product that gives wrong results (found by these tests).
 */
function matmul({ b, node, args: [A, v] }: OnnxLoweringContext): string {
  const ta = node.attrs["ta"] === true, tb = node.attrs["tb"] === true;
  const vector = v!.shape.length === 1;
  // Rows of vectors times one matrix (every product of a param with x or h): one Gemm, v·Aᵀ.
  if (vector && v!.varying && !A!.varying) return b.op("Gemm", [v!.name, A!.name], { transB: ta ? 0 : 1 });
  // A fixed vector: A·v, or Aᵀ·v as v·A (MatMul treats a vector on the left as a row).
  if (vector && !v!.varying) return b.op("MatMul", ta ? [v!.name, A!.name] : [A!.name, v!.name]);
  if (!A!.varying && !v!.varying) return b.op("Gemm", [A!.name, v!.name], { transA: ta ? 1 : 0, transB: tb ? 1 : 0 });
  const a = ta ? b.op("Transpose", [A!.name], { perm: swapLast(A!) }) : A!.name;
  const x = tb ? b.op("Transpose", [v!.name], { perm: swapLast(v!) }) : v!.name;
  if (vector) return b.op("Squeeze", [b.op("MatMul", [a, b.op("Unsqueeze", [x, b.ints([-1])])]), b.ints([-1])]);
  return b.op("MatMul", [a, x]);
}

function concat({ b, args }: OnnxLoweringContext): string {
  const varying = args.some((a) => a.varying);
  const rank = Math.max(1, ...args.map((a) => a.shape.length));
  const parts = args.map((a) => {
    const lead = a.varying ? 1 : 0;
    // A scalar among vectors is a one-element vector.
    const name = a.shape.length === 0 ? b.op("Unsqueeze", [a.name, b.ints([lead])]) : a.name;
    return varying ? toRows(b, a, name, rank) : name;
  });
  return b.op("Concat", parts, { axis: varying ? 1 : 0 });
}

function slice({ b, node, args: [a] }: OnnxLoweringContext): string {
  const start = Number(node.attrs["start"]), length = Number(node.attrs["length"]);
  return b.op("Slice", [a!.name, b.ints([start]), b.ints([start + length]), b.ints([a!.varying ? 1 : 0])]);
}

function pad({ b, node, args: [a] }: OnnxLoweringContext): string {
  const start = Number(node.attrs["start"]), total = Number(node.attrs["total"]);
  const after = total - start - a!.shape[0]!;
  return b.op("Pad", [a!.name, b.ints([start, after]), "", b.ints([a!.varying ? 1 : 0])]);
}

/** Sums (or means) over every IR axis: the rows axis, if any, stays. */
const reduce = (type: string): OnnxLowering => ({ b, args: [a] }) => {
  const lead = a!.varying ? 1 : 0;
  const axes = Array.from({ length: a!.shape.length }, (_, k) => lead + k);
  return b.op(type, [a!.name, b.ints(axes)], { keepdims: 0 });
};

const attr = (node: Node, key: string): number => Number(node.attrs[key]);

/** A boolean ONNX value as 1 and 0 of the cell's float type. */
const toFloat = (b: OnnxBuilder, name: string): string => b.op("Cast", [name], { to: b.dtype === "f32" ? 1 : 11 });

/** `x^n` as the kernels compute it: repeated products from the left (then a reciprocal); `Pow` for n = 0 and large |n|. */
function pow({ b, node, args: [a] }: OnnxLoweringContext): string {
  const n = attr(node, "n");
  if (n === 0 || Math.abs(n) > 8) return b.op("Pow", [a!.name, b.scalar(n)]);
  let product = a!.name;
  for (let k = 1; k < Math.abs(n); k++) product = b.op("Mul", [product, a!.name]);
  return n < 0 ? b.op("Reciprocal", [product]) : Math.abs(n) === 1 ? b.op("Identity", [product]) : product;
}

/** gelu(x) = x/2 · (1 + erf(x/√2)), ONNX's Gelu being opset 20. */
function gelu({ b, args: [a] }: OnnxLoweringContext): string {
  const erf = b.op("Erf", [b.op("Mul", [a!.name, b.scalar(Math.SQRT1_2)])]);
  return b.op("Mul", [b.op("Mul", [a!.name, b.scalar(0.5)]), b.op("Add", [b.scalar(1), erf])]);
}

/** Binary comparisons as the derivative masks compute them. */
function maxShare({ b, args, shape }: OnnxLoweringContext): string {
  const [x, y] = args.map((a) => toRank(b, a, shape.length)) as [string, string];
  const tie = b.op("Where", [b.op("Equal", [x, y]), b.scalar(0.5), b.scalar(1)]);
  const out = b.op("Where", [b.op("Less", [x, y]), b.scalar(0), tie]);
  // Where broadcasts its scalars to the comparison's shape: the result has the arguments' shape.
  return b.op("Add", [out, b.op("Mul", [b.op("Add", [x, y]), b.scalar(0)])]);
}

export const ONNX_LOWERINGS: ReadonlyMap<string, OnnxLowering> = new Map<string, OnnxLowering>([
  ["add", binary("Add")],
  ["sub", binary("Sub")],
  ["mul", binary("Mul")],
  ["div", binary("Div")],
  ["neg", unary("Neg")],
  ["sigmoid", unary("Sigmoid")],
  ["tanh", unary("Tanh")],
  ["relu", unary("Relu")],
  ["exp", unary("Exp")],
  ["log", unary("Log")],
  ["softplus", unary("Softplus")],
  ["sqrt", unary("Sqrt")],
  ["abs", unary("Abs")],
  ["sin", unary("Sin")],
  ["cos", unary("Cos")],
  // step(a) = 1 where a > 0, else 0: relu of the sign.
  ["step", ({ b, args: [a] }) => b.op("Relu", [b.op("Sign", [a!.name])])],
  ["sign", unary("Sign")],
  ["broadcast", ({ b, args: [a], shape }) => b.op("Expand", [toRank(b, a!, shape.length), b.ints(shape)])],
  ["const", ({ b, node }) => b.scalar(Number(node.attrs["value"]))],
  ["matmul", matmul],
  ["transpose", ({ b, args: [a] }) => b.op("Transpose", [a!.name], { perm: swapLast(a!) })],
  ["outer", ({ b, args: [a, v] }) =>
    b.op("Mul", [b.op("Unsqueeze", [a!.name, b.ints([-1])]), v!.varying ? b.op("Unsqueeze", [v!.name, b.ints([-2])]) : v!.name])],
  ["concat", concat],
  ["slice", slice],
  ["pad", pad],
  ["sum", reduce("ReduceSum")],
  ["mean", reduce("ReduceMean")],
  ["square", ({ b, args: [a] }) => b.op("Mul", [a!.name, a!.name])],
  ["pow", pow],
  ["rsqrt", ({ b, args: [a] }) => b.op("Reciprocal", [b.op("Sqrt", [a!.name])])],
  ["softsign", unary("Softsign")],
  ["gelu", gelu],
  ["erf", unary("Erf")],
  ["elu", ({ b, node, args: [a] }) => b.op("Elu", [a!.name], { alpha: { float: attr(node, "alpha") } })],
  ["elu_grad", ({ b, node, args: [a] }) =>
    b.op("Where", [b.op("Greater", [a!.name, b.scalar(0)]), b.scalar(1), b.op("Mul", [b.scalar(attr(node, "alpha")), b.op("Exp", [a!.name])])])],
  ["leaky_relu", ({ b, node, args: [a] }) => b.op("LeakyRelu", [a!.name], { alpha: { float: attr(node, "slope") } })],
  ["clip", ({ b, node, args: [a] }) => b.op("Clip", [a!.name, b.scalar(attr(node, "lo")), b.scalar(attr(node, "hi"))])],
  ["inside", ({ b, node, args: [a] }) =>
    toFloat(b, b.op("And", [b.op("GreaterOrEqual", [a!.name, b.scalar(attr(node, "lo"))]), b.op("LessOrEqual", [a!.name, b.scalar(attr(node, "hi"))])]))],
  ["maximum", binary("Max")],
  ["minimum", binary("Min")],
  ["max_share", maxShare],
  ["equal", ({ b, args, shape }) => toFloat(b, b.op("Equal", args.map((a) => toRank(b, a, shape.length))))],
  ["max", reduce("ReduceMax")],
  ["min", reduce("ReduceMin")],
  ["softmax", ({ b, args: [a] }) => b.op("Softmax", [a!.name], { axis: -1 })],
]);

export function onnxLowering(op: string): OnnxLowering {
  const lowering = ONNX_LOWERINGS.get(op);
  if (!lowering) throw new Error(`internal error: op '${op}' has no ONNX lowering`);
  return lowering;
}
