/**
 * The front end's message catalog: every error code the lexer (E1xxx), the parser (E2xxx) and the
 * checker (E3xxx) can report, in one place, plus the "did you mean" suggestion by edit distance.
 */

export const E = {
  // ------------------------------------------------------------ lexer
  /** A character that is not part of the language: `$`, `'`, a control byte. */
  badChar: "E1001",
  /** A number glued to letters (`4H`, `2e`). */
  badNumber: "E1002",
  /** A number too large to represent (`1e999`). */
  numberRange: "E1003",
  /** So many bad characters that the file is probably not a `.cell` file; the rest are not listed. */
  tooManyBadChars: "E1004",

  // ------------------------------------------------------------ parser
  /** The generic syntax error: expected one thing, found another. */
  expected: "E2001",
  /** A `(` or `[` never closed before the line (or file) ends. */
  unclosed: "E2002",
  /** Parentheses or operators nested beyond the parser's limit. */
  tooDeep: "E2003",
  /** Something other than `[t-1]` after a name: `h[t-2]`, `h[i]`. */
  badPrev: "E2004",
  /** Text at the top level of a file that is not a `cell`. */
  outsideCell: "E2005",
  /** A cell's `{` without its `}`. */
  cellNotClosed: "E2006",
  /** `[t-1]` after something that is not a name: `(a + b)[t-1]`. */
  prevOnNonName: "E2007",
  /** A line that is neither a declaration nor an equation (`inputs x[I]`). */
  badStatement: "E2008",

  // ------------------------------------------------------------ checker
  /** A name that is not declared or assigned anywhere in the cell. */
  unknownName: "E3001",
  /** An op's shape rule rejects its operands. */
  shapeMismatch: "E3002",
  /** A call of a function the language does not have. */
  unknownFunction: "E3003",
  /** A function called with the wrong number of arguments. */
  arity: "E3004",
  /** Two declarations (sizes, inputs, states, params) of one name. */
  duplicateDecl: "E3005",
  /** An equation assigning to a size, an input or a param. */
  assignToDecl: "E3006",
  /** A local assigned twice. */
  localTwice: "E3007",
  /** A state assigned twice in one step. */
  stateTwice: "E3008",
  /** A local read above its assignment. */
  useBeforeAssign: "E3009",
  /** `x[t-1]` where `x` is not a state. */
  prevOnNonState: "E3010",
  /** Two outputs of one name. */
  duplicateOutput: "E3011",
  /** A file without any cell. */
  noCell: "E3012",
  /** Two cells of one name in a file. */
  duplicateCell: "E3013",
  /** A cell with neither a state nor an output computes nothing a caller can see. */
  emptyCell: "E3014",
  /** A size (declared, overridden, or a dimension) that is not a positive integer. */
  badSize: "E3015",
  /** A size default using a size declared below it (or itself). */
  sizeOrder: "E3016",
  /** A declaration of the wrong rank: a state that is not a vector, a param of rank 3. */
  badRank: "E3017",
  /** A state assigned a value whose shape differs from its declaration. */
  stateShape: "E3018",
  /** An output that is not a vector. */
  outputShape: "E3019",
  /** `x^y` whose exponent is not an integer literal. */
  badExponent: "E3031",
  /** A constant argument (elu's alpha, clip's bounds), a `const` or an initial value that is not a number known when compiling. */
  notConstant: "E3032",
  /** Constant arguments an op rejects: clip with lo > hi. */
  badConstArg: "E3033",
  /** A param's initialisation that is unknown, takes other arguments, or does not fit its shape. */
  badInit: "E3034",

  // ------------------------------------------------------------ limits (numbers in limits.ts)
  /** More errors than one file reports; the rest are left out. */
  tooManyErrors: "E4001",
  /** A name longer than the longest allowed. */
  nameTooLong: "E4002",
  /** A chain of operations through a step deeper than allowed. */
  stepTooDeep: "E4003",
  /** A size, a tensor or a computed value with more elements than allowed. */
  tooLarge: "E4004",
  /** More equations and outputs in one cell than allowed. */
  tooManyEquations: "E4005",
  // ------------------------------------------------------------ export
  /** A cell exported to a form that takes T and B from the cell's inputs has none. */
  exportNoInput: "E5001",
} as const;

export type ErrorCode = (typeof E)[keyof typeof E];

