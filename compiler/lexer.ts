/**
 * The lexer: `.cell` text to tokens. Newlines are tokens (they end statements); `#` comments and
 * other whitespace are dropped. A character outside the language is reported with its location
 * and skipped, so lexing always reaches the end of the file.
 *
 * Operators have one canonical `text` whatever their spelling: `⊙ ∘ *` are `*`, `· @` are `@`,
 * `-` and the Unicode minus `−` are `-`, `ᵀ` is `ᵀ`. The span still points at what was written.
 */
import type { DiagnosticBag } from "./diagnostics.js";
import { MAX_NAME_LENGTH } from "./limits.js";
import { clip, E } from "./messages.js";
import { span, type Source, type Span } from "./source.js";

export type TokenKind =
  | "ident"
  | "keyword"
  | "number"
  /** `σ`: the name of the sigmoid function, never part of an identifier. */
  | "sigma"
  | "punct"
  | "newline"
  | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** The identifier, keyword, number text or canonical operator. */
  readonly text: string;
  readonly span: Span;
  /** The value of a number. */
  readonly value?: number;
}

export const KEYWORDS: ReadonlySet<string> = new Set(["cell", "size", "input", "state", "param", "output", "const"]);

/** Written operator → canonical token text. */
const PUNCT: ReadonlyMap<string, string> = new Map([
  ["+", "+"], ["-", "-"], ["−", "-"], ["*", "*"], ["⊙", "*"], ["∘", "*"], ["/", "/"],
  ["@", "@"], ["·", "@"], ["ᵀ", "ᵀ"], ["(", "("], [")", ")"], ["[", "["], ["]", "]"],
  ["{", "{"], ["}", "}"], [",", ","], [";", ";"], ["=", "="], ["^", "^"], ["~", "~"],
]);

/** Hints for characters people type meaning something the language writes differently. */
const HINTS: ReadonlyMap<string, string> = new Map([
  [".", "for a matrix product write '·' or '@'"],
  ["'", "for a transpose write 'Wᵀ' or 'transpose(W)'"],
  ["×", "write '⊙' (or '*') for an elementwise product, '·' (or '@') for a matrix product"],
  ["\u0303", "identifiers use ASCII letters, digits, '_' and Greek letters: write 'h_tilde'"],
]);

/** Bad characters read, after their error, as the operator they almost certainly meant. */
const RECOVER_AS: ReadonlyMap<string, string> = new Map([[".", "@"]]);

const MAX_BAD_CHAR_ERRORS = 20;

const SIGMA = "σ";

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function isGreek(c: string): boolean {
  const code = c.codePointAt(0)!;
  return code >= 0x0370 && code <= 0x03ff && c !== SIGMA && /\p{L}/u.test(c);
}

export function isIdentStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" || isGreek(c);
}

export function isIdentChar(c: string): boolean {
  return isIdentStart(c) || isDigit(c);
}

function isSpace(c: string): boolean {
  return c !== "\n" && /\s/u.test(c);
}

/** A character for a message: itself if printable, and always its code point. */
function showChar(c: string): string {
  const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  const quoted = c === "'" ? `"'"` : `'${c}'`;
  return /[\p{L}\p{N}\p{P}\p{S}]/u.test(c) ? `${quoted} (${code})` : code;
}

class Lexer {
  private pos = 0;
  private badChars = 0;
  readonly tokens: Token[] = [];

  constructor(
    private readonly text: string,
    private readonly bag: DiagnosticBag,
  ) {}

  run(): Token[] {
    while (this.pos < this.text.length) this.next();
    this.push("eof", "", this.pos);
    return this.tokens;
  }

  private char(at = this.pos): string {
    const code = this.text.codePointAt(at);
    return code === undefined ? "" : String.fromCodePoint(code);
  }

  private push(kind: TokenKind, text: string, start: number, value?: number): void {
    this.tokens.push({ kind, text, span: span(start, this.pos), value });
  }

