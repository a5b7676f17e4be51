/**
 * Algebraic simplification. The rules are data — `(pattern) → (replacement)` in a small
 * s-expression language — applied bottom-up while rebuilding, and the rebuild repeats until a
 * round changes nothing (or a round limit, which the result reports). Constant folding of
 * elementwise ops runs alongside through each op's own `scalar` rule.
 *
 * Every rule must give the same double as what it replaces for every argument — ±0, ±∞ and NaN
 * included (NaN payloads aside) — so an optimized kernel computes the very bits of an unoptimized
 * one. That rules out `x + 0 → x` (−0 + 0 is +0), `0 − x → −x` (0 − 0 is +0), `x · 0 → 0` (NaN,
 * ∞ and the sign of x) and `x − x → 0` (NaN, ∞); the zero rules below use −0, which is exact.
 */
import type { CellIR } from "../ir/cell.js";
import { type Attrs, type Graph, type NodeId, sameShape } from "../ir/graph.js";
import { opDef } from "../ops/index.js";
import { rebuild } from "./rebuild.js";

export const RULES: readonly (readonly [string, string, string])[] = [
  ["mul-one", "(mul ?x 1)", "?x"],
  ["one-mul", "(mul 1 ?x)", "?x"],
  // x + (−0) is x for every x; x + 0 is not (−0 + 0 = +0), so only the −0 forms drop out.
  ["add-negzero", "(add ?x -0)", "?x"],
  ["negzero-add", "(add -0 ?x)", "?x"],
  ["sub-zero", "(sub ?x 0)", "?x"],
  // −0 − x is −x for every x; 0 − x is not (0 − 0 = +0, −0 is −0).
  ["negzero-sub", "(sub -0 ?x)", "(neg ?x)"],
  ["div-one", "(div ?x 1)", "?x"],
  ["neg-neg", "(neg (neg ?x))", "?x"],
  ["neg-mul-neg", "(mul (neg ?x) (neg ?y))", "(mul ?x ?y)"],
  ["transpose-transpose", "(transpose (transpose ?x))", "?x"],
];

/**
 * Layout rules: a transpose folded into the product that reads it. Each gives the same sums as
 * what it replaces, but computed by another product kernel (`nn` instead of `nt`, a tiled `Σ a ⊗ b`
 * instead of one outer product per row), whose summation order may differ — they are exact in
 * real arithmetic, not bit for bit, like stacking (see `PassOptions.layout`).
 */
export const LAYOUT_RULES: readonly (readonly [string, string, string])[] = [
  ["transpose-outer", "(transpose (outer ?a ?b))", "(outer ?b ?a)"],
  ["matmul-ta", "(matmul{ta=false,tb=false} (transpose ?a) ?b)", "(matmul{ta=true,tb=false} ?a ?b)"],
  ["matmul-tb", "(matmul{ta=false,tb=false} ?a (transpose ?b))", "(matmul{ta=false,tb=true} ?a ?b)"],
  ["matmul-ta-tb", "(matmul{ta=false,tb=true} (transpose ?a) ?b)", "(matmul{ta=true,tb=true} ?a ?b)"],
  ["matmul-tb-ta", "(matmul{ta=true,tb=false} ?a (transpose ?b))", "(matmul{ta=true,tb=true} ?a ?b)"],
];

type Pattern =
  | { readonly kind: "var"; readonly name: string }
  | { readonly kind: "num"; readonly value: number }
  | { readonly kind: "op"; readonly op: string; readonly attrs: Attrs; readonly args: readonly Pattern[] };

function parsePattern(text: string): Pattern {
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let at = 0;
  const parse = (): Pattern => {
    const tok = tokens[at++]!;
    if (tok.startsWith("?")) return { kind: "var", name: tok };
    if (tok !== "(") return { kind: "num", value: Number(tok) };
    const [, op, attrText] = /^([a-z]+)(?:\{(.*)\})?$/.exec(tokens[at++]!)!;
    const attrs: Record<string, boolean | number> = {};
    for (const kv of attrText ? attrText.split(",") : []) {
      const [k, v] = kv.split("=") as [string, string];
      attrs[k] = v === "true" ? true : v === "false" ? false : Number(v);
    }
    const args: Pattern[] = [];
    while (tokens[at] !== ")") args.push(parse());
    at++;
    return { kind: "op", op: op!, attrs, args };
  };
  return parse();
}

interface Rule {
  readonly name: string;
  readonly pattern: Pattern;
  readonly replacement: Pattern;
}

