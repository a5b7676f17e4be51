/**
 * A cell's IR as equations a person reads (`rnnc explain CELL.cell`): the forward step, then the
 * derived backward step, one line a value, each gradient with the forward equation it comes from:
 *
 *   dWx += Σₜ dh_pre ⊗ x        from  h = tanh(Wx·x + Wh·h[t-1] + b)
 *
 * Named nodes (the cell's own variables, and the gradients autodiff names after them) are printed
 * as their names; other nodes are written inline. Text, Markdown or LaTeX.
 */
import { describeValues } from "./codegen/describe.js";
import type { CellIR } from "./ir/cell.js";
import { walk, type Node, type NodeId } from "./ir/graph.js";

export type EquationFormat = "text" | "markdown" | "latex";

interface Symbols {
  readonly matmul: string;
  readonly mul: string;
  readonly outer: string;
  readonly sum: string;
  readonly transposed: (a: string) => string;
  readonly fn: (name: string, args: string) => string;
  readonly name: (n: string) => string;
  readonly prev: (n: string) => string;
  readonly next: (n: string) => string;
  readonly loss: (n: string) => string;
}

const TEXT: Symbols = {
  matmul: "·", mul: " ⊙ ", outer: "·", sum: "Σₜ ",
  transposed: (a) => `${a}ᵀ`,
  fn: (name, args) => `${name === "sigmoid" ? "σ" : name}(${args})`,
  name: (n) => n,
  prev: (n) => `${n}[t-1]`,
  next: (n) => `${n}[t+1]`,
  loss: (n) => `∂L/∂${n}`,
};

const latexName = (n: string): string => n.replace(/_/g, "\\_");
const LATEX: Symbols = {
  matmul: " \\cdot ", mul: " \\odot ", outer: " \\cdot ", sum: "\\sum_t ",
  transposed: (a) => `${a}^\\top`,
  fn: (name, args) => `${name === "sigmoid" ? "\\sigma" : ["tanh", "exp", "log", "sin", "cos"].includes(name) ? `\\${name}` : `\\operatorname{${name}}`}(${args})`,
  name: (n) => `\\mathit{${latexName(n)}}`,
  prev: (n) => `\\mathit{${latexName(n)}}_{t-1}`,
  next: (n) => `\\mathit{${latexName(n)}}_{t+1}`,
  loss: (n) => `\\frac{\\partial L}{\\partial \\mathit{${latexName(n)}}}`,
};

const INFIX: Readonly<Record<string, [string, number]>> = { add: ["+", 1], sub: ["-", 1], mul: ["⊙", 2], div: ["/", 2], matmul: ["·", 2], outer: ["·", 2] };

class Printer {
  private readonly names = new Map<NodeId, string>();

  constructor(
    private readonly ir: CellIR,
    private readonly s: Symbols,
    shown: ReadonlySet<NodeId>,
    name: (id: NodeId) => string,
  ) {
    for (const id of shown) this.names.set(id, name(id));
  }

  /** A leaf or a named node as a name; anything else inline. `top` is the node an equation defines. */
  expr(id: NodeId, top = false, parent = 0): string {
    const g = this.ir.graph;
    const node = g.node(id);
    if (!top && this.names.has(id)) return this.s.name(this.names.get(id)!);
    if (node.args.length === 0) return this.leaf(node);
    const infix = INFIX[node.op];
    if (infix) {
      const [a, b] = node.args.map((arg, k) => this.operand(node, arg, k, infix[1]));
      const symbol = node.op === "outer" ? this.s.outer : { "·": this.s.matmul, "⊙": this.s.mul }[infix[0]] ?? ` ${infix[0]} `;
      const text = `${a}${symbol}${b}`;
      return parent > infix[1] ? `(${text})` : text;
    }
    if (node.op === "neg") return `-${this.expr(node.args[0]!, false, 3)}`;
    if (node.op === "transpose") return this.s.transposed(this.expr(node.args[0]!, false, 3));
    if (node.op === "concat") return `[${node.args.map((a) => this.expr(a)).join("; ")}]`;
    if (node.op === "broadcast") return this.expr(node.args[0]!, false, parent);
    if (node.op === "slice") {
      const start = Number(node.attrs["start"]);
      return `${this.expr(node.args[0]!, false, 3)}[${start}:${start + Number(node.attrs["length"])}]`;
    }
    if (node.op === "pow" && this.s === TEXT) return `${this.expr(node.args[0]!, false, 4)}^${String(node.attrs["n"])}`;
    const attrs = Object.entries(node.attrs).filter(([k, v]) => v !== false && !["shape"].includes(k));
    const extra = attrs.length > 0 && node.op !== "sum" && node.op !== "mean" ? `; ${attrs.map(([k, v]) => `${k}=${String(v)}`).join(", ")}` : "";
    return this.s.fn(node.op, `${node.args.map((a) => this.expr(a)).join(", ")}${extra}`);
  }

