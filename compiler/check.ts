/**
 * The checker: a parsed cell to a `CheckedCell`. It resolves every name to where its value comes
 * from in the step (`Binding`), evaluates sizes, and shapes every expression with the op table's
 * shape rules (it never has shape logic of its own). Error codes are in `messages.ts`.
 *
 * Decisions beyond SPEC §1:
 * - a size name in an expression is its value, a scalar constant (`h / H`);
 * - inputs and states are vectors, params are vectors or matrices, outputs are vectors;
 * - a cell needs at least one state or one output (otherwise a caller sees nothing);
 * - a state must be assigned a value of its declared shape (a scalar does not broadcast there);
 * - only cells without any error (syntax or check) are returned.
 */
import type {
  BinaryOp, Binding, CellAst, CheckedCell, CheckedEquation, CheckedOutput, Decl, DeclKind, Equation, Expr, FileAst, Shape,
  SizeDecl, SizeExpr, TensorDecl, TExpr,
} from "./ast.js";
import { warnConfusables } from "./confusables.js";
import type { DiagnosticBag, Note } from "./diagnostics.js";
import type { Attrs } from "./ir/graph.js";
import { checkBounds } from "./bounds.js";
import { MAX_EQUATIONS, MAX_SIZE } from "./limits.js";
import { didYouMean, E } from "./messages.js";
import { checkInit } from "./inits.js";
import { callArity, FUNCTIONS, OVERLOADS, opDef } from "./ops/index.js";
import type { OpDef } from "./ops/index.js";
import { show } from "./ops/types.js";
import { span, type Source, type Span } from "./source.js";
import { warnUnused } from "./warnings.js";

export interface CheckOptions {
  /** Values replacing the defaults of the sizes with these names (in every cell that has them). */
  readonly sizes?: ReadonlyMap<string, number>;
}

type RefExpr = Extract<Expr, { kind: "ref" }>;

/** What a declared name is; a value or shape is null when its declaration has an error. */
type SizeEntity = { readonly kind: "size"; readonly value: number | null; readonly span: Span };
type ConstEntity = { readonly kind: "const"; readonly value: number | null; readonly span: Span };
type TensorEntity = { readonly kind: DeclKind; readonly index: number; readonly shape: Shape | null; readonly span: Span };
type Entity = SizeEntity | ConstEntity | TensorEntity;

/** A local: the equation assigning it and the shape of its value. */
type Local = { readonly equation: number; readonly shape: Shape | null };

const BINARY_OPS: Readonly<Record<BinaryOp, string>> = { "+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul" };
const ARTICLE: Readonly<Record<Entity["kind"], string>> = {
  size: "a size", const: "a const", input: "an input", state: "a state", param: "a param",
};
/** The largest |n| of `x^n`. */
const MAX_EXPONENT = 2 ** 31;
const MISGROUPED = "'·' groups like '⊙' from left to right: 'a ⊙ W·x' is '(a ⊙ W)·x'; write 'a ⊙ (W·x)'";

const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
const isSize = (v: number): boolean => Number.isSafeInteger(v) && v > 0 && v <= MAX_SIZE;
const sizeRule = (v: number): string =>
  v > MAX_SIZE && Number.isSafeInteger(v) ? `a size is at most ${MAX_SIZE}` : "a size must be a positive integer";

class CellChecker {
  private readonly names = new Map<string, Entity>();
  private readonly locals = new Map<string, Local>();
  private readonly stateAssigned = new Map<string, number>();
  private readonly broken: ReadonlySet<string>;
  private readonly tensors: Record<DeclKind, TensorDecl[]> = { input: [], state: [], param: [] };
  private readonly equations: CheckedEquation[] = [];
  /** Unknown names already reported: one error per cause, not one per use. */
  private readonly reportedUnknown = new Set<string>();

  constructor(
    private readonly cell: CellAst,
    private readonly source: Source,
    private readonly bag: DiagnosticBag,
    private readonly overrides: ReadonlyMap<string, number>,
  ) {
    this.broken = new Set(cell.broken ?? []);
  }

