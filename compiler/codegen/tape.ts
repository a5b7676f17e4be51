/**
 * The tape's layout: the arrays `forward` records for `backward`, and where each taped value sits
 * in a row of its array.
 *
 * A taped value that the runtime's maps compute (σ, tanh, exp of float32 kernels with runtime
 * products) shares its array with the other taped values of its map call: `[T·B][w₁ + w₂ + …]`,
 * laid out as the map's buffer would be (`f_i_o_tape` for the LSTM's f, i and o). The forward then
 * computes them in the step's tape row itself — the map's arguments stored there, the map called
 * over the row in place, the loops after it reading the values from there — so nothing is copied
 * onto the tape. Every other taped value has an array of its own, as without maps.
 *
 * The groups are the ones the forward's phases form (`scheduleMaps`): values of one map function
 * and one map depth, taped ones apart from the rest, in the phase computing them (hoisted out of
 * the recurrence, or in it). Should a phase group them otherwise, it writes each value into its
 * place in the array from a buffer of its own: the layout is never wrong, only slower.
 */
import type { CellIR } from "../ir/cell.js";
import { type NodeId, sizeOf } from "../ir/graph.js";
import { opDef } from "../ops/index.js";
import type { Describe, Slot } from "./body.js";
import type { Ix } from "./loops/index-expr.js";
import { mapBufferName, mapOfValue } from "./maps.js";
import type { KernelPlan } from "./plan.js";

/** One array of the tape: the values it holds, in id order, each from its offset in a row. */
export interface TapeArray {
  /** The name the spec gives it: the value's own, or that of the map's buffer (`f_i_o`). */
  readonly name: string;
  readonly members: readonly NodeId[];
  readonly offsets: ReadonlyMap<NodeId, number>;
  /** Elements per row (per step of one sequence). */
  readonly width: number;
  /** The shape of one row: the value's own shape when it is alone, else `[width]`. */
  readonly shape: readonly number[];
}

/** The tape's arrays for `plan.taped`, in the order of their first values; `maps` as the kernels have them. */
export function layTape(ir: CellIR, plan: KernelPlan, maps: boolean, describe: Describe): TapeArray[] {
  const graph = ir.graph;
  const mapOf = (id: NodeId) => mapOfValue(graph, plan.varying, maps, id);
  // A value's map depth within its phase: values of the other phase, and leaves, are given there.
  const depth = new Map<NodeId, number>();
  const samePhase = (a: NodeId, id: NodeId) =>
    opDef(graph.node(a).op).kind !== "leaf" && plan.varying.has(a) && plan.hoisted.has(a) === plan.hoisted.has(id);
  for (const node of graph.nodes) {
    const below = node.args.filter((a) => samePhase(a, node.id)).map((a) => depth.get(a)!);
    depth.set(node.id, Math.max(0, ...below) + (mapOf(node.id) === undefined ? 0 : 1));
  }
  const groups = new Map<string, NodeId[]>();
  for (const id of plan.taped) {
    const map = mapOf(id);
    const key = map === undefined ? `value:${id}` : `${plan.hoisted.has(id) ? "hoisted" : "step"}:${map}:${depth.get(id)!}`;
    groups.set(key, [...(groups.get(key) ?? []), id]);
  }
  return [...groups.values()].map((members) => {
    const offsets = new Map<NodeId, number>();
    let width = 0;
    for (const id of members) offsets.set(id, width), (width += sizeOf(graph.shape(id)));
    const first = members[0]!;
    const alone = members.length === 1;
    const named = (id: NodeId) => graph.names.get(id) ?? describe.name(id);
    const name = alone ? named(first) : mapBufferName(mapOf(first)!, members.map(named));
    return { name, members, offsets, width, shape: alone ? [...graph.shape(first)] : [width] };
  });
}

/** Where taped value `node` is from row `rowBase` on, given the arrays' names in the kernel. */
export function tapeSlot(tape: readonly TapeArray[], arrays: readonly string[], node: NodeId, rowBase: Ix): Slot {
  const k = tape.findIndex((a) => a.offsets.has(node));
  if (k < 0) throw new Error(`internal error: value ${node} is not on the tape`);
  const array = tape[k]!;
  if (array.members.length === 1) return { array: arrays[k]!, rowBase };
  return { array: arrays[k]!, rowBase, stride: array.width, offset: array.offsets.get(node)! };
}
