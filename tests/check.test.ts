import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CheckedCell, TExpr } from "../compiler/ast.js";
import { checkFile } from "../compiler/check.js";
import { MAX_NESTING, MAX_OPERATIONS } from "../compiler/cursor.js";
import { DiagnosticBag, renderDiagnostics } from "../compiler/diagnostics.js";
import { editDistance, nearest, W } from "../compiler/messages.js";
import { parseFile } from "../compiler/parser.js";
import { Source } from "../compiler/source.js";

function check(text: string, sizes?: Record<string, number>): { cells: CheckedCell[]; errors: string } {
  const source = new Source("t.cell", text);
  const bag = new DiagnosticBag(source);
  const cells = checkFile(parseFile(source, bag), source, bag, { sizes: new Map(Object.entries(sizes ?? {})) });
  // The unused-name warnings (W3002–W3008) have their own tests (tests/warnings.test.ts); the cells
  // here are fragments written to show one binding or one error each.
  const unused: readonly string[] = [W.stateNeverAssigned, W.stateNeverRead, W.unusedParam, W.unusedInput, W.unusedLocal, W.unusedSize, W.zeroGradient];
  const errors = bag.sorted().filter((d) => !unused.includes(d.code)).map((d) => {
    const { line, col } = source.position(d.span.start);
    const notes = d.notes.map((n) => ` [note: ${n.message}${n.span ? ` at ${source.position(n.span.start).line}:${source.position(n.span.start).col}` : ""}]`);
    return `${line}:${col} ${d.code} ${d.message}${notes.join("")}${d.hint ? ` [help: ${d.hint}]` : ""}`;
  });
  return { cells, errors: errors.join("\n") };
}

/** A cell with I = 2, H = 3, input x, state h, params W[H, I], U[H, H], b[H]; the body starts on line 2. */
const inCell = (body: string) => `cell c { size I = 2, H = 3; input x[I]; state h[H]; param W[H, I], U[H, H], b[H]\n${body}\n}\n`;

/** A checked expression with its bindings: `x@in0`, `W@param0`, `h@prev0`, `f@eq1`. */
function show(t: TExpr): string {
  if (t.kind === "const") return String(t.value);
  if (t.kind === "op") return `${t.op}(${t.args.map(show).join(", ")})`;
  const b = t.binding;
  const where = b.kind === "equation" ? `eq${b.equation}` : `${{ input: "in", param: "param", statePrev: "prev" }[b.kind]}${b.index}`;
  return `${t.name}@${where}`;
}

function checkedCell(text: string, sizes?: Record<string, number>): CheckedCell {
  const { cells, errors } = check(text, sizes);
  expect(errors).toBe("");
  return cells[0]!;
}

const expectEquations = (body: string, expected: string[]) =>
  expect(checkedCell(inCell(body)).equations.map((e) => `${e.target}${e.state === undefined ? "" : "!"} = ${show(e.expr)}`)).toEqual(expected);
const expectOutputs = (body: string, expected: string[]) =>
  expect(checkedCell(inCell(body)).outputs.map((o) => `${o.name} = ${show(o.expr)}`)).toEqual(expected);
const expectShape = (expr: string, shape: number[]) => expect(checkedCell(inCell(`y = ${expr}`)).equations[0]!.expr.shape).toEqual(shape);
const expectCheckError = (body: string, expected: string) => expect(check(inCell(body)).errors).toBe(expected);

describe("check: bindings", () => {
  it("binds a state read before its assignment to the previous value", () =>
    expectEquations("h = tanh(W·x + U·h + b)", ["h! = tanh(add(add(matmul(W@param0, x@in0), matmul(U@param1, h@prev0)), b@param2))"]));
  it("binds a state read after its assignment to that equation", () =>
    expectEquations("h = b\ny = h + h[t-1]", ["h! = b@param2", "y = add(h@eq0, h@prev0)"]));
  it("binds locals to their equation", () => expectEquations("f = b\ng = f ⊙ f\nh = g", ["f = b@param2", "g = mul(f@eq0, f@eq0)", "h! = g@eq1"]));
  it("turns a size into a constant", () => expectEquations("h = h / H + 1", ["h! = add(div(h@prev0, 3), 1)"]));
  it("maps every operator and function to its op", () =>
    expectEquations("y = -sigmoid(σ(relu(exp(log(softplus(sqrt(abs(sin(cos(b))))))))))", [
      "y = neg(sigmoid(sigmoid(relu(exp(log(softplus(sqrt(abs(sin(cos(b@param2)))))))))))",
    ]));
  it("maps transposes, concatenations and reductions", () =>
    expectEquations("y = transpose(W)·b + Wᵀ·h - sum([b; mean(b)])", [
      "y = sub(add(matmul(transpose(W@param0), b@param2), matmul(transpose(W@param0), h@prev0)), sum(concat(b@param2, mean(b@param2))))",
    ]));
  it("accepts JavaScript reserved words and prototype names as names", () =>
    expectEquations("new = b\n__proto__ = new\nconstructor = __proto__", ["new = b@param2", "__proto__ = new@eq0", "constructor = __proto__@eq1"]));
});

