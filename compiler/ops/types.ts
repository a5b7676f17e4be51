/**
 * The shape of one op definition. Each op is one entry: its shape rule, a float64 reference
 * evaluator (the test oracle), its vector-Jacobian product written as graph-building code, and how
 * it is emitted. Shape inference, autodiff, the interpreter and codegen only ever call these.
 */
import type { Shape } from "../ast.js";
import type { MapName, ProductName } from "../../src/runtime/abi.js";
import type { Attrs, AttrValue, Graph, Node, NodeId } from "../ir/graph.js";

export interface Tensor {
  readonly shape: Shape;
  readonly data: Float64Array;
}

/** What a derivative rule gets: the graph to build in, the node, its own output and its adjoint. */
export interface VjpContext {
  readonly graph: Graph;
  readonly node: Node;
  /** The node itself: rules may reuse the op's output (σ' = out·(1 − out)). */
  readonly out: NodeId;
  readonly args: readonly NodeId[];
  /** The adjoint dLoss/d(out), shaped like `out`. */
  readonly g: NodeId;
}

/** How structural ops write their loops; the code generator implements it. */
export interface KernelWriter {
  readonly node: Node;
  readonly argShapes: readonly Shape[];
  line(code: string): void;
  /** A fresh local variable name. */
  fresh(base: string): string;
  /** Expression reading flat element `index` of argument `k`. */
  arg(k: number, index: string): string;
  /** Statement storing `value` into flat element `index` of the result. */
  store(index: string, value: string): string;
  /** Argument `k` when it is a whole array holding exactly its value (a param, a buffer of its own). */
  whole(k: number): string | null;
  /** The result's array and the index of its first element, when it is stored (not accumulated) there. */
  readonly target: { readonly array: string; readonly start: string } | null;
}

/** Where a stored value lives: flat element (row m, i) is `array[base + m·stride + i]`. */
export interface Strided {
  readonly array: string;
  /** Expression for the flat index of row 0, element 0. */
  readonly base: string;
  /** Elements from one row to the next (0 for a value that is the same in every row). */
  readonly stride: number;
}

/**
 * How ops with a batched form write it: the loop over rows (batch entries, or all T·B steps at
 * once) is theirs, so they can tile it (a matrix product over rows is a matrix-matrix product).
 */
export interface RowWriter {
  readonly node: Node;
  readonly argShapes: readonly Shape[];
  /** Which arguments differ per row (the others — params — are the same for every row). */
  readonly argVarying: readonly boolean[];
  /** Whether the result is one value accumulated over all rows (a param gradient). */
  readonly intoUniform: boolean;
  /** Expression for the number of rows. */
  readonly rows: string;
  line(code: string): void;
  fresh(base: string): string;
  /** Expression reading flat element `index` of argument `k` in row `row`. */
  arg(k: number, row: string, index: string): string;
  /** Statement storing (or accumulating) `value` into element `index` of the result in row `row`. */
  store(row: string, index: string, value: string): string;
  /**
   * Emits the node as one of the ABI's matrix products (`nt`, `nn`, `tn`) with the sizes after
   * `rows`, its operands in the ABI's order given by argument index; the code generator renders
   * it as a runtime call or as tiled loops.
   */
  product(p: { readonly op: ProductName; readonly dims: readonly [number, number]; readonly args: readonly [number, number] }): void;
}

export type OpKind = OpDef["kind"];

/** An attribute an op takes: its type, and its value when a node does not give one. */
export interface AttrSpec {
  readonly type: "boolean" | "integer" | "number" | "string";
  /** Filled in by `Graph.apply` when absent; an attribute without a default is required. */
  readonly default?: AttrValue;
  /** The values a string attribute may take. */
  readonly oneOf?: readonly string[];
  /** Smallest value of an integer attribute (default 0). */
  readonly min?: number;
}

/** What every op has, whatever its kind. */
interface OpBase {
  readonly name: string;
  /** Function names in the cell language (`σ`, `sigmoid`); absent for ops users cannot call. */
  readonly syntax?: readonly string[];
  readonly arity: number | "variadic";
  /** The attributes the op takes (none when absent); every node carries all of them. */
  readonly attrs?: Readonly<Record<string, AttrSpec>>;
  /**
   * Shape rule: the result's shape, or a message saying why the arguments do not fit. `given` is
   * the shape the node is built with: the shape of a leaf or a broadcast, which only it says.
   */
  shape(args: readonly Shape[], attrs: Attrs, given?: Shape): Shape | string;
  /** Runtime helpers the emitted code calls. */
  readonly helpers?: readonly string[];
  /** Approximate cost per element, in flops (exp/tanh count as several). */
  readonly cost: number;
  /**
   * Attributes given as trailing arguments of a call, each a number literal or a `const` name
   * (`elu(x, 0.5)` sets `alpha`); those with a default may be left out. `arity` counts the others.
   */
  readonly constArgs?: readonly string[];
  /** Why constant arguments do not fit the op (clip with lo > hi), or null. */
  attrsProblem?(attrs: Attrs): string | null;
}