  /** An operand of a product or sum, transposed per the matmul's flags. */
  private operand(node: Node, arg: NodeId, k: number, precedence: number): string {
    // An outer product u ⊗ v is written u·vᵀ, as textbooks write the gradient of W·x.
    const transposed = (node.op === "matmul" && node.attrs[k === 0 ? "ta" : "tb"] === true) || (node.op === "outer" && k === 1);
    const inner = this.expr(arg, false, transposed ? 3 : precedence + (k === 1 ? 1 : 0));
    return transposed ? this.s.transposed(inner) : inner;
  }

  private leaf(node: Node): string {
    const index = Number(node.attrs["index"]);
    switch (node.op) {
      case "param": return this.s.name(this.ir.params[index]!.name);
      case "input": return this.s.name(this.ir.inputs[index]!.name);
      case "state": return this.s.prev(this.ir.states[index]!.name);
      case "const": return String(node.attrs["value"]);
      case "seed": {
        const output = node.attrs["kind"] === "output";
        const name = (output ? this.ir.outputs : this.ir.states)[index]!.name;
        return output ? this.s.loss(name) : this.s.next(`d${name}`);
      }
      default: return node.op;
    }
  }
}

/**
 * Autodiff names the gradient of a sum after one of its terms (`dWh_h_prev`); where that sum is the
 * argument of an activation (`h = tanh(Wx·x + Wh·h + b)`), the gradient is the pre-activation's:
 * `dh_pre`, as textbooks write it.
 */
function preActivationNames(ir: CellIR, forward: readonly NodeId[], backward: readonly NodeId[]): Map<NodeId, string> {
  const g = ir.graph;
  const consumers = new Map<NodeId, NodeId[]>();
  for (const id of forward) for (const a of g.node(id).args) consumers.set(a, [...(consumers.get(a) ?? []), id]);
  const byName = new Map<string, NodeId>(forward.flatMap((id) => (g.names.has(id) ? [[g.names.get(id)!, id] as const] : [])));
  const out = new Map<NodeId, string>();
  for (const id of backward) {
    const term = byName.get(g.names.get(id)?.replace(/^d/, "") ?? "");
    if (term === undefined || g.node(term).op !== "matmul") continue;
    let at = term;
    while (consumers.get(at)?.length === 1 && ["add", "sub"].includes(g.node(consumers.get(at)![0]!).op)) at = consumers.get(at)![0]!;
    const activation = consumers.get(at)?.length === 1 ? consumers.get(at)![0]! : undefined;
    if (activation !== undefined && g.names.has(activation) && g.node(activation).args.length === 1) out.set(id, `d${g.names.get(activation)}_pre`);
  }
  return out;
}

/** Nodes used more than once, or named by the cell, among `ids`: these get their own line. */
function shownNodes(ir: CellIR, ids: readonly NodeId[], named: (id: NodeId) => boolean): Set<NodeId> {
  const uses = new Map<NodeId, number>();
  for (const id of ids) for (const a of ir.graph.node(id).args) uses.set(a, (uses.get(a) ?? 0) + 1);
  return new Set(ids.filter((id) => ir.graph.node(id).args.length > 0 && (named(id) || (uses.get(id) ?? 0) > 1)));
}

/**
 * The forward and backward of one step of `ir` (after autodiff) as equations. With `cellNames`
 * (the cell's states, locals and outputs), only those get a forward line of their own, so the
 * forward reads as the cell was written; names the compiler made up are written inline.
 */
