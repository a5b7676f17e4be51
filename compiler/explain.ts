/**
 * The long form of each diagnostic code (`rnnc explain E3002`): what it means, a cell that
 * triggers it, and the same cell fixed. A test compiles every example and every fix: the example
 * must report its code, the fix must not.
 */
import { E, W } from "./messages.js";

export interface Explanation {
  readonly title: string;
  readonly text: string;
  /** A cell with the mistake (absent for limits that need a huge file to reach, and for codes only `rnnc export` reports). */
  readonly example?: string;
  /** The example, fixed. */
  readonly fix?: string;
}

const rnn = (body: string, decls = "  size I = 4, H = 8\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H]") =>
  `cell rnn {\n${decls}\n${body}\n}\n`;
const OK = "  h = tanh(Wx·x + Wh·h + b)";

export const EXPLANATIONS: Readonly<Record<string, Explanation>> = {
  [E.badChar]: {
    title: "a character that is not part of the language",
    text: "Only ASCII letters, digits, '_', Greek letters and the operators of the language may appear in a cell. " +
      "A '.' for a product, an apostrophe for a transpose and '**' for a power ('x^2') are the usual ones.",
    example: rnn("  h = tanh(Wx.x + Wh·h + b)"), fix: rnn(OK),
  },
  [E.badNumber]: {
    title: "a number glued to letters",
    text: "'4H' is not '4 times H': write the product with an operator, '4*H'.",
    example: rnn(OK, "  size I = 4, H = 8\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H], W4[4H, H]"),
    fix: rnn(OK, "  size I = 4, H = 8\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H]"),
  },
  [E.numberRange]: {
    title: "a number too large to represent",
    text: "A number must be finite as a 64-bit float (at most about 1.8e308).",
    example: rnn("  h = tanh(Wx·x + Wh·h + b) * 1e999"), fix: rnn(OK),
  },
  [E.tooManyBadChars]: {
    title: "so many bad characters that the file is probably not a .cell file",
    text: "After 20 unexpected characters the lexer stops listing them: check that the file is the cell you meant.",
  },
  [E.expected]: {
    title: "a syntax error: expected one thing, found another",
    text: "The parser names what it expected; the rest of the statement is skipped and parsing goes on with the next line.",
    example: rnn("  h = tanh(Wx·x + + b)"), fix: rnn(OK),
  },
  [E.unclosed]: {
    title: "a bracket never closed",
    text: "A '(' or '[' must be closed before the statement ends. Inside brackets a newline continues the expression.",
    example: rnn("  h = tanh(Wx·x + Wh·h + b\n  y = h"), fix: rnn(OK),
  },
  [E.tooDeep]: {
    title: "brackets or operators nested too deeply",
    text: "Expressions are nested at most a fixed depth (see the README's limits): split the expression with locals.",
  },
  [E.badPrev]: {
    title: "an index other than [t-1]",
    text: "The only index of the language is 'h[t-1]', the previous value of a state.",
    example: rnn("  h = tanh(Wx·x + Wh·h[t-2] + b)"), fix: rnn("  h = tanh(Wx·x + Wh·h[t-1] + b)"),
  },
  [E.outsideCell]: {
    title: "text outside a cell",
    text: "A file holds cells, 'cell name { ... }'; declarations and equations go inside one.",
    example: `h = 1\n${rnn(OK)}`, fix: rnn(OK),
  },
  [E.cellNotClosed]: {
    title: "a cell's '{' without its '}'",
    text: "Every cell ends with '}'.",
    example: rnn(OK).replace(/}\n$/, ""), fix: rnn(OK),
  },
  [E.prevOnNonName]: {
    title: "[t-1] after something that is not a name",
    text: "Only a state's name may be followed by '[t-1]': write 'a[t-1] + b[t-1]', not '(a + b)[t-1]'.",
    example: rnn("  h = tanh(Wx·x + Wh·(h + h)[t-1] + b)"), fix: rnn("  h = tanh(Wx·x + Wh·(h[t-1] + h[t-1]) + b)"),
  },
  [E.badStatement]: {
    title: "a line that is neither a declaration nor an equation",
    text: "A statement is a declaration (size, input, state, param, output) or an equation 'name = expression'.",
    example: rnn(OK, "  size I = 4, H = 8\n  inputs x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H]"), fix: rnn(OK),
  },
  [E.unknownName]: {
    title: "a name that is not declared or assigned anywhere in the cell",
    text: "Every name must be declared (size, input, state, param) or assigned by an equation above its use. " +
      "A size used in a shape must be declared on a 'size' line.",
    example: rnn(OK, "  size I = 4\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H]"), fix: rnn(OK),
  },
  [E.shapeMismatch]: {
    title: "an operation whose operands' shapes do not fit",
    text: "'+', '-', '⊙' and '/' need equal shapes (or a scalar); 'W·x' needs W's columns to equal x's length. " +
      "'*' is elementwise: a matrix times a vector is written 'W·x' or 'W @ x'.",
    example: rnn("  h = tanh(Wx * x + Wh·h + b)"), fix: rnn(OK),
  },
  [E.unknownFunction]: {
    title: "a call of a function the language does not have",
    text: "The functions are σ (sigmoid), tanh, relu, exp, log, softplus, sqrt, abs, sin, cos, sum, mean and transpose.",
    example: rnn("  h = tahn(Wx·x + Wh·h + b)"), fix: rnn(OK),
  },
  [E.arity]: {
    title: "a function called with the wrong number of arguments",
    text: "Every function of the language takes one argument.",
    example: rnn("  h = tanh(Wx·x, Wh·h + b)"), fix: rnn(OK),
  },
  [E.duplicateDecl]: {
    title: "two declarations of one name",
    text: "A name is declared once in a cell (sizes, inputs, states and params share one namespace).",
    example: rnn(OK, "  size I = 4, H = 8\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H], b[H]"), fix: rnn(OK),
  },
  [E.assignToDecl]: {
    title: "an equation assigning to a size, an input or a param",
    text: "Only states and locals are computed by equations; params are trained, inputs given, sizes fixed.",
    example: rnn(`${OK}\n  b = h`), fix: rnn(OK),
  },
  [E.localTwice]: {
    title: "a local assigned twice",
    text: "A local is assigned once per step; give the second value another name.",
    example: rnn("  a = Wx·x\n  a = a + Wh·h\n  h = tanh(a + b)"), fix: rnn("  a = Wx·x\n  a2 = a + Wh·h\n  h = tanh(a2 + b)"),
  },
  [E.stateTwice]: {
    title: "a state assigned twice in one step",
    text: "Each state is assigned at most once per step; compute intermediate values in locals.",
    example: rnn(`${OK}\n  h = h + b`), fix: rnn("  a = tanh(Wx·x + Wh·h + b)\n  h = a + b"),
  },
  [E.useBeforeAssign]: {
    title: "a local read above its assignment",
    text: "Equations run top to bottom: a local is visible below its assignment. Move the assignment up.",
    example: rnn("  h = tanh(a + b)\n  a = Wx·x + Wh·h"), fix: rnn("  a = Wx·x + Wh·h\n  h = tanh(a + b)"),
  },
  [E.prevOnNonState]: {
    title: "x[t-1] where x is not a state",
    text: "Only a state has a previous value; inputs, params and locals do not.",
    example: rnn("  h = tanh(Wx·x[t-1] + Wh·h + b)"), fix: rnn(OK),
  },
  [E.duplicateOutput]: {
    title: "two outputs of one name",
    text: "Each output has its own name.",
    example: rnn(`${OK}\n  output y = h\n  output y = 2 * h`), fix: rnn(`${OK}\n  output y = h\n  output z = 2 * h`),
  },
  [E.noCell]: {
    title: "a file without any cell",
    text: "A .cell file holds one or more cells: cell name { ... }.",
    example: "# nothing here\n", fix: rnn(OK),
  },
  [E.duplicateCell]: {
    title: "two cells of one name in a file",
    text: "Cells are built to modules named after them, so each name is used once.",
    example: `${rnn(OK)}${rnn(OK)}`, fix: `${rnn(OK)}${rnn(OK).replace("cell rnn", "cell rnn2")}`,
  },
  [E.emptyCell]: {
    title: "a cell with neither a state nor an output",
    text: "A caller sees a cell's outputs (its states when it has no output line): a cell with neither computes nothing.",
    example: "cell nothing {\n  input x[4]\n  param W[4, 4]\n  y = W·x\n}\n",
    fix: "cell something {\n  input x[4]\n  param W[4, 4]\n  output y = W·x\n}\n",
  },
  [E.badSize]: {
    title: "a size that is not a positive integer",
    text: "Sizes, their arithmetic and their overrides (--size) must be positive integers within the limits.",
    example: rnn(OK, "  size I = 4, H = 8 - 8\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H]"), fix: rnn(OK),
  },
  [E.sizeOrder]: {
    title: "a size default using a size declared below it",
    text: "A size's default may use the sizes declared before it.",
    example: rnn(OK, "  size I = H, H = 8\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H]"),
    fix: rnn(OK, "  size H = 8, I = H\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H]"),
  },
  [E.badRank]: {
    title: "a declaration of the wrong rank",
    text: "Inputs and states are vectors; params are scalars, vectors or matrices.",
    example: rnn(OK, "  size I = 4, H = 8\n  input x[I]\n  state h[H, H]\n  param Wx[H, I], Wh[H, H], b[H]"), fix: rnn(OK),
  },
  [E.stateShape]: {
    title: "a state assigned a value of another shape",
    text: "A state keeps its declared shape from step to step; a scalar does not broadcast there.",
    example: rnn("  h = sum(tanh(Wx·x + Wh·h + b))"), fix: rnn(OK),
  },
  [E.outputShape]: {
    title: "an output that is not a vector",
    text: "Outputs are vectors; wrap a scalar in a one-element vector: output y = [sum(h)].",
    example: rnn(`${OK}\n  output y = sum(h)`), fix: rnn(`${OK}\n  output y = [sum(h)]`),
  },
  [E.badExponent]: {
    title: "a power whose exponent is not an integer literal",
    text: "'x^n' raises to an integer written in the cell (2, -1, (-1)), computed by repeated multiplication. " +
      "For a real or computed exponent write exp(y ⊙ log(x)), which says that x must be positive.",
    example: rnn("  h = tanh(Wx·x + Wh·h + b)^0.5"), fix: rnn("  h = tanh(Wx·x + Wh·h + b)^2"),
  },
  [E.notConstant]: {
    title: "a constant argument, const or initial value that is not a number known when compiling",
    text: "elu's alpha, leaky_relu's slope, clip's bounds, a const and a param's initial value are numbers fixed in " +
      "the cell: number literals, sizes, consts, and arithmetic on them. A param or a value computed in the step is not.",
    example: rnn("  h = elu(Wx·x + Wh·h + b, sum(b))"), fix: rnn("  h = elu(Wx·x + Wh·h + b, 0.5)"),
  },
  [E.badConstArg]: {
    title: "constant arguments a function rejects",
    text: "clip(x, lo, hi) needs lo ≤ hi.",
    example: rnn("  h = clip(Wx·x + Wh·h + b, 1, -1)"), fix: rnn("  h = clip(Wx·x + Wh·h + b, -1, 1)"),
  },
  [E.badInit]: {
    title: "a param's initialisation that is unknown or does not fit",
    text: "A param starts at '= value' or '~ orthogonal', '~ xavier' (matrices only), '~ uniform(low, high)' with " +
      "low < high, or '~ normal(mean, std)' with std ≥ 0. Without one it starts as PyTorch initialises RNN weights.",
    example: rnn(OK, "  size I = 4, H = 8\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H] ~ orthogonal"),
    fix: rnn(OK, "  size I = 4, H = 8\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H] ~ orthogonal, b[H] = 0"),
  },
  [E.tooManyErrors]: { title: "more errors than one file reports", text: "After 100 errors the rest of the file is not reported: fix the first ones." },
  [E.nameTooLong]: { title: "a name longer than allowed", text: "Names have a length limit (see the README's limits)." },
  [E.stepTooDeep]: { title: "a chain of operations deeper than allowed", text: "One step's chain of operations is bounded (see the README's limits): simplify the cell." },
  [E.tooLarge]: { title: "a tensor or value with more elements than allowed", text: "Sizes and tensors are bounded (see the README's limits): use smaller sizes." },
  [E.tooManyEquations]: { title: "more equations and outputs than allowed", text: "A cell has a bounded number of equations and outputs (see the README's limits)." },
  [E.exportNoInput]: {
    title: "a cell without an input cannot be exported",
    text: "rnnc export --format pytorch writes a sequence module that takes the number of steps T and the batch B " +
      "from its inputs' shape [T, B, n]: a cell with no input has nothing to take them from. Give the cell an input " +
      "(it may be unused by the equations), or run it with rnnc's own kernels, which take T and B as arguments.",
  },
  [W.confusable]: {
    title: "two names that look alike",
    text: "Two names of one cell whose characters look the same (a Latin 'o' and a Greek 'ο') are almost certainly a mistake.",
    example: rnn("  bο = 2 * b\n  h = tanh(Wx·x + Wh·h + bo + bο)", "  size I = 4, H = 8\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H], bo[H]"),
    fix: rnn("  b2 = 2 * b\n  h = tanh(Wx·x + Wh·h + bo + b2)", "  size I = 4, H = 8\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H], bo[H]"),
  },
  [W.stateNeverAssigned]: {
    title: "a state no equation assigns",
    text: "A state never assigned keeps its initial value at every step, so nothing is recurrent and the params that " +
      "only feed its intended update get zero gradients. Usually the update was written to a local ('h_new = ...').",
    example: rnn("  h_new = tanh(Wx·x + Wh·h + b)"), fix: rnn(OK),
  },
  [W.stateNeverRead]: {
    title: "a state whose new value nothing reads",
    text: "No equation and no output reads the state, so its value never reaches the caller: output it, use it, or remove it.",
    example: rnn(`${OK}\n  c = tanh(Wx·x) + c\n  output h`, "  size I = 4, H = 8\n  input x[I]\n  state h[H], c[H]\n  param Wx[H, I], Wh[H, H], b[H]"),
    fix: rnn(`${OK}\n  c = tanh(Wx·x) + c\n  output h, c`, "  size I = 4, H = 8\n  input x[I]\n  state h[H], c[H]\n  param Wx[H, I], Wh[H, H], b[H]"),
  },
  [W.unusedParam]: {
    title: "a param never used",
    text: "A param no equation reads is trained for nothing: its gradient is zero.",
    example: rnn(OK, "  size I = 4, H = 8\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H], c[H]"), fix: rnn(OK),
  },
  [W.unusedInput]: {
    title: "an input never used",
    text: "An input no equation reads has no effect on the cell.",
    example: rnn(OK, "  size I = 4, H = 8\n  input x[I], z[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H]"), fix: rnn(OK),
  },
  [W.unusedLocal]: {
    title: "a local never used",
    text: "A local no equation or output reads is computed for nothing.",
    example: rnn(`${OK}\n  z = h ⊙ h`), fix: rnn(OK),
  },
  [W.unusedSize]: {
    title: "a size never used",
    text: "A size no shape, size or expression uses has no effect.",
    example: rnn(OK, "  size I = 4, H = 8, K = 3\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H]"), fix: rnn(OK),
  },
  [W.zeroGradient]: {
    title: "a param whose gradient is always zero",
    text: "The param is read only by values that reach no output and no state that does, so training never changes it.",
    example: rnn(`${OK}\n  c = tanh(V·x)\n  output h`, "  size I = 4, H = 8\n  input x[I]\n  state h[H], c[H]\n  param Wx[H, I], Wh[H, H], b[H], V[H, I]"),
    fix: rnn(`${OK}\n  c = tanh(V·x)\n  output h, c`, "  size I = 4, H = 8\n  input x[I]\n  state h[H], c[H]\n  param Wx[H, I], Wh[H, H], b[H], V[H, I]"),
  },
};