/** An input of step t, a param, a state's previous value, or a gradient fed into the backward. */
export interface LeafDef extends OpBase {
  readonly kind: "leaf";
}

/** Applies a function to each element (scalar arguments broadcast). */
export interface ElementwiseDef extends OpBase {
  readonly kind: "elementwise";
  /** The function on numbers; a constant reads its value from `attrs`. */
  scalar(args: readonly number[], attrs: Attrs): number;
  /** The emitted expression, given the arguments' expressions. */
  expr(args: readonly string[], attrs: Attrs): string;
  /** Symbolic vector-Jacobian product: one adjoint per argument (null: zero). */
  vjp(c: VjpContext): readonly (NodeId | null)[];
  /** `op(a, b)` and `op(b, a)` are the same double for every a and b (IEEE 754 + and ·). */
  readonly commutative?: boolean;
  /** Distance of the arguments from a point where the op is not differentiable. */
  kink?(xs: readonly number[], attrs: Attrs): number;
  /**
   * The runtime's elementwise map computing this unary op over a run of elements (`mm.sigmoid`),
   * which float32 kernels with runtime products call instead of `expr` per element.
   */
  readonly map?: MapName;
  /**
   * The op in WebAssembly float64 lanes, computing exactly what `expr` computes in JavaScript (so
   * only ops IEEE 754 rounds as JavaScript does: + − · ÷, √, min, max, comparisons): the
   * instructions after which its value is on the stack. Without it, an element loop reading the
   * op stays JavaScript.
   */
  wasm?(lanes: Lanes, attrs: Attrs): void;
}

/** What an op's `wasm` writes with: one float64 lane ("f64") or two ("f64x2") at a time. */
export interface Lanes {
  readonly shape: "f64" | "f64x2";
  /** Pushes argument `k` (any number of times: it reads no memory twice over a store). */
  arg(k: number): void;
  /** Pushes `x` in every lane. */
  constant(x: number): void;
  /** Appends the instruction of this text name ("f64x2.add"). */
  op(name: string): void;
}

/** Reduces a vector or matrix to a scalar: a sum from element 0 on, then `finish`. */
export interface ReduceDef extends OpBase {
  readonly kind: "reduce";
  evaluate(args: readonly Tensor[], attrs: Attrs, shape: Shape): Float64Array;
  vjp(c: VjpContext): readonly (NodeId | null)[];
  /** The emitted result from the accumulated sum `acc` over `n` elements. */
  finish(acc: string, n: number): string;
  /** Another fold than the sum: the accumulator's start and the expression combining it with element `x`. */
  readonly fold?: { readonly init: string; step(acc: string, x: string): string };
  /** Distance of the argument (all its elements) from a point where the op is not differentiable. */
  kink?(xs: Float64Array): number;
}

/** Moves data between positions: products, transpose, concatenation, slices. */
export interface StructuralDef extends OpBase {
  readonly kind: "structural";
  /** The reference evaluator in float64. */
  evaluate(args: readonly Tensor[], attrs: Attrs, shape: Shape): Float64Array;
  vjp(c: VjpContext): readonly (NodeId | null)[];
  /** Emits loops computing the result. */
  emit(w: KernelWriter): void;
  /** A tiled loop over all rows, when the op has one for this case (else false). */
  emitRows?(w: RowWriter): boolean;
  /** Ops whose result is a contiguous part of their argument: where it starts (flat, within a row). */
  viewOffset?(attrs: Attrs, argShape: Shape): number;
  /** Reads each argument element exactly once (arguments may be fused in). */
  readonly readsOnce?: boolean;
}

/** One op of the IR; drivers switch on `kind`, never on the name. */
export type OpDef = LeafDef | ElementwiseDef | ReduceDef | StructuralDef;

/** The ops that have a derivative rule: every kind but leaves. */
export type ComputedDef = Exclude<OpDef, LeafDef>;

export const rank = (s: Shape): number => s.length;
export const show = (s: Shape): string => `[${s.join(", ")}]`;