  check(): CheckedCell {
    this.declareSizes();
    this.declareTensors();
    this.declareConsts();
    this.checkInits();
    this.cell.equations.forEach((eq, k) => this.bag.full || this.checkEquation(eq, k));
    const outputs = this.checkOutputs();
    if (this.cell.outputs.length === 0 && !this.cell.decls.some((d) => d.kind === "state")) {
      this.bag.error(E.emptyCell, `cell '${this.cell.name}' has no state and no output, so it computes nothing`,
        this.cell.nameSpan, [], "declare a state (state h[H]) or an output (output y = ...)");
    }
    const sizes = new Map<string, number>();
    for (const [name, e] of this.names) if (e.kind === "size" && e.value !== null) sizes.set(name, e.value);
    const { input: inputs, state: states, param: params } = this.tensors;
    return { name: this.cell.name, span: this.cell.span, sizes, inputs, states, params, equations: this.equations, outputs };
  }

  // ------------------------------------------------------------ declarations

  private text(s: Span): string {
    const t = this.source.text.slice(s.start, Math.min(s.end, s.start + 200)).replace(/\s+/g, " ");
    return t.length > 40 ? `${t.slice(0, 37)}...` : t;
  }

  private declare(name: string, at: Span, entity: Entity): void {
    const first = this.names.get(name);
    if (first) {
      const note = { message: `'${name}' is first declared`, span: first.span };
      this.bag.error(E.duplicateDecl, `'${name}' is already declared`, at, [note]);
    } else {
      this.names.set(name, entity);
    }
  }

  private declareSizes(): void {
    const sizes = this.cell.sizes;
    sizes.forEach((s, k) => {
      const value = this.sizeValue(s.value, (name, at) => {
        const later = sizes.findIndex((d, j) => j >= k && d.name === name);
        if (later >= 0 && !this.names.has(name)) {
          const note = { message: `'${name}' is declared`, span: sizes[later]!.nameSpan };
          this.bag.error(E.sizeOrder, `size '${name}' is used before its declaration`, at, [note]);
          return null;
        }
        return this.sizeOf(name, at);
      });
      this.declare(s.name, s.nameSpan, { kind: "size", value: this.override(s, value), span: s.nameSpan });
    });
  }

  private override(s: SizeDecl, value: number | null): number | null {
    const given = this.overrides.get(s.name);
    if (given === undefined) return value;
    if (isSize(given)) return given;
    this.bag.error(E.badSize, `size '${s.name}' is overridden with ${given}, but ${sizeRule(given)}`, s.span);
    return null;
  }

  /** The value of a size name in a size expression. */
  private sizeOf(name: string, at: Span): number | null {
    const e = this.names.get(name);
    if (e?.kind === "size") return e.value;
    const decl = e ?? this.cell.decls.find((d) => d.name === name) ?? (this.cell.consts?.some((c) => c.name === name) ? { kind: "const" as const } : undefined);
    if (decl) this.bag.error(E.unknownName, `'${name}' is ${ARTICLE[decl.kind]}, not a size`, at);
    else if (!this.broken.has(name) && !this.reportedUnknown.has(name)) {
      this.reportedUnknown.add(name);
      const sizes = [...this.names].filter(([, v]) => v.kind === "size").map(([n]) => n);
      const uses = this.sizeUses(name);
      const more = uses > 1 ? [{ message: `'${name}' is used ${uses} times; this is its first use` }] : [];
      const line = this.cell.sizes.length > 0 ? `add it to the size line: size ${this.cell.sizes.map((s) => this.text(s.span)).join(", ")}, ${name} = ...` : `declare it: size ${name} = ...`;
      this.bag.error(E.unknownName, `unknown size '${name}'`, at, more, didYouMean(name, sizes) ?? line);
    }
    return null;
  }

  /** How many times `name` appears in the cell's sizes and shapes. */
  private sizeUses(name: string): number {
    const count = (e: SizeExpr): number => e.kind === "name" ? Number(e.name === name) : e.kind === "bin" ? count(e.left) + count(e.right) : 0;
    return [...this.cell.sizes.map((s) => s.value), ...this.cell.decls.flatMap((d) => d.dims)].reduce((n, e) => n + count(e), 0);
  }

  /** Evaluates size arithmetic; the result must be a positive integer. */
  private sizeValue(e: SizeExpr, lookup: (name: string, at: Span) => number | null): number | null {
    const value = this.sizeArithmetic(e, lookup);
    if (value === null || isSize(value)) return value;
    const text = this.text(e.span);
    const message = e.kind !== "num"
      ? `size ${text} is ${value}, but ${sizeRule(value)}`
      : value > MAX_SIZE ? `size ${text} is too large: ${sizeRule(value)}` : `a size must be a positive integer, not ${text}`;
    this.bag.error(E.badSize, message, e.span);
    return null;
  }

