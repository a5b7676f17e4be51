/**
 * Text mutations of `.cell` sources: token and line edits, near names, hostile characters, huge
 * numbers, deep nesting and long lines. Each mutation is a pure function of the text and a seeded
 * random source, so a case is reproduced from its seed alone.
 */

export type Random = () => number;

const int = (r: Random, n: number) => Math.floor(r() * n);
const pick = <T>(r: Random, xs: readonly T[]): T => xs[int(r, xs.length)]!;

/** Whitespace, names (any letters), numbers, or one code point. */
const TOKEN = /\s+|[\p{L}_][\p{L}\p{N}_]*|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[\s\S]/gu;
const tokens = (text: string): string[] => text.match(TOKEN) ?? [];
const isName = (t: string) => /^[\p{L}_]/u.test(t);
const isNumber = (t: string) => /^\d/.test(t);
const solid = (ts: readonly string[]) => ts.flatMap((t, i) => (/^\s/.test(t) ? [] : [i]));

/** Characters that end lines, close comments or strings, or look like other characters. */
export const HOSTILE = [
  "\u2028", "\u2029", "\0", "*/", "/*", "\"", "'", "`", "\\", "${", "\r", "\v", "\f", "\u0085",
  "\u00a0", "\ufeff", "\u200d", "\u202e", "𝑥", "😀", "\ud800", "\udc00", "ο", "а", "ℎ", "\t", "#", "//",
  "</script>", "\\u2028", "%", "@@", "[t-2]", "[t+1]", "ᵀᵀ",
];

const HUGE = [
  "0", "-0", "1e308", "1e309", "1e-320", "99999999999999999999", "9007199254740993", "4294967297",
  "1000000000", "100000", "65536", "4096", "1.5", "0x10", "1_000", "NaN", "Infinity", "-1", "1e", ".5", "5.",
];

type Mutation = (text: string, r: Random) => string;

function editTokens(text: string, r: Random, edit: (ts: string[], at: number, r: Random) => void): string {
  const ts = tokens(text);
  const idx = solid(ts);
  if (idx.length === 0) return text;
  edit(ts, pick(r, idx), r);
  return ts.join("");
}

const deleteToken: Mutation = (t, r) => editTokens(t, r, (ts, at) => ts.splice(at, 1));
const duplicateToken: Mutation = (t, r) => editTokens(t, r, (ts, at) => ts.splice(at, 0, ts[at]!));
const swapTokens: Mutation = (t, r) =>
  editTokens(t, r, (ts, at, r2) => {
    const other = pick(r2, solid(ts));
    [ts[at], ts[other]] = [ts[other]!, ts[at]!];
  });

function editLines(text: string, r: Random, edit: (ls: string[], at: number) => void): string {
  const ls = text.split("\n");
  edit(ls, int(r, ls.length));
  return ls.join("\n");
}

const deleteLine: Mutation = (t, r) => editLines(t, r, (ls, at) => ls.splice(at, 1));
const duplicateLine: Mutation = (t, r) => editLines(t, r, (ls, at) => ls.splice(at, 0, ls[at]!));
const swapLines: Mutation = (t, r) =>
  editLines(t, r, (ls, at) => {
    const other = int(r, ls.length);
    [ls[at], ls[other]] = [ls[other]!, ls[at]!];
  });

/** A name with one letter changed, added, dropped or turned into a look-alike. */
function nearName(name: string, r: Random): string {
  const i = int(r, name.length);
  switch (int(r, 6)) {
    case 0: return name.slice(0, i) + name.slice(i + 1);
    case 1: return name.slice(0, i) + pick(r, ["x", "h", "_", "0", "W"]) + name.slice(i);
    case 2: return name.toUpperCase() === name ? name.toLowerCase() : name.toUpperCase();
    case 3: return name.replace(/o/, "ο").replace(/a/, "а").replace(/h/, "һ");
    case 4: return name + pick(r, ["ᵀ", "\u0301", "\u200b", "2"]);
    default: return pick(r, ["x", "h", "c", "t", "y", "sum", "mean", "tanh", "cell", "size", "output", "param"]);
  }
}

const renameToken: Mutation = (t, r) =>
  editTokens(t, r, (ts, at, r2) => {
    const names = solid(ts).filter((i) => isName(ts[i]!));
    const k = names.length ? pick(r2, names) : at;
    ts[k] = nearName(ts[k]!, r2);
  });