/** Warnings: reported, and the cell still compiles. */
export const W = {
  /** Two names of one cell that look alike (UTS #39 skeletons, `confusables.ts`): `bo` and `bο`. */
  confusable: "W3001",
  /** A state no equation assigns: it keeps its initial value, usually a forgotten update (`h_new = ...`). */
  stateNeverAssigned: "W3002",
  /** A state whose new value nothing reads: no equation, no output, not the next step. */
  stateNeverRead: "W3003",
  /** A param no equation or output reads. */
  unusedParam: "W3004",
  /** An input no equation or output reads. */
  unusedInput: "W3005",
  /** A local no equation or output reads. */
  unusedLocal: "W3006",
  /** A size no shape, size or expression uses. */
  unusedSize: "W3007",
  /** A param read only by values no output depends on: its gradient is zero whatever the data. */
  zeroGradient: "W3008",
} as const;

export type WarningCode = (typeof W)[keyof typeof W];

/** `text` as quoted in a message: at most `max` code points, a longer text cut with `…`. */
export function clip(text: string, max = 40): string {
  if (text.length <= max) return text;
  const points = [...text.slice(0, 2 * max + 2)];
  return points.length <= max ? text : `${points.slice(0, max - 1).join("")}…`;
}

/** Names longer than this (in code points) get no suggestion: a typo there is unlikely and costly to find. */
const SUGGEST_LENGTH = 64;
/** Edit-distance table cells one suggestion may fill, across all candidates. */
const SUGGEST_WORK = 4_000_000;

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of neighbours (`tahn` is
 * one edit from `tanh`); with `ignoreCase`, a difference of case alone costs nothing. Above
 * `bound`, the answer is only known to be larger: `bound + 1` is returned, after filling the
 * diagonal band of width `2·bound + 1` at most.
 */
export function editDistance(a: string, b: string, ignoreCase = false, bound = Infinity): number {
  const s = [...(ignoreCase ? a.toLowerCase() : a)];
  const t = [...(ignoreCase ? b.toLowerCase() : b)];
  const k = Math.min(bound, Math.max(s.length, t.length));
  if (Math.abs(s.length - t.length) > k) return k + 1;
  const far = k + 1;
  let [back2, back, row] = [[] as number[], Array.from({ length: t.length + 1 }, (_, j) => j), [] as number[]];
  for (let i = 1; i <= s.length; i++) {
    row = new Array<number>(t.length + 1).fill(far);
    row[0] = Math.min(i, far);
    let least = i;
    for (let j = Math.max(1, i - k); j <= Math.min(t.length, i + k); j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min((back[j] ?? far) + 1, row[j - 1]! + 1, (back[j - 1] ?? far) + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, (back2[j - 2] ?? far) + 1);
      row[j] = Math.min(d, far);
      least = Math.min(least, row[j]!);
    }
    if (least > k) return far;
    [back2, back] = [back, row];
  }
  return Math.min(back[t.length]!, far);
}

/**
 * The candidate nearest to `name` if it is near enough to be a plausible typo: at most one edit
 * per three characters (at least one, except for one-letter names, which only match by case),
 * ignoring case; ties go to the one nearer with case, then to the first. The work is bounded:
 * long names get no suggestion, candidates whose length alone rules them out cost nothing, and
 * the search stops after a fixed amount of work.
 */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  const length = [...name].length;
  if (length > SUGGEST_LENGTH) return undefined;
  const limit = length < 2 ? 0 : Math.max(1, Math.floor(length / 3));
  let best: string | undefined;
  let bestScore = Infinity;
  let work = 0;
  for (const c of candidates) {
    // A name of n code units has between n/2 and n code points: most candidates end here.
    if (c === name || c.length < length - limit || c.length / 2 > length + limit) continue;
    const cLength = [...c].length;
    if (Math.abs(cLength - length) > limit) continue;
    work += (length + 1) * (2 * limit + 1);
    if (work > SUGGEST_WORK) break;
    const distance = editDistance(name, c, true, limit);
    if (distance > limit) continue;
    work += (length + 1) * (cLength + 1);
    const score = distance * 1000 + editDistance(name, c);
    if (score < bestScore) [best, bestScore] = [c, score];
  }
  return best;
}

/** `"did you mean 'x'?"` for the nearest candidate, or undefined. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const best = nearest(name, candidates);
  return best === undefined ? undefined : `did you mean '${best}'?`;
}