  private sizeArithmetic(e: SizeExpr, lookup: (name: string, at: Span) => number | null): number | null {
    if (e.kind === "num") return e.value;
    if (e.kind === "name") return lookup(e.name, e.span);
    const [l, r] = [this.sizeArithmetic(e.left, lookup), this.sizeArithmetic(e.right, lookup)];
    if (l === null || r === null) return null;
    const value = e.op === "+" ? l + r : e.op === "-" ? l - r : l * r;
    // Beyond 2^53 arithmetic is no longer exact: such a step has no trustworthy result.
    if (Number.isSafeInteger(value)) return value;
    this.bag.error(E.badSize, `size ${this.text(e.span)} is too large to compute: at most ${MAX_SIZE} is allowed`, e.span);
    return null;
  }

  /** `const eps = 1e-6`: numbers computed when compiling, from literals, sizes and earlier consts. */
  private declareConsts(): void {
    for (const c of this.cell.consts ?? []) {
      const value = this.constant(c.value, `const '${c.name}'`);
      this.declare(c.name, c.nameSpan, { kind: "const", value, span: c.nameSpan });
    }
  }

  /**
   * The number `e` stands for, folded with each op's own `scalar` (exactly what the kernels would
   * compute), or null after reporting that it is not known when compiling.
   */
  private constant(e: Expr, what: string): number | null {
    const t = this.expr(e, 0);
    if (!t) return null;
    const value = foldConstant(t);
    if (value !== null) return value;
    const hint = "a number literal, a size, a const, or arithmetic on them";
    this.bag.error(E.notConstant, `${what} must be a number known when compiling, not '${this.text(e.span)}'`, e.span, [], hint);
    return null;
  }

  private declareTensors(): void {
    for (const d of this.cell.decls) {
      const dims = d.dims.map((dim) => this.sizeValue(dim, (name, at) => this.sizeOf(name, at)));
      let shape: Shape | null = dims.every((v) => v !== null) ? (dims as number[]) : null;
      if (shape && !this.rankFits(d, shape)) shape = null;
      const list = this.tensors[d.kind];
      this.declare(d.name, d.nameSpan, { kind: d.kind, index: list.length, shape, span: d.span });
      if (shape) list.push({ name: d.name, shape, span: d.span });
    }
  }

  /** Params' initial values, checked once consts are known. */
  private checkInits(): void {
    this.tensors.param = this.tensors.param.map((p) => {
      const decl = this.cell.decls.find((d) => d.kind === "param" && d.name === p.name && d.span === p.span);
      const init = decl?.init && checkInit(decl.init, p.name, p.shape, (e) => this.constant(e, `an initial value of '${p.name}'`), this.bag);
      return init ? { ...p, init } : p;
    });
  }

  private rankFits(d: Decl, shape: Shape): boolean {
    if (shape.length === 1 || (d.kind === "param" && shape.length <= 2)) return true;
    const want = d.kind === "param" ? "a scalar, a vector [n] or a matrix [rows, cols]" : `a vector: ${d.kind} ${d.name}[n]`;
    this.bag.error(E.badRank, `${ARTICLE[d.kind]} must be ${want}, but '${d.name}' is ${show(shape)}`, d.span);
    return false;
  }

  // ------------------------------------------------------------ equations and outputs

  private checkEquation(eq: Equation, k: number): void {
    const expr = this.expr(eq.expr, k);
    const entity = this.names.get(eq.target);
    if (!entity) return this.assignLocal(eq, k, expr);
    if (entity.kind === "state") return this.assignState(eq, k, expr, entity);
    const notes = [{ message: `'${eq.target}' is declared`, span: entity.span }];
    this.bag.error(E.assignToDecl, `cannot assign to ${ARTICLE[entity.kind]} '${eq.target}'`, eq.targetSpan, notes,
      "only states and locals are computed by equations");
  }

  private firstAssigned(eq: Equation, first: number): Note[] {
    return [{ message: `'${eq.target}' is first assigned`, span: this.cell.equations[first]!.targetSpan }];
  }

  /** Equation `k` assigns a local; in a clean cell, `k` is also its index in the checked equations. */
  private assignLocal(eq: Equation, k: number, expr: TExpr | null): void {
    const first = this.locals.get(eq.target);
    const notes = first && this.firstAssigned(eq, first.equation);
    if (notes) this.bag.error(E.localTwice, `'${eq.target}' is assigned twice`, eq.targetSpan, notes);
    else this.locals.set(eq.target, { equation: k, shape: expr?.shape ?? null });
    if (expr) this.equations.push({ target: eq.target, expr, span: eq.span });
  }

