/** The step's compute graph (and with `backward`, the derived gradient graph) as DOT or Mermaid. */
import { type CellIR, forwardRoots as forwardRootsOf, gradientRoots, liveNodes } from "./cell.js";
import { type NodeId, formatShape } from "./graph.js";

export type GraphFormat = "dot" | "mermaid";

interface Drawn {
  readonly nodes: { id: NodeId; label: string; kind: "leaf" | "op" | "grad" }[];
  readonly edges: [NodeId, NodeId][];
  readonly roots: { id: NodeId; label: string }[];
}

function collect(ir: CellIR, backward: boolean): Drawn {
  const g = ir.grads;
  const forwardRoots = forwardRootsOf(ir);
  const forwardSet = new Set(liveNodes(ir, forwardRoots));
  const live = liveNodes(ir, backward ? [...forwardRoots, ...gradientRoots(ir)] : forwardRoots);
  const nodes = live.map((id) => {
    const n = ir.graph.node(id);
    const name = ir.graph.names.get(id);
    const what = n.op === "const" ? String(n.attrs["value"]) : n.op;
    const label = `${name ? `${name} = ` : ""}${what} ${formatShape(n.shape)}`;
    const kind = n.args.length === 0 && n.op !== "const" ? "leaf" : forwardSet.has(id) ? "op" : "grad";
    return { id, label, kind } as const;
  });
  const edges = live.flatMap((id) => ir.graph.node(id).args.map((a) => [a, id] as [NodeId, NodeId]));
  const roots = [
    ...ir.states.map((s, k) => ({ id: ir.nextStates[k]!, label: `state ${s.name}` })),
    ...ir.outputs.map((o, k) => ({ id: ir.outputNodes[k]!, label: `output ${o.name}` })),
  ];
  if (g && backward) {
    ir.params.forEach((p, k) => g.params[k] != null && roots.push({ id: g.params[k]!, label: `grad ${p.name}` }));
    ir.inputs.forEach((x, k) => g.inputs[k] != null && roots.push({ id: g.inputs[k]!, label: `grad ${x.name}` }));
    ir.states.forEach((s, k) => g.states[k] != null && roots.push({ id: g.states[k]!, label: `grad ${s.name}₀` }));
  }
  return { nodes, edges, roots };
}

const quote = (s: string) => JSON.stringify(s);

export function drawGraph(ir: CellIR, format: GraphFormat, backward = false): string {
  const d = collect(ir, backward);
  if (format === "mermaid") {
    const esc = (s: string) => s.replace(/"/g, "#quot;");
    return [
      "flowchart TB",
      ...d.nodes.map((n) => `  n${n.id}${n.kind === "leaf" ? `(["${esc(n.label)}"])` : `["${esc(n.label)}"]`}`),
      ...d.edges.map(([a, b]) => `  n${a} --> n${b}`),
      ...d.roots.map((r, k) => `  r${k}{{"${esc(r.label)}"}}\n  n${r.id} --> r${k}`),
      "",
    ].join("\n");
  }
  const style = { leaf: "shape=ellipse,style=filled,fillcolor=\"#e8f0fe\"", op: "shape=box", grad: "shape=box,style=filled,fillcolor=\"#fde8e8\"" };
  return [
    `digraph ${quote(ir.name)} {`,
    "  rankdir=TB; node [fontname=\"Helvetica\", fontsize=10];",
    ...d.nodes.map((n) => `  n${n.id} [label=${quote(n.label)}, ${style[n.kind]}];`),
    ...d.edges.map(([a, b]) => `  n${a} -> n${b};`),
    ...d.roots.map((r, k) => `  r${k} [label=${quote(r.label)}, shape=plaintext];\n  n${r.id} -> r${k} [style=dashed];`),
    "}",
    "",
  ].join("\n");
}
