/**
 * The order of a phase's work when a float32 kernel hands its transcendentals to the runtime's
 * elementwise maps (`mm.sigmoid`, `mm.tanh`, `mm.exp`: one call over a whole run of elements).
 *
 * A value's map depth is the largest number of mapped values on a path to it. The phase runs in
 * stages: the element statements of depth 0 (which also store each map's argument into the map's
 * buffer), then every map of depth 1, then the element statements of depth 1, and so on. Within a
 * stage, values keep the order of their ids (a topological order), so products, reductions and
 * sink terms are written as they would be without maps. A value that is not mapped waits for the
 * first stage that reads it (a value feeding only later stages is computed there, not stored in
 * one loop and read in another). The maps of one function and one depth
 * share one buffer, `[rows][w₁ + w₂ + …]`, and one call: the LSTM's step is one loop writing the
 * arguments of σ (f, i, o) and tanh (g), `mm.sigmoid` and `mm.tanh` over all rows, one loop for c
 * and the argument of tanh(c), `mm.tanh`, one loop for h.
 *
 * A recording kernel keeps mapped values the backward reads in their tape rows: the taped and the
 * other mapped values of one function and depth are then two groups (`part`), each one call, so
 * a taped group's buffer can be a row of the tape itself (`tape.ts`).
 *
 * Without maps every value has depth 0 and the order is the ids' order.
 */
import type { MapName } from "../../src/runtime/abi.js";
import type { Graph, NodeId } from "../ir/graph.js";
import { sizeOf } from "../ir/graph.js";
import { opDef } from "../ops/index.js";

/**
 * The runtime map computing `id` in a kernel whose transcendentals are map calls (`maps`): that of
 * a varying vector of a mapped op (sigmoid, tanh, exp), else none.
 */
export function mapOfValue(graph: Graph, varying: ReadonlySet<NodeId>, maps: boolean, id: NodeId): MapName | undefined {
  const node = graph.node(id);
  const def = opDef(node.op);
  if (!maps || def.kind !== "elementwise" || def.map === undefined) return undefined;
  return varying.has(id) && node.shape.length > 0 ? def.map : undefined;
}

/** A map's buffer is named after the values it holds (`f_i_o`), or after the map when that is long. */
export const mapBufferName = (map: MapName, names: readonly string[]): string => {
  const joined = names.join("_");
  return joined.length <= 24 ? joined : `${map}_values`;
};

/** The mapped values of one function and one depth: one buffer, one call. */
export interface MapGroup {
  readonly map: MapName;
  readonly depth: number;
  /** In id order; each takes `sizeOf(shape)` elements of a row, from its offset. */
  readonly members: readonly NodeId[];
  readonly offsets: ReadonlyMap<NodeId, number>;
  /** Elements per row of the group's buffer. */
  readonly width: number;
}

/**
 * One step of a phase, in order: a value computed (or, if mapped, its argument stored into the
 * map's buffer), or one map call that computes every value of its group.
 */
export type Event =
  | { readonly kind: "value"; readonly id: NodeId; readonly stage: number }
  | { readonly kind: "argument"; readonly id: NodeId; readonly stage: number }
  | { readonly kind: "map"; readonly group: MapGroup; readonly stage: number };

export interface Schedule {
  readonly events: readonly Event[];
  /** The group of each mapped value. */
  readonly mapped: ReadonlyMap<NodeId, MapGroup>;
  readonly groups: readonly MapGroup[];
  /** When each computed value is ready: the position of the event computing it (its map, if mapped). */
  readonly rank: ReadonlyMap<NodeId, number>;
}

/**
 * The events computing `needed` (ids in increasing order), given which of them are available
 * already, which are mapped (by what function), and the part of a group each mapped value belongs
 * to (values of one function and depth in different parts are different groups).
 */
export function scheduleMaps(
  graph: Graph,
  needed: readonly NodeId[],
  available: (id: NodeId) => boolean,
  mapOf: (id: NodeId) => MapName | undefined,
  part: (id: NodeId) => string = () => "",
): Schedule {
  const depth = new Map<NodeId, number>();
  const computed = needed.filter((id) => !available(id));
  for (const id of computed) depth.set(id, Math.max(0, ...graph.node(id).args.map((a) => depth.get(a) ?? 0)) + (mapOf(id) === undefined ? 0 : 1));
  // The stage a value is computed in: the first stage reading it (a map reads its argument in the
  // stage before its own), or its depth when only sinks read it.
  const stage = new Map<NodeId, number>();
  const firstRead = new Map<NodeId, number>();
  for (const id of [...computed].reverse()) {
    const mapped = mapOf(id) !== undefined;
    if (!mapped) stage.set(id, firstRead.get(id) ?? depth.get(id)!);
    const reads = mapped ? depth.get(id)! - 1 : stage.get(id)!;
    for (const a of graph.node(id).args) firstRead.set(a, Math.min(firstRead.get(a) ?? reads, reads));
  }
  const keyed: { key: readonly [number, number, number]; event: Event }[] = [];
  const groupsByKey = new Map<string, { map: MapName; depth: number; members: NodeId[] }>();
  for (const id of computed) {
    const map = mapOf(id);
    if (map === undefined) {
      keyed.push({ key: [stage.get(id)!, 1, id], event: { kind: "value", id, stage: stage.get(id)! } });
      continue;
    }
    const d = depth.get(id)!;
    const argsDepth = d - 1;
    // The argument is stored in the stage that computes it, beside it (in id order, after it).
    keyed.push({ key: [argsDepth, 1, id], event: { kind: "argument", id, stage: argsDepth } });
    const key = `${map}:${d}:${part(id)}`;
    const group = groupsByKey.get(key) ?? { map, depth: d, members: [] };
    groupsByKey.set(key, group);
    group.members.push(id);
  }
  const groups: MapGroup[] = [];
  const mapped = new Map<NodeId, MapGroup>();
  for (const g of groupsByKey.values()) {
    const offsets = new Map<NodeId, number>();
    let width = 0;
    for (const id of g.members) offsets.set(id, width), (width += sizeOf(graph.shape(id)));
    const group: MapGroup = { map: g.map, depth: g.depth, members: g.members, offsets, width };
    groups.push(group);
    for (const id of g.members) mapped.set(id, group);
    // The maps of a stage run before its element statements, which read their results.
    keyed.push({ key: [g.depth, 0, g.members[0]!], event: { kind: "map", group, stage: g.depth } });
  }
  keyed.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2]);
  const events = keyed.map((k) => k.event);
  const rank = new Map<NodeId, number>();
  events.forEach((e, k) => {
    if (e.kind === "value") rank.set(e.id, k);
    else if (e.kind === "map") for (const id of e.group.members) rank.set(id, k);
  });
  return { events, mapped, groups, rank };
}
