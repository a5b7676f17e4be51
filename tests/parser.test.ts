import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CellAst, Expr, FileAst, SizeExpr } from "../compiler/ast.js";
import { MAX_NESTING } from "../compiler/cursor.js";
import { DiagnosticBag } from "../compiler/diagnostics.js";
import { parseFile } from "../compiler/parser.js";
import { printFile } from "../compiler/printer.js";
import { Source, span } from "../compiler/source.js";

function parse(text: string): { file: FileAst; errors: string } {
  const source = new Source("t.cell", text);
  const bag = new DiagnosticBag(source);
  const file = parseFile(source, bag);
  const errors = bag.sorted().map((d) => {
    const { line, col } = source.position(d.span.start);
    return `${line}:${col} ${d.code} ${d.message}`;
  });
  return { file, errors: errors.join("\n") };
}

/** A fully parenthesised form showing the tree: `(+ a (@ W x))`, `h'` for `h[t-1]`. */
function sexpr(e: Expr): string {
  switch (e.kind) {
    case "num": return String(e.value);
    case "ref": return e.prev ? `${e.name}'` : e.name;
    case "neg": return `(neg ${sexpr(e.operand)})`;
    case "transpose": return `(T ${sexpr(e.operand)})`;
    case "binary": return `(${e.op} ${sexpr(e.left)} ${sexpr(e.right)})`;
    case "call": return `(${[e.fn, ...e.args.map(sexpr)].join(" ")})`;
    case "concat": return `[${e.items.map(sexpr).join(" ")}]`;
    case "power": return `(^ ${sexpr(e.base)} ${sexpr(e.exponent)})`;
  }
}

function sizeSexpr(e: SizeExpr): string {
  return e.kind === "bin" ? `(${e.op} ${sizeSexpr(e.left)} ${sizeSexpr(e.right)})` : String(e.kind === "num" ? e.value : e.name);
}

const inCell = (body: string) => `cell c {\n${body}\n}\n`;
function parseCell(body: string): CellAst {
  const { file, errors } = parse(inCell(body));
  expect(errors).toBe("");
  return file.cells[0]!;
}

const expectExpr = (src: string, expected: string) => expect(sexpr(parseCell(`y = ${src}`).equations[0]!.expr)).toBe(expected);
const expectParseError = (src: string, expected: string) => expect(parse(src).errors).toBe(expected);
const expectPrinted = (src: string, expected: string) => expect(printFile(parse(src).file)).toBe(expected);

/** The tree without positions, for comparing parses. */
const withoutSpans = (x: unknown): string => JSON.stringify(x, (k, v) => (/^(span|\w+Span)$/.test(k) ? undefined : v));

describe("parser: precedence", () => {
  it("multiplies before adding", () => expectExpr("a + b·c", "(+ a (@ b c))"));
  it("groups the matrix product like ⊙, left to right", () => expectExpr("a ⊙ W·x", "(@ (* a W) x)"));
  it("groups subtraction left to right", () => expectExpr("a - b - c", "(- (- a b) c)"));
  it("groups division left to right", () => expectExpr("a / b * c", "(* (/ a b) c)"));
  it("binds prefix minus tighter than products", () => expectExpr("-a·b", "(@ (neg a) b)"));
  it("binds postfix tighter than prefix minus", () => expectExpr("-Wᵀ", "(neg (T W))"));
  it("allows repeated minus", () => expectExpr("a - -b", "(- a (neg b))"));
  it("transposes any operand", () => expectExpr("(A·B)ᵀᵀ", "(T (T (@ A B)))"));
  it("reads the SPEC gate", () => expectExpr("σ(Wf·x + Uf·h + bf)", "(σ (+ (+ (@ Wf x) (@ Uf h)) bf))"));
  it("reads layer norm", () =>
    expectExpr("(a - mean(a)) / sqrt(mean(a ⊙ a) + 1e-5)", "(/ (- a (mean a)) (sqrt (+ (mean (* a a)) 0.00001)))"));
  it("binds ^ tighter than prefix minus", () => expectExpr("-x^2", "(neg (^ x 2))"));
  it("groups ^ from the right", () => expectExpr("a^2^3", "(^ a (^ 2 3))"));
  it("takes a negative exponent with or without parentheses", () => {
    expectExpr("x^-1", "(^ x (neg 1))");
    expectExpr("x^(-1)", "(^ x (neg 1))");
  });
  it("binds ^ tighter than every binary operator", () => expectExpr("a ⊙ b^2 + W·x^3", "(+ (* a (^ b 2)) (@ W (^ x 3)))"));
  it("binds postfix tighter than ^", () => expectExpr("h[t-1]^2", "(^ h' 2)"));
  it("powers a call", () => expectExpr("tanh(a)^2", "(^ (tanh a) 2)"));
});