  private next(): void {
    const start = this.pos;
    const c = this.char();
    if (c === "\n") {
      this.pos++;
      this.push("newline", "\n", start);
    } else if (c === "#") {
      while (this.pos < this.text.length && this.text[this.pos] !== "\n") this.pos++;
    } else if (isSpace(c)) {
      this.pos += c.length;
    } else if (isDigit(c) || (c === "." && isDigit(this.char(start + 1)))) {
      this.number();
    } else if (isIdentStart(c)) {
      const word = this.takeWhile(isIdentChar);
      this.push(KEYWORDS.has(word) ? "keyword" : "ident", this.checkLength(word, start), start);
    } else if (c === "*" && this.char(start + 1) === "*") {
      this.power(2);
    } else if (c === SIGMA) {
      this.pos += c.length;
      this.push("sigma", SIGMA, start);
    } else if (PUNCT.has(c)) {
      this.pos += c.length;
      this.push("punct", PUNCT.get(c)!, start);
    } else {
      this.badRun();
    }
  }

  private takeWhile(pred: (c: string) => boolean): string {
    const start = this.pos;
    while (this.pos < this.text.length && pred(this.char())) this.pos += this.char().length;
    return this.text.slice(start, this.pos);
  }

  /** A name within `MAX_NAME_LENGTH`, or its error and a short stand-in (which no message repeats in full). */
  private checkLength(word: string, start: number): string {
    if (word.length <= MAX_NAME_LENGTH) return word;
    const message = `name '${clip(word)}' is too long: at most ${MAX_NAME_LENGTH} characters are allowed`;
    this.bag.error(E.nameTooLong, message, span(start, this.pos));
    return clip(word, MAX_NAME_LENGTH);
  }

  /** `12`, `1.5`, `.5`, `2.`, `1e-5`, `3E+2`. */
  private number(): void {
    const start = this.pos;
    this.takeWhile(isDigit);
    if (this.char() === ".") {
      this.pos++;
      this.takeWhile(isDigit);
    }
    const e = this.char();
    const sign = this.char(this.pos + 1);
    const signed = (sign === "+" || sign === "-") && isDigit(this.char(this.pos + 2));
    if ((e === "e" || e === "E") && (isDigit(sign) || signed)) {
      this.pos += signed ? 2 : 1;
      this.takeWhile(isDigit);
    }
    const numberText = this.text.slice(start, this.pos);
    const value = Number(numberText);
    if (isIdentChar(this.char())) this.gluedLetters(start, numberText);
    else if (!Number.isFinite(value)) {
      this.bag.error(E.numberRange, `number ${clip(numberText)} is too large`, span(start, this.pos));
    }
    this.push("number", numberText, start, Number.isFinite(value) ? value : 0);
  }

  /** `4H` or `2e`: report the whole word, keep the number so parsing goes on. */
  private gluedLetters(start: number, numberText: string): void {
    const letters = this.takeWhile(isIdentChar);
    const word = numberText + letters;
    const hint = isIdentStart(letters[0]!) && !/^[eE]\d*$/.test(letters)
      ? `to multiply, write '${clip(numberText)}*${clip(letters)}'`
      : undefined;
    this.bag.error(E.badNumber, `invalid number '${clip(word)}'`, span(start, this.pos), [], hint);
  }

  /**
   * `x**2`: one error, read as `^` (the language's power), so that the rest of the line parses
   * and no second error follows from it.
   */
  private power(length: number): void {
    const start = this.pos;
    this.pos += length;
    this.bag.error(E.badChar, "there is no operator '**'", span(start, this.pos), [], "for a power write 'x^2'");
    this.push("punct", "^", start);
  }

  /** A run of characters the language does not use: one error for the whole run. */
  private badRun(): void {
    const start = this.pos;
    const first = this.char();
    while (this.pos < this.text.length && this.isBad(this.char())) this.pos += this.char().length;
    this.badChars++;
    if (this.badChars <= MAX_BAD_CHAR_ERRORS) {
      const message = `unexpected character ${showChar(first)}`;
      this.bag.error(E.badChar, message, span(start, this.pos), [], HINTS.get(first));
    } else if (this.badChars === MAX_BAD_CHAR_ERRORS + 1) {
      const message = "too many unexpected characters; is this a .cell file?";
      this.bag.error(E.tooManyBadChars, message, span(start, this.pos));
    }
    const meant = RECOVER_AS.get(this.text.slice(start, this.pos));
    if (meant) this.push("punct", meant, start);
  }

  private isBad(c: string): boolean {
    return !(c === "\n" || c === "#" || isSpace(c) || isIdentChar(c) || c === SIGMA || PUNCT.has(c));
  }
}

/** The tokens of `source`, ending with an `eof` token; bad characters are reported to `bag`. */
export function lex(source: Source, bag: DiagnosticBag): Token[] {
  return new Lexer(source.text, bag).run();
}
