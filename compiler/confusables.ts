/**
 * Look-alike names: two names of one cell that a reader cannot tell apart (`bo` and `bο`, whose
 * `ο` is a Greek omicron) are reported with a warning. Two names are confusable when their
 * skeletons are equal, as Unicode Technical Standard #39 defines it (section 4, "Confusable
 * Detection"): skeleton(X) = NFD(map each character of NFD(X) to its prototype).
 *
 * The mapping is not a hand-picked list of common look-alikes: it is every entry of Unicode's
 * confusables.txt (version 17.0.0, 2025-07-22) for a character that can appear in an identifier
 * the lexer accepts (ASCII letters, digits and '_', and the letters of the Greek and Coptic block
 * U+0370–U+03FF except σ, see `compiler/lexer.ts`), after NFD: the 69 rows of `PROTOTYPES` below.
 * Characters without a row are their own prototype. If the lexer ever accepts more characters,
 * the rows for them must be added from the same file (a test in `tests/confusables.test.ts` fails
 * for a character the lexer accepts outside `COVERED`).
 *
 * As rustc's `confusable_idents` lint does, a pair of names that are both plain ASCII is not
 * reported: `l` and `I`, or `W0` and `WO`, are told apart by the ASCII characters a reader sees.
 */
import type { CellAst } from "./ast.js";
import type { DiagnosticBag } from "./diagnostics.js";
import { W } from "./messages.js";
import type { Span } from "./source.js";

