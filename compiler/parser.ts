/**
 * The parser: tokens to `FileAst`, by recursive descent.
 *
 * Statements end at a newline or `;`; inside brackets a newline continues the expression (see
 * `cursor.ts`, which also holds the limits, error helpers and recovery the grammar uses).
 *
 * Precedence, loosest first (all binary operators are left-associative):
 *   1. `+ -`
 *   2. `* ⊙ ∘ / · @` — the matrix product binds like the elementwise one, so `a ⊙ W·x` is
 *      `(a ⊙ W)·x`; write parentheses when mixing them
 *   3. prefix `-`
 *   4. `^`, right-associative, its exponent a prefix-`-` operand (`-x^2` is `-(x^2)`, `a^2^3` is
 *      `a^(2^3)`, `x^-1` is `x^(-1)`)
 *   5. postfix `ᵀ` and `[t-1]` (so `-Wᵀ` is `-(Wᵀ)`)
 *   6. numbers, names, calls `f(a, b)`, `σ(a)`, `(a)`, `[a; b]`
 *
 * Error recovery: a syntax error is reported and the parser skips to the end of the statement
 * (or to the next item of a declaration list), so one run reports every error of a file. The
 * parser never throws: nesting and expression size are bounded, and the internal `Bail` signal
 * never leaves the parser.
 */
import type { BinaryOp, CellAst, ConstDecl, Decl, DeclKind, Equation, Expr, FileAst, InitAst, OutputDecl, SizeDecl, SizeExpr } from "./ast.js";
import { isKeyword, isName, isPunct, rethrowUnlessBail, TokenCursor } from "./cursor.js";
import type { DiagnosticBag } from "./diagnostics.js";
import { KEYWORDS, lex, type Token } from "./lexer.js";
import { clip, E, nearest } from "./messages.js";
import { cover, type Source, type Span } from "./source.js";

const ADDITIVE: ReadonlyMap<string, BinaryOp> = new Map([["+", "+"], ["-", "-"]]);
const MULTIPLICATIVE: ReadonlyMap<string, BinaryOp> = new Map([["*", "*"], ["/", "/"], ["@", "@"]]);
const SIZE_ADDITIVE: ReadonlyMap<string, "+" | "-"> = new Map([["+", "+"], ["-", "-"]]);
const SIZE_MULTIPLICATIVE: ReadonlyMap<string, "*"> = new Map([["*", "*"]]);
const TENSOR_KINDS: ReadonlySet<string> = new Set(["input", "state", "param"]);

interface CellParts {
  sizes: SizeDecl[];
  consts: ConstDecl[];
  decls: Decl[];
  equations: Equation[];
  outputs: OutputDecl[];
  broken: string[];
}

class Parser extends TokenCursor {
  /** Names the current statement declares or assigns, marked broken if it fails. */
  private pending: string[] = [];
  private parts!: CellParts;

  private markBroken(): void {
    this.parts.broken.push(...this.pending);
    this.pending = [];
  }

  // ------------------------------------------------------------ file and cells

  file(): FileAst {
    const cells: CellAst[] = [];
    for (;;) {
      this.skipSeparators();
      const t = this.at(this.pos);
      if (t.kind === "eof") return { cells };
      if (isKeyword(t, "cell")) {
        const cell = this.cell();
        if (cell) cells.push(cell);
      } else {
        this.bag.error(E.outsideCell, `expected 'cell', found ${this.describe(t)}`, t.span, [],
          "a file holds cells: cell name { ... }");
        this.skipToCell();
      }
    }
  }

  private cell(): CellAst | undefined {
    const keyword = this.advance();
    let name: Token, brace: Token;
    try {
      name = this.name("a cell name");
      while (this.at(this.pos).kind === "newline") this.pos++;
      brace = this.expect("{", `'{' after the cell name`);
    } catch (e) {
      rethrowUnlessBail(e);
      this.skipToCell();
      return undefined;
    }
    this.parts = { sizes: [], consts: [], decls: [], equations: [], outputs: [], broken: [] };
    const end = this.body(name.text, brace);
    const { broken, consts, ...parts } = this.parts;
    const cell = { name: name.text, nameSpan: name.span, ...parts, ...(consts.length > 0 ? { consts } : {}), span: cover(keyword.span, end) };
    return broken.length > 0 ? { ...cell, broken } : cell;
  }

