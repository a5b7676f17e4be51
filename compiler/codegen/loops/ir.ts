/**
 * The loop IR a kernel body is built as before it is text: loops over rows and elements with their
 * statements, stores whose index is a value (`Ix`), and the lines an op's own loop writer gives.
 * `render` is the one place it becomes text. The text is JavaScript in one of two dialects: plain
 * JavaScript (a function built at run time, `--emit js`), or the same code as the body of a
 * TypeScript module's function, where it must also type-check under the strictest common settings.
 */
import { type Ix, num, show } from "./index-expr.js";
import { type ProductNode, renderProduct } from "./product.js";
import type { Val } from "./values.js";

export type Mode = "=" | "+=";

/**
 * What the kernel text is written as. The two differ only in element reads: under TypeScript's
 * `noUncheckedIndexedAccess` a typed array's element is `number | undefined`, so a read says `!`
 * (every index is in bounds by construction: the runtime checks each array's length against the
 * spec before a kernel runs). Stores need no `!`, and JavaScript never has one.
 */
export type Dialect = "js" | "ts";

export type Stmt =
  /** A line written by an op's loop writer (tiled products, reductions, structural copies). */
  | { readonly kind: "code"; readonly text: string }
  | { readonly kind: "comment"; readonly text: string }
  /** `const name = value;`; in an element loop, `tree` is the value as a tree (`values.ts`). */
  | { readonly kind: "const"; readonly name: string; readonly value: string; readonly tree?: Val }
  | { readonly kind: "let"; readonly name: string; readonly value: string }
  /** `name = value;` or `name += value;` for a `let`. */
  | { readonly kind: "assign"; readonly name: string; readonly mode: Mode; readonly value: string }
  /**
   * `array[index] = value;` (or `+=`); in an element loop, `at` is where it stores as a load of
   * the same element would read it, and `tree` the value as a tree (`values.ts`).
   */
  | { readonly kind: "store"; readonly array: string; readonly index: Ix; readonly mode: Mode; readonly value: string; readonly at?: Val & { kind: "load" }; readonly tree?: Val }
  /**
   * `for (let index = from; index < to; index++)` (`index += step` when a step is given), or
   * counting down from `to - 1` to `from`.
   */
  | { readonly kind: "for"; readonly index: string; readonly from: Ix; readonly to: Ix; readonly down?: boolean; readonly step?: number; readonly body: readonly Stmt[] }
  /** `{ … }`: statements in a scope of their own (an element of an unrolled loop, its locals its own). */
  | { readonly kind: "block"; readonly body: readonly Stmt[] }
  /**
   * `for (let index = 0; index < T; index += length)`: the first step of each chunk of `length`
   * steps, or the same chunks from the last one down.
   */
  | { readonly kind: "chunks"; readonly index: string; readonly length: string; readonly down?: boolean; readonly body: readonly Stmt[] }
  | { readonly kind: "if"; readonly test: string; readonly body: readonly Stmt[] }
  /** A matrix product over many rows: a runtime call or tiled loops (`product.ts`). */
  | { readonly kind: "product"; readonly node: ProductNode }
  /**
   * `const [a, b, c] = from;`: binds the arrays of a list parameter (params P, inputs X, …) by
   * position; `count` is how many the list holds. A name nothing reads is left a hole (`[a, , c]`).
   * In TypeScript the list is read as a tuple of `count` arrays (`from as Arrays<3>`): the runtime
   * passes exactly one array per name.
   */
  | { readonly kind: "unpack"; readonly names: readonly (string | null)[]; readonly from: string; readonly count: number };

export const code = (text: string): Stmt => ({ kind: "code", text });
export const comment = (text: string): Stmt => ({ kind: "comment", text });
export const store = (array: string, index: Ix, mode: Mode, value: string): Stmt => ({ kind: "store", array, index, mode, value });
export const loop = (index: string, to: Ix, body: readonly Stmt[], from: Ix = num(0)): Stmt => ({ kind: "for", index, from, to, body });
export const when = (test: string, body: readonly Stmt[]): Stmt => ({ kind: "if", test, body });
export const unpack = (names: readonly string[], from: string): Stmt => ({ kind: "unpack", names, from, count: names.length });

/** `array[index]` read as a value, in `dialect` (`array[index]!` in TypeScript). */
export const element = (array: string, index: Ix, dialect: Dialect): string => `${array}[${show(index)}]${dialect === "ts" ? "!" : ""}`;

/**
 * A store statement's text: `array[index] = value;`, or `array[index] += value;` (which reads the
 * element too: `array[index]! += value;` in TypeScript).
 */
export const storeText = (array: string, index: Ix, mode: Mode, value: string, dialect: Dialect): string =>
  `${array}[${show(index)}]${mode === "+=" && dialect === "ts" ? "!" : ""} ${mode} ${value};`;

/** A loop or `if` whose body is one store or assignment is written on one line, without braces. */
const simple = (s: Stmt): boolean => s.kind === "store" || s.kind === "assign";