describe("check: outputs", () => {
  it("defaults to the states in declared order, at the end of the step", () => {
    const cell = checkedCell("cell c { state h[2], c[2]; param b[2]\nc = b\n}");
    expect(cell.outputs.map((o) => `${o.name} = ${show(o.expr)}`)).toEqual(["h = h@prev0", "c = c@eq0"]);
  });
  it("reads `output h` at the end of the step", () => expectOutputs("y = b\nh = y\noutput h", ["h = h@eq1"]));
  it("evaluates `output y = expr` after all equations", () =>
    expectOutputs("h = b\noutput y = h + h[t-1]\noutput x", ["y = add(h@eq0, h@prev0)", "x = x@in0"]));
  it("allows a cell without states if it has an output", () =>
    expect(check("cell f { input x[2]\n output y = 2 * x }").errors).toBe(""));
});

describe("check: shapes", () => {
  it("multiplies a matrix and a vector", () => expectShape("W·x", [3]));
  it("multiplies matrices", () => expectShape("U·W", [3, 2]));
  it("transposes", () => expectShape("Wᵀ", [2, 3]));
  it("concatenates", () => expectShape("[x; h; 1]", [6]));
  it("reduces to a scalar", () => expectShape("sum(h)", []));
  it("broadcasts scalars", () => expectShape("2 * h - mean(h)", [3]));
  it("evaluates size arithmetic in declarations", () => {
    const cell = checkedCell("cell c { size H = 4, G = 4*H - 1; state h[(G + 1) * 2] }");
    expect([...cell.sizes]).toEqual([["H", 4], ["G", 15]]);
    expect(cell.states[0]!.shape).toEqual([32]);
  });
  it("takes size overrides, recomputing dependent sizes", () => {
    const cell = checkedCell("cell c { size H = 4, G = 2*H; state h[G] }", { H: 10, Other: 3 });
    expect(cell.states[0]!.shape).toEqual([20]);
  });
});