/** confusables.txt 17.0.0, restricted to the characters of the lexer's identifiers (after NFD). */
const PROTOTYPES: ReadonlyMap<string, string> = new Map([
  ["\u0030", "\u004F"], // DIGIT ZERO → LATIN CAPITAL LETTER O
  ["\u0031", "\u006C"], // DIGIT ONE → LATIN SMALL LETTER L
  ["\u0049", "\u006C"], // LATIN CAPITAL LETTER I → LATIN SMALL LETTER L
  ["\u006D", "\u0072\u006E"], // LATIN SMALL LETTER M → LATIN SMALL LETTER R, LATIN SMALL LETTER N
  ["\u02B9", "\u0027"], // MODIFIER LETTER PRIME → APOSTROPHE
  ["\u0370", "\u2C75"], // GREEK CAPITAL LETTER HETA → LATIN CAPITAL LETTER HALF H
  ["\u0376", "\u0418"], // GREEK CAPITAL LETTER PAMPHYLIAN DIGAMMA → CYRILLIC CAPITAL LETTER I
  ["\u0377", "\u1D0E"], // GREEK SMALL LETTER PAMPHYLIAN DIGAMMA → LATIN LETTER SMALL CAPITAL REVERSED N
  ["\u037A", "\u0069"], // GREEK YPOGEGRAMMENI → LATIN SMALL LETTER I
  ["\u037B", "\u0254"], // GREEK SMALL REVERSED LUNATE SIGMA SYMBOL → LATIN SMALL LETTER OPEN O
  ["\u037D", "\uA73F"], // GREEK SMALL REVERSED DOTTED LUNATE SIGMA SYMBOL → LATIN SMALL LETTER REVERSED C WITH DOT
  ["\u037F", "\u004A"], // GREEK CAPITAL LETTER YOT → LATIN CAPITAL LETTER J
  ["\u0391", "\u0041"], // GREEK CAPITAL LETTER ALPHA → LATIN CAPITAL LETTER A
  ["\u0392", "\u0042"], // GREEK CAPITAL LETTER BETA → LATIN CAPITAL LETTER B
  ["\u0395", "\u0045"], // GREEK CAPITAL LETTER EPSILON → LATIN CAPITAL LETTER E
  ["\u0396", "\u005A"], // GREEK CAPITAL LETTER ZETA → LATIN CAPITAL LETTER Z
  ["\u0397", "\u0048"], // GREEK CAPITAL LETTER ETA → LATIN CAPITAL LETTER H
  ["\u0398", "\u004F\u0335"], // GREEK CAPITAL LETTER THETA → LATIN CAPITAL LETTER O, COMBINING SHORT STROKE OVERLAY
  ["\u0399", "\u006C"], // GREEK CAPITAL LETTER IOTA → LATIN SMALL LETTER L
  ["\u039A", "\u004B"], // GREEK CAPITAL LETTER KAPPA → LATIN CAPITAL LETTER K
  ["\u039B", "\u0245"], // GREEK CAPITAL LETTER LAMDA → LATIN CAPITAL LETTER TURNED V
  ["\u039C", "\u004D"], // GREEK CAPITAL LETTER MU → LATIN CAPITAL LETTER M
  ["\u039D", "\u004E"], // GREEK CAPITAL LETTER NU → LATIN CAPITAL LETTER N
  ["\u039F", "\u004F"], // GREEK CAPITAL LETTER OMICRON → LATIN CAPITAL LETTER O
  ["\u03A1", "\u0050"], // GREEK CAPITAL LETTER RHO → LATIN CAPITAL LETTER P
  ["\u03A3", "\u01A9"], // GREEK CAPITAL LETTER SIGMA → LATIN CAPITAL LETTER ESH
  ["\u03A4", "\u0054"], // GREEK CAPITAL LETTER TAU → LATIN CAPITAL LETTER T
  ["\u03A5", "\u0059"], // GREEK CAPITAL LETTER UPSILON → LATIN CAPITAL LETTER Y
  ["\u03A7", "\u0058"], // GREEK CAPITAL LETTER CHI → LATIN CAPITAL LETTER X
  ["\u03B1", "\u0061"], // GREEK SMALL LETTER ALPHA → LATIN SMALL LETTER A
  ["\u03B2", "\u00DF"], // GREEK SMALL LETTER BETA → LATIN SMALL LETTER SHARP S
  ["\u03B3", "\u0079"], // GREEK SMALL LETTER GAMMA → LATIN SMALL LETTER Y
  ["\u03B4", "\u1E9F"], // GREEK SMALL LETTER DELTA → LATIN SMALL LETTER DELTA
  ["\u03B5", "\uA793"], // GREEK SMALL LETTER EPSILON → LATIN SMALL LETTER C WITH BAR
  ["\u03B7", "\u006E\u0329"], // GREEK SMALL LETTER ETA → LATIN SMALL LETTER N, COMBINING VERTICAL LINE BELOW
  ["\u03B8", "\u004F\u0335"], // GREEK SMALL LETTER THETA → LATIN CAPITAL LETTER O, COMBINING SHORT STROKE OVERLAY
  ["\u03B9", "\u0069"], // GREEK SMALL LETTER IOTA → LATIN SMALL LETTER I
  ["\u03BA", "\u0138"], // GREEK SMALL LETTER KAPPA → LATIN SMALL LETTER KRA
  ["\u03BD", "\u0076"], // GREEK SMALL LETTER NU → LATIN SMALL LETTER V
  ["\u03BF", "\u006F"], // GREEK SMALL LETTER OMICRON → LATIN SMALL LETTER O
  ["\u03C1", "\u0070"], // GREEK SMALL LETTER RHO → LATIN SMALL LETTER P
  ["\u03C4", "\u1D1B"], // GREEK SMALL LETTER TAU → LATIN LETTER SMALL CAPITAL T
  ["\u03C5", "\u0075"], // GREEK SMALL LETTER UPSILON → LATIN SMALL LETTER U
  ["\u03C6", "\u0278"], // GREEK SMALL LETTER PHI → LATIN SMALL LETTER PHI
  ["\u03D0", "\u00DF"], // GREEK BETA SYMBOL → LATIN SMALL LETTER SHARP S
  ["\u03D1", "\u004F\u0335"], // GREEK THETA SYMBOL → LATIN CAPITAL LETTER O, COMBINING SHORT STROKE OVERLAY
  ["\u03D2", "\u0059"], // GREEK UPSILON WITH HOOK SYMBOL → LATIN CAPITAL LETTER Y
  ["\u03D5", "\u0278"], // GREEK PHI SYMBOL → LATIN SMALL LETTER PHI
  ["\u03D6", "\u03C0"], // GREEK PI SYMBOL → GREEK SMALL LETTER PI
  ["\u03DB", "\u03C2"], // GREEK SMALL LETTER STIGMA → GREEK SMALL LETTER FINAL SIGMA
  ["\u03DC", "\u0046"], // GREEK LETTER DIGAMMA → LATIN CAPITAL LETTER F
  ["\u03E4", "\u0427"], // COPTIC CAPITAL LETTER FEI → CYRILLIC CAPITAL LETTER CHE
  ["\u03E5", "\u0447"], // COPTIC SMALL LETTER FEI → CYRILLIC SMALL LETTER CHE
  ["\u03E8", "\u0032"], // COPTIC CAPITAL LETTER HORI → DIGIT TWO
  ["\u03E9", "\u01A8"], // COPTIC SMALL LETTER HORI → LATIN SMALL LETTER TONE TWO
  ["\u03EC", "\u0036"], // COPTIC CAPITAL LETTER SHIMA → DIGIT SIX
  ["\u03ED", "\u006F"], // COPTIC SMALL LETTER SHIMA → LATIN SMALL LETTER O
  ["\u03F0", "\u0138"], // GREEK KAPPA SYMBOL → LATIN SMALL LETTER KRA
  ["\u03F1", "\u0070"], // GREEK RHO SYMBOL → LATIN SMALL LETTER P
  ["\u03F2", "\u0063"], // GREEK LUNATE SIGMA SYMBOL → LATIN SMALL LETTER C
  ["\u03F3", "\u006A"], // GREEK LETTER YOT → LATIN SMALL LETTER J
  ["\u03F4", "\u004F\u0335"], // GREEK CAPITAL THETA SYMBOL → LATIN CAPITAL LETTER O, COMBINING SHORT STROKE OVERLAY
  ["\u03F5", "\uA793"], // GREEK LUNATE EPSILON SYMBOL → LATIN SMALL LETTER C WITH BAR
  ["\u03F7", "\u00DE"], // GREEK CAPITAL LETTER SHO → LATIN CAPITAL LETTER THORN
  ["\u03F8", "\u0070"], // GREEK SMALL LETTER SHO → LATIN SMALL LETTER P
  ["\u03F9", "\u0043"], // GREEK CAPITAL LUNATE SIGMA SYMBOL → LATIN CAPITAL LETTER C
  ["\u03FA", "\u004D"], // GREEK CAPITAL LETTER SAN → LATIN CAPITAL LETTER M
  ["\u03FD", "\u0186"], // GREEK CAPITAL REVERSED LUNATE SIGMA SYMBOL → LATIN CAPITAL LETTER OPEN O
  ["\u03FF", "\uA73E"], // GREEK CAPITAL REVERSED DOTTED LUNATE SIGMA SYMBOL → LATIN CAPITAL LETTER REVERSED C WITH DOT
]);