describe("parser: consts and initial values", () => {
  it("reads const declarations", () => {
    const cell = parseCell("const eps = 1e-6, k = -2");
    expect(cell.consts!.map((c) => `${c.name}=${sexpr(c.value)}`)).toEqual(["eps=0.000001", "k=(neg 2)"]);
  });
  it("reads scalar params and initial values", () => {
    const cell = parseCell("param tau, g[H] = 1, U[H, H] ~ orthogonal, W[H, I] ~ uniform(-0.1, 0.1)");
    expect(cell.decls.map((d) => [d.name, d.dims.length, d.init?.kind === "scheme" ? `${d.init.name}(${d.init.args.map(sexpr)})` : d.init ? sexpr(d.init.value) : ""]))
      .toEqual([["tau", 0, ""], ["g", 1, "1"], ["U", 2, "orthogonal()"], ["W", 2, "uniform((neg 0.1),0.1)"]]);
  });
  it("prints them back", () =>
    expectPrinted("cell c {\n const eps = 1e-6\n param g[H] = 1, U[H, H] ~ orthogonal, b[H] ~ normal(0, 0.02)\n y = -x^2 + (-x)^2 + x^-1\n}",
      "cell c {\n  const eps = 0.000001\n  param g[H] = 1, U[H, H] ~ orthogonal, b[H] ~ normal(0, 0.02)\n\n  y = -x^2 + (-x)^2 + x^-1\n}\n"));
});

describe("parser: expressions", () => {
  it("reads h[t-1], with or without spaces", () => expectExpr("h[t-1] + c[ t - 1 ]", "(+ h' c')"));
  it("reads concatenation", () => expectExpr("W·[x; h; 1]", "(@ W [x h 1])"));
  it("reads calls of any arity", () => expectExpr("f() + g(a, b)", "(+ (f) (g a b))"));
  it("reads keywords used as names", () => expectExpr("state + size", "(+ state size)"));
  it("continues an expression inside brackets over newlines", () => expectExpr("σ(a +\n   b)\n", "(σ (+ a b))"));
  it("widens a parenthesised span to its parentheses", () =>
    expect(parseCell("y = (a + b)").equations[0]!.expr.span).toEqual(span(13, 20)));
});

describe("parser: declarations and statements", () => {
  it("reads sizes with arithmetic", () => {
    const cell = parseCell("size A = 8, B = (A + 1) * 2 - 3");
    expect(cell.sizes.map((s) => `${s.name}=${sizeSexpr(s.value)}`)).toEqual(["A=8", "B=(- (* (+ A 1) 2) 3)"]);
  });
  it("reads tensor declarations", () => {
    const cell = parseCell("input x[I]\nstate h[H], c[H]\nparam W[4*H, I+H], b[H], s");
    expect(cell.decls.map((d) => `${d.kind} ${d.name}[${d.dims.map(sizeSexpr).join(",")}]`)).toEqual([
      "input x[I]", "state h[H]", "state c[H]", "param W[(* 4 H),(+ I H)]", "param b[H]", "param s[]",
    ]);
  });
  it("reads the three output forms", () => {
    const cell = parseCell("output y = W·h\noutput h\noutput h, c");
    expect(cell.outputs.map((o) => `${o.name}${o.expr ? `=${sexpr(o.expr)}` : ""}`)).toEqual(["y=(@ W h)", "h", "h", "c"]);
  });
  it("separates statements with ';'", () => expect(parseCell("a = 1; b = 2;; c = 3").equations.map((e) => e.target)).toEqual(["a", "b", "c"]));
  it("reads keywords as names where a name is expected", () => {
    const cell = parseCell("param param[H]\nstate = param + 1\noutput output");
    expect([cell.decls[0]!.name, cell.equations[0]!.target, cell.outputs[0]!.name]).toEqual(["param", "state", "output"]);
  });
  it("reads several cells and cell spans", () => {
    const { file } = parse("cell a { state h[1] }\n\ncell b {\n}\n");
    expect(file.cells.map((c) => c.name)).toEqual(["a", "b"]);
    expect(file.cells[0]!.span).toEqual(span(0, 21));
  });
  it("marks nothing broken in a clean cell", () => expect(parseCell("h = 1").broken).toBeUndefined());
});

