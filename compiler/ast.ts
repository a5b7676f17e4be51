/**
 * Syntax trees. The parser produces `FileAst` (names unresolved, shapes symbolic); the checker
 * produces `CheckedCell` (every name resolved, every shape a list of numbers), which lowering
 * turns into IR.
 */
import type { ParamInit } from "../src/runtime/abi.js";
import type { Span } from "./source.js";

// ---------------------------------------------------------------- parsed

/** Size arithmetic in declarations: `4*H`, `I+H`, `(H+1)*2`. */
export type SizeExpr =
  | { readonly kind: "num"; readonly value: number; readonly span: Span }
  | { readonly kind: "name"; readonly name: string; readonly span: Span }
  | {
      readonly kind: "bin";
      readonly op: "+" | "-" | "*";
      readonly left: SizeExpr;
      readonly right: SizeExpr;
      readonly span: Span;
    };

export type BinaryOp = "+" | "-" | "*" | "/" | "@";

export type Expr =
  | { readonly kind: "num"; readonly value: number; readonly span: Span }
  /** `h` or, with `prev`, `h[t-1]`. */
  | { readonly kind: "ref"; readonly name: string; readonly prev: boolean; readonly span: Span }
  | { readonly kind: "neg"; readonly operand: Expr; readonly span: Span }
  /** `*` is elementwise (also written ⊙ ∘); `@` is the matrix product (also written ·). */
  | { readonly kind: "binary"; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly span: Span; readonly opSpan: Span }
  /** `f(a, ...)`; `σ` parses as the name `σ`. */
  | { readonly kind: "call"; readonly fn: string; readonly fnSpan: Span; readonly args: readonly Expr[]; readonly span: Span }
  /** `[a; b; ...]` */
  | { readonly kind: "concat"; readonly items: readonly Expr[]; readonly span: Span }
  /** `Wᵀ` (postfix); `transpose(W)` parses as a call. */
  | { readonly kind: "transpose"; readonly operand: Expr; readonly span: Span }
  /** `x^n`: the checker requires an integer literal exponent. */
  | { readonly kind: "power"; readonly base: Expr; readonly exponent: Expr; readonly span: Span; readonly opSpan: Span };

export type DeclKind = "input" | "state" | "param";

export interface Decl {
  readonly kind: DeclKind;
  readonly name: string;
  readonly nameSpan: Span;
  readonly dims: readonly SizeExpr[];
  readonly span: Span;
  /** A param's initial value: `= 1` or `~ uniform(-0.1, 0.1)`. */
  readonly init?: InitAst;
}

/** `= expr` (every element that number) or `~ scheme` / `~ scheme(args)`. */
export type InitAst =
  | { readonly kind: "value"; readonly value: Expr; readonly span: Span }
  | { readonly kind: "scheme"; readonly name: string; readonly nameSpan: Span; readonly args: readonly Expr[]; readonly span: Span };

/** `const eps = 1e-6`: a named number of the cell. */
export interface ConstDecl {
  readonly name: string;
  readonly nameSpan: Span;
  readonly value: Expr;
  readonly span: Span;
}

export interface SizeDecl {
  readonly name: string;
  readonly nameSpan: Span;
  readonly value: SizeExpr;
  readonly span: Span;
}

export interface Equation {
  readonly target: string;
  readonly targetSpan: Span;
  readonly expr: Expr;
  readonly span: Span;
}

/** `output y = expr` (expr present) or `output h` (expr absent). */
export interface OutputDecl {
  readonly name: string;
  readonly nameSpan: Span;
  readonly expr?: Expr;
  readonly span: Span;
}

export interface CellAst {
  readonly name: string;
  readonly nameSpan: Span;
  readonly sizes: readonly SizeDecl[];
  readonly decls: readonly Decl[];
  readonly equations: readonly Equation[];
  readonly outputs: readonly OutputDecl[];
  /** `const` declarations, in order (absent when there are none). */
  readonly consts?: readonly ConstDecl[];
  readonly span: Span;
  /**
   * Names declared or assigned by statements that failed to parse (set by the parser's error
   * recovery). The checker treats them as known but unusable, so one syntax error does not cascade
   * into "unknown name" errors further down. Absent when the cell parsed cleanly.
   */
  readonly broken?: readonly string[];
}

export interface FileAst {
  readonly cells: readonly CellAst[];
}

// ---------------------------------------------------------------- checked

export type Shape = readonly number[];

/** Where a resolved name's value comes from within one time step. */
export type Binding =
  | { readonly kind: "input"; readonly index: number }
  | { readonly kind: "param"; readonly index: number }
  /** The state's value from the previous step (or the initial state at t = 0). */
  | { readonly kind: "statePrev"; readonly index: number }
  /** The value assigned by equation `equation` earlier in this step (a local, or a state after its assignment). */
  | { readonly kind: "equation"; readonly equation: number };

/** A checked expression: names resolved, functions mapped to ops, every node shaped. */
export type TExpr =
  | { readonly kind: "const"; readonly value: number; readonly shape: Shape; readonly span: Span }
  | { readonly kind: "ref"; readonly name: string; readonly binding: Binding; readonly shape: Shape; readonly span: Span }
  /** An op of the op table (`compiler/ops`) applied to operands: `add`, `matmul`, `sigmoid`, `concat`, ... */
  | { readonly kind: "op"; readonly op: string; readonly args: readonly TExpr[]; readonly shape: Shape; readonly span: Span; readonly attrs?: Readonly<Record<string, number | boolean | string>> };

export interface TensorDecl {
  readonly name: string;
  readonly shape: Shape;
  readonly span: Span;
  /** A param's initial values, when the cell gives them. */
  readonly init?: ParamInit;
}

export interface CheckedEquation {
  readonly target: string;
  /** The state assigned, if the target is a state. */
  readonly state?: number;
  readonly expr: TExpr;
  readonly span: Span;
}

export interface CheckedOutput {
  readonly name: string;
  readonly expr: TExpr;
  readonly span: Span;
}

/**
 * A cell ready for lowering. Outputs are evaluated after all equations of the step: a state read
 * there is its new value, `h[t-1]` its previous one. Without `output` lines, the outputs are the
 * states in declared order.
 */
export interface CheckedCell {
  readonly name: string;
  readonly span: Span;
  readonly sizes: ReadonlyMap<string, number>;
  readonly inputs: readonly TensorDecl[];
  readonly states: readonly TensorDecl[];
  readonly params: readonly TensorDecl[];
  readonly equations: readonly CheckedEquation[];
  readonly outputs: readonly CheckedOutput[];
}