  private assignState(eq: Equation, k: number, expr: TExpr | null, state: TensorEntity): void {
    const first = this.stateAssigned.get(eq.target);
    const notes = first === undefined ? undefined : this.firstAssigned(eq, first);
    if (notes) this.bag.error(E.stateTwice, `state '${eq.target}' is assigned twice in one step`, eq.targetSpan, notes);
    else this.stateAssigned.set(eq.target, k);
    if (expr && state.shape && !sameShape(expr.shape, state.shape)) {
      const notes = [{ message: `'${eq.target}' is declared ${show(state.shape)}`, span: state.span }];
      const message = `state '${eq.target}' is ${show(state.shape)} but is assigned ${show(expr.shape)}`;
      this.bag.error(E.stateShape, message, eq.expr.span, notes);
    }
    if (expr) this.equations.push({ target: eq.target, state: state.index, expr, span: eq.span });
  }

  private checkOutputs(): CheckedOutput[] {
    const end = this.cell.equations.length;
    if (this.cell.outputs.length === 0) {
      return this.tensors.state.flatMap((s) => {
        const expr = this.resolve({ kind: "ref", name: s.name, prev: false, span: s.span }, end);
        return expr ? [{ name: s.name, expr, span: s.span }] : [];
      });
    }
    const seen = new Map<string, Span>();
    const outputs: CheckedOutput[] = [];
    for (const o of this.cell.outputs) {
      const first = seen.get(o.name);
      if (first) {
        const note = { message: `'${o.name}' is first output`, span: first };
        this.bag.error(E.duplicateOutput, `duplicate output '${o.name}'`, o.nameSpan, [note]);
      }
      seen.set(o.name, first ?? o.nameSpan);
      const ref: RefExpr = { kind: "ref", name: o.name, prev: false, span: o.nameSpan };
      const expr = o.expr ? this.expr(o.expr, end) : this.resolve(ref, end);
      if (expr && expr.shape.length !== 1) {
        const hint = expr.shape.length === 0 ? `make it a one-element vector: [${this.text(expr.span)}]` : undefined;
        const message = `output '${o.name}' must be a vector, but it is ${show(expr.shape)}`;
        this.bag.error(E.outputShape, message, o.expr?.span ?? o.nameSpan, [], hint);
      }
      if (expr) outputs.push({ name: o.name, expr, span: o.span });
    }
    return outputs;
  }

  // ------------------------------------------------------------ expressions

  /** Resolves a name read in equation `at` (`at` = number of equations: after all of them). */
  private resolve(e: RefExpr, at: number): TExpr | null {
    const entity = this.names.get(e.name);
    const local = this.locals.get(e.name);
    const ref = (shape: Shape | null, binding: Binding): TExpr | null =>
      shape && { kind: "ref", name: e.name, binding, shape, span: e.span };
    if (e.prev && entity?.kind !== "state") return this.notAState(e, entity, local);
    if (local) return ref(local.shape, { kind: "equation", equation: local.equation });
    if (!entity) return this.unknown(e, at);
    switch (entity.kind) {
      case "size":
      case "const":
        return entity.value === null ? null : { kind: "const", value: entity.value, shape: [], span: e.span };
      case "state": {
        const assigned = e.prev ? undefined : this.stateAssigned.get(e.name);
        const binding: Binding = assigned === undefined
          ? { kind: "statePrev", index: entity.index }
          : { kind: "equation", equation: assigned };
        return ref(entity.shape, binding);
      }
      default:
        return ref(entity.shape, { kind: entity.kind, index: entity.index });
    }
  }

  private notAState(e: RefExpr, entity: Entity | undefined, local: Local | undefined): null {
    if (!entity && !local) return this.unknown(e, this.cell.equations.length);
    const what = local ? "a local" : ARTICLE[entity!.kind];
    this.bag.error(E.prevOnNonState, `'${e.name}' is ${what}, not a state: only a state has a previous value [t-1]`, e.span);
    return null;
  }

