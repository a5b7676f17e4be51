/**
 * Checked expressions as PyTorch expressions, one per equation.
 *
 * A value is a number literal (`const`, a Python float), the same for every sequence of the batch
 * (`fixed`: params and what is computed from them only, with its IR shape), or `varying`, with a
 * leading batch axis: a vector is `[B, n]`, a matrix `[B, r, c]`, a scalar `[B]`. PyTorch
 * broadcasting aligns trailing axes, so a fixed value meets a varying one as it is; a varying scalar
 * gets trailing axes of size 1 to meet a vector or a matrix.
 *
 * Literals stay Python floats next to a tensor (`1.0 - u`); anywhere else (two literals, a function
 * of a literal, a concatenation) they become tensors of the cell's dtype (`x.new_tensor(2.0)`), so
 * `1 / 0` is ∞ as in rnnc, not a Python `ZeroDivisionError`.
 */
import type { TExpr } from "../ast.js";
import { opDef, withDefaults } from "../ops/index.js";
import { pyNumber } from "./pytorch-names.js";

export type Kind = "const" | "fixed" | "varying";

export interface Py {
  readonly text: string;
  /** Binding strength: 1 `+ -`, 2 `* / @`, 3 unary `-`, 4 atoms, calls, attributes, subscripts. */
  readonly prec: number;
  readonly kind: Kind;
  /** Rank of the IR value (0 scalar, 1 vector, 2 matrix). */
  readonly rank: number;
  /** The number, for a literal. */
  readonly literal?: number;
  /** A product written with `@`: parenthesized next to `*` and `/` too, which Python ranks the same. */
  readonly product?: boolean;
}

const ATOM = 4, UNARY = 3, MUL = 2, ADD = 1;

/** What the emitter needs from the module being written. */
export interface ExprScope {
  /** The Python name of a reference (param, input, previous state, earlier equation), and its kind. */
  ref(e: Extract<TExpr, { kind: "ref" }>): { name: string; kind: Kind };
  /** An expression making a tensor of the cell's dtype from a Python number or list. */
  tensor(value: string): string;
  /** The batch size (marks it used). */
  batch(): string;
}

const FUNCTIONS: Readonly<Record<string, string>> = {
  sigmoid: "torch.sigmoid", tanh: "torch.tanh", relu: "torch.relu", exp: "torch.exp", log: "torch.log",
  softplus: "softplus", sqrt: "torch.sqrt", abs: "torch.abs", sin: "torch.sin", cos: "torch.cos",
  square: "torch.square", rsqrt: "torch.rsqrt", softsign: "torch.nn.functional.softsign", gelu: "torch.nn.functional.gelu",
  softmax: "torch.softmax",
};
/** Functions with constant arguments: the call, given the tensor's text and the op's attributes (defaults filled in). */
const WITH_CONSTANTS: Readonly<Record<string, (a: string, attr: (k: string) => string) => string>> = {
  elu: (a, attr) => `torch.nn.functional.elu(${a}, alpha=${attr("alpha")})`,
  leaky_relu: (a, attr) => `torch.nn.functional.leaky_relu(${a}, negative_slope=${attr("slope")})`,
  clip: (a, attr) => `torch.clamp(${a}, min=${attr("lo")}, max=${attr("hi")})`,
  pow: (a, attr) => `torch.pow(${a}, ${attr("n")})`,
};
const BINARY: Readonly<Record<string, [string, number]>> = { add: ["+", ADD], sub: ["-", ADD], mul: ["*", MUL], div: ["/", MUL] };

/** `p` as an operand needing binding strength `prec`; `nextToStar`: an operand of `*` or `/`. */
const paren = (p: Py, prec: number, nextToStar = false): string => (p.prec >= prec && !(nextToStar && p.product) ? p.text : `(${p.text})`);
const joinKind = (args: readonly Py[]): Kind =>
  args.some((a) => a.kind === "varying") ? "varying" : args.every((a) => a.kind === "const") ? "const" : "fixed";

export class ExprEmitter {
  constructor(private readonly scope: ExprScope) {}

