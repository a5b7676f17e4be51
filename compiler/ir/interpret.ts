/**
 * The reference evaluator: runs the IR directly in float64 through each op's `evaluate`/`scalar`
 * rule. Slow and simple on purpose — it is the oracle the compiled kernels are tested against.
 */
import type { Shape } from "../ast.js";
import { opDef } from "../ops/index.js";
import { type CellIR, forwardRoots, gradientRoots, liveNodes } from "./cell.js";
import { type Graph, type Node, type NodeId, sizeOf, walk } from "./graph.js";

/** Values of the leaves of one step; seeds only for the backward. */
export interface StepLeaves {
  readonly params: readonly Float64Array[];
  readonly inputs: readonly Float64Array[];
  readonly states: readonly Float64Array[];
  readonly outputSeeds?: readonly Float64Array[];
  readonly stateSeeds?: readonly Float64Array[];
}

/** Evaluates `wanted` nodes (and what they depend on) of `graph`. */
export function evaluateNodes(graph: Graph, leaves: StepLeaves, wanted: readonly NodeId[]): Map<NodeId, Float64Array> {
  return evaluateInOrder(graph, leaves, needed(graph, wanted));
}

/** The nodes `wanted` depend on, themselves included, in the order they are evaluated. */
const needed = (graph: Graph, wanted: readonly NodeId[]): NodeId[] => [...walk(graph, wanted)].sort((a, b) => a - b);

function evaluateInOrder(graph: Graph, leaves: StepLeaves, order: readonly NodeId[]): Map<NodeId, Float64Array> {
  const values = new Map<NodeId, Float64Array>();
  for (const id of order) {
    const node = graph.node(id);
    values.set(id, evaluateNode(node, node.args.map((a) => values.get(a)!), graph, leaves));
  }
  return values;
}

function evaluateNode(node: Node, args: readonly Float64Array[], graph: Graph, leaves: StepLeaves): Float64Array {
  const def = opDef(node.op);
  if (def.kind === "leaf") return leafValue(node, leaves);
  if (def.kind !== "elementwise") {
    const tensors = node.args.map((a, i) => ({ shape: graph.shape(a), data: args[i]! }));
    return def.evaluate(tensors, node.attrs, node.shape);
  }
  const n = sizeOf(node.shape);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = def.scalar(args.map((a) => (a.length === 1 ? a[0]! : a[i]!)), node.attrs);
  return out;
}

function leafValue(node: Node, leaves: StepLeaves): Float64Array {
  const k = Number(node.attrs["index"]);
  const pick = (list: readonly Float64Array[] | undefined): Float64Array => {
    const v = list?.[k];
    if (!v) throw new Error(`reference evaluator: no value for ${node.op} ${k}`);
    return v;
  };
  switch (node.op) {
    case "param": return pick(leaves.params);
    case "input": return pick(leaves.inputs);
    case "state": return pick(leaves.states);
    default: return pick(node.attrs["kind"] === "output" ? leaves.outputSeeds : leaves.stateSeeds);
  }
}

/** A sequence batch in float64, time-major `[T][B][n]` per input/output, `[B][n]` per state. */
export interface ReferenceRun {
  readonly T: number;
  readonly B: number;
  readonly params: readonly Float64Array[];
  readonly inputs: readonly Float64Array[];
  readonly initial?: readonly Float64Array[];
  readonly outputGrads?: readonly Float64Array[];
  readonly finalGrads?: readonly Float64Array[];
  /** Also evaluated at every forward step, and handed to `visit` with the step's values. */
  readonly watch?: readonly NodeId[];
  readonly visit?: (values: ReadonlyMap<NodeId, Float64Array>) => void;
}

export interface ReferenceResult {
  readonly outputs: Float64Array[];
  readonly final: Float64Array[];
  readonly grads?: { params: Float64Array[]; inputs: Float64Array[]; initial: Float64Array[] };
}

const at = (buf: Float64Array, index: number, n: number) => buf.subarray(index * n, (index + 1) * n);
const sizes = (decls: readonly { shape: Shape }[]) => decls.map((d) => sizeOf(d.shape));

