/**
 * What the emitted code says about each value: its name (the cell's own, or one built from what it
 * is — never a node id) and the comment above the statement computing it — the equation it comes
 * from with its file and line, or in the backward the gradient it is.
 *
 *   // f = σ(Wf·x + Uf·h + bf)   lstm.cell:13
 *   // df_pre = ∂L/∂(Wf·x + Uf·h + bf)   lstm.cell:13
 */
import type { CellIR, Origin } from "../ir/cell.js";
import type { NodeId } from "../ir/graph.js";
import type { Describe } from "./body.js";
import { commentText } from "./literal.js";

/** Printable text (letters, marks, numbers, punctuation, symbols, the ASCII space) goes in a comment as it is. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u;
const inComment = (text: string) => (PRINTABLE.test(text) ? text : commentText(text));

const INFIX: Readonly<Record<string, string>> = { add: "+", sub: "-", mul: "⊙", div: "/" };
/** How a derived name joins its arguments' names: `r_h_prev` (r ⊙ h_prev), `one_minus_u`, `Wh_r_h_prev`. */
const JOINERS: Readonly<Record<string, string>> = { mul: "_", matmul: "_", concat: "_", add: "_plus_", sub: "_minus_", div: "_over_", outer: "_outer_" };
const CONSTANT_NAMES: Readonly<Record<string, string>> = { "0": "zero", "1": "one", "2": "two", "0.5": "half" };

/** Derived names longer than this are called by their op (or, for a stack, by `stacked`). */
const MAX_NAME = 24;

/**
 * A stack's name when joining its parts' names is too long: parts that end alike are joined once,
 * with the common ending after them (`df_pre`, `di_pre`, `dg_pre`, `do_pre` → `df_di_dg_do_pre`);
 * null when that is still too long or there is no such ending.
 */
function stacked(parts: readonly string[]): string | null {
  const first = parts[0] ?? "";
  let end = first.lastIndexOf("_");
  while (end > 0 && !parts.every((p) => p.endsWith(first.slice(end)) && p.length > first.length - end)) end = first.lastIndexOf("_", end - 1);
  if (end <= 0) return null;
  const suffix = first.slice(end);
  const name = `${parts.map((p) => p.slice(0, p.length - suffix.length)).join("_")}${suffix}`;
  return name.length <= MAX_NAME ? name : null;
}

export function describeValues(ir: CellIR): Describe {
  const g = ir.graph;
  // The names the cell and autodiff gave, before codegen names buffers of values it derives.
  const given = new Map(g.names);
  const backward = new Set<NodeId>();
  for (const n of g.nodes) if (n.op === "seed" || n.args.some((a) => backward.has(a))) backward.add(n.id);
  // A name built from what each value is (`r_h_prev` for r ⊙ h_prev, `one_minus_u`), in node
  // order, so a value's name is built from its arguments' names; a long one is called by its op.
  const names: string[] = [];
  for (const n of g.nodes) {
    const known = given.get(n.id);
    if (known !== undefined) {
      names.push(known);
      continue;
    }
    if (n.op === "const") {
      names.push(CONSTANT_NAMES[String(n.attrs["value"])] ?? "k");
      continue;
    }
    if (n.op === "seed") {
      const decl = (n.attrs["kind"] === "output" ? ir.outputs : ir.states)[Number(n.attrs["index"])];
      names.push(decl ? `d${decl.name}_seed` : n.op);
      continue;
    }
    const args = n.args.map((a) => names[a]!);
    const joined = args.length === 0 ? n.op : n.op in JOINERS ? args.join(JOINERS[n.op]) : n.op === "broadcast" ? args[0]! : n.op === "expand" ? `${args[0]!}_${n.attrs["axis"] === 1 ? "rowwise" : "each_row"}` : `${n.op}_${args.join("_")}`;
    const short = joined.length <= MAX_NAME ? joined : n.op === "concat" ? stacked(args) : null;
    names.push(short ?? n.op);
  }
  const name = (id: NodeId): string => names[id] ?? g.node(id).op;

  /** The value as an expression of its arguments' names, one level deep. */
  const formula = (id: NodeId): string => {
    const n = g.node(id);
    const a = n.args.map((x) => (g.node(x).op === "const" ? String(g.node(x).attrs["value"]) : name(x)));
    if (INFIX[n.op]) return `${a[0]} ${INFIX[n.op]} ${a[1]}`;
    switch (n.op) {
      case "matmul":
        return `${a[0]}${n.attrs["ta"] === true ? "ᵀ" : ""}·${a[1]}${n.attrs["tb"] === true ? "ᵀ" : ""}`;
      case "concat":
        return `[${a.join("; ")}]`;
      case "outer":
        return `${a[0]} ⊗ ${a[1]}`;
      case "sum":
        return `Σ ${a[0]}`;
      case "neg":
        return `-${a[0]}`;
      case "slice":
        return `${a[0]}[${n.attrs["start"]}, +${n.attrs["length"]}]`;
      default:
        return `${n.op}(${a.join(", ")})`;
    }
  };

  const where = (o: Origin) => `${o.file}:${o.line}`;
  /** Whether `o` is the statement that defines `value` (not one it is a part of). */
  const defines = (o: Origin, value: string) => !o.part && (o.text.startsWith(`${value} =`) || o.text.startsWith(`output ${value}`));

  const comment = (id: NodeId): string | null => {
    const own = name(id);
    const origins = ir.origins;
    if (backward.has(id) && own.startsWith("d") && given.has(id)) {
      const of = own.slice(1);
      const o = origins?.get(of);
      if (!o) return inComment(`${own} = ∂L/∂${of}`);
      if (o.part) return inComment(`${own} = ∂L/∂(${o.text})   ${where(o)}`);
      return inComment(`${own} = ∂L/∂${of}, ${defines(o, of) ? "" : "in "}${o.text}   ${where(o)}`);
    }
    const o = given.has(id) ? origins?.get(own) : undefined;
    if (o && defines(o, own)) return inComment(`${o.text}   ${where(o)}`);
    if (o && o.part) return inComment(`${own} = ${o.text}   ${where(o)}`);
    if (o) return inComment(`${own} = ${formula(id)}, in ${o.text}   ${where(o)}`);
    return g.node(id).args.length > 0 ? inComment(`${own} = ${formula(id)}`) : null;
  };

  return { name, comment };
}
