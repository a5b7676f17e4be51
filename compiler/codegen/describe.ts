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
/** How a derived name joins its arguments' names: `r_h_prev` (r ⊙ h_prev), `one_minus_u`, `Wh_r_h_prev` (a scalar broadcast to a vector is `s_each`). */
const JOINERS: Readonly<Record<string, string>> = { mul: "_", matmul: "_", concat: "_", add: "_plus_", sub: "_minus_", div: "_over_", outer: "_outer_" };
const CONSTANT_NAMES: Readonly<Record<string, string>> = { "0": "zero", "1": "one", "2": "two", "0.5": "half" };

/** Derived names longer than this are shortened (see `shortName`). */
const MAX_NAME = 32;

/** The words a derived name is joined from: `sqrt_mean_df_df_plus_k` → `sqrt`, `mean`, …. */
const words = (name: string) => name.split("_").filter((w) => w !== "");

/**
 * A stack's name: what the parts share at the start and the end is written once around what differs (`df_pre`, `di_pre`, `dg_pre`, `do_pre` →
 * `df_di_dg_do_pre`; `d_Uf_h_prev`, …, `d_Uo_h_prev` → `d_Uf_Ui_Ug_Uo_h_prev`, the gradient of
 * the stacked product); null when the parts share no ending or that is still too long.
 */
function stacked(parts: readonly string[]): string | null {
  const first = parts[0] ?? "";
  const shared = (cut: number, ending: boolean) => {
    const part = ending ? first.slice(cut) : first.slice(0, cut + 1);
    return parts.every((p) => (ending ? p.endsWith(part) : p.startsWith(part)) && p.length > part.length);
  };
  // The longest common ending and beginning that are whole words.
  let end = first.indexOf("_");
  while (end > 0 && !shared(end, true)) end = first.indexOf("_", end + 1);
  if (end <= 0) return null;
  const suffix = first.slice(end);
  let start = first.lastIndexOf("_", end - 1);
  while (start > 0 && !shared(start, false)) start = first.lastIndexOf("_", start - 1);
  const prefix = start > 0 ? first.slice(0, start + 1) : "";
  const middles = parts.map((p) => p.slice(prefix.length, p.length - suffix.length));
  if (middles.some((m) => m === "")) return null;
  const name = `${prefix}${middles.join("_")}${suffix}`;
  return name.length <= MAX_NAME ? name : null;
}

/** Words that join two names (`a_plus_b`): a name never ends with one. */
const JOINING_WORDS = new Set(["plus", "minus", "over", "outer"]);

/**
 * A name for a value whose full derived name is too long, still built from what it is, never its
 * op's bare name: the leading words of the full name that fit, without a joining word left
 * dangling at the end (`gf_df / sqrt_mean_df_df_plus_k` → `gf_df_over_sqrt_mean_df_df`), else the
 * first argument whole and the others by their first word; never a name given before. `a + a`
 * is `twice_a`. At most `MAX_NAME` characters.
 */
function shortName(op: string, args: readonly string[], join: (parts: readonly string[]) => string, taken: ReadonlySet<string>): string {
  if (op === "add" && args.length === 2 && args[0] === args[1]) return leading(`twice_${args[0]}`);
  const heads = args.map((a) => words(a)[0] ?? a);
  const rest = join(["", ...heads.slice(1)]);
  // The first argument's leading words, as many as fit, then fewer, before the others' first words.
  const first = words(args[0]!);
  const shorter = first.map((_, k) => `${leading(first.slice(0, first.length - k).join("_"), MAX_NAME - rest.length)}${rest}`);
  const candidates = [leading(join(args)), join([args[0]!, ...heads.slice(1)]), ...shorter];
  return candidates.find((c) => c.length <= MAX_NAME && !args.includes(c) && !taken.has(c)) ?? leading(join(heads));
}

/** The leading words of `name` that fit in `max` characters, not ending with a joining word. */
function leading(name: string, max = MAX_NAME): string {
  const all = words(name);
  const out = [all[0]!.slice(0, Math.max(1, max))];
  for (let k = 1, length = out[0]!.length; k < all.length && length + 1 + all[k]!.length <= max; k++) {
    out.push(all[k]!);
    length += 1 + all[k]!.length;
  }
  while (out.length > 1 && JOINING_WORDS.has(out[out.length - 1]!)) out.pop();
  return out.join("_");
}

export function describeValues(ir: CellIR): Describe {
  const g = ir.graph;
  // The names the cell and autodiff gave, before codegen names buffers of values it derives.
  const given = new Map(g.names);
  // The gradient of a product named after its param (`W_hn_h_prev`, for W_hn·h_prev) is
  // `d_W_hn_h_prev`: `dW_hn_h_prev` would read as the param's gradient dW_hn times h_prev.
  const leaves = new Set([...ir.params, ...ir.inputs].map((d) => d.name));
  const ofProduct = (value: string) => !leaves.has(value) && [...leaves].some((l) => value.startsWith(`${l}_`));
  // So is a gradient whose name the cell gives a value of its own (lnlstm's `dc = c - mean(c)`:
  // ∂L/∂c is `d_c`).
  const backward = new Set<NodeId>();
  for (const n of g.nodes) if (n.op === "seed" || n.args.some((a) => backward.has(a))) backward.add(n.id);
  const forwardNames = new Set([...given].filter(([id]) => !backward.has(id)).map(([, name]) => name));
  const gradientName = (id: NodeId, name: string) =>
    backward.has(id) && name.startsWith("d") && (ofProduct(name.slice(1)) || forwardNames.has(name)) ? `d_${name.slice(1)}` : name;
  // A name built from what each value is (`r_h_prev` for r ⊙ h_prev, `one_minus_u`), in node
  // order, so a value's name is built from its arguments' names; a long one is shortened.
  const names: string[] = [];
  const named = new Set<string>();
  const give = (name: string) => void (names.push(name), named.add(name));
  for (const n of g.nodes) {
    const known = given.get(n.id);
    if (known !== undefined) {
      give(gradientName(n.id, known));
      continue;
    }
    if (n.op === "const") {
      give(CONSTANT_NAMES[String(n.attrs["value"])] ?? "k");
      continue;
    }
    if (n.op === "seed") {
      const decl = (n.attrs["kind"] === "output" ? ir.outputs : ir.states)[Number(n.attrs["index"])];
      give(decl ? `d${decl.name}_seed` : n.op);
      continue;
    }
    const args = n.args.map((a) => names[a]!);
    const join = (parts: readonly string[]) =>
      n.op in JOINERS ? parts.join(JOINERS[n.op])
        : n.op === "broadcast" ? `${parts[0]!}_each`
        : n.op === "expand" ? `${parts[0]!}_${n.attrs["axis"] === 1 ? "rowwise" : "each_row"}`
        : `${n.op}_${parts.join("_")}`;
    const joined = join(args);
    // A stack is named by what its parts share where they share something (`df_di_dg_do_pre`).
    const stack = n.op === "concat" ? stacked(args) : null;
    give(stack ?? (joined.length <= MAX_NAME ? joined : shortName(n.op, args, join, named)));
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

  /** Each value's comment once made: every kernel that computes the value asks for it. */
  const comments = new Map<NodeId, string | null>();
  const comment = (id: NodeId): string | null => {
    let text = comments.get(id);
    if (text === undefined) comments.set(id, (text = commentOf(id)));
    return text;
  };
  const commentOf = (id: NodeId): string | null => {
    const own = name(id);
    const origins = ir.origins;
    const givenName = given.get(id);
    if (backward.has(id) && givenName?.startsWith("d")) {
      const of = givenName.slice(1);
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
