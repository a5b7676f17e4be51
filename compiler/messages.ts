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
} as const;

export type ErrorCode = (typeof E)[keyof typeof E];

/** Warnings: reported, and the cell still compiles. */
export const W = {
  /** Two names of one cell that look alike (UTS #39 skeletons, `confusables.ts`): `bo` and `bο`. */
  confusable: "W3001",
} as const;

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of neighbours (`tahn` is
 * one edit from `tanh`); with `ignoreCase`, a difference of case alone costs nothing.
 */
export function editDistance(a: string, b: string, ignoreCase = false): number {
  const s = [...(ignoreCase ? a.toLowerCase() : a)];
  const t = [...(ignoreCase ? b.toLowerCase() : b)];
  const d = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      const swapped = i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1];
      if (swapped) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[s.length]![t.length]!;
}

/**
 * The candidate nearest to `name` if it is near enough to be a plausible typo: at most one edit
 * per three characters (at least one, except for one-letter names, which only match by case),
 * ignoring case; ties go to the one nearer with case, then to the first.
 */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  const length = [...name].length;
  const limit = length < 2 ? 0 : Math.max(1, Math.floor(length / 3));
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const distance = editDistance(name, c, true);
    const score = distance * 1000 + editDistance(name, c);
    if (c !== name && distance <= limit && score < bestScore) [best, bestScore] = [c, score];
  }
  return best;
}

/** `"did you mean 'x'?"` for the nearest candidate, or undefined. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const best = nearest(name, candidates);
  return best === undefined ? undefined : `did you mean '${best}'?`;
}