  private unknown(e: RefExpr, at: number): null {
    if (this.broken.has(e.name) || this.bag.full) return null;
    const later = this.cell.equations.find((eq) => eq.target === e.name);
    if (later) {
      const note = { message: `'${e.name}' is assigned`, span: later.targetSpan };
      this.bag.error(E.useBeforeAssign, `'${e.name}' is used before it is assigned`, e.span, [note],
        at < this.cell.equations.length ? "equations run top to bottom: move the assignment up" : undefined);
    } else if (FUNCTIONS.has(e.name)) {
      this.bag.error(E.unknownName, `'${e.name}' is a function; call it: ${e.name}(...)`, e.span);
    } else if (!this.reportedUnknown.has(e.name)) {
      this.reportedUnknown.add(e.name);
      const hint = didYouMean(e.name, [...this.names.keys(), ...this.locals.keys()]);
      this.bag.error(E.unknownName, `unknown name '${e.name}'`, e.span, [], hint);
    }
    return null;
  }

  private expr(e: Expr, at: number, parent?: BinaryOp): TExpr | null {
    switch (e.kind) {
      case "num":
        return { kind: "const", value: e.value, shape: [], span: e.span };
      case "ref":
        return this.resolve(e, at);
      case "neg":
        return this.apply("neg", "-", [this.expr(e.operand, at)], e.span);
      case "transpose":
        return this.apply("transpose", "ᵀ", [this.expr(e.operand, at)], e.span);
      case "concat":
        return this.apply("concat", "[;]", e.items.map((item) => this.expr(item, at)), e.span);
      case "call":
        return this.call(e, at);
      case "binary":
        return this.binary(e, at, parent);
      case "power":
        return this.power(e, at);
    }
  }

  /** `x^n`: the exponent an integer literal (`2`, `-1`, `(-1)`, `2^3`). */
  private power(e: Extract<Expr, { kind: "power" }>, at: number): TExpr | null {
    const base = this.expr(e.base, at);
    const n = integerLiteral(e.exponent);
    if (n === null || !Number.isSafeInteger(n) || Math.abs(n) > MAX_EXPONENT) {
      const written = this.text(e.exponent.span);
      const why = n === null || Number.isInteger(n) ? "an integer literal" : "an integer";
      this.bag.error(E.badExponent, `the exponent of '^' must be ${why}, not '${written}'`, e.exponent.span, [],
        `for a real power write 'exp(${written} ⊙ log(${this.text(e.base.span)}))'`);
      return null;
    }
    return this.apply("pow", "^", [base], e.span, { n });
  }

  /** Applies op `name` to checked arguments via its shape rule; a rejection is reported. */
  private apply(name: string, label: string, args: readonly (TExpr | null)[], at: Span, attrs?: Attrs): TExpr | null {
    if (args.some((a) => a === null)) return null;
    const checked = args as TExpr[];
    const shape = opDef(name).shape(checked.map((a) => a.shape), attrs ?? {});
    if (typeof shape === "string") {
      this.bag.error(E.shapeMismatch, `shape mismatch in '${label}': ${shape}`, at, this.declarationNotes(checked));
      return null;
    }
    return attrs ? { kind: "op", op: name, args: checked, shape, span: at, attrs } : { kind: "op", op: name, args: checked, shape, span: at };
  }

  private call(e: Extract<Expr, { kind: "call" }>, at: number): TExpr | null {
    const overloads = OVERLOADS.get(e.fn);
    if (overloads && overloads.some((d) => d.constArgs || overloads.length > 1)) return this.callWithConstants(e, at, overloads);
    const args = e.args.map((a) => this.expr(a, at));
    const def = FUNCTIONS.get(e.fn);
    if (!def) {
      const variable = this.names.has(e.fn) || this.locals.has(e.fn);
      const hint = variable
        ? `for a matrix product write '${e.fn}·${this.text(e.span).slice(e.fn.length)}'`
        : didYouMean(e.fn, FUNCTIONS.keys());
      const message = variable ? `'${e.fn}' is not a function` : `unknown function '${e.fn}'`;
      this.bag.error(E.unknownFunction, message, e.fnSpan, [], hint);
      return null;
    }
    if (typeof def.arity === "number" && def.arity !== args.length) {
      const plural = def.arity === 1 ? "argument" : "arguments";
      const given = `${args.length} ${args.length === 1 ? "is" : "are"} given`;
      this.bag.error(E.arity, `'${e.fn}' takes ${def.arity} ${plural}, but ${given}`, e.span);
      return null;
    }
    return this.apply(def.name, e.fn, args, e.span);
  }