  /** Statements up to the closing `}`; returns the span the cell ends with. */
  private body(name: string, brace: Token): Span {
    for (;;) {
      this.skipSeparators();
      const t = this.at(this.pos);
      if (isPunct(t, "}")) return this.advance().span;
      if (t.kind === "eof" || (isKeyword(t, "cell") && isName(this.at(this.pos + 1)))) {
        this.bag.error(E.cellNotClosed, `the '{' of cell '${name}' is never closed`, brace.span, [],
          "add '}' after the cell's last line");
        return this.at(this.pos - 1).span;
      }
      this.statement();
    }
  }

  private statement(): void {
    try {
      this.statementBody();
    } catch (e) {
      rethrowUnlessBail(e);
      this.markBroken();
      this.recover(false);
    } finally {
      this.pending = [];
      this.resetStatement();
    }
  }

  private statementBody(): void {
    const [t, next] = [this.at(this.pos), this.at(this.pos + 1)];
    if (t.kind === "keyword" && !isPunct(next, "=")) {
      if (t.text === "size") return this.sizeDecls();
      if (t.text === "const") return this.constDecls();
      if (TENSOR_KINDS.has(t.text)) return this.tensorDecls(t.text as DeclKind);
      if (t.text === "output") return this.outputs();
    }
    if (isName(t) && isPunct(next, "=")) return this.equation();
    const keyword = isName(t) && isName(next) ? nearest(t.text, KEYWORDS) : undefined;
    if (keyword) {
      this.fail(E.badStatement, `unknown declaration '${t.text}'`, t.span, `did you mean '${keyword}'?`);
    }
    if (isName(t)) {
      this.advance();
      this.unexpected(`'=' after '${t.text}'`, "an equation is written: name = expression");
    }
    this.unexpected("a declaration or an equation");
  }

  private endOfStatement(expected = "end of line"): void {
    const t = this.peek();
    if (t.kind === "newline" || t.kind === "eof" || isPunct(t, ";") || isPunct(t, "}")) return;
    this.unexpected(expected);
  }

  private name(what: string): Token {
    const t = this.peek();
    if (t.kind === "sigma") this.fail(E.expected, `'σ' is the sigmoid function, not ${what}`, t.span);
    if (!isName(t)) this.unexpected(what);
    return this.advance();
  }

  // ------------------------------------------------------------ declarations

  /** Items separated by commas; an error in one item skips to the next. */
  private list(item: () => void): void {
    do {
      try {
        item();
      } catch (e) {
        rethrowUnlessBail(e);
        this.markBroken();
        this.recover(true);
        if (!this.is(",")) throw e;
      }
    } while (this.accept(","));
    this.endOfStatement("',' or end of line");
  }

  private sizeDecls(): void {
    this.advance();
    this.list(() => {
      const name = this.name("a size name");
      this.pending = [name.text];
      this.expect("=", `'=' and a default after size '${name.text}'`);
      const value = this.sizeExpr();
      this.parts.sizes.push({ name: name.text, nameSpan: name.span, value, span: cover(name.span, value.span) });
      this.pending = [];
    });
  }

  private constDecls(): void {
    this.advance();
    this.list(() => {
      const name = this.name("a const name");
      this.pending = [name.text];
      this.expect("=", `'=' and a number after const '${name.text}'`);
      const value = this.expr();
      this.parts.consts.push({ name: name.text, nameSpan: name.span, value, span: cover(name.span, value.span) });
      this.pending = [];
    });
  }

  private tensorDecls(kind: DeclKind): void {
    this.advance();
    this.list(() => {
      const name = this.name(`a${kind === "input" ? "n" : ""} ${kind} name`);
      this.pending = [name.text];
      let dims: SizeExpr[] = [];
      let end = name.span;
      if (this.is("[")) {
        const open = this.openBracket();
        dims = this.sepBy(",", () => this.sizeExpr());
        end = this.close("]", open, "',' or ']'").span;
      }
      const init = kind === "param" ? this.init() : undefined;
      const decl = { kind, name: name.text, nameSpan: name.span, dims, span: cover(name.span, end) };
      this.parts.decls.push(init ? { ...decl, init } : decl);
      this.pending = [];
    });
  }