describe("check: errors", () => {
  it("reports a shape mismatch naming the operands", () =>
    expectCheckError("y = W·x + x", "2:5 E3002 shape mismatch in '+': W·x is [3] but x is [2] [note: W is declared [3, 2] at 1:59]"));
  it("reports a matrix product mismatch with the rule's reason", () =>
    expectCheckError("h = W·h", "2:5 E3002 shape mismatch in '·': W is [3, 2] but h is [3] [note: inner sizes differ: [3, 2] times [3]] [note: W is declared [3, 2] at 1:59] " +
      "[help: 'W' is [3, 2]: did you mean its transpose, 'transpose(W)·h' (or 'Wᵀ·h'), or to declare it [2, 3]?]"));
  it("explains how ⊙ and · group", () => expect(check(inCell("h = b ⊙ W·x")).errors).toContain("write 'a ⊙ (W·x)'"));
  it("reports unknown names with a suggestion", () => expectCheckError("h = tanh(W·xx)", "2:12 E3001 unknown name 'xx' [help: did you mean 'x'?]"));
  it("reports a function used as a value", () => expectCheckError("h = tanh", "2:5 E3001 'tanh' is a function; call it: tanh(...)"));
  it("reports unknown functions with a suggestion", () => expectCheckError("h = tahn(b)", "2:5 E3003 unknown function 'tahn' [help: did you mean 'tanh'?]"));
  it("reports a variable called as a function", () => expectCheckError("h = W(x)", "2:5 E3003 'W' is not a function [help: for a matrix product write 'W·(x)']"));
  it("reports the wrong number of arguments", () => expectCheckError("h = tanh(b, b)", "2:5 E3004 'tanh' takes 1 argument, but 2 are given"));
  it("reports duplicate declarations", () => expectCheckError("param b[H]", "2:7 E3005 'b' is already declared [note: 'b' is first declared at 1:77]"));
  it("reports assignments to params", () =>
    expectCheckError("W = x", "2:1 E3006 cannot assign to a param 'W' [note: 'W' is declared at 1:59] [help: only states and locals are computed by equations]"));
  it("reports assignments to sizes and inputs", () => {
    expect(check(inCell("H = 1")).errors).toContain("E3006 cannot assign to a size 'H'");
    expect(check(inCell("x = b")).errors).toContain("E3006 cannot assign to an input 'x'");
  });
  it("reports a local assigned twice", () => expectCheckError("f = b\nf = b", "3:1 E3007 'f' is assigned twice [note: 'f' is first assigned at 2:1]"));
  it("reports a state assigned twice", () => expectCheckError("h = b\nh = b", "3:1 E3008 state 'h' is assigned twice in one step [note: 'h' is first assigned at 2:1]"));
  it("reports a local used before its assignment", () =>
    expectCheckError("h = f\nf = b", "2:5 E3009 'f' is used before it is assigned [note: 'f' is assigned at 3:1] [help: equations run top to bottom: move the assignment up]"));
  it("reports [t-1] on a non-state", () => {
    expect(check(inCell("h = x[t-1]")).errors).toBe("2:5 E3010 'x' is an input, not a state: only a state has a previous value [t-1]");
    expect(check(inCell("f = b\nh = f[t-1]")).errors).toContain("'f' is a local, not a state");
  });
  it("reports duplicate outputs", () => expectCheckError("output h\noutput h = b", "3:8 E3011 duplicate output 'h' [note: 'h' is first output at 2:8]"));
  it("reports a file without cells", () => {
    expect(check("").errors).toBe("1:1 E3012 no cell in file [help: a file holds cells: cell name { ... }]");
    expect(check("# only a comment\n").errors).toContain("E3012 no cell in file");
  });
  it("reports duplicate cells", () =>
    expect(check("cell a { state h[1] }\ncell a { state h[1] }").errors).toBe("2:6 E3013 duplicate cell 'a' [note: cell 'a' is first defined at 1:6]"));
  it("reports a cell without state or output", () =>
    expect(check("cell a { input x[1] }").errors).toBe("1:6 E3014 cell 'a' has no state and no output, so it computes nothing [help: declare a state (state h[H]) or an output (output y = ...)]"));
  it("reports sizes that are not positive integers", () => {
    expect(check("cell a { size H = 2, K = H - 2; state h[K] }").errors).toBe("1:26 E3015 size H - 2 is 0, but a size must be a positive integer");
    expect(check("cell a { state h[2.5] }").errors).toBe("1:18 E3015 a size must be a positive integer, not 2.5");
    expect(check("cell a { size H = 2; state h[H] }", { H: -1 }).errors).toBe("1:15 E3015 size 'H' is overridden with -1, but a size must be a positive integer");
  });
  it("reports sizes used before their declaration", () =>
    expect(check("cell a { size G = 2*H, H = 2; state h[G] }").errors).toBe("1:21 E3016 size 'H' is used before its declaration [note: 'H' is declared at 1:24]"));
  it("reports unknown sizes and non-sizes in shapes", () => {
    expect(check("cell a { size H = 2; state h[Hx] }").errors).toBe("1:30 E3001 unknown size 'Hx' [help: did you mean 'H'?]");
    expect(check("cell a { state h[W]; param W[2] }").errors).toBe("1:18 E3001 'W' is a param, not a size");
  });
  it("reports declarations of the wrong rank", () => {
    expect(check("cell a { state h[2, 2] }").errors).toBe("1:16 E3017 a state must be a vector: state h[n], but 'h' is [2, 2]");
    expect(check("cell a { state h[2]; param s[2, 2, 2] }").errors).toContain("E3017 a param must be a scalar, a vector [n] or a matrix [rows, cols], but 's' is [2, 2, 2]");
    expect(check("cell a { state h[2]; param s; h = s * h }").errors).toBe("");
  });
  it("reports a state assigned the wrong shape", () => expectCheckError("h = sum(b)", "2:5 E3018 state 'h' is [3] but is assigned [] [note: 'h' is declared [3] at 1:47]"));
  it("reports an output that is not a vector", () =>
    expectCheckError("output s = sum(h)", "2:12 E3019 output 's' must be a vector, but it is [] [help: make it a one-element vector: [sum(h)]]"));
});