  /**
   * A function with several forms (`max(v)`, `max(a, b)`) or constant arguments (`elu(x, 0.5)`,
   * `clip(x, lo, hi)`): the form is chosen by the number of arguments, and the constant ones must
   * be numbers known when compiling.
   */
  private callWithConstants(e: Extract<Expr, { kind: "call" }>, at: number, overloads: readonly OpDef[]): TExpr | null {
    const n = e.args.length;
    const def = overloads.find((d) => callArity(d).min <= n && n <= callArity(d).max);
    if (!def) {
      const counts = [...new Set(overloads.flatMap((d) => {
        const { min, max } = callArity(d);
        return Array.from({ length: max - min + 1 }, (_, k) => min + k);
      }))].sort((a, b) => a - b);
      const takes = counts.length === 1 ? String(counts[0]) : `${counts.slice(0, -1).join(", ")} or ${counts[counts.length - 1]}`;
      const plural = counts.length === 1 && counts[0] === 1 ? "argument" : "arguments";
      this.bag.error(E.arity, `'${e.fn}' takes ${takes} ${plural}, but ${n} ${n === 1 ? "is" : "are"} given`, e.span);
      return null;
    }
    const operands = typeof def.arity === "number" ? def.arity : n;
    const args = e.args.slice(0, operands).map((a) => this.expr(a, at));
    const constArgs = def.constArgs ?? [];
    const attrs: Record<string, number> = {};
    let ok = true;
    e.args.slice(operands).forEach((a, k) => {
      const value = this.constant(a, `the ${constArgs[k]} of '${e.fn}'`);
      if (value === null) ok = false;
      else attrs[constArgs[k]!] = value;
    });
    if (!ok) return null;
    const problem = def.attrsProblem?.(attrs) ?? null;
    if (problem !== null) {
      this.bag.error(E.badConstArg, `'${e.fn}': ${problem}`, e.span);
      return null;
    }
    return this.apply(def.name, e.fn, args, e.span, constArgs.length > 0 ? attrs : undefined);
  }

  private binary(e: Extract<Expr, { kind: "binary" }>, at: number, parent?: BinaryOp): TExpr | null {
    const [left, right] = [this.expr(e.left, at, e.op), this.expr(e.right, at)];
    if (!left || !right) return null;
    const def = opDef(BINARY_OPS[e.op]);
    const attrs: Attrs = def.name === "matmul" ? { ta: false, tb: false } : {};
    const shape = def.shape([left.shape, right.shape], attrs);
    if (typeof shape !== "string") return { kind: "op", op: def.name, args: [left, right], shape, span: e.span };
    const message = `shape mismatch in '${this.source.slice(e.opSpan)}': ` +
      `${this.text(e.left.span)} is ${show(left.shape)} but ${this.text(e.right.span)} is ${show(right.shape)}`;
    const reason = def.kind === "elementwise" ? [] : [{ message: shape }];
    const misgrouped = parent === "@" && (e.op === "*" || e.op === "/");
    const hint = misgrouped ? MISGROUPED : this.productHint(e, left.shape, right.shape);
    this.bag.error(E.shapeMismatch, message, e.span, [...reason, ...this.declarationNotes([left, right])], hint);
    return null;
  }

  /**
   * The usual mix-ups of products: `W * x` (elementwise) for `W·x`, `x·W` for `Wᵀ·x` or `W·x`,
   * and `W·x` with W declared the other way round.
   */
  private productHint(e: Extract<Expr, { kind: "binary" }>, l: Shape, r: Shape): string | undefined {
    const [a, b] = [this.text(e.left.span), this.text(e.right.span)];
    const simple = (t: string) => /^[\p{L}_][\p{L}\p{N}_]*$/u.test(t) ? t : `(${t})`;
    if (e.op === "*" && l.length === 2 && r.length === 1 && l[1] === r[0])
      return `'${this.source.slice(e.opSpan)}' is elementwise; for a matrix product write '${simple(a)}·${simple(b)}' (or '${simple(a)} @ ${simple(b)}')`;
    if (e.op !== "@") return undefined;
    if (l.length === 1 && r.length === 2 && r[1] === l[0]) return `the matrix goes first: write '${simple(b)}·${simple(a)}'`;
    if (l.length === 1 && r.length === 2 && r[0] === l[0])
      return `a vector times a matrix is the transpose's product: write 'transpose(${b})·${simple(a)}' (or '${simple(b)}ᵀ·${simple(a)}')`;
    if (l.length === 2 && r.length === 1 && l[0] === r[0] && l[1] !== r[0])
      return `'${a}' is ${show(l)}: did you mean its transpose, 'transpose(${a})·${simple(b)}' (or '${simple(a)}ᵀ·${simple(b)}'), or to declare it [${l[1]}, ${l[0]}]?`;
    return undefined;
  }

