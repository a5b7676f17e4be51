/**
 * The one way text from a `.cell` file reaches an exported Python module: names become Python
 * identifiers that cannot mean anything else, strings become literals, comments stay comments.
 *
 * - `pyString`: a double-quoted literal evaluating to exactly the given string. Only printable ASCII
 *   other than `"` and `\` passes raw; everything else is a `\u`/`\U` escape, so the literal is
 *   one token on one line, whatever the name holds.
 * - `pyComment`: text shown after `#`: printable characters (letters, marks, numbers, punctuation,
 *   symbols, the ASCII space) pass, everything else (line breaks of any kind, controls, bidi and
 *   other format characters) is written as `\uXXXX`, so a comment never ends early.
 * - `Names`: Python identifiers for the cell's names. A name is kept when Python reads it as the
 *   same identifier (ASCII, or Greek letters that NFKC normalization leaves alone: Python folds
 *   `ϐ` into `β`), is no keyword, and shadows nothing the module uses (its own functions, `torch`,
 *   builtins); otherwise it is spelled in ASCII and given a suffix until it is unique.
 */

const KEYWORDS = [
  "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
  "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
  "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match", "case", "_", "type",
];

/** Python 3's builtins: a local of one of these names would hide it from the module's own code. */
const BUILTINS = [
  "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "breakpoint", "bytearray", "bytes", "callable",
  "chr", "classmethod", "compile", "complex", "copyright", "credits", "delattr", "dict", "dir", "divmod",
  "enumerate", "eval", "exec", "exit", "filter", "float", "format", "frozenset", "getattr", "globals", "hasattr",
  "hash", "help", "hex", "id", "input", "int", "isinstance", "issubclass", "iter", "len", "license", "list",
  "locals", "map", "max", "memoryview", "min", "next", "object", "oct", "open", "ord", "pow", "print", "property",
  "quit", "range", "repr", "reversed", "round", "set", "setattr", "slice", "sorted", "staticmethod", "str", "sum",
  "super", "tuple", "vars", "zip", "Ellipsis", "NotImplemented", "ValueError", "KeyError", "TypeError", "Exception",
  "__name__", "__file__", "__doc__", "__builtins__", "__debug__", "__import__",
];

/**
 * Attributes every `nn.Module` has (PyTorch 1.13 and later) and the exported classes' own: a param
 * of one of these names cannot be an attribute, so it lives in `_parameters` under its name.
 */
export const MODULE_ATTRIBUTES = new Set([
  "T_destination", "add_module", "apply", "bfloat16", "buffers", "children", "cpu", "cuda", "double", "dump_patches",
  "eval", "extra_repr", "float", "forward", "get_buffer", "get_extra_state", "get_parameter", "get_submodule", "half",
  "ipu", "load_state_dict", "modules", "mtia", "named_buffers", "named_children", "named_modules", "named_parameters",
  "parameters", "register_backward_hook", "register_buffer", "register_forward_hook", "register_forward_pre_hook",
  "register_full_backward_hook", "register_full_backward_pre_hook", "register_load_state_dict_post_hook",
  "register_load_state_dict_pre_hook", "register_module", "register_parameter", "register_state_dict_pre_hook",
  "register_state_dict_post_hook", "requires_grad_", "set_extra_state", "set_submodule", "share_memory",
  "state_dict", "to", "to_empty", "train", "training", "type", "xpu", "zero_grad", "compile", "call_super_init",
  // the exported classes' own
  "reset_parameters", "NAME", "SIZES", "PARAMS", "INPUTS", "STATES", "OUTPUTS", "SOURCE",
]);

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function escapeCode(code: number): string {
  return code <= 0xffff ? `\\u${code.toString(16).padStart(4, "0")}` : `\\U${code.toString(16).padStart(8, "0")}`;
}

/** A Python string literal for `text` (ASCII only, one line). */
export function pyString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += code >= 0x20 && code < 0x7f && ch !== '"' && ch !== "\\" ? ch : escapeCode(code);
  }
  return `${out}"`;
}

/** Text for a `#` comment: one line whatever `text` holds. */
export function pyComment(text: string): string {
  let out = "";
  for (const ch of text) out += ch === " " || (ch !== "\\" && PRINTABLE.test(ch)) ? ch : escapeCode(ch.codePointAt(0)!);
  return out;
}

/** A Python float literal that evaluates to exactly `v`. */
export function pyNumber(v: number): string {
  if (Number.isNaN(v)) return "math.nan";
  if (!Number.isFinite(v)) return v > 0 ? "math.inf" : "-math.inf";
  if (Object.is(v, -0)) return "-0.0";
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

const ASCII_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GREEK_LETTER = /^[\u0370-\u03ff]$/u;

/** A Python keyword (hard or soft): never an attribute name or a local. */
export const isKeyword = (name: string): boolean => KEYWORDS.includes(name);

/** Whether Python reads `name` as an identifier spelled exactly so (no NFKC folding). */
export function isPythonIdentifier(name: string): boolean {
  if (ASCII_IDENTIFIER.test(name)) return true;
  if (name.normalize("NFKC") !== name || /^[0-9]/.test(name) || name === "") return false;
  // Greek letters that NFKC leaves alone are identifier characters in Python (XID_Start/Continue),
  // except the ypogegrammeni, whose NFKC form is a combining mark.
  return [...name].every((c) => /[A-Za-z0-9_]/.test(c) || (GREEK_LETTER.test(c) && /\p{L}/u.test(c) && c !== "\u037a"));
}

/** `name` in ASCII: each other character as `u` and its code point. */
function ascii(name: string): string {
  const spelled = [...name].map((c) => (/[A-Za-z0-9_]/.test(c) ? c : `u${c.codePointAt(0)!.toString(16)}`)).join("");
  return /^[A-Za-z_]/.test(spelled) ? spelled : `v_${spelled}`;
}

/** Python identifiers, each unique among those handed out and the reserved ones. */
export class Names {
  private readonly used: Set<string>;
  private readonly given = new Map<string, string>();

  constructor(reserved: Iterable<string> = []) {
    this.used = new Set([...KEYWORDS, ...BUILTINS, ...reserved]);
  }

  /** The identifier for entity `key`, wanting to be called `wanted`. */
  name(key: string, wanted: string): string {
    const known = this.given.get(key);
    if (known !== undefined) return known;
    let base = isPythonIdentifier(wanted) ? wanted : ascii(wanted);
    if (base.startsWith("__")) base = `v${base}`; // class-private mangling applies to __x inside a class
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = k === 1 ? `${base}_` : `${base}_${k}`;
    this.used.add(name);
    this.given.set(key, name);
    return name;
  }

  /** Entity `key` goes by the name `other` already has. */
  alias(key: string, other: string): void {
    this.given.set(key, this.given.get(other)!);
  }
}

/** `gru_torch` → `GruTorch`: a class name (made unique by `Names`). */
export function className(cellName: string): string {
  const base = isPythonIdentifier(cellName) ? cellName : ascii(cellName);
  const pascal = base.split("_").filter((p) => p !== "").map((p) => (/[a-z]/.test(p[0]!) ? p[0]!.toUpperCase() : p[0]!) + p.slice(1)).join("");
  return pascal === "" || /^[0-9]/.test(pascal) ? `Cell${pascal}` : pascal;
}
