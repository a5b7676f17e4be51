/**
 * Decisions about time before any code is written: which values vary per step, which the forward
 * records for the backward (the tape), which are hoisted out of the recurrence and computed for
 * all T·B steps at once, and which gradient work is deferred until after the backward recurrence.
 */
import type { CellIR } from "../ir/cell.js";
import { type NodeId, sizeOf, walk as walkGraph } from "../ir/graph.js";
import { opDef, viewOffsetOf } from "../ops/index.js";

export interface KernelPlan {
  /** Nodes that differ per step or sequence (they depend on an input, a state or a seed). */
  readonly varying: ReadonlySet<NodeId>;
  /** Values the forward stores per step for the backward, in id order. */
  readonly taped: readonly NodeId[];
  /** Forward nodes computed for all T·B steps before the recurrence (none when not optimizing). */
  readonly hoisted: ReadonlySet<NodeId>;
  /** Hoisted values the recurrence reads that are not on the tape (kept in per-call workspace). */
  readonly hoistedStored: readonly NodeId[];
  /** Backward values stored per step during the recurrence for the deferred gradient phase. */
  readonly deferredInputs: readonly NodeId[];
  /** Whether param and input gradients are computed after the backward recurrence, over all T·B rows. */
  readonly defer: boolean;
  /** What the forward keeps per sample-step for the backward, and what the budget made it recompute. */
  readonly tape: TapeReport;
}

/**
 * Numbers kept per sample-step (one step of one sequence) beyond a step's inputs and outputs: the
 * state history (every state's value at every step, always kept) and the taped values. When the
 * taped values exceed the budget, the largest ones whose arguments the backward has anyway are
 * recomputed there instead of stored (`recomputed`, largest first), until the tape fits or nothing
 * more can be recomputed.
 */
export interface TapeReport {
  /** Elements of all states: the state history's share of a sample-step. */
  readonly states: number;
  /** Elements of the taped values per sample-step, after recomputation. */
  readonly taped: number;
  /** Elements per sample-step the taped values may take. */
  readonly budget: number;
  /** Values recomputed in the backward instead of taped: their names and elements per sample-step. */
  readonly recomputed: readonly { readonly name: string; readonly elements: number }[];
}

/**
 * The default tape budget, in numbers per sample-step (512 KiB of float64): no vector cell comes
 * near it; a matrix state's outer products of H = 256 just fit.
 */
export const DEFAULT_TAPE_BUDGET = 65_536;

function dependents(ir: CellIR, isSource: (op: string, id: NodeId) => boolean): Set<NodeId> {
  const out = new Set<NodeId>();
  for (const node of ir.graph.nodes) if (isSource(node.op, node.id) || node.args.some((a) => out.has(a))) out.add(node.id);
  return out;
}

const walk = (ir: CellIR, roots: readonly NodeId[], stop: (id: NodeId) => boolean) => walkGraph(ir.graph, roots, stop);

const isLeaf = (ir: CellIR, id: NodeId) => opDef(ir.graph.node(id).op).kind === "leaf";
const nonNull = (ids: readonly (NodeId | null)[]) => ids.filter((n): n is NodeId => n !== null);

/** A value's name, or its op applied to its arguments' names: `tanh(outer(u, k))`. */
function label(ir: CellIR, id: NodeId, depth = 0): string {
  const name = ir.graph.names.get(id);
  if (name !== undefined) return name;
  const node = ir.graph.node(id);
  return depth > 2 ? "…" : `${node.op}(${node.args.map((a) => label(ir, a, depth + 1)).join(", ")})`;
}