  /** A param's `= value` or `~ scheme(args)`, if any. */
  private init(): InitAst | undefined {
    const t = this.peek();
    if (isPunct(t, "=")) {
      this.advance();
      const value = this.expr();
      return { kind: "value", value, span: cover(t.span, value.span) };
    }
    if (!isPunct(t, "~")) return undefined;
    this.advance();
    const scheme = this.name("an initialisation (orthogonal, xavier, uniform(a, b), normal(mean, std))");
    if (!this.is("(")) return { kind: "scheme", name: scheme.text, nameSpan: scheme.span, args: [], span: cover(t.span, scheme.span) };
    const open = this.openBracket();
    const args = this.nest(open, () => (this.is(")") ? [] : this.sepBy(",", () => this.expr())));
    const close = this.close(")", open, "',' or ')'");
    return { kind: "scheme", name: scheme.text, nameSpan: scheme.span, args, span: cover(t.span, close.span) };
  }

  private outputs(): void {
    this.advance();
    const first = this.name("an output name");
    if (this.accept("=")) {
      const expr = this.expr();
      this.endOfStatement("an operator or end of line");
      this.parts.outputs.push({ name: first.text, nameSpan: first.span, expr, span: cover(first.span, expr.span) });
      return;
    }
    const names = [first];
    while (this.accept(",")) names.push(this.name("an output name"));
    this.endOfStatement("',' or end of line");
    for (const n of names) this.parts.outputs.push({ name: n.text, nameSpan: n.span, span: n.span });
  }

  private equation(): void {
    const target = this.advance();
    this.advance();
    this.pending = [target.text];
    const expr = this.expr();
    this.endOfStatement("an operator or end of line");
    this.parts.equations.push({ target: target.text, targetSpan: target.span, expr, span: cover(target.span, expr.span) });
  }

  // ------------------------------------------------------------ size expressions

  private sizeExpr(): SizeExpr {
    return this.sizeChain(SIZE_ADDITIVE, () => this.sizeChain(SIZE_MULTIPLICATIVE, () => this.sizeAtom()));
  }

  private sizeChain(ops: ReadonlyMap<string, "+" | "-" | "*">, operand: () => SizeExpr): SizeExpr {
    let left = operand();
    for (let t = this.peek(); t.kind === "punct" && ops.has(t.text); t = this.peek()) {
      this.advance();
      this.count(t);
      const right = operand();
      left = { kind: "bin", op: ops.get(t.text)!, left, right, span: cover(left.span, right.span) };
    }
    return left;
  }

  private sizeAtom(): SizeExpr {
    const t = this.peek();
    if (t.kind === "number") return (this.advance(), { kind: "num", value: t.value!, span: t.span });
    if (isName(t)) return (this.advance(), { kind: "name", name: t.text, span: t.span });
    if (!isPunct(t, "(")) this.unexpected("a size (a number or a size name)");
    const open = this.openBracket();
    const inner = this.nest(open, () => this.sizeExpr());
    return { ...inner, span: cover(open.span, this.close(")", open).span) };
  }

  // ------------------------------------------------------------ expressions

  private sepBy<T>(separator: string, item: () => T): T[] {
    const items = [item()];
    while (this.accept(separator)) items.push(item());
    return items;
  }

  private expr(): Expr {
    return this.chain(ADDITIVE, () => this.chain(MULTIPLICATIVE, () => this.unary()));
  }

  private chain(ops: ReadonlyMap<string, BinaryOp>, operand: () => Expr): Expr {
    let left = operand();
    for (let t = this.peek(); t.kind === "punct" && ops.has(t.text); t = this.peek()) {
      this.advance();
      this.count(t);
      const right = operand();
      left = { kind: "binary", op: ops.get(t.text)!, left, right, span: cover(left.span, right.span), opSpan: t.span };
    }
    return left;
  }

