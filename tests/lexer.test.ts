import { describe, expect, it } from "vitest";
import { DiagnosticBag } from "../compiler/diagnostics.js";
import { lex, type Token } from "../compiler/lexer.js";
import { Source } from "../compiler/source.js";

function run(text: string): { tokens: Token[]; bag: DiagnosticBag; source: Source } {
  const source = new Source("t.cell", text);
  const bag = new DiagnosticBag(source);
  return { tokens: lex(source, bag), bag, source };
}

/** Tokens compactly: names as written, `kw:cell`, `num:1.5`, operators canonical, `⏎` for newlines. */
function tokens(text: string): string {
  const show = (t: Token): string =>
    t.kind === "keyword" ? `kw:${t.text}` : t.kind === "number" ? `num:${t.value}` : t.kind === "newline" ? "⏎" : t.text;
  return run(text).tokens.filter((t) => t.kind !== "eof").map(show).join(" ");
}

/** Diagnostics as `line:col code message [help]`, one a line. */
function lexErrors(text: string): string {
  const { bag, source } = run(text);
  return bag.sorted().map((d) => {
    const { line, col } = source.position(d.span.start);
    return `${line}:${col} ${d.code} ${d.message}${d.hint ? ` [${d.hint}]` : ""}`;
  }).join("\n");
}

const expectTokens = (src: string, expected: string) => expect(tokens(src)).toBe(expected);
const expectLexError = (src: string, expected: string) => expect(lexErrors(src)).toBe(expected);
const expectNoLexError = (src: string) => expect(lexErrors(src)).toBe("");

describe("lexer: names and keywords", () => {
  it("reads ASCII identifiers", () => expectTokens("Wf x_1 _b h2", "Wf x_1 _b h2"));
  it("reads Greek letters in identifiers", () => expectTokens("α β_1 Δh ε", "α β_1 Δh ε"));
  it("reads keywords", () => expectTokens("cell size input state param output", "kw:cell kw:size kw:input kw:state kw:param kw:output"));
  it("keeps words containing keywords as identifiers", () => expectTokens("cells inputs stateful", "cells inputs stateful"));
  it("keeps JavaScript reserved words as identifiers", () => expectTokens("new delete constructor __proto__", "new delete constructor __proto__"));
  it("never lets σ into an identifier", () => expectTokens("σx aσb σ(x)", "σ x a σ b σ ( x )"));
  it("gives σ its own token kind", () => expect(run("σ").tokens[0]!.kind).toBe("sigma"));
});

describe("lexer: numbers", () => {
  it("reads integers and decimals", () => expectTokens("0 12 1.5", "num:0 num:12 num:1.5"));
  it("reads a leading or trailing dot", () => expectTokens(".5 2.", "num:0.5 num:2"));
  it("reads exponents", () => expectTokens("1e-5 3E+2 2e3", "num:0.00001 num:300 num:2000"));
  it("splits t-1", () => expectTokens("t-1", "t - num:1"));
  it("reports letters glued to a number", () => expectLexError("4H", "1:1 E1002 invalid number '4H' [to multiply, write '4*H']"));
  it("reports an exponent without digits", () => expectLexError("2e", "1:1 E1002 invalid number '2e'"));
  it("reports a number too large", () => expectLexError("x = 1e999", "1:5 E1003 number 1e999 is too large"));
  it("keeps the number token after an error", () => expectTokens("4H", "num:4"));
});

describe("lexer: operators and layout", () => {
  it("canonicalises elementwise products", () => expectTokens("a ⊙ b ∘ c * d", "a * b * c * d"));
  it("canonicalises matrix products", () => expectTokens("W·x A @ y", "W @ x A @ y"));
  it("reads the Unicode minus", () => expectTokens("1 − z", "num:1 - z"));
  it("reads transpose and brackets", () => expectTokens("Wᵀ·[x; h]", "W ᵀ @ [ x ; h ]"));
  it("reads punctuation", () => expectTokens("{ ( ) , = } / +", "{ ( ) , = } / +"));
  it("drops comments but keeps their newline", () => expectTokens("a # σ⊙ comment $\nb", "a ⏎ b"));
  it("treats CR and tabs as spaces", () => expectTokens("a\t=\r\nb", "a = ⏎ b"));
  it("ends with eof", () => expect(run("").tokens.map((t) => t.kind)).toEqual(["eof"]));
  it("gives spans in UTF-16 offsets", () => {
    const { tokens: ts, source } = run("σ(Wᵀ·x)");
    expect(ts.filter((t) => t.kind !== "eof").map((t) => source.slice(t.span))).toEqual(["σ", "(", "W", "ᵀ", "·", "x", ")"]);
  });
  it("accepts the example syntax without errors", () =>
    expectNoLexError("cell lstm {\n  size I = 8\n  f = σ(Wf·x + Uf·h[t-1] + bf) ⊙ c\n}\n"));
});

describe("lexer: bad characters", () => {
  it("reports a bad character and goes on", () => {
    expectLexError("a $ b", "1:3 E1001 unexpected character '$' (U+0024)");
    expectTokens("a $ b", "a b");
  });
  it("reports a run of bad characters once", () => expectLexError("a $%! b", "1:3 E1001 unexpected character '$' (U+0024)"));
  it("reports separate runs separately", () =>
    expectLexError("$ a\n! b", "1:1 E1001 unexpected character '$' (U+0024)\n2:1 E1001 unexpected character '!' (U+0021)"));
  it("hints at · for a dot", () => expectLexError("W.x", "1:2 E1001 unexpected character '.' (U+002E) [for a matrix product write '·' or '@']"));
  it("reads a lone dot as · after reporting it", () => expectTokens("W.x", "W @ x"));
  it("hints at ᵀ for a quote", () => expect(lexErrors("W'")).toContain("for a transpose write"));
  it("hints at h_tilde for a combining tilde", () => expect(lexErrors("h\u0303 = 1")).toContain("h_tilde"));
  it("shows an invisible character by code point", () => expectLexError("a\u0000b", "1:2 E1001 unexpected character U+0000"));
  it("stops listing after too many bad characters", () => {
    const errors = lexErrors("$ ".repeat(30)).split("\n");
    expect(errors).toHaveLength(21);
    expect(errors[20]).toBe("1:41 E1004 too many unexpected characters; is this a .cell file?");
  });
  it("survives lone surrogates", () => expect(lexErrors("a \ud800 b")).toContain("E1001"));
});