export function planKernels(ir: CellIR, optimize: boolean, tapeBudget = DEFAULT_TAPE_BUDGET): KernelPlan {
  const varying = dependents(ir, (op) => op === "input" || op === "state" || op === "seed");
  const onState = dependents(ir, (op) => op === "state" || op === "seed");
  const seeded = dependents(ir, (op) => op === "seed");
  const forwardRoots = [...ir.nextStates, ...ir.outputNodes];
  const kept = new Set(forwardRoots);
  const computed = new Set([...walk(ir, forwardRoots, (id) => isLeaf(ir, id))].filter((id) => !isLeaf(ir, id)));

  // The tape: forward values the backward reads, where the forward does not leave them anyway.
  const taped = new Set<NodeId>();
  const grads = ir.grads;
  if (grads) {
    walk(ir, nonNull([...grads.params, ...grads.inputs, ...grads.states]), (id) => {
      if (isLeaf(ir, id) || kept.has(id)) return true;
      if (!seeded.has(id) && computed.has(id) && varying.has(id)) return taped.add(id), true;
      return false;
    });
  }

  // Rematerialization: a cheap elementwise value (1 − u, r ⊙ h) whose arguments the backward has
  // anyway (leaves, the states and outputs the forward keeps, other taped values) is recomputed
  // in the backward instead of taped: one flop per element instead of a store and a load.
  if (optimize) {
    const available = (id: NodeId) => isLeaf(ir, id) || kept.has(id) || taped.has(id) || !varying.has(id);
    for (const id of [...taped].sort((a, b) => a - b)) {
      const node = ir.graph.node(id);
      const def = opDef(node.op);
      if (def.kind !== "elementwise" || (def.cost ?? 1) > 1) continue;
      taped.delete(id);
      if (!node.args.every(available)) taped.add(id);
    }
  }

  // The budget: over it, the largest taped values are recomputed in the backward from what it has
  // there — the step's leaves (the state history is the checkpoint of every step), the kept
  // states and outputs, the values still taped — recomputing whatever they need in between, as
  // far back as the step's leaves if need be. With passes on, only values on the recurrence are:
  // an input-only value is hoisted and stored for all T·B steps anyway.
  const elements = (id: NodeId) => sizeOf(ir.graph.shape(id));
  let tapedElements = [...taped].reduce((n, id) => n + elements(id), 0);
  const recomputed: { name: string; elements: number }[] = [];
  if (tapedElements > tapeBudget) {
    const candidates = [...taped].sort((a, b) => elements(b) - elements(a) || a - b);
    for (const id of candidates) {
      if (tapedElements <= tapeBudget) break;
      if (optimize && !onState.has(id)) continue;
      taped.delete(id);
      tapedElements -= elements(id);
      recomputed.push({ name: label(ir, id), elements: elements(id) });
    }
  }
  const tape: TapeReport = {
    states: ir.states.reduce((n, s) => n + sizeOf(s.shape), 0),
    taped: tapedElements,
    budget: tapeBudget,
    recomputed,
  };

  // Hoisting: varying forward values that do not depend on a state are computed for all steps at
  // once; those the recurrence reads are stored (on the tape, which has the right layout).
  const hoisted = new Set<NodeId>();
  const hoistedStored = new Set<NodeId>();
  if (optimize) {
    for (const id of computed) if (varying.has(id) && !onState.has(id)) hoisted.add(id);
    const recurrent = [...taped, ...forwardRoots].filter((id) => !hoisted.has(id));
    walk(ir, recurrent, (id) => {
      // A slice of a hoisted value is read in place: the value it slices is what gets stored.
      if (hoisted.has(id) && !taped.has(id) && viewOffsetOf(ir.graph.node(id).op)) return false;
      if (hoisted.has(id)) return taped.has(id) || hoistedStored.add(id), true;
      return isLeaf(ir, id);
    });
  }

  // Deferral: param and input gradients do not feed the recurrence, so they wait until after it;
  // the seed-dependent values they need from it are stored per step.
  const deferredInputs = new Set<NodeId>();
  if (optimize && grads) {
    const available = (id: NodeId) => isLeaf(ir, id) || kept.has(id) || taped.has(id);
    const recurrence = walk(ir, nonNull(grads.states), available);
    walk(ir, nonNull([...grads.params, ...grads.inputs]), (id) => {
      if (recurrence.has(id) && seeded.has(id) && !available(id)) return deferredInputs.add(id), true;
      if (ir.graph.node(id).op === "seed" && ir.graph.node(id).attrs["kind"] === "state") return deferredInputs.add(id), true;
      return available(id);
    });
  }
  return {
    varying,
    taped: [...taped].sort((a, b) => a - b),
    hoisted,
    hoistedStored: [...hoistedStored].sort((a, b) => a - b),
    deferredInputs: [...deferredInputs].sort((a, b) => a - b),
    defer: optimize && grads !== undefined,
    tape,
  };
}
