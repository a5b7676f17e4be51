/**
 * The parser's view of the token list: lookahead, bracket tracking, the limits that keep recursion
 * bounded, syntax-error reporting and the skipping that error recovery needs. The grammar itself is
 * in `parser.ts`.
 *
 * Inside `( )` and `[ ]` a newline continues the expression, unless the next line plainly starts a
 * new statement (`name =`, a declaration, `}`): then the bracket is reported as unclosed.
 */
import type { DiagnosticBag } from "./diagnostics.js";
import type { Token } from "./lexer.js";
import { clip, E } from "./messages.js";
import { MAX_NESTING, MAX_OPERATIONS } from "./limits.js";
import type { Source, Span } from "./source.js";

/** Brackets, calls and prefix minus nested deeper than `MAX_NESTING` are reported, not recursed into;
 * `MAX_OPERATIONS` per statement bounds the depth of every syntax tree for later recursive passes. */
export { MAX_NESTING, MAX_OPERATIONS };

/** Thrown after a syntax error has been reported; caught where parsing can resume. */
export class Bail {}

export function rethrowUnlessBail(e: unknown): void {
  if (!(e instanceof Bail)) throw e;
}

export const isPunct = (t: Token, text: string): boolean => t.kind === "punct" && t.text === text;
export const isName = (t: Token): boolean => t.kind === "ident" || t.kind === "keyword";
export const isKeyword = (t: Token, word: string): boolean => t.kind === "keyword" && t.text === word;

export class TokenCursor {
  protected pos = 0;
  /** Brackets opened and not yet closed in the current statement, innermost last. */
  protected openers: Token[] = [];
  private nesting = 0;
  private operations = 0;

  /** For each token, the index of the first token at or after it that is not a newline. */
  private readonly pastNewlines: Int32Array;

  constructor(
    private readonly tokens: readonly Token[],
    protected readonly source: Source,
    protected readonly bag: DiagnosticBag,
  ) {
    this.pastNewlines = new Int32Array(tokens.length + 1).fill(tokens.length);
    for (let i = tokens.length - 1; i >= 0; i--) {
      this.pastNewlines[i] = tokens[i]!.kind === "newline" ? this.pastNewlines[i + 1]! : i;
    }
  }

  /** The first token at or after `i` that is not a newline (each run of newlines is crossed in one step). */
  protected skipNewlines(i: number): number {
    return i < this.tokens.length ? this.pastNewlines[i]! : i;
  }

  /** Forgets the brackets and budgets of a statement that has ended (or failed). */
  protected resetStatement(): void {
    this.openers = [];
    this.nesting = 0;
    this.operations = 0;
  }

  // ------------------------------------------------------------ lookahead

  /** The token at index `i`, without skipping anything (the last token is `eof`). */
  protected at(i: number): Token {
    return this.tokens[Math.min(i, this.tokens.length - 1)]!;
  }

  /** The next token; inside brackets, continuation newlines are skipped. */
  protected peek(): Token {
    if (this.openers.length > 0 && this.at(this.pos).kind === "newline" && !this.statementStartsAfter(this.pos)) {
      this.pos = this.skipNewlines(this.pos);
    }
    return this.at(this.pos);
  }

  protected advance(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.pos++;
    return t;
  }

  protected is(text: string): boolean {
    return isPunct(this.peek(), text);
  }

  protected accept(text: string): boolean {
    if (!this.is(text)) return false;
    this.advance();
    return true;
  }

  /** Whether the line after the newline at `i` begins a statement (or ends the cell or file). */
  protected statementStartsAfter(i: number): boolean {
    i = this.skipNewlines(i);
    const [t, next] = [this.at(i), this.at(i + 1)];
    if (t.kind === "eof" || isPunct(t, "}")) return true;
    return isName(t) && (isPunct(next, "=") || (t.kind === "keyword" && isName(next)));
  }

  protected skipSeparators(): void {
    while (this.at(this.pos).kind === "newline" || isPunct(this.at(this.pos), ";")) this.pos++;
  }

  protected describe(t: Token): string {
    if (t.kind === "eof") return "end of file";
    if (t.kind === "newline") return "end of line";
    if (t.kind === "keyword") return `keyword '${t.text}'`;
    return `'${clip(this.source.slice(t.span))}'`;
  }

  // ------------------------------------------------------------ errors

  protected fail(code: string, message: string, at: Span, hint?: string): never {
    this.bag.error(code, message, at, [], hint);
    throw new Bail();
  }

  /** Reports what was expected; a line ending inside brackets is reported at the open bracket. */
  protected unexpected(expected: string, hint?: string): never {
    const t = this.peek();
    const opener = this.openers[this.openers.length - 1];
    if (opener && (t.kind === "newline" || t.kind === "eof" || isPunct(t, "}"))) this.unclosed(opener);
    this.fail(E.expected, `expected ${expected}, found ${this.describe(t)}`, t.span, hint);
  }

  protected expect(text: string, expected = `'${text}'`): Token {
    if (!this.is(text)) this.unexpected(expected);
    return this.advance();
  }

  // ------------------------------------------------------------ brackets and limits

  protected openBracket(): Token {
    const t = this.advance();
    this.openers.push(t);
    return t;
  }

  /** Consumes `closer`; a line or file ending first means `opener` was never closed. */
  protected close(closer: string, opener: Token, expected = `'${closer}'`): Token {
    const t = this.peek();
    if (isPunct(t, closer)) {
      this.openers.pop();
      return this.advance();
    }
    this.unexpected(expected);
  }

  private unclosed(opener: Token): never {
    const closer = opener.text === "(" ? ")" : "]";
    this.fail(E.unclosed, `'${clip(this.source.slice(opener.span))}' is never closed`, opener.span, `add '${closer}'`);
  }

  /** Runs `parse` one nesting level deeper, refusing to go past `MAX_NESTING`. */
  protected nest<T>(at: Token, parse: () => T): T {
    if (++this.nesting > MAX_NESTING) {
      this.fail(E.tooDeep, "expression nested too deeply", at.span, `at most ${MAX_NESTING} levels are allowed`);
    }
    const result = parse();
    this.nesting--;
    return result;
  }

  /** Counts one operation of the current statement against `MAX_OPERATIONS`. */
  protected count(at: Token): void {
    if (++this.operations > MAX_OPERATIONS) {
      this.fail(E.tooDeep, `expression too large: more than ${MAX_OPERATIONS} operations`, at.span,
        "split it into several equations");
    }
  }

  // ------------------------------------------------------------ recovery

  /** After an error: skip to the end of the statement, or with `atComma` to the next list item. */
  protected recover(atComma: boolean): void {
    let open = this.openers.length;
    this.openers = [];
    for (;; this.pos++) {
      const t = this.at(this.pos);
      if (t.kind === "eof" || isPunct(t, "}")) return;
      if (t.kind === "newline" && (open <= 0 || this.statementStartsAfter(this.pos))) return;
      if (t.kind === "newline") this.pos = this.skipNewlines(this.pos) - 1;
      if (open <= 0 && (isPunct(t, ";") || (atComma && isPunct(t, ",")))) return;
      if (isPunct(t, "(") || isPunct(t, "[")) open++;
      if (isPunct(t, ")") || isPunct(t, "]")) open--;
    }
  }

  /** Skips to the next `cell` keyword (or the end of the file). */
  protected skipToCell(): void {
    do this.pos++;
    while (this.at(this.pos).kind !== "eof" && !isKeyword(this.at(this.pos), "cell"));
  }
}