describe("parser: errors", () => {
  it("requires a cell at the top level", () => expectParseError("h = 1\n", "1:1 E2005 expected 'cell', found 'h'"));
  it("reports a missing brace", () => expectParseError("cell c\nh = 1", "2:1 E2001 expected '{' after the cell name, found 'h'"));
  it("reports an unclosed cell", () => expectParseError("cell c {\n h = 1\n", "1:8 E2006 the '{' of cell 'c' is never closed"));
  it("reports an unclosed cell before the next", () =>
    expectParseError("cell a {\ncell b { }", "1:8 E2006 the '{' of cell 'a' is never closed"));
  it("reports a missing operand", () => expectParseError(inCell("f = σ(x + )"), "2:11 E2001 expected an expression, found ')'"));
  it("reports an unclosed parenthesis at the parenthesis", () =>
    expectParseError(inCell("g = (a + b\nh = 1"), "2:5 E2002 '(' is never closed"));
  it("reports two expressions side by side", () => expectParseError(inCell("k = a b"), "2:7 E2001 expected an operator or end of line, found 'b'"));
  it("reports other indices than [t-1]", () => expectParseError(inCell("h = h[t-2]"), "2:6 E2004 only '[t-1]' may follow a name, not '[t-2]'"));
  it("reports [t-1] after a non-name", () => expectParseError(inCell("h = (a + b)[t-1]"), "2:5 E2007 only a state's name may be followed by '[t-1]'"));
  it("reports a misspelt declaration", () => expectParseError(inCell("inputs x[I]"), "2:1 E2008 unknown declaration 'inputs'"));
  it("reports ',' in a concatenation", () => expectParseError(inCell("y = [a, b]"), "2:7 E2001 expected ';' or ']', found ','"));
  it("reports σ used as a name", () => expectParseError(inCell("σ = 1"), "2:1 E2001 expected a declaration or an equation, found 'σ'"));
  it("reports a missing '='", () => expectParseError(inCell("h tanh(x)"), "2:3 E2001 expected '=' after 'h', found 'tanh'"));
  it("reports every error of a file in one run", () =>
    expectParseError(inCell("a = (\nparam W[H H], b[H]\nc = 1 +\n$\nd = 2"), [
      "2:5 E2002 '(' is never closed", "3:11 E2001 expected ',' or ']', found 'H'",
      "4:8 E2001 expected an expression, found end of line", "5:1 E1001 unexpected character '$' (U+0024)",
    ].join("\n")));
  it("keeps the good items of a broken declaration list and marks the bad", () => {
    const { file } = parse(inCell("param W[H H], b[H]\nf = σ(\ng = 1"));
    expect(file.cells[0]!.decls.map((d) => d.name)).toEqual(["b"]);
    expect(file.cells[0]!.broken).toEqual(["W", "f"]);
    expect(file.cells[0]!.equations.map((e) => e.target)).toEqual(["g"]);
  });
});

describe("parser: limits", () => {
  it("reports deep nesting instead of overflowing", () => {
    const deep = "(".repeat(MAX_NESTING + 1) + "x" + ")".repeat(MAX_NESTING + 1);
    expect(parse(inCell(`y = ${deep}`)).errors).toBe(`2:${4 + MAX_NESTING + 1} E2003 expression nested too deeply`);
  });
  it("accepts nesting up to the limit", () => {
    const deep = "(".repeat(MAX_NESTING) + "x" + ")".repeat(MAX_NESTING);
    expect(parse(inCell(`y = ${deep}`)).errors).toBe("");
  });
  it("survives 100 000 open parentheses, minus signs and transposes", () => {
    for (const s of ["(", "-", "σ(", "["]) expect(parse(inCell(`y = ${s.repeat(100_000)}`)).errors).toContain("E2003");
    expect(parse(inCell(`y = x${"ᵀ".repeat(100_000)}`)).errors).toContain("E2003");
  });
  it("reports an over-long chain of operators", () =>
    expect(parse(inCell(`y = ${Array(2000).fill("a").join(" + ")}`)).errors).toContain("E2003 expression too large"));
});