/** Forward (and, given seeds and gradient roots, backward) through time with the reference evaluator. */
export function runReference(ir: CellIR, run: ReferenceRun): ReferenceResult {
  const { T, B } = run;
  const [inN, stN, outN, parN] = [sizes(ir.inputs), sizes(ir.states), sizes(ir.outputs), sizes(ir.params)];
  const history: Float64Array[][][] = [];
  const outputs = outN.map((n) => new Float64Array(T * B * n));
  let current = Array.from({ length: B }, (_, b) => stN.map((n, k) => run.initial?.[k] ? at(run.initial[k]!, b, n).slice() : new Float64Array(n)));
  const stepLeaves = (t: number, b: number, states: Float64Array[]): StepLeaves => ({
    params: run.params,
    inputs: inN.map((n, k) => at(run.inputs[k]!, t * B + b, n)),
    states,
  });
  const forwardOrder = needed(ir.graph, [...forwardRoots(ir), ...(run.watch ?? [])]);
  for (let t = 0; t < T; t++) {
    history.push(current);
    current = current.map((states, b) => {
      const values = evaluateInOrder(ir.graph, stepLeaves(t, b, states), forwardOrder);
      run.visit?.(values);
      ir.outputNodes.forEach((node, k) => at(outputs[k]!, t * B + b, outN[k]!).set(values.get(node)!));
      return ir.nextStates.map((node) => values.get(node)!.slice());
    });
  }
  const final = stN.map((n, k) => {
    const out = new Float64Array(B * n);
    current.forEach((states, b) => out.set(states[k]!, b * n));
    return out;
  });
  if (!ir.grads || (!run.outputGrads && !run.finalGrads)) return { outputs, final };

  const grads = {
    params: parN.map((n) => new Float64Array(n)),
    inputs: inN.map((n) => new Float64Array(T * B * n)),
    initial: stN.map((n) => new Float64Array(B * n)),
  };
  let carry = Array.from({ length: B }, (_, b) => stN.map((n, k) => (run.finalGrads?.[k] ? at(run.finalGrads[k]!, b, n).slice() : new Float64Array(n))));
  const { params: gp, inputs: gi, states: gs } = ir.grads;
  const backwardOrder = needed(ir.graph, gradientRoots(ir));
  for (let t = T - 1; t >= 0; t--) {
    carry = carry.map((stateSeeds, b) => {
      const leaves: StepLeaves = {
        ...stepLeaves(t, b, history[t]![b]!),
        stateSeeds,
        outputSeeds: outN.map((n, k) => (run.outputGrads?.[k] ? at(run.outputGrads[k]!, t * B + b, n) : new Float64Array(n))),
      };
      const values = evaluateInOrder(ir.graph, leaves, backwardOrder);
      gp.forEach((node, k) => node !== null && values.get(node)!.forEach((v, i) => (grads.params[k]![i]! += v)));
      gi.forEach((node, k) => node !== null && at(grads.inputs[k]!, t * B + b, inN[k]!).set(values.get(node)!));
      return gs.map((node, k) => (node === null ? new Float64Array(stN[k]!) : values.get(node)!.slice()));
    });
  }
  carry.forEach((states, b) => states.forEach((v, k) => grads.initial[k]!.set(v, b * stN[k]!)));
  return { outputs, final, grads };
}

/** How close the forward pass comes to a point where an op is not differentiable (relu, abs at 0). */
export function kinkMargin(ir: CellIR, run: ReferenceRun): number {
  const forward = forwardNodes(ir);
  const kinked = ir.graph.nodes.filter((n) => kinkOf(n) && forward.has(n.id));
  if (kinked.length === 0) return Infinity;
  let margin = Infinity;
  runReference(ir, {
    ...run, outputGrads: undefined, finalGrads: undefined,
    watch: kinked.flatMap((n) => n.args),
    visit: (values) => {
      for (const n of kinked) {
        const def = opDef(n.op);
        const args = n.args.map((a) => values.get(a)!);
        if (def.kind === "reduce") margin = Math.min(margin, def.kink!(args[0]!));
        if (def.kind !== "elementwise") continue;
        const len = Math.max(...args.map((a) => a.length));
        for (let i = 0; i < len; i++) margin = Math.min(margin, def.kink!(args.map((a) => (a.length === 1 ? a[0]! : a[i]!)), n.attrs));
      }
    },
  });
  return margin;
}

/** Whether a node's op has points where it is not differentiable (relu, abs, max). */
function kinkOf(node: Node): boolean {
  const def = opDef(node.op);
  return (def.kind === "elementwise" || def.kind === "reduce") && def.kink !== undefined;
}

function forwardNodes(ir: CellIR): Set<NodeId> {
  return new Set(liveNodes(ir, forwardRoots(ir)));
}
