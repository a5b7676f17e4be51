/**
 * Rebuilding a cell's graph through a rewrite: every live node, in order, is re-added to a fresh
 * graph (hash-consing merges equal nodes, and dead nodes are never copied), and the rewrite may
 * replace it. Roots, leaves and names follow their nodes.
 */
import { type CellIR, declaredLeaves, liveNodes, roots } from "../ir/cell.js";
import { Graph, type Node, type NodeId } from "../ir/graph.js";

/**
 * Returns the replacement of `node` (whose arguments are already rebuilt as `args`) in `g`;
 * `mapped` gives the rebuilt node of any earlier node of the old graph.
 */
export type Rewrite = (node: Node, args: readonly NodeId[], g: Graph, mapped: (old: NodeId) => NodeId) => NodeId;

export const copyNode: Rewrite = (node, args, g) => g.copy(node, args);

export function rebuild(ir: CellIR, rewrite: Rewrite = copyNode): CellIR {
  const graph = new Graph();
  const map = new Map<NodeId, NodeId>();
  // Declared leaves survive even when nothing reads them: the cell's interface names them all.
  for (const id of liveNodes(ir, [...declaredLeaves(ir), ...roots(ir)])) {
    const node = ir.graph.node(id);
    const next = rewrite(node, node.args.map((a) => map.get(a)!), graph, (old) => map.get(old)!);
    map.set(id, next);
    const name = ir.graph.names.get(id);
    if (name) graph.name(next, name);
  }
  const to = (id: NodeId) => map.get(id)!;
  const toGrad = (id: NodeId | null) => (id === null ? null : to(id));
  return {
    ...ir,
    graph,
    leaves: { params: ir.leaves.params.map(to), inputs: ir.leaves.inputs.map(to), states: ir.leaves.states.map(to) },
    nextStates: ir.nextStates.map(to),
    outputNodes: ir.outputNodes.map(to),
    grads: ir.grads && {
      params: ir.grads.params.map(toGrad),
      inputs: ir.grads.inputs.map(toGrad),
      states: ir.grads.states.map(toGrad),
    },
  };
}
