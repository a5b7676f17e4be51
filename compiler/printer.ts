/**
 * The canonical pretty-printer: a parsed cell back to text that re-parses to the same syntax tree
 * (spans aside). Sizes come first, then declarations (runs of one kind share a line), equations and
 * outputs; operators are printed as `+ - ⊙ / ·` (`·` without spaces, as in `W·x`), with the fewest
 * parentheses the grammar needs, plus those of `(a ⊙ W)·x`, which would otherwise read wrongly.
 */
import type { CellAst, Decl, Expr, FileAst, OutputDecl, SizeExpr } from "./ast.js";

const LINE_WIDTH = 96;

const OPERATOR: Readonly<Record<string, string>> = { "+": "+", "-": "-", "*": "⊙", "/": "/" };

/** Binding strength of a node, as in the parser: 1 `+ -`, 2 `⊙ / ·`, 3 prefix `-`, 3.5 `^`, 4 postfix, 5 atoms. */
function precedence(e: Expr): number {
  switch (e.kind) {
    case "binary":
      return e.op === "+" || e.op === "-" ? 1 : 2;
    case "neg":
      return 3;
    case "power":
      return 3.5;
    case "transpose":
    case "ref":
      return 4;
    default:
      return 5;
  }
}

function wrap(text: string, parenthesize: boolean): string {
  return parenthesize ? `(${text})` : text;
}

export function printExpr(e: Expr): string {
  switch (e.kind) {
    case "num":
      return String(e.value);
    case "ref":
      return e.prev ? `${e.name}[t-1]` : e.name;
    case "neg":
      return `-${wrap(printExpr(e.operand), precedence(e.operand) < 3)}`;
    case "transpose":
      return `${wrap(printExpr(e.operand), precedence(e.operand) < 4)}ᵀ`;
    case "power":
      return `${wrap(printExpr(e.base), precedence(e.base) < 4)}^${wrap(printExpr(e.exponent), precedence(e.exponent) < 3)}`;
    case "call":
      return `${e.fn}(${e.args.map(printExpr).join(", ")})`;
    case "concat":
      return `[${e.items.map(printExpr).join("; ")}]`;
    case "binary": {
      const p = precedence(e);
      const matmul = e.op === "@";
      // `(a ⊙ W)·x` keeps its parentheses: without them it reads as `a ⊙ (W·x)`.
      const mixed = matmul && e.left.kind === "binary" && e.left.op !== "@";
      const left = wrap(printExpr(e.left), precedence(e.left) < p || mixed);
      const right = wrap(printExpr(e.right), precedence(e.right) <= p);
      return matmul ? `${left}·${right}` : `${left} ${OPERATOR[e.op]} ${right}`;
    }
  }
}

export function printSize(e: SizeExpr): string {
  const p = (s: SizeExpr): number => (s.kind !== "bin" ? 3 : s.op === "*" ? 2 : 1);
  switch (e.kind) {
    case "num":
      return String(e.value);
    case "name":
      return e.name;
    case "bin": {
      const left = wrap(printSize(e.left), p(e.left) < p(e));
      const right = wrap(printSize(e.right), p(e.right) <= p(e));
      return `${left} ${e.op} ${right}`;
    }
  }
}

function printDecl(d: Decl): string {
  const decl = d.dims.length === 0 ? d.name : `${d.name}[${d.dims.map(printSize).join(", ")}]`;
  if (!d.init) return decl;
  if (d.init.kind === "value") return `${decl} = ${printExpr(d.init.value)}`;
  const args = d.init.args.length > 0 ? `(${d.init.args.map(printExpr).join(", ")})` : "";
  return `${decl} ~ ${d.init.name}${args}`;
}

/** Consecutive runs of items sharing a key. */
function runs<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const out: T[][] = [];
  for (const item of items) {
    const last = out[out.length - 1];
    if (last && key(last[0]!) === key(item)) last.push(item);
    else out.push([item]);
  }
  return out;
}

/** `keyword a, b, c` lines, starting a new line before one would pass `LINE_WIDTH`. */
function wrapList(keyword: string, items: readonly string[]): string[] {
  const lines: string[] = [];
  let line = "";
  for (const item of items) {
    if (line && line.length + item.length + 2 > LINE_WIDTH) (lines.push(line), (line = ""));
    line = line ? `${line}, ${item}` : `${keyword} ${item}`;
  }
  return [...lines, line];
}

function printOutputs(outputs: readonly OutputDecl[]): string[] {
  const lines: string[] = [];
  for (const run of runs(outputs, (o) => (o.expr ? "expr" : "bare"))) {
    if (run[0]!.expr) lines.push(...run.map((o) => `output ${o.name} = ${printExpr(o.expr!)}`));
    else lines.push(`output ${run.map((o) => o.name).join(", ")}`);
  }
  return lines;
}

export function printCell(cell: CellAst): string {
  const head: string[] = [];
  if (cell.sizes.length > 0) {
    head.push(`size ${cell.sizes.map((s) => `${s.name} = ${printSize(s.value)}`).join(", ")}`);
  }
  if (cell.consts) head.push(...wrapList("const", cell.consts.map((c) => `${c.name} = ${printExpr(c.value)}`)));
  for (const run of runs(cell.decls, (d) => d.kind)) head.push(...wrapList(run[0]!.kind, run.map(printDecl)));
  const sections = [
    head,
    cell.equations.map((eq) => `${eq.target} = ${printExpr(eq.expr)}`),
    printOutputs(cell.outputs),
  ].filter((lines) => lines.length > 0);
  const body = sections.map((lines) => lines.map((l) => `  ${l}\n`).join("")).join("\n");
  return `cell ${cell.name} {\n${body}}\n`;
}

export function printFile(file: FileAst): string {
  return file.cells.map(printCell).join("\n");
}