/**
 * Each statement's lines, by dialect, once written: statements are immutable values, and a kernel's
 * phases are rendered more than once (to see which names they read, then as the kernel's text).
 */
const RENDERED: Readonly<Record<Dialect, WeakMap<Stmt, readonly string[]>>> = { js: new WeakMap(), ts: new WeakMap() };

export function render(stmts: readonly Stmt[], dialect: Dialect): string[] {
  const out: string[] = [];
  for (const s of stmts) for (const line of renderOne(s, dialect)) out.push(line);
  return out;
}

function renderOne(s: Stmt, dialect: Dialect): readonly string[] {
  const cache = RENDERED[dialect];
  let lines = cache.get(s);
  if (lines === undefined) cache.set(s, (lines = renderNew(s, dialect)));
  return lines;
}

function renderNew(s: Stmt, dialect: Dialect): readonly string[] {
  switch (s.kind) {
    case "code":
      return [s.text];
    case "comment":
      return [`// ${s.text}`];
    case "const":
    case "let":
      return [`${s.kind} ${s.name} = ${s.value};`];
    case "assign":
      return [`${s.name} ${s.mode} ${s.value};`];
    case "store":
      return [storeText(s.array, s.index, s.mode, s.value, dialect)];
    case "for": {
      const head = s.down
        ? `for (let ${s.index} = ${show(s.to)} - 1; ${s.index} >= ${show(s.from)}; ${s.index}--)`
        : `for (let ${s.index} = ${show(s.from)}; ${s.index} < ${show(s.to)}; ${s.index}${(s.step ?? 1) > 1 ? ` += ${s.step}` : "++"})`;
      return block(head, s.body, dialect);
    }
    case "block":
      return ["{", ...render(s.body, dialect), "}"];
    case "chunks": {
      const { index: c, length: k } = s;
      const head = s.down ? `for (let ${c} = T - 1 - ((T - 1) % ${k}); ${c} >= 0; ${c} -= ${k})` : `for (let ${c} = 0; ${c} < T; ${c} += ${k})`;
      return block(head, s.body, dialect);
    }
    case "if":
      return block(`if (${s.test})`, s.body, dialect);
    case "product":
      return renderProduct(s.node);
    case "unpack": {
      let last = s.names.length - 1;
      while (last >= 0 && s.names[last] === null) last--;
      const names = s.names.slice(0, last + 1).map((n) => n ?? "").join(", ");
      return last < 0 ? [] : [`const [${names}] = ${s.from}${dialect === "ts" ? ` as Arrays<${s.count}>` : ""};`];
    }
  }
}

/** Whether char code `c` may continue an identifier: `[\w$]` or a Greek letter (U+0370–U+03FF). */
const identifierPart = (c: number): boolean =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x24 || (c >= 0x370 && c <= 0x3ff);
/** Whether it may begin one: an identifier part other than a digit. */
const identifierStart = (c: number): boolean => identifierPart(c) && !(c >= 0x30 && c <= 0x39);

/**
 * Identifiers a line of code reads or binds (not property names after `.`, nothing in a `//`
 * comment): each longest run of identifier parts that begins with an identifier start and does not
 * follow a `.` (a run beginning with a digit is a number, or the tail of one: `1e5`).
 */
export function identifiersIn(lines: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const line of lines.flatMap((l) => l.split("\n"))) {
    const cut = line.indexOf("//");
    const end = cut < 0 ? line.length : cut;
    let k = 0;
    while (k < end) {
      const c = line.charCodeAt(k);
      if (!identifierPart(c)) {
        k++;
        continue;
      }
      const start = k;
      while (k < end && identifierPart(line.charCodeAt(k))) k++;
      if (identifierStart(c) && (start === 0 || line.charCodeAt(start - 1) !== 0x2e)) out.add(line.slice(start, k));
    }
  }
  return out;
}

/**
 * A kernel body with its top-level `unpack`s narrowed to the names the rest of the body uses
 * (so no binding is unused), and every identifier the result reads: which of the kernel's
 * parameters it needs.
 */
export function unpacked(stmts: readonly Stmt[]): { stmts: Stmt[]; reads: Set<string> } {
  const used = identifiersIn(render(stmts.filter((s) => s.kind !== "unpack"), "js"));
  const out = stmts.map((s): Stmt => (s.kind === "unpack" ? { ...s, names: s.names.map((n) => (n !== null && used.has(n) ? n : null)) } : s));
  // What the result reads: what the rest reads, and the list of each unpacking that binds a name.
  const reads = new Set(used);
  for (const s of out) if (s.kind === "unpack" && s.names.some((n) => n !== null)) reads.add(s.from);
  return { stmts: out, reads };
}

function block(head: string, body: readonly Stmt[], dialect: Dialect): readonly string[] {
  if (body.length === 1 && simple(body[0]!)) return [`${head} ${renderOne(body[0]!, dialect)[0]}`];
  return [`${head} {`, ...render(body, dialect), "}"];
}
