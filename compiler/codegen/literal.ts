/**
 * The one way text and numbers from outside the compiler reach emitted code: file names and paths,
 * cell, size and tensor names, the runtime module specifier, option values, sizes. Each function
 * is total over its input type and its output is inert wherever the code generator puts it.
 *
 * - `stringLiteral`: a double-quoted literal that evaluates to exactly the given string. Only
 *   printable characters pass raw (letters, marks, digits, punctuation and symbols, the ASCII
 *   space); everything else is an escape: every line terminator (LF, CR, U+2028, U+2029), tabs,
 *   NUL and other controls, format characters (bidi overrides, zero-width joiners, BOM), lone
 *   surrogates, unassigned and private-use code points, non-ASCII spaces — and the characters that
 *   mean something in some context: `\ " ' \` $ < > &`, and a `/` right after `*`. So the literal
 *   has no line break, no quote, no star-slash, no `${`, no backtick and no `</script`: it stays one
 *   token in a string, a template, a line or block comment (JSDoc too), or a `<script>` element.
 * - `commentText`: a name shown in a comment, which is that same quoted literal.
 * - `identifier`: any text as an identifier of ASCII letters, digits, `_` and Greek letters (the
 *   lexer's alphabet), every other character replaced by `_`. Reserved words and collisions are
 *   the allocator's business (`names.ts`).
 * - `numberLiteral`, `integer`: numbers, checked to be numbers.
 * - `valueLiteral`: plain data (the module's `spec`) as an expression built from the above.
 */

const ESCAPES: ReadonlyMap<string, string> = new Map([["\\", "\\\\"], ["\n", "\\n"], ["\r", "\\r"], ["\t", "\\t"]]);

/** ASCII characters with a meaning in some context a literal may end up in. */
const ASCII_MEANINGFUL = new Set(['"', "'", "`", "$", "<", ">", "&"]);

/** Graphic: a letter, mark, number, punctuation or symbol (so not a control, format, separator, surrogate or unassigned). */
const GRAPHIC = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const hex4 = (unit: number) => `\\u${unit.toString(16).padStart(4, "0")}`;

/** `ch` (one code point, or one lone surrogate) as it appears in a literal, given the character before it. */
function literalChar(ch: string, previous: string): string {
  const escape = ESCAPES.get(ch);
  if (escape !== undefined) return escape;
  const code = ch.codePointAt(0)!;
  const raw = code < 0x80
    ? code >= 0x20 && code < 0x7f && !ASCII_MEANINGFUL.has(ch) && !(ch === "/" && previous === "*")
    : GRAPHIC.test(ch);
  if (raw) return ch;
  let out = "";
  for (let k = 0; k < ch.length; k++) out += hex4(ch.charCodeAt(k));
  return out;
}

/** A double-quoted JS/TS string literal for `text`, inert in any context (see the file comment). */
export function stringLiteral(text: string): string {
  if (typeof text !== "string") throw new TypeError(`internal error: expected a string to emit, got ${typeof text}`);
  let out = '"';
  let previous = "";
  // Iterating a string gives code points, and each lone surrogate on its own.
  for (const ch of text) {
    out += literalChar(ch, previous);
    previous = ch;
  }
  return `${out}"`;
}

/** Text from outside shown in a comment: quoted and escaped, so it reads as what it is and ends nothing. */
export function commentText(text: string): string {
  return stringLiteral(text);
}

/** A letter of the Greek and Coptic block that is stable under NFC (U+0374 normalizes to U+02B9). */
function isGreekLetter(ch: string): boolean {
  const code = ch.codePointAt(0)!;
  return code >= 0x0370 && code <= 0x03ff && code !== 0x0374 && /^\p{L}$/u.test(ch);
}

const isAsciiWord = (ch: string) => /^[A-Za-z0-9_]$/.test(ch);
const isDigit = (ch: string) => ch >= "0" && ch <= "9";

/** Whether `name` is a plain identifier: ASCII letters, digits, `_` and Greek letters, not starting with a digit. */
export function isPlainIdentifier(name: string): boolean {
  if (typeof name !== "string" || name === "" || isDigit(name[0]!)) return false;
  for (const ch of name) if (!isAsciiWord(ch) && !isGreekLetter(ch)) return false;
  return true;
}

/** `text` as a plain identifier: every other character becomes `_`, and a leading digit (or nothing) gets one. */
export function identifier(text: string): string {
  let out = "";
  for (const ch of text) out += isAsciiWord(ch) || isGreekLetter(ch) ? ch : "_";
  return out === "" || isDigit(out[0]!) ? `_${out}` : out;
}

/**
 * A number as an expression: exact (`String` round-trips every double), parenthesized when
 * negative so a leading minus never merges with an operator before it (`x - (-0)`), and the
 * special values as the globals `NaN` and `Infinity`, which the allocator never shadows.
 */
export function numberLiteral(n: number): string {
  if (typeof n !== "number") throw new TypeError(`internal error: expected a number to emit, got ${typeof n}`);
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "(-Infinity)";
  if (Object.is(n, -0)) return "(-0)";
  return n < 0 ? `(${String(n)})` : String(n);
}

/** A size, shape dimension, offset or count: a safe non-negative integer, or an internal error. */
export function integer(n: number): string {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new TypeError(`internal error: expected a non-negative integer to emit, got ${typeof n === "number" ? n : typeof n}`);
  }
  return String(n);
}

/** An object key: bare when a plain identifier, otherwise computed (a quoted `"__proto__":` would set the prototype). */
function propertyKey(key: string): string {
  return isPlainIdentifier(key) && key !== "__proto__" ? key : `[${stringLiteral(key)}]`;
}

/**
 * Plain data as an expression: strings, numbers, booleans, null, arrays and plain objects (own
 * enumerable properties, in order; `undefined` properties left out). Anything else is an internal
 * error, never `String(x)`.
 */
export function valueLiteral(value: unknown): string {
  if (typeof value === "string") return stringLiteral(value);
  if (typeof value === "number") return numberLiteral(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${Array.from(value, (v) => valueLiteral(v)).join(", ")}]`;
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      const entries = Object.entries(value).filter(([, v]) => v !== undefined);
      return `{ ${entries.map(([k, v]) => `${propertyKey(k)}: ${valueLiteral(v)}`).join(", ")} }`;
    }
  }
  throw new TypeError(`internal error: cannot emit a ${typeof value} as a literal`);
}

/**
 * The type of `value` as a `const` literal would have it (`readonly` properties and tuples), for
 * declaration files: `{ readonly I: 8 }`, `readonly ["h", 16]`. A number that has no literal type
 * (NaN, ±∞) is typed `number`.
 */
export function typeLiteral(value: unknown): string {
  if (typeof value === "number") return Number.isFinite(value) ? numberLiteral(value) : "number";
  if (Array.isArray(value)) return `readonly [${Array.from(value, (v) => typeLiteral(v)).join(", ")}]`;
  if (typeof value === "object" && value !== null && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{ ${entries.map(([k, v]) => `readonly ${propertyKey(k)}: ${typeLiteral(v)}`).join("; ")} }`;
  }
  return valueLiteral(value);
}
