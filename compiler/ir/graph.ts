/**
 * The IR: one explicit graph per time step. Nodes are hash-consed on construction (structurally
 * equal nodes are one node), shapes are computed by each op's shape rule (leaves and broadcasts
 * are built with theirs), every node carries all its op's attributes (defaults filled in), and the
 * node list is always in topological order (a node's arguments precede it). `ir/verify.ts` checks
 * all of that on a finished graph.
 */
import type { Shape } from "../ast.js";
import { opDef, withDefaults } from "../ops/index.js";

export type NodeId = number;
export type AttrValue = number | boolean | string;
export type Attrs = Readonly<Record<string, AttrValue>>;

export interface Node {
  readonly id: NodeId;
  readonly op: string;
  readonly args: readonly NodeId[];
  readonly shape: Shape;
  readonly attrs: Attrs;
}

/** An internal compiler error: an IR invariant was broken. Never caused by user input. */
export class IRError extends Error {}

export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** `String`, except that −0 stays apart from 0 (a constant −0 is not the constant 0). */
const attrText = (v: AttrValue): string => (Object.is(v, -0) ? "-0" : String(v));

function attrKey(attrs: Attrs): string {
  return Object.keys(attrs)
    .sort()
    .map((k) => `${k}=${attrText(attrs[k]!)}`)
    .join(",");
}

export class Graph {
  readonly nodes: Node[] = [];
  /** Readable names for nodes (the cell's own variable names), used by dumps and codegen. */
  readonly names = new Map<NodeId, string>();
  private readonly memo = new Map<string, NodeId>();

  node(id: NodeId): Node {
    const n = this.nodes[id];
    if (!n) throw new IRError(`no node %${id}`);
    return n;
  }

  shape(id: NodeId): Shape {
    return this.node(id).shape;
  }

  /**
   * Adds (or finds) the node `op(args)`; the op's shape rule must accept the arguments. `shape` is
   * the shape of a leaf or a broadcast; given for another op, it must be what the rule computes.
   */
  apply(op: string, argIds: readonly NodeId[], attrs: Attrs = {}, shape?: Shape): NodeId {
    const def = opDef(op);
    const full = withDefaults(def, attrs);
    const computed = def.shape(argIds.map((a) => this.shape(a)), full, shape);
    if (typeof computed === "string") throw new IRError(`${op}: ${computed}`);
    if (shape && !sameShape(shape, computed)) throw new IRError(`${op}: built as ${formatShape(shape)}, its shape rule gives ${formatShape(computed)}`);
    const key = `${op}(${argIds.join(",")}){${attrKey(full)}}${computed.join("x")}`;
    const found = this.memo.get(key);
    if (found !== undefined) return found;
    const id = this.nodes.length;
    this.nodes.push({ id, op, args: argIds, shape: computed, attrs: full });
    this.memo.set(key, id);
    return id;
  }

  /** Adds (or finds) a node like `node` (same op, attributes and shape) over `args`. */
  copy(node: Node, args: readonly NodeId[]): NodeId {
    return this.apply(node.op, args, node.attrs, node.shape);
  }

  const(value: number, shape: Shape = []): NodeId {
    const c = this.apply("const", [], { value });
    return shape.length === 0 ? c : this.broadcast(c, shape);
  }

  leaf(op: "input" | "param" | "state" | "seed", index: number, shape: Shape, kind = ""): NodeId {
    return this.apply(op, [], { index, ...(kind ? { kind } : {}) }, shape);
  }

  name(id: NodeId, name: string): NodeId {
    if (!this.names.has(id)) this.names.set(id, name);
    return id;
  }

  // Sugar used by derivative rules and lowering.
  add(a: NodeId, b: NodeId): NodeId { return this.apply("add", [a, b]); }
  sub(a: NodeId, b: NodeId): NodeId { return this.apply("sub", [a, b]); }
  mul(a: NodeId, b: NodeId): NodeId { return this.apply("mul", [a, b]); }
  div(a: NodeId, b: NodeId): NodeId { return this.apply("div", [a, b]); }
  neg(a: NodeId): NodeId { return this.apply("neg", [a]); }
  unary(op: string, a: NodeId): NodeId { return this.apply(op, [a]); }
  matmul(a: NodeId, b: NodeId, ta = false, tb = false): NodeId {
    return this.apply("matmul", [a, b], { ta, tb });
  }
  transpose(a: NodeId): NodeId { return this.apply("transpose", [a]); }
  outer(a: NodeId, b: NodeId): NodeId { return this.apply("outer", [a, b]); }
  sum(a: NodeId): NodeId { return this.apply("sum", [a]); }
  broadcast(a: NodeId, shape: Shape): NodeId { return this.apply("broadcast", [a], {}, shape); }
  slice(a: NodeId, start: number, length: number): NodeId { return this.apply("slice", [a], { start, length }); }
  pad(a: NodeId, start: number, total: number): NodeId { return this.apply("pad", [a], { start, total }); }

}

/** Nodes reachable from `roots` through arguments, not descending below nodes where `stop` holds. */
export function walk(graph: Graph, roots: readonly NodeId[], stop: (id: NodeId) => boolean = () => false): Set<NodeId> {
  const seen = new Set<NodeId>();
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (!stop(id)) stack.push(...graph.node(id).args);
  }
  return seen;
}
