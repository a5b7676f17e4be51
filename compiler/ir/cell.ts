/** A cell in IR form: the step graph with its roots, and after autodiff the gradient roots too. */
import type { TensorDecl } from "../ast.js";
import { type Graph, type NodeId, walk } from "./graph.js";

export interface CellIR {
  readonly name: string;
  readonly sizes: ReadonlyMap<string, number>;
  readonly params: readonly TensorDecl[];
  readonly inputs: readonly TensorDecl[];
  readonly states: readonly TensorDecl[];
  readonly outputs: readonly TensorDecl[];
  readonly graph: Graph;
  /** The leaf node of each param, input and previous state, by declared index. */
  readonly leaves: { readonly params: readonly NodeId[]; readonly inputs: readonly NodeId[]; readonly states: readonly NodeId[] };
  /** The node holding each state's value at the end of the step (its leaf if never assigned). */
  readonly nextStates: readonly NodeId[];
  /** The node of each output. */
  readonly outputNodes: readonly NodeId[];
  /**
   * Where the cell's named values come from, by name (`f`, `tanh_c`, `f_pre`): the equation or
   * expression as written and its line, for comments in emitted code. Absent without a source.
   */
  readonly origins?: ReadonlyMap<string, Origin>;
  /** Set by autodiff: the gradient of each param, input and previous state (null: zero). */
  readonly grads?: Gradients;
}

export interface Origin {
  /** The equation (`f = σ(Wf·x + Uf·h + bf)`) or, for a part of one, that part, on one line. */
  readonly text: string;
  /** The source file's name (no directory) and the 1-based line. */
  readonly file: string;
  readonly line: number;
  /** Whether `text` is a part of an equation (a gate's pre-activation), not the whole equation. */
  readonly part?: boolean;
}

export interface Gradients {
  readonly params: readonly (NodeId | null)[];
  readonly inputs: readonly (NodeId | null)[];
  readonly states: readonly (NodeId | null)[];
}

/** The values a step computes for the caller: each state's next value, then each output. */
export function forwardRoots(ir: CellIR): NodeId[] {
  return [...ir.nextStates, ...ir.outputNodes];
}

/** The gradient nodes autodiff set (params, inputs, initial states; zero gradients left out). */
export function gradientRoots(ir: CellIR): NodeId[] {
  const g = ir.grads;
  return g ? [...g.params, ...g.inputs, ...g.states].filter((n): n is NodeId => n !== null) : [];
}

/** All roots of the IR: what a pass must preserve. */
export function roots(ir: CellIR): NodeId[] {
  return [...forwardRoots(ir), ...gradientRoots(ir)];
}

/** The leaf node of every param, input and previous state, declared or not read. */
export function declaredLeaves(ir: CellIR): NodeId[] {
  return [...ir.leaves.params, ...ir.leaves.inputs, ...ir.leaves.states];
}

/** Nodes reachable from `from` (by default the roots), in id (topological) order. */
export function liveNodes(ir: CellIR, from: readonly NodeId[] = roots(ir)): NodeId[] {
  return [...walk(ir.graph, from)].sort((a, b) => a - b);
}
