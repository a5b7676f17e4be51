/**
 * Symbolic reverse mode over one time step. Gradients flow in through `seed` leaves — one per
 * output (dLoss/d output at this step) and one per state (dLoss/d state at the end of this step,
 * carried back from step t+1) — and come out as gradient nodes of every param, input and previous
 * state. Running that backward step from t = T−1 down to 0 is backprop through time; the driver
 * never looks at op names: each op's `vjp` builds its own adjoint nodes.
 */
import type { CellIR, Gradients } from "./ir/cell.js";
import { opDef } from "./ops/index.js";
import { type Graph, type NodeId, sameShape } from "./ir/graph.js";

export function differentiate(ir: CellIR): CellIR {
  const { graph } = ir;
  const forwardCount = graph.nodes.length;
  const adjoints = new Map<NodeId, NodeId[]>();
  const contribute = (node: NodeId, adj: NodeId) => {
    const list = adjoints.get(node);
    if (list) list.push(adj);
    else adjoints.set(node, [adj]);
  };

  ir.outputNodes.forEach((node, k) => contribute(node, graph.leaf("seed", k, graph.shape(node), "output")));
  ir.nextStates.forEach((node, k) => contribute(node, graph.leaf("seed", k, graph.shape(node), "state")));

  const total = new Map<NodeId, NodeId>();
  for (let id = forwardCount - 1; id >= 0; id--) {
    const parts = adjoints.get(id);
    if (!parts) continue;
    const g = sum(graph, parts);
    const name = graph.names.get(id);
    if (name) graph.name(g, `d${name}`);
    total.set(id, g);
    const node = graph.node(id);
    const def = opDef(node.op);
    if (def.kind === "leaf" || node.args.length === 0) continue;
    const grads = def.vjp({ graph, node, out: id, args: node.args, g });
    node.args.forEach((arg, i) => {
      const d = grads[i];
      if (d !== null && d !== undefined) contribute(arg, unbroadcast(graph, d, arg));
    });
  }

  const gradOf = (leaf: NodeId): NodeId | null => total.get(leaf) ?? null;
  const grads: Gradients = {
    params: ir.leaves.params.map(gradOf),
    inputs: ir.leaves.inputs.map(gradOf),
    states: ir.leaves.states.map(gradOf),
  };
  return { ...ir, grads };
}

/** Sums of at most this many adjoints are added left to right, in the order they arrive. */
const SHORT_SUM = 8;

/**
 * The sum of `parts`: left to right when short; as a balanced tree of short sums when long, so
 * the gradient of a value read many times is a shallow expression, not a chain as long as its uses.
 */
function sum(graph: Graph, parts: readonly NodeId[]): NodeId {
  if (parts.length <= SHORT_SUM) return parts.reduce((a, b) => graph.add(a, b));
  const half = Math.ceil(parts.length / 2);
  return graph.add(sum(graph, parts.slice(0, half)), sum(graph, parts.slice(half)));
}

/** Sums an adjoint back down to the shape of a scalar argument that was broadcast. */
export function unbroadcast(graph: Graph, adj: NodeId, arg: NodeId): NodeId {
  const target = graph.shape(arg);
  if (sameShape(graph.shape(adj), target)) return adj;
  if (target.length === 0) return graph.sum(adj);
  throw new Error(`internal error: adjoint shape [${graph.shape(adj)}] for argument [${target}]`);
}
