/**
 * Stacking matrix products. Products of several params with the same vector — an LSTM's four
 * `W·x`, its four `U·h` — become one product with the params stacked by rows, read back through
 * slices (views, not copies). In the backward, a sum of transposed products `Σ Aᵢᵀ·gᵢ` (the
 * gradient flowing into `h` from every gate) becomes one product `[A₁; …; Aₖ]ᵀ·[g₁; …; gₖ]`.
 */
import type { CellIR } from "../ir/cell.js";
import type { Graph, Node, NodeId } from "../ir/graph.js";
import { liveNodes, roots } from "../ir/cell.js";
import { rebuild } from "./rebuild.js";

const isParam = (g: Graph, id: NodeId) => g.node(id).op === "param";

/** `A·v` with A a param and v a vector (no transposes). */
function plainProduct(g: Graph, n: Node): boolean {
  return n.op === "matmul" && n.attrs["ta"] === false && n.attrs["tb"] === false && isParam(g, n.args[0]!) && g.shape(n.args[1]!).length === 1;
}

/**
 * The canonical order of a stack: by the params' declared order. The forward's `[Wf; Wi; Wg; Wo]·x`
 * and the backward's `[Wf; Wi; Wg; Wo]ᵀ·[df; di; dg; do]` then stack the same params into one node,
 * whatever order the terms of a sum came in, and both kernels share one stacked copy.
 */
function canonical(g: Graph, products: readonly NodeId[]): NodeId[] {
  const param = (id: NodeId) => Number(g.node(g.node(id).args[0]!).attrs["index"]);
  return [...products].sort((a, b) => param(a) - param(b) || a - b);
}

/** `Aᵀ·v` with A a param and v a vector. */
function transposedProduct(g: Graph, n: Node): boolean {
  return n.op === "matmul" && n.attrs["ta"] === true && n.attrs["tb"] === false && isParam(g, n.args[0]!) && g.shape(n.args[1]!).length === 1;
}

export function stack(ir: CellIR): CellIR {
  const old = ir.graph;
  const live = liveNodes(ir, [...roots(ir), ...ir.leaves.params]);
  const uses = new Map<NodeId, number>();
  const insideSum = new Set<NodeId>();
  for (const id of live) for (const a of old.node(id).args) uses.set(a, (uses.get(a) ?? 0) + 1);
  for (const id of live) if (old.node(id).op === "add") for (const a of old.node(id).args) if (uses.get(a) === 1) insideSum.add(a);
  // The backward: nodes that depend on a gradient seed. Only there are sums of transposed products
  // stacked, since one product over the stacked rows adds their terms in another order (a float
  // rounds differently); the forward keeps every bit of the unoptimized cell's values.
  const backward = new Set<NodeId>();
  for (const id of live) {
    const n = old.node(id);
    if (n.op === "seed" || n.args.some((a) => backward.has(a))) backward.add(id);
  }

  // Products of several params with one vector, keyed by the vector.
  const groups = new Map<NodeId, NodeId[]>();
  for (const id of live) {
    const n = old.node(id);
    if (plainProduct(old, n)) groups.set(n.args[1]!, [...(groups.get(n.args[1]!) ?? []), id]);
  }
  for (const [vector, members] of groups) groups.set(vector, canonical(old, members));
  const startRow = new Map<NodeId, number>();
  const built = new Map<NodeId, NodeId>();

  /** The terms of a sum, through additions used nowhere else. */
  const terms = (id: NodeId, top: boolean): NodeId[] => {
    const n = old.node(id);
    if (n.op === "add" && (top || uses.get(id) === 1) && n.args.every((a) => old.shape(a).length === n.shape.length))
      return n.args.flatMap((a) => terms(a, false));
    return [id];
  };

  return rebuild(ir, (node, args, g, mapped) => {
    const group = plainProduct(old, node) ? groups.get(node.args[1]!)! : [];
    if (group.length >= 2) {
      const key = node.args[1]!;
      if (!built.has(key)) {
        let start = 0;
        for (const member of group) {
          startRow.set(member, start);
          start += old.shape(member)[0]!;
        }
        const matrix = stackedName(g, g.apply("concat", group.map((m) => mapped(old.node(m).args[0]!))));
        const product = g.matmul(matrix, args[1]!);
        const [mName, vName] = [g.names.get(matrix), g.names.get(args[1]!)];
        built.set(key, mName && vName ? g.name(product, `${mName}_${vName}`) : product);
      }
      return g.slice(built.get(key)!, startRow.get(node.id)!, node.shape[0]!);
    }
    if (node.op === "add" && node.shape.length === 1 && !insideSum.has(node.id) && backward.has(node.id)) {
      const parts = terms(node.id, true);
      const products = canonical(old, parts.filter((t) => transposedProduct(old, old.node(t))));
      if (products.length >= 2 && parts.length > 1) {
        const others = parts.filter((t) => !products.includes(t)).map(mapped);
        const matrix = stackedName(g, g.apply("concat", products.map((t) => mapped(old.node(t).args[0]!))));
        const vector = g.apply("concat", products.map((t) => mapped(old.node(t).args[1]!)));
        return [...others, g.matmul(matrix, vector, true, false)].reduce((a, b) => g.add(a, b));
      }
    }
    return g.copy(node, args);
  });
}

/** Names a stack of named params after them (`Wf_Wi_Wg_Wo`), so emitted code says what it holds. */
function stackedName(g: Graph, concat: NodeId): NodeId {
  const names = g.node(concat).args.map((a) => g.names.get(a));
  return names.every((n) => n !== undefined) ? g.name(concat, names.join("_")) : concat;
}