export function explainBackward(ir: CellIR, format: EquationFormat = "text", cellNames?: ReadonlySet<string>): string {
  const s = format === "latex" ? LATEX : TEXT;
  const grads = ir.grads!;
  const forwardRoots = [...ir.nextStates, ...ir.outputNodes];
  const forward = [...walk(ir.graph, forwardRoots)].sort((a, b) => a - b);
  const isForward = new Set(forward);
  const gradRoots = [...grads.params, ...grads.inputs, ...grads.states].filter((n): n is NodeId => n !== null);
  const backward = [...walk(ir.graph, gradRoots)].sort((a, b) => a - b).filter((id) => !isForward.has(id));
  const rootSet = new Set<NodeId>([...forwardRoots, ...gradRoots]);
  const named = (id: NodeId): boolean => ir.graph.names.has(id) && (!cellNames || !isForward.has(id) || cellNames.has(ir.graph.names.get(id)!));
  const shown = new Set([...shownNodes(ir, [...forward, ...backward], named), ...[...rootSet].filter((id) => ir.graph.node(id).args.length > 0)]);
  const rename = preActivationNames(ir, forward, backward);
  const described = describeValues(ir);
  const plainName = (id: NodeId) => rename.get(id) ?? ir.graph.names.get(id) ?? described.name(id);
  const p = new Printer(ir, s, shown, plainName);
  const name = (id: NodeId) => s.name(plainName(id));

  const fwdIds = forward.filter((id) => shown.has(id));
  const fwdLines = fwdIds.map((id) => [name(id), p.expr(id, true)] as const);
  /** The forward equation whose right side reads `leaf` (without looking into other equations); several by name. */
  const fromOf = (leaf: NodeId): string | undefined => {
    const reads = (id: NodeId, top: boolean): boolean =>
      id === leaf || ((top || !shown.has(id)) && ir.graph.node(id).args.some((a) => reads(a, false)));
    const found = fwdIds.flatMap((id, k) => (reads(id, true) ? [k] : []));
    if (found.length === 0) return undefined;
    return found.length === 1 ? `${fwdLines[found[0]!]![0]} = ${fwdLines[found[0]!]![1]}` : found.map((k) => fwdLines[k]![0]).join(", ");
  };
  const usedInside = new Set(backward.flatMap((id) => ir.graph.node(id).args));
  const lineIds = backward.filter((id) => shown.has(id) && (!gradRoots.includes(id) || usedInside.has(id)));
  const bwdLines = lineIds.map((id) => [name(id), p.expr(id, true)] as const);
  const gradLine = (kind: "param" | "input" | "initial", label: string, id: NodeId | null, leaf: NodeId): string[] => {
    const value = id === null ? "0" : lineIds.includes(id) || isForward.has(id) ? name(id) : p.expr(id, true);
    const target = kind === "param" ? `d${label} += ${s.sum}` : kind === "input" ? `d${label} = ` : `d${label}[t-1] = `;
    const lhs = format === "latex" ? target.replace(/^d(\w+)/, (_, n: string) => `\\mathit{d${latexName(n)}}`).replace("[t-1]", "_{t-1}") : target;
    const from = id === null ? undefined : fromOf(leaf);
    return [`${lhs}${value}`, from ?? ""];
  };
  const gradRows = [
    ...ir.params.map((q, k) => gradLine("param", q.name, grads.params[k]!, ir.leaves.params[k]!)),
    ...ir.inputs.map((x, k) => gradLine("input", x.name, grads.inputs[k]!, ir.leaves.inputs[k]!)),
    ...ir.states.map((h, k) => gradLine("initial", h.name, grads.states[k]!, ir.leaves.states[k]!)),
  ];
  return render(ir, format, fwdLines, bwdLines, gradRows);
}

function render(ir: CellIR, format: EquationFormat, fwd: readonly (readonly [string, string])[], bwd: readonly (readonly [string, string])[], grads: readonly string[][]): string {
  const sizes = [...ir.sizes].map(([k, v]) => `${k}=${v}`).join(", ");
  const title = `cell ${ir.name} (${sizes}): one step t, forward then backward; a param's gradient is summed over every step t (Σₜ) and sequence`;
  const eq = ([l, r]: readonly [string, string]) => `${l} = ${r}`;
  if (format === "latex") {
    const rows = (lines: readonly string[]) => lines.map((l) => `  ${l.replace(" = ", " &= ").replace(" += ", " &\\mathrel{+}= ")} \\\\`);
    return [`% ${title}`, "\\begin{align*}", ...rows(fwd.map(eq)), "\\end{align*}", "\\begin{align*}",
      ...rows([...bwd.map(eq), ...grads.map(([l]) => l!)]), "\\end{align*}"].join("\n");
  }
  const width = Math.min(32, Math.max(0, ...grads.map(([l]) => [...l!].length)));
  const gradText = grads.map(([l, from]) => (from ? `${l!.padEnd(width)}   from  ${from}` : l!));
  if (format === "markdown") {
    const code = (lines: readonly string[]) => ["```", ...lines, "```"];
    return [`**${title}**`, "", "Forward:", "", ...code(fwd.map(eq)), "", "Backward (from the last step to the first):", "",
      ...code([...bwd.map(eq), ...gradText])].join("\n");
  }
  return [title, "", "forward:", ...fwd.map((l) => `  ${eq(l)}`), "", "backward (from the last step to the first):",
    ...bwd.map((l) => `  ${eq(l)}`), ...gradText.map((l) => `  ${l}`)].join("\n");
}