const compile = (rules: typeof RULES): Rule[] =>
  rules.map(([name, p, r]) => ({ name, pattern: parsePattern(p), replacement: parsePattern(r) }));
const VALUE_ONLY = compile(RULES);
const WITH_LAYOUT = compile([...RULES, ...LAYOUT_RULES]);

function match(p: Pattern, id: NodeId, g: Graph, vars: Map<string, NodeId>): boolean {
  const node = g.node(id);
  if (p.kind === "var") {
    const bound = vars.get(p.name);
    if (bound !== undefined) return bound === id;
    vars.set(p.name, id);
    return true;
  }
  if (p.kind === "num") return node.op === "const" && Object.is(Number(node.attrs["value"]), p.value);
  if (node.op !== p.op || node.args.length !== p.args.length) return false;
  if (Object.entries(p.attrs).some(([k, v]) => node.attrs[k] !== v)) return false;
  return p.args.every((a, i) => match(a, node.args[i]!, g, vars));
}

function instantiate(p: Pattern, g: Graph, vars: ReadonlyMap<string, NodeId>): NodeId {
  if (p.kind === "var") return vars.get(p.name)!;
  if (p.kind === "num") return g.const(p.value);
  return g.apply(p.op, p.args.map((a) => instantiate(a, g, vars)), p.attrs);
}

/** Folds an elementwise op whose arguments are all scalar constants. */
function fold(id: NodeId, g: Graph): NodeId | null {
  const node = g.node(id);
  const def = opDef(node.op);
  if (def.kind !== "elementwise" || node.args.length === 0 || node.shape.length !== 0) return null;
  const args = node.args.map((a) => g.node(a));
  if (!args.every((a) => a.op === "const")) return null;
  return g.const(def.scalar(args.map((a) => Number(a.attrs["value"])), node.attrs));
}

export interface SimplifyStats {
  readonly rounds: number;
  readonly rewrites: Readonly<Record<string, number>>;
  readonly stopped: "fixed point" | "round limit";
}

/** Where layout rules apply: nowhere, in the backward only (nodes that depend on a gradient seed), everywhere. */
export type Layout = "none" | "backward" | "all";

/**
 * Simplifies to a fixed point. Layout rules apply by default in the backward only, where sums are
 * reassociated anyway, so that the forward keeps every bit of the unoptimized build.
 */
export function simplify(ir: CellIR, { maxRounds = 10, layout = "backward" as Layout } = {}): { ir: CellIR; stats: SimplifyStats } {
  const rewrites: Record<string, number> = {};
  let current = ir;
  for (let round = 1; round <= maxRounds; round++) {
    let changed = 0;
    const backward = new Set<NodeId>();
    current = rebuild(current, (node, args, g) => {
      const inBackward = node.op === "seed" || args.some((a) => backward.has(a));
      const rules = layout === "all" || (layout === "backward" && inBackward) ? WITH_LAYOUT : VALUE_ONLY;
      let id = g.copy(node, args);
      if (inBackward) backward.add(id);
      for (let guard = 0; guard < 100; guard++) {
        const next = rewriteOnce(id, g, rules, rewrites);
        if (next === null) break;
        id = next;
        changed++;
      }
      if (inBackward) backward.add(id);
      return id;
    });
    if (changed === 0) return { ir: current, stats: { rounds: round, rewrites, stopped: "fixed point" } };
  }
  return { ir: current, stats: { rounds: maxRounds, rewrites, stopped: "round limit" } };
}

function rewriteOnce(id: NodeId, g: Graph, rules: readonly Rule[], counts: Record<string, number>): NodeId | null {
  const folded = fold(id, g);
  if (folded !== null && folded !== id) return ((counts["constant-fold"] = (counts["constant-fold"] ?? 0) + 1), folded);
  for (const rule of rules) {
    const vars = new Map<string, NodeId>();
    if (!match(rule.pattern, id, g, vars)) continue;
    const next = instantiate(rule.replacement, g, vars);
    if (next === id || !sameShape(g.shape(next), g.shape(id))) continue;
    // A node never becomes a sum (`(a + b + c) / 1` stays): where a sum is a kernel's result, the
    // code generator adds its terms one by one in its own order, which would change the rounding.
    if (g.node(next).op === "add" && g.node(id).op !== "add") continue;
    counts[rule.name] = (counts[rule.name] ?? 0) + 1;
    return next;
  }
  return null;
}
