/**
 * The loop IR a kernel body is built as before it is text: loops over rows and elements with their
 * statements, stores whose index is a value (`Ix`), and the lines an op's own loop writer gives.
 * `render` is the one place it becomes JavaScript — plain JavaScript, so the same text is the body
 * of a TypeScript module's function and of a function built at run time.
 */
import { type Ix, num, show } from "./index-expr.js";

export type Mode = "=" | "+=";

export type Stmt =
  /** A line written by an op's loop writer (tiled products, reductions, structural copies). */
  | { readonly kind: "code"; readonly text: string }
  | { readonly kind: "comment"; readonly text: string }
  | { readonly kind: "const"; readonly name: string; readonly value: string }
  | { readonly kind: "let"; readonly name: string; readonly value: string }
  /** `name = value;` or `name += value;` for a `let`. */
  | { readonly kind: "assign"; readonly name: string; readonly mode: Mode; readonly value: string }
  | { readonly kind: "store"; readonly array: string; readonly index: Ix; readonly mode: Mode; readonly value: string }
  /** `for (let index = from; index < to; index++)`, or counting down from `to - 1` to `from`. */
  | { readonly kind: "for"; readonly index: string; readonly from: Ix; readonly to: Ix; readonly down?: boolean; readonly body: readonly Stmt[] }
  | { readonly kind: "if"; readonly test: string; readonly body: readonly Stmt[] };

export const code = (text: string): Stmt => ({ kind: "code", text });
export const comment = (text: string): Stmt => ({ kind: "comment", text });
export const store = (array: string, index: Ix, mode: Mode, value: string): Stmt => ({ kind: "store", array, index, mode, value });
export const loop = (index: string, to: Ix, body: readonly Stmt[], from: Ix = num(0)): Stmt => ({ kind: "for", index, from, to, body });
export const when = (test: string, body: readonly Stmt[]): Stmt => ({ kind: "if", test, body });

/** `array[index]` as an expression. */
export const element = (array: string, index: Ix): string => `${array}[${show(index)}]`;

/** A loop or `if` whose body is one store or assignment is written on one line, without braces. */
const simple = (s: Stmt): boolean => s.kind === "store" || s.kind === "assign";

export function render(stmts: readonly Stmt[]): string[] {
  return stmts.flatMap(renderOne);
}

function renderOne(s: Stmt): string[] {
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
      return [`${element(s.array, s.index)} ${s.mode} ${s.value};`];
    case "for": {
      const head = s.down
        ? `for (let ${s.index} = ${show(s.to)} - 1; ${s.index} >= ${show(s.from)}; ${s.index}--)`
        : `for (let ${s.index} = ${show(s.from)}; ${s.index} < ${show(s.to)}; ${s.index}++)`;
      return block(head, s.body);
    }
    case "if":
      return block(`if (${s.test})`, s.body);
  }
}

function block(head: string, body: readonly Stmt[]): string[] {
  if (body.length === 1 && simple(body[0]!)) return [`${head} ${renderOne(body[0]!)[0]}`];
  return [`${head} {`, ...render(body), "}"];
}