describe("check: suggestions", () => {
  it("counts a swap of neighbours as one edit", () => expect(editDistance("tahn", "tanh")).toBe(1));
  it("may ignore case", () => expect([editDistance("Wf", "wf"), editDistance("Wf", "wf", true)]).toEqual([1, 0]));
  it("suggests the nearest plausible name", () => expect(nearest("Wg", ["G", "Wf", "Ug"])).toBe("Wf"));
  it("prefers a match of case on ties", () => expect(nearest("wf", ["Wg", "wg"])).toBe("wg"));
  it("does not guess for one-letter names", () => expect([nearest("q", ["I", "H"]), nearest("h", ["H"])]).toEqual([undefined, "H"]));
  it("gives up on distant names", () => expect(nearest("sigmoid", ["tanh", "relu"])).toBeUndefined());
});

describe("check: recovery", () => {
  it("does not cascade from a broken declaration", () =>
    expect(check(inCell("param V[H H]\nh = V·x")).errors).toBe("2:11 E2001 expected ',' or ']', found 'H'"));
  it("does not cascade from a broken equation", () => expect(check(inCell("f = σ(\ng = f\nh = g")).errors).toBe("2:6 E2002 '(' is never closed [help: add ')']"));
  it("does not cascade from an ill-shaped local", () => expect(check(inCell("f = W + b\nh = f ⊙ f")).errors).toContain("E3002"));
  it("checks the largest expressions the parser accepts, reporting the step depth they pass", () => {
    const chain = Array(MAX_OPERATIONS + 1).fill("h").join(" + ");
    const nested = `${"tanh(".repeat(MAX_NESTING)}h${")".repeat(MAX_NESTING)}`;
    const errors = check(inCell(`h = ${chain}\ny = ${nested}`)).errors.split("\n");
    expect(errors.map((e) => e.split(" ")[1])).toEqual(["E4003"]);
  });
  it("returns only the cells without errors", () => {
    const { cells } = check("cell ok { state h[1] }\ncell bad { state h[1]; h = q }\ncell ok2 { state h[1] }");
    expect(cells.map((c) => c.name)).toEqual(["ok", "ok2"]);
  });
  it("reports every error of every cell", () =>
    expect(check("cell a { state h[2]; h = q }\ncell b { state h[2]; h = r }").errors.split("\n")).toHaveLength(2));
});

// ------------------------------------------------------------ properties

const examples = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).map((f) => readFileSync(`examples/cells/${f}`, "utf8"));

/** Checks and renders, asserting the invariants any input must keep. */
function checkAnything(text: string, sizes?: Record<string, number>): void {
  const source = new Source("t.cell", text);
  const bag = new DiagnosticBag(source);
  const cells = checkFile(parseFile(source, bag), source, bag, { sizes: new Map(Object.entries(sizes ?? {})) });
  renderDiagnostics(bag.sorted(), source);
  for (const d of bag.items) expect(d.span.start >= 0 && d.span.end <= text.length && d.span.start <= d.span.end).toBe(true);
  if (!bag.hasErrors) expect(cells.length).toBeGreaterThan(0);
}

const edit = fc.record({
  at: fc.nat(),
  remove: fc.nat(6),
  insert: fc.array(fc.constantFrom(..."()[]{};,=σ⊙·ᵀ-+*/@#\n 1t xhWbfc$.".split(""), "state", "param", "cell", "[t-1]", "output"), { maxLength: 3 }),
});

describe("check: properties", () => {
  it("never throws on arbitrary text", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (text) => checkAnything(text)), { seed: 42, numRuns: 300 });
  });
  it("never throws on mutations of valid cells", () => {
    fc.assert(fc.property(fc.constantFrom(...examples), fc.array(edit, { minLength: 1, maxLength: 4 }), (text, edits) => {
      for (const e of edits) {
        const at = e.at % (text.length + 1);
        text = text.slice(0, at) + e.insert.join("") + text.slice(at + e.remove);
      }
      checkAnything(text);
    }), { seed: 42, numRuns: 1000 });
  });
  it("never throws under any size override", () => {
    const value = fc.oneof(fc.integer({ min: -3, max: 64 }), fc.double(), fc.constant(2 ** 60));
    fc.assert(fc.property(fc.constantFrom(...examples), value, value, (text, H, I) => checkAnything(text, { H, I })), { seed: 42, numRuns: 100 });
  });
});