  emit(e: TExpr): Py {
    if (e.kind === "const") return literal(e.value);
    if (e.kind === "ref") {
      const { name, kind } = this.scope.ref(e);
      return { text: name, prec: ATOM, kind, rank: e.shape.length };
    }
    const args = e.args.map((a) => this.emit(a));
    const rank = e.shape.length;
    const kind = joinKind(args);
    const a = args[0]!;
    if (e.op in BINARY) return this.binary(e.op, a, args[1]!, rank);
    if (e.op === "neg") return a.literal !== undefined ? literal(-a.literal) : { text: `-${paren(a, UNARY)}`, prec: UNARY, kind, rank };
    if (e.op === "softmax") return { text: `torch.softmax(${this.tensor(a).text}, dim=-1)`, prec: ATOM, kind, rank };
    if (e.op in FUNCTIONS) return { text: `${FUNCTIONS[e.op]}(${this.tensor(a).text})`, prec: ATOM, kind, rank };
    if (e.op in WITH_CONSTANTS) {
      const attrs = withDefaults(opDef(e.op), e.attrs ?? {});
      return { text: WITH_CONSTANTS[e.op]!(this.tensor(a).text, (k) => pyNumber(Number(attrs[k]))), prec: ATOM, kind, rank };
    }
    if (e.op === "maximum" || e.op === "minimum") {
      const [x, y] = [a, args[1]!].map((p) => paren(toRank(this.tensor(p), rank), ATOM));
      return { text: `torch.${e.op}(${x}, ${y})`, prec: ATOM, kind, rank };
    }
    if (e.op === "sum" || e.op === "mean") return { text: `${paren(a, ATOM)}.${e.op}(${reduceAxes(a)})`, prec: ATOM, kind, rank };
    if (e.op === "max" || e.op === "min") {
      const axes = reduceAxes(a);
      return { text: axes ? `${paren(a, ATOM)}.a${e.op}(${axes})` : `${paren(a, ATOM)}.${e.op}()`, prec: ATOM, kind, rank };
    }
    if (e.op === "transpose") return { text: transposed(a), prec: ATOM, kind, rank };
    if (e.op === "matmul") return this.matmul(e.args[0]!, a, args[1]!, rank);
    if (e.op === "concat") return this.concat(args, rank);
    throw new Error(`internal error: no PyTorch form for op '${e.op}'`);
  }

  /** A literal as a 0-dimensional tensor; anything else as it is. */
  private tensor(p: Py): Py {
    return p.literal === undefined ? p : { ...p, text: this.scope.tensor(pyNumber(p.literal)), prec: ATOM };
  }

  private binary(op: string, a: Py, b: Py, rank: number): Py {
    const [symbol, prec] = BINARY[op]!;
    const left = a.literal !== undefined && b.literal !== undefined ? this.tensor(a) : a;
    const star = prec === MUL;
    const text = `${paren(toRank(left, rank), prec, star)} ${symbol} ${paren(toRank(b, rank), prec + 1, star)}`;
    return { text, prec, kind: joinKind([a, b]), rank };
  }

  /**
   * `A·v` and `A·M`. A fixed matrix times varying vectors is `v @ Aᵀ` (`v @ W` for `Wᵀ·v`); varying
   * matrices times varying vectors are a batched product over a column; everything else is `@`.
   */
  private matmul(left: TExpr, A: Py, v: Py, rank: number): Py {
    const kind = joinKind([A, v]);
    if (v.rank === 1 && v.kind === "varying" && A.kind !== "varying") {
      const At = left.kind === "op" && left.op === "transpose" ? paren(this.emit(left.args[0]!), MUL + 1) : transposed(A);
      return { text: `${paren(v, MUL + 1)} @ ${At}`, prec: MUL, kind, rank, product: true };
    }
    if (v.rank === 1 && v.kind === "varying") return { text: `(${paren(A, MUL + 1)} @ ${paren(v, ATOM)}.unsqueeze(-1)).squeeze(-1)`, prec: ATOM, kind, rank };
    return { text: `${paren(A, MUL + 1)} @ ${paren(v, MUL + 1)}`, prec: MUL, kind, rank, product: true };
  }

  /** `[a; b]`: vectors end to end (a scalar is one element), matrices stacked by rows. */
  private concat(args: readonly Py[], rank: number): Py {
    const kind = joinKind(args);
    const varying = kind === "varying";
    const parts = args.map((p) => {
      let part: Py = p;
      if (p.literal !== undefined) part = { ...p, text: this.scope.tensor(`[${pyNumber(p.literal)}]`), prec: ATOM };
      else if (p.rank === 0) part = { ...p, text: p.kind === "varying" ? `${paren(p, ATOM)}[:, None]` : `${paren(p, ATOM)}.reshape(1)`, prec: ATOM };
      if (!varying || p.kind === "varying") return part.text;
      return `${paren(part, ATOM)}.expand(${this.scope.batch()}${", -1".repeat(Math.max(1, p.rank))})`;
    });
    const dim = rank === 2 ? (varying ? -2 : 0) : -1;
    return { text: `torch.cat([${parts.join(", ")}], dim=${dim})`, prec: ATOM, kind: kind === "const" ? "fixed" : kind, rank };
  }
}

function literal(v: number): Py {
  return { text: pyNumber(v), prec: v < 0 || Object.is(v, -0) || !Number.isFinite(v) ? UNARY : ATOM, kind: "const", rank: 0, literal: v };
}

/** A varying scalar `[B]` with trailing axes to meet a value of rank `rank`. */
function toRank(p: Py, rank: number): Py {
  if (p.kind !== "varying" || p.rank !== 0 || rank === 0) return p;
  return { ...p, text: `${paren(p, ATOM)}[:${", None".repeat(rank)}]`, prec: ATOM };
}

/** The axes a reduction sums over: all of the IR value's (the batch axis stays). */
function reduceAxes(p: Py): string {
  if (p.kind !== "varying") return "";
  return p.rank === 1 ? "-1" : "(-2, -1)";
}

function transposed(p: Py): string {
  return p.kind === "varying" ? `${paren(p, ATOM)}.transpose(-2, -1)` : `${paren(p, ATOM)}.T`;
}
