/**
 * Text that breaks out of careless code generation: every Unicode line terminator, quotes,
 * backslashes, comment and template delimiters, `</script>`, NUL and other controls, lone
 * surrogates, invisible format characters and characters outside the BMP. Shared by the escaping
 * tests (`escape.test.ts`) and the hostile file-name tests (`escape-cli.test.ts`).
 */
export const HOSTILE: Readonly<Record<string, string>> = {
  "LF": "\n",
  "CR": "\r",
  "CRLF": "\r\n",
  "U+2028 line separator": "\u2028",
  "U+2029 paragraph separator": "\u2029",
  "double quote": '"',
  "single quote": "'",
  "backslash": "\\",
  "backslash and line terminator": "\\\u2028",
  "an escape written out": "\\u2028",
  "block comment end": "*/",
  "block comment start": "/*",
  "line comment": "//",
  "template substitution": "${",
  "backtick": "`",
  "script end": "</script>",
  "HTML comment open": "<!--",
  "HTML comment close": "-->",
  "NUL": "\0",
  "NUL before a digit": "\x001",
  "escape and DEL": "\x1b[2J\x7f",
  "tab, vertical tab, form feed": "\t\v\f",
  "NEL": "\u0085",
  "no-break space": "\u00a0",
  "lone high surrogate": "\ud800",
  "lone low surrogate": "\udfff",
  "surrogates in the wrong order": "\udc00\ud800",
  "non-BMP emoji": "\u{1f600}",
  "last code point": "\u{10ffff}",
  "non-BMP tag character": "\u{e0041}",
  "right-to-left override": "\u202e",
  "zero-width joiner": "\u200d",
  "byte order mark": "\ufeff",
  "private use": "\ue000",
  "Greek and combining": "αβγ e\u0301",
};

/** Whether a file name can hold `text` (POSIX forbids NUL; `/` only separates directories). */
export const fileNameCanHold = (text: string): boolean => !text.includes("\0");

/** A surrogate half without its partner. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