/** The characters whose decompositions were looked up in confusables.txt to make `PROTOTYPES`. */
export const COVERED = /^[A-Za-z0-9_\u0370-\u03FF]$/u;

/** The UTS #39 skeleton of `name`. */
export function skeleton(name: string): string {
  let out = "";
  for (const c of name.normalize("NFD")) out += PROTOTYPES.get(c) ?? c;
  return out.normalize("NFD");
}

/** Whether `a` and `b` are different names that look alike, one of them not plain ASCII. */
export function confusable(a: string, b: string): boolean {
  return a !== b && !(isAscii(a) && isAscii(b)) && skeleton(a) === skeleton(b);
}

const isAscii = (s: string): boolean => /^[\x00-\x7f]*$/.test(s);

interface Named {
  readonly name: string;
  readonly span: Span;
}

/** Every name a cell defines (sizes, inputs, states, params, locals, outputs), each where it first appears. */
function definedNames(cell: CellAst): Named[] {
  const all: Named[] = [
    ...cell.sizes.map((s) => ({ name: s.name, span: s.nameSpan })),
    ...cell.decls.map((d) => ({ name: d.name, span: d.nameSpan })),
    ...cell.equations.map((e) => ({ name: e.target, span: e.targetSpan })),
    ...cell.outputs.map((o) => ({ name: o.name, span: o.nameSpan })),
  ].sort((a, b) => a.span.start - b.span.start);
  const seen = new Set<string>();
  return all.filter((n) => !seen.has(n.name) && seen.add(n.name));
}

/** Warns, at the later of the two, about each name of `cell` that looks like an earlier one. */
export function warnConfusables(cell: CellAst, bag: DiagnosticBag): void {
  const first = new Map<string, Named[]>();
  for (const n of definedNames(cell)) {
    const key = skeleton(n.name);
    const earlier = first.get(key) ?? [];
    const like = earlier.find((e) => confusable(n.name, e.name));
    if (like) {
      const note = { message: `'${like.name}' is defined`, span: like.span };
      bag.warning(W.confusable, `'${n.name}' looks like '${like.name}' (${difference(n.name, like.name)})`, n.span, [note]);
    }
    first.set(key, [...earlier, n]);
  }
}

/** "Greek 'ο' U+03BF where 'bo' has Latin 'o' U+006F": the part where two names differ. */
export function difference(a: string, b: string): string {
  const [x, y] = [[...a], [...b]];
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start++;
  let end = 0;
  while (end < x.length - start && end < y.length - start && x[x.length - 1 - end] === y[y.length - 1 - end]) end++;
  const part = (cs: string[]) => cs.slice(start, cs.length - end).join("");
  return `${describe(part(x))} where '${b}' has ${describe(part(y))}`;
}

function describe(text: string): string {
  const chars = [...text];
  const points = chars.map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`).join(" ");
  const script = chars.every((c) => /\p{Script=Greek}/u.test(c)) ? "Greek "
    : chars.every((c) => /\p{Script=Latin}/u.test(c)) ? "Latin "
    : chars.every((c) => /\p{Nd}/u.test(c)) ? "digit " : "";
  return `${script}'${text}' ${points}`;
}
