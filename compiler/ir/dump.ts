/** A stable text dump of a cell's IR (`rnnc build --dump-ir`), one node per line. */
import { type CellIR, liveNodes } from "./cell.js";
import { type Node, type NodeId, formatShape } from "./graph.js";

function attrs(node: Node): string {
  const shown = (k: string) => !["index", "kind", "value"].includes(k) && node.attrs[k] !== false;
  const keys = Object.keys(node.attrs).filter(shown);
  return keys.length ? ` {${keys.map((k) => `${k}=${String(node.attrs[k])}`).join(", ")}}` : "";
}

export function dumpIR(ir: CellIR, label = "ir"): string {
  const { graph } = ir;
  const grads = ir.grads;
  const rootLines: string[] = [
    ...ir.states.map((s, k) => `  state ${s.name} = %${ir.nextStates[k]}`),
    ...ir.outputs.map((o, k) => `  output ${o.name} = %${ir.outputNodes[k]}`),
  ];
  if (grads) {
    const line = (what: string, name: string, id: NodeId | null) => `  grad ${what} ${name} = ${id === null ? "0" : `%${id}`}`;
    ir.params.forEach((p, k) => rootLines.push(line("param", p.name, grads.params[k]!)));
    ir.inputs.forEach((x, k) => rootLines.push(line("input", x.name, grads.inputs[k]!)));
    ir.states.forEach((s, k) => rootLines.push(line("initial", s.name, grads.states[k]!)));
  }
  const live = liveNodes(ir);
  const sizes = [...ir.sizes].map(([k, v]) => `${k}=${v}`).join(", ");
  const lines = live.map((id) => {
    const n = graph.node(id);
    const name = graph.names.get(id);
    const args = n.args.map((a) => ` %${a}`).join("");
    const leaf = n.args.length === 0 && n.op !== "const" ? ` #${String(n.attrs["index"])}${n.attrs["kind"] ? `:${String(n.attrs["kind"])}` : ""}` : "";
    const value = n.op === "const" ? ` ${Object.is(n.attrs["value"], -0) ? "-0" : String(n.attrs["value"])}` : "";
    return `  %${id} = ${n.op}${leaf}${value}${args}${attrs(n)} : ${formatShape(n.shape)}${name ? `  ; ${name}` : ""}`;
  });
  return [`# ${label}: cell ${ir.name} (${sizes}), ${live.length} nodes`, ...lines, "roots:", ...rootLines, ""].join("\n");
}