const insertHostile: Mutation = (t, r) => {
  const at = int(r, t.length + 1);
  return t.slice(0, at) + pick(r, HOSTILE) + t.slice(at);
};

const hugeNumber: Mutation = (t, r) =>
  editTokens(t, r, (ts, at, r2) => {
    const nums = solid(ts).filter((i) => isNumber(ts[i]!));
    ts[nums.length ? pick(r2, nums) : at] = pick(r2, HUGE);
  });

/** Wraps the right-hand side of an equation in many parentheses or calls. */
const deepNesting: Mutation = (t, r) => {
  const ls = t.split("\n");
  const eqs = ls.flatMap((l, i) => (/^\s*\w+\s*=/.test(l) && !/size/.test(l) ? [i] : []));
  if (eqs.length === 0) return t;
  const k = pick(r, eqs);
  const depth = pick(r, [20, 100, 300, 1000, 3000]);
  const [open, close] = pick(r, [["(", ")"], ["tanh(", ")"], ["-(", ")"], ["σ(", ")"]]);
  ls[k] = ls[k]!.replace(/=(.*)$/, (_, rhs: string) => `= ${open!.repeat(depth)}${rhs}${close!.repeat(depth)}`);
  return ls.join("\n");
};

/** A long line: many terms, a long name, or many equations chained one after another. */
const longLine: Mutation = (t, r) => {
  const ls = t.split("\n");
  const close = ls.lastIndexOf("}");
  if (close < 0) return t + "x".repeat(pick(r, [1000, 20000]));
  const n = pick(r, [50, 300, 800, 1000, 5000]);
  const extra = pick(r, [
    () => `  output y${n} = x${" + x".repeat(n)}`,
    () => `  ${"q".repeat(n * 4)} = x\n  output q = ${"q".repeat(n * 4)}`,
    () => Array.from({ length: n }, (_, i) => `  z${i} = tanh(${i ? `z${i - 1}` : "x"})`).join("\n") + `\n  output z = z${n - 1}`,
    () => `  y = ${"x ".repeat(n)}`,
  ])();
  ls.splice(close, 0, extra);
  return ls.join("\n");
};

/**
 * A new output reading declared vectors directly, alone or in a sum: values that feed several
 * sums and outputs at once, and outputs that are inputs, states or params.
 */
const addOutput: Mutation = (t, r) => {
  const vectors = [...t.matchAll(/\b([\p{L}_][\p{L}\p{N}_]*)\[([\p{L}_][\p{L}\p{N}_]*)\]/gu)].map((m) => ({ name: m[1]!, size: m[2]! }));
  const close = t.lastIndexOf("}");
  if (vectors.length === 0 || close < 0) return t;
  const a = pick(r, vectors);
  const same = vectors.filter((v) => v.size === a.size);
  const b = pick(r, same).name;
  const c = pick(r, same).name;
  const expr = pick(r, [a.name, `${a.name} + ${b}`, `σ(${a.name} + ${b} + ${c})`, `${b} + ${a.name}`, `(${a.name} + ${b}) ⊙ ${c}`]);
  return `${t.slice(0, close)}  output o${int(r, 100)} = ${expr}\n${t.slice(close)}`;
};

const truncate: Mutation = (t, r) => t.slice(0, int(r, t.length));

const WEIGHTED: readonly [Mutation, number][] = [
  [deleteToken, 3], [duplicateToken, 2], [swapTokens, 2], [deleteLine, 2], [duplicateLine, 2],
  [swapLines, 2], [renameToken, 3], [insertHostile, 3], [hugeNumber, 3], [deepNesting, 1],
  [longLine, 1], [truncate, 1], [addOutput, 3],
];
const TOTAL = WEIGHTED.reduce((s, [, w]) => s + w, 0);

/** One to three mutations of `text`, and their names. */
export function mutate(text: string, r: Random): { text: string; applied: string[] } {
  const count = 1 + int(r, 3);
  let out = text;
  const applied: string[] = [];
  for (let k = 0; k < count; k++) {
    let roll = r() * TOTAL;
    const m = WEIGHTED.find(([, w]) => (roll -= w) < 0)?.[0] ?? deleteToken;
    out = m(out, r);
    applied.push(m.name);
  }
  return { text: out, applied };
}
