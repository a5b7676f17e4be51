/** Lowering: a checked cell becomes the IR graph of one time step. */
import type { CheckedCell, TExpr } from "./ast.js";
import type { CellIR, Origin } from "./ir/cell.js";
import { Graph, type NodeId } from "./ir/graph.js";
import { opDef } from "./ops/index.js";
import type { Source, Span } from "./source.js";

/** With the cell's `source`, the IR records where each named value comes from (`CellIR.origins`). */
export function lowerCell(cell: CheckedCell, source?: Source): CellIR {
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
        return graph.apply(e.op, args, e.attrs);
      }
    }
  };

  // Each node remembers the first statement that built it (nodes are shared when equal).
  const builtBy = new Map<NodeId, Span>();
  const leafCount = graph.nodes.length;
  const parts = new Map<string, Span>();
  const built = (span: Span, id: NodeId) => {
    for (let n = graph.nodes.length - 1; n >= leafCount && !builtBy.has(n); n--) builtBy.set(n, span);
    return id;
  };
  for (const eq of cell.equations) {
    const id = lower(eq.expr);
    // The argument of a gate's activation (`Wf·x + Uf·h + bf` in `f = σ(…)`) is `f_pre`; its
    // gradient is then `df_pre`, not named after whichever term of the sum was named first.
    const node = graph.node(id);
    if (eq.expr.kind === "op" && node.args.length === 1 && opDef(node.op).kind === "elementwise" && !graph.names.has(node.args[0]!)) {
      const arg = eq.expr.args[0]!;
      if (arg.kind === "op" && graph.node(node.args[0]!).op === arg.op) {
        graph.name(node.args[0]!, `${eq.target}_pre`);
        parts.set(`${eq.target}_pre`, arg.span);
      }
    }
    assigned.push(graph.name(built(eq.span, id), eq.target));
  }
  const nextStates = cell.states.map((_, i) => {
    const k = findLastIndex(cell.equations, (eq) => eq.state === i);
    return k < 0 ? leaves.states[i]! : assigned[k]!;
  });
  const outputNodes = cell.outputs.map((o) => graph.name(built(o.span, lower(o.expr)), o.name));
  nameIntermediates(graph);
  const origins = new Map<string, Origin>();
  if (source) {
    const file = source.path.slice(Math.max(source.path.lastIndexOf("/"), source.path.lastIndexOf("\\")) + 1);
    const origin = (span: Span, part?: boolean): Origin => ({
      text: oneLine(source.text.slice(span.start, span.end)),
      file,
      line: source.position(span.start).line,
      ...(part ? { part } : {}),
    });
    for (const [id, name] of graph.names) {
      const span = builtBy.get(id);
      if (span && !origins.has(name)) origins.set(name, origin(span));
    }
    for (const [name, span] of parts) origins.set(name, origin(span, true));
  }

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
    ...(source ? { origins } : {}),
  };
}

/** Source text on one line: `#` comments dropped, every run of white space (line breaks too) one space. */
function oneLine(text: string): string {
  return text.replace(/#[^\n\r\u2028\u2029]*/gu, "").replace(/\s+/gu, " ").trim();
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