describe("parser: printing", () => {
  it("prints the canonical form", () =>
    expectPrinted("cell c { size H = 2\nstate h[H]\nh = a*W @ x+(b - c)-d[t-1] }", "cell c {\n  size H = 2\n  state h[H]\n\n  h = (a ⊙ W)·x + (b - c) - d[t-1]\n}\n"));
  it("keeps parentheses the grammar needs", () => expectPrinted(inCell("y = a - (b - c) / (d ⊙ e)·(-f)ᵀ"), inCell("  y = a - ((b - c) / (d ⊙ e))·(-f)ᵀ")));
  it("round-trips every example cell", () => {
    for (const f of readdirSync("examples/cells").filter((n) => n.endsWith(".cell"))) {
      const parsed = parse(readFileSync(`examples/cells/${f}`, "utf8"));
      expect(parsed.errors).toBe("");
      expect(withoutSpans(parse(printFile(parsed.file)).file)).toBe(withoutSpans(parsed.file));
    }
  });
});

// ------------------------------------------------------------ properties

const S = span(0, 0);
const names = fc.constantFrom("x", "h", "Wf", "b_1", "α", "Δh", "t", "new", "state", "cell", "output", "do");
const fns = fc.constantFrom("σ", "tanh", "sum", "transpose", "f", "size");
const numbers = fc.oneof(fc.nat(100), fc.double({ min: 0, max: 1e25, noNaN: true })).map(Math.abs);

const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", maxDepth: 5 },
    numbers.map((value): Expr => ({ kind: "num", value, span: S })),
    fc.tuple(names, fc.boolean()).map(([name, prev]): Expr => ({ kind: "ref", name, prev, span: S })),
    tie("expr").map((operand): Expr => ({ kind: "neg", operand, span: S })),
    tie("expr").map((operand): Expr => ({ kind: "transpose", operand, span: S })),
    fc.tuple(fc.constantFrom("+", "-", "*", "/", "@" as const), tie("expr"), tie("expr")).map(
      ([op, left, right]): Expr => ({ kind: "binary", op, left, right, span: S, opSpan: S })),
    fc.tuple(fns, fc.array(tie("expr"), { maxLength: 3 })).map(([fn, args]): Expr => ({ kind: "call", fn, fnSpan: S, args, span: S })),
    fc.array(tie("expr"), { minLength: 1, maxLength: 3 }).map((items): Expr => ({ kind: "concat", items, span: S })),
  ),
}));

const { size } = fc.letrec<{ size: SizeExpr }>((tie) => ({
  size: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    fc.nat(64).map((value): SizeExpr => ({ kind: "num", value, span: S })),
    names.map((name): SizeExpr => ({ kind: "name", name, span: S })),
    fc.tuple(fc.constantFrom("+", "-", "*" as const), tie("size"), tie("size")).map(
      ([op, left, right]): SizeExpr => ({ kind: "bin", op, left, right, span: S })),
  ),
}));

const cell: fc.Arbitrary<CellAst> = fc.record({
  name: names,
  sizes: fc.array(fc.record({ name: names, value: size }), { maxLength: 3 }),
  decls: fc.array(fc.record({ kind: fc.constantFrom("input", "state", "param" as const), name: names, dims: fc.array(size, { maxLength: 2 }) }), { maxLength: 4 }),
  equations: fc.array(fc.record({ target: names, expr }), { maxLength: 4 }),
  outputs: fc.array(fc.record({ name: names, expr: fc.option(expr, { nil: undefined }) }), { maxLength: 3 }),
}).map((c) => ({
  name: c.name, nameSpan: S, span: S,
  sizes: c.sizes.map((s) => ({ ...s, nameSpan: S, span: S })),
  decls: c.decls.map((d) => ({ ...d, nameSpan: S, span: S })),
  equations: c.equations.map((e) => ({ ...e, targetSpan: S, span: S })),
  outputs: c.outputs.map(({ name, expr: e }) => (e ? { name, expr: e, nameSpan: S, span: S } : { name, nameSpan: S, span: S })),
}));

describe("parser: properties", () => {
  it("print then parse gives the same tree", () => {
    fc.assert(fc.property(fc.array(cell, { minLength: 1, maxLength: 2 }), (cells) => {
      const text = printFile({ cells });
      const reparsed = parse(text);
      expect(reparsed.errors).toBe("");
      expect(withoutSpans(reparsed.file)).toBe(withoutSpans({ cells }));
    }), { seed: 42, numRuns: 300 });
  });
  it("never throws on arbitrary text", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => void parse(text)), { seed: 42, numRuns: 500 });
  });
  it("never throws on text made of the language's own symbols", () => {
    const symbol = fc.constantFrom(..."cell size input state param output = ( ) [ ] { } , ; σ ⊙ · ᵀ - + * / @ t 1 x h \n #".split(" "), " ");
    fc.assert(fc.property(fc.array(symbol, { maxLength: 120 }), (parts) => void parse(parts.join(""))), { seed: 42, numRuns: 500 });
  });
});