  /** "W is declared [16, 8] at ..." for the first param in each operand. */
  private declarationNotes(args: readonly TExpr[]): Note[] {
    const notes: Note[] = [];
    for (const arg of args) {
      const name = firstParam(arg);
      const entity = name === undefined ? undefined : this.names.get(name);
      if (!entity || entity.kind === "size" || entity.kind === "const" || !entity.shape || notes.some((n) => n.span === entity.span)) continue;
      notes.push({ message: `${name} is declared ${show(entity.shape)}`, span: entity.span });
    }
    return notes;
  }

}

/** `2`, `-1`, `(-1)`, `2^3`: the integer an exponent literally writes, or null. */
function integerLiteral(e: Expr): number | null {
  if (e.kind === "num") return e.value;
  if (e.kind === "neg") {
    const v = integerLiteral(e.operand);
    return v === null ? null : -v;
  }
  if (e.kind !== "power") return null;
  const [base, exponent] = [integerLiteral(e.base), integerLiteral(e.exponent)];
  return base === null || exponent === null || !Number.isInteger(exponent) ? null : base ** exponent;
}

/** The value of a checked expression made of constants and elementwise ops, or null. */
function foldConstant(t: TExpr): number | null {
  if (t.kind === "const") return t.value;
  if (t.kind !== "op" || t.shape.length !== 0) return null;
  const def = opDef(t.op);
  if (def.kind !== "elementwise") return null;
  const args = t.args.map(foldConstant);
  if (args.some((a) => a === null)) return null;
  return def.scalar(args as number[], { ...Object.fromEntries(Object.entries(def.attrs ?? {}).map(([k, v]) => [k, v.default!])), ...(t.attrs ?? {}) });
}

/** The first param read in `t`, left to right. */
function firstParam(t: TExpr): string | undefined {
  if (t.kind === "ref") return t.binding.kind === "param" ? t.name : undefined;
  if (t.kind === "op") for (const a of t.args) {
    const found = firstParam(a);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Checks every cell of a file. Errors go to `bag`; the result holds the cells that have no error
 * at all (neither from parsing nor from checking), in file order.
 */
export function checkFile(file: FileAst, source: Source, bag: DiagnosticBag, options: CheckOptions = {}): CheckedCell[] {
  if (file.cells.length === 0) {
    bag.error(E.noCell, "no cell in file", span(0, 0), [], "a file holds cells: cell name { ... }");
  }
  const firstSpans = new Map<string, Span>();
  const checked: CheckedCell[] = [];
  for (const cell of file.cells) {
    if (bag.full || tooManyEquations(cell, bag)) continue;
    const first = firstSpans.get(cell.name);
    const note = first && { message: `cell '${cell.name}' is first defined`, span: first };
    if (note) bag.error(E.duplicateCell, `duplicate cell '${cell.name}'`, cell.nameSpan, [note]);
    else firstSpans.set(cell.name, cell.nameSpan);
    const result = new CellChecker(cell, source, bag, options.sizes ?? new Map()).check();
    warnConfusables(cell, bag);
    const inside = (s: Span) => s.start >= cell.span.start && s.start < Math.max(cell.span.end, cell.span.start + 1);
    const clean = () => !bag.items.some((d) => d.severity === "error" && inside(d.span));
    if (clean()) checkBounds(result, bag);
    if (clean()) (warnUnused(cell, result, bag), checked.push(result));
  }
  return checked;
}

/** A cell with more equations and outputs than `MAX_EQUATIONS` is reported and not checked further. */
function tooManyEquations(cell: CellAst, bag: DiagnosticBag): boolean {
  const statements = [...cell.equations, ...cell.outputs];
  if (statements.length <= MAX_EQUATIONS) return false;
  bag.error(E.tooManyEquations, `cell '${cell.name}' has ${statements.length} equations and outputs`,
    statements[MAX_EQUATIONS]!.span, [], `at most ${MAX_EQUATIONS} are allowed in one cell`);
  return true;
}
