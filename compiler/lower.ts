/** Lowering: a checked cell becomes the IR graph of one time step. */
import type { CheckedCell, TExpr } from "./ast.js";
import type { CellIR } from "./ir/cell.js";
import { Graph, type NodeId } from "./ir/graph.js";

export function lowerCell(cell: CheckedCell): CellIR {
  const graph = new Graph();
  const leaves = {
    params: cell.params.map((p, i) => graph.name(graph.leaf("param", i, p.shape), p.name)),
    inputs: cell.inputs.map((x, i) => graph.name(graph.leaf("input", i, x.shape), x.name)),
    states: cell.states.map((s, i) => graph.name(graph.leaf("state", i, s.shape), `${s.name}_prev`)),
  };
  const assigned: NodeId[] = [];

  const lower = (e: TExpr): NodeId => {
    switch (e.kind) {
      case "const":
        return graph.const(e.value);
      case "ref": {
        const b = e.binding;
        if (b.kind === "param") return leaves.params[b.index]!;
        if (b.kind === "input") return leaves.inputs[b.index]!;
        if (b.kind === "statePrev") return leaves.states[b.index]!;
        return assigned[b.equation]!;
      }
      case "op": {
        const args = e.args.map(lower);
        return graph.apply(e.op, args);
      }
    }
  };

  for (const eq of cell.equations) assigned.push(graph.name(lower(eq.expr), eq.target));
  const nextStates = cell.states.map((_, i) => {
    const k = findLastIndex(cell.equations, (eq) => eq.state === i);
    return k < 0 ? leaves.states[i]! : assigned[k]!;
  });
  const outputNodes = cell.outputs.map((o) => graph.name(lower(o.expr), o.name));
  nameIntermediates(graph);

  return {
    name: cell.name,
    sizes: cell.sizes,
    params: cell.params,
    inputs: cell.inputs,
    states: cell.states,
    outputs: cell.outputs.map((o) => ({ name: o.name, shape: o.expr.shape, span: o.span })),
    graph,
    leaves,
    nextStates,
    outputNodes,
  };
}

function findLastIndex<T>(xs: readonly T[], pred: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (pred(xs[i]!)) return i;
  return -1;
}

/** Readable names for values the cell does not name: `tanh_c` for tanh(c), `Wf_x` for Wf·x. */
function nameIntermediates(graph: Graph): void {
  for (const node of graph.nodes) {
    if (graph.names.has(node.id)) continue;
    const argNames = node.args.map((a) => graph.names.get(a));
    if (argNames.some((n) => n === undefined)) continue;
    if (node.op === "matmul") graph.name(node.id, `${argNames[0]}_${argNames[1]}`);
    else if (node.args.length === 1 && node.op !== "broadcast") graph.name(node.id, `${node.op}_${argNames[0]}`);
  }
}
