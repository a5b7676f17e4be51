/**
 * What the forward pass records for the backward (the tape). A value the backward needs that does
 * not depend on a gradient seed is either read from where the forward left it (inputs, params,
 * state history, outputs), taped, or — when the forward never computed it — recomputed in the
 * backward from values that are.
 */
import type { CellIR } from "../ir/cell.js";
import { type NodeId } from "../ir/graph.js";
import { opDef } from "../ops/index.js";

export interface TapePlan {
  /** Nodes the forward stores per step and batch entry, in id order. */
  readonly taped: readonly NodeId[];
}

/** Nodes that depend on a gradient seed: computable only in the backward. */
export function seedDependent(ir: CellIR): Set<NodeId> {
  const out = new Set<NodeId>();
  for (const node of ir.graph.nodes) {
    if (node.op === "seed" || node.args.some((a) => out.has(a))) out.add(node.id);
  }
  return out;
}

/** Non-leaf nodes the forward pass computes. */
export function forwardComputed(ir: CellIR): Set<NodeId> {
  const out = new Set<NodeId>();
  const stack = [...ir.nextStates, ...ir.outputNodes];
  while (stack.length) {
    const id = stack.pop()!;
    if (out.has(id)) continue;
    const node = ir.graph.node(id);
    if (opDef(node.op).kind === "leaf") continue;
    out.add(id);
    stack.push(...node.args);
  }
  return out;
}

export function planTape(ir: CellIR): TapePlan {
  if (!ir.grads) return { taped: [] };
  const seeded = seedDependent(ir);
  const computed = forwardComputed(ir);
  const kept = new Set<NodeId>([...ir.nextStates, ...ir.outputNodes]);
  const taped = new Set<NodeId>();
  const seen = new Set<NodeId>();
  const { params, inputs, states } = ir.grads;
  const stack = [...params, ...inputs, ...states].filter((n): n is NodeId => n !== null);
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = ir.graph.node(id);
    if (opDef(node.op).kind === "leaf" || kept.has(id)) continue;
    if (!seeded.has(id) && computed.has(id)) taped.add(id);
    else stack.push(...node.args);
  }
  return { taped: [...taped].sort((a, b) => a - b) };
}