  private unary(): Expr {
    const t = this.peek();
    if (!isPunct(t, "-")) return this.power();
    this.advance();
    this.count(t);
    const operand = this.nest(t, () => this.unary());
    return { kind: "neg", operand, span: cover(t.span, operand.span) };
  }

  /** `base^exponent`, the exponent itself an operand of prefix `-` (so `^` groups from the right). */
  private power(): Expr {
    const base = this.postfix();
    const t = this.peek();
    if (!isPunct(t, "^")) return base;
    this.advance();
    this.count(t);
    const exponent = this.nest(t, () => this.unary());
    return { kind: "power", base, exponent, span: cover(base.span, exponent.span), opSpan: t.span };
  }

  private postfix(): Expr {
    let e = this.primary();
    for (;;) {
      const t = this.peek();
      if (isPunct(t, "ᵀ")) {
        this.advance();
        this.count(t);
        e = { kind: "transpose", operand: e, span: cover(e.span, t.span) };
      } else if (isPunct(t, "[")) {
        e = this.previous(e);
      } else {
        return e;
      }
    }
  }

  /** `h[t-1]`, the only index the language has. */
  private previous(e: Expr): Expr {
    const open = this.openBracket();
    const start = this.pos;
    const [t, minus, one] = [this.advance(), this.advance(), this.advance()];
    const ok = t.kind === "ident" && t.text === "t" && isPunct(minus, "-") && one.kind === "number" && one.value === 1;
    if (!ok || !this.is("]")) {
      let end = start;
      while (!["newline", "eof"].includes(this.at(end).kind) && !isPunct(this.at(end), "]")) end++;
      const inside = end > start ? clip(this.source.slice(cover(this.at(start).span, this.at(end - 1).span))) : "";
      this.pos = end;
      this.fail(E.badPrev, `only '[t-1]' may follow a name, not '[${inside}]'`, cover(open.span, this.at(end).span),
        "x[t-1] is the value of state x at the previous step; there is no other indexing");
    }
    const close = this.close("]", open);
    if (e.kind !== "ref" || e.prev) {
      this.fail(E.prevOnNonName, "only a state's name may be followed by '[t-1]'", cover(e.span, close.span));
    }
    return { kind: "ref", name: e.name, prev: true, span: cover(e.span, close.span) };
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.kind === "number") return (this.advance(), { kind: "num", value: t.value!, span: t.span });
    if (t.kind === "sigma") return this.call(this.advance());
    if (isName(t)) {
      this.advance();
      return this.is("(") ? this.call(t) : { kind: "ref", name: t.text, prev: false, span: t.span };
    }
    if (isPunct(t, "(")) return this.parenthesized();
    if (isPunct(t, "[")) return this.concat();
    this.unexpected("an expression");
  }

  private call(fn: Token): Expr {
    if (!this.is("(")) this.unexpected(`'(' after '${fn.text}'`);
    const open = this.openBracket();
    this.count(fn);
    return this.nest(open, () => {
      const args = this.is(")") ? [] : this.sepBy(",", () => this.expr());
      const close = this.close(")", open, "',' or ')'");
      return { kind: "call", fn: fn.text, fnSpan: fn.span, args, span: cover(fn.span, close.span) };
    });
  }

  private parenthesized(): Expr {
    const open = this.openBracket();
    const inner = this.nest(open, () => this.expr());
    return { ...inner, span: cover(open.span, this.close(")", open).span) };
  }

  private concat(): Expr {
    const open = this.openBracket();
    this.count(open);
    return this.nest(open, () => {
      const items = this.sepBy(";", () => this.expr());
      if (this.is(",")) this.unexpected("';' or ']'", "concatenation separates its items with ';': [a; b]");
      const close = this.close("]", open, "';' or ']'");
      return { kind: "concat", items, span: cover(open.span, close.span) };
    });
  }
}

/** Parses a whole file. Syntax errors go to `bag`; the result holds every cell whose header parsed. */
export function parseFile(source: Source, bag: DiagnosticBag): FileAst {
  return new Parser(lex(source, bag), source, bag).file();
}
