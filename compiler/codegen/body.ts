/**
 * The body of one time step for one batch entry, as statements. Given where values already live
 * (params, inputs, states, the tape) and where results must go (sinks), it decides the place of
 * every node — fused into its single consumer's loop, a scalar local, a scratch buffer, or written
 * straight into its sink — and emits one loop per stored node.
 */
import { opDef, type KernelWriter } from "../ops/index.js";
import { type Graph, type NodeId, sizeOf } from "../ir/graph.js";
import type { Names } from "./names.js";

export type Mode = "=" | "+=";

/** A flat array and the offset expression of the current step's slice of it. */
export interface Slot {
  readonly array: string;
  readonly offset: string;
}

type Place =
  | { readonly kind: "array"; readonly slot: Slot; readonly mode: Mode }
  | { readonly kind: "scalar"; readonly name: string }
  | { readonly kind: "inline" };

interface SinkRequest {
  readonly root: NodeId;
  readonly slot: Slot;
  /** "=" stores, "+=" accumulates; a sum root is split into its terms either way. */
  readonly mode: Mode;
}

interface Term {
  readonly node: NodeId;
  readonly slot: Slot;
  readonly mode: Mode;
  /** Which sink request it belongs to, and whether it is that request's only term. */
  readonly request: number;
  readonly only: boolean;
}

export interface Scratch {
  /** A module-level buffer of `size` elements for `node`, named after it, unused in scope `names`. */
  buffer(node: NodeId, size: number, names: Names): string;
}

export function index(offset: string, i: string): string {
  if (offset === "" || offset === "0") return i;
  if (i === "0") return offset;
  return `${offset} + ${i}`;
}

export class StepBody {
  private readonly provided = new Map<NodeId, Place>();
  private readonly requests: SinkRequest[] = [];

  constructor(
    private readonly graph: Graph,
    private readonly names: Names,
    private readonly scratch: Scratch,
  ) {}

  /** `node` is already available at `slot` (a leaf, or a value stored by an earlier kernel). */
  provide(node: NodeId, slot: Slot): void {
    if (!this.provided.has(node)) this.provided.set(node, { kind: "array", slot, mode: "=" });
  }

  isProvided(node: NodeId): boolean {
    return this.provided.has(node);
  }

  /** The value of `root` must end up in `slot` (stored or accumulated). */
  sink(root: NodeId, slot: Slot, mode: Mode): void {
    this.requests.push({ root, slot, mode });
  }

  emit(): string[] {
    const terms = this.splitSums();
    const { needed, uses, consumer } = this.analyze(terms.map((t) => t.node));
    const { places, direct } = this.assignPlaces(needed, uses, consumer, terms);
    const lines: string[] = [];
    const copiesAfter = new Map<NodeId, Term[]>();
    for (const t of terms) {
      if (direct.has(t)) continue;
      copiesAfter.set(t.node, [...(copiesAfter.get(t.node) ?? []), t]);
    }
    // Values provided up front are copied first; computed ones right after they are computed.
    for (const [node, copies] of copiesAfter)
      if (this.provided.has(node)) for (const c of copies) lines.push(...this.copy(node, c.slot, c.mode, places));
    for (const id of needed) {
      if (this.provided.has(id)) continue;
      const place = places.get(id)!;
      if (place.kind !== "inline") lines.push(...this.compute(id, place, places));
      for (const c of copiesAfter.get(id) ?? []) lines.push(...this.copy(id, c.slot, c.mode, places));
    }
    return lines;
  }

  /** Each sink's root, split into its terms where it is a sum used nowhere else. */
  private splitSums(): Term[] {
    const { uses } = this.analyze(this.requests.map((r) => r.root));
    const rootCount = new Map<NodeId, number>();
    for (const r of this.requests) rootCount.set(r.root, (rootCount.get(r.root) ?? 0) + 1);
    const terms: Term[] = [];
    this.requests.forEach((req, request) => {
      const parts: NodeId[] = [];
      const split = (id: NodeId, top: boolean) => {
        const n = this.graph.node(id);
        const other = (uses.get(id) ?? 0) - 2 * (rootCount.get(id) ?? 0);
        const splittable = n.op === "add" && !this.provided.has(id) && other === (top ? 0 : 1) &&
          (top || !rootCount.has(id)) && n.args.every((a) => sizeOf(this.graph.shape(a)) === sizeOf(n.shape));
        if (splittable) n.args.forEach((a) => split(a, false));
        else parts.push(id);
      };
      split(req.root, true);
      parts.sort((a, b) => a - b);
      parts.forEach((node, k) =>
        terms.push({ node, slot: req.slot, mode: k === 0 ? req.mode : "+=", request, only: parts.length === 1 }),
      );
    });
    return terms;
  }

  /** Nodes to compute (in order), how often each is used, and the consumer of single-use nodes. */
  private analyze(roots: readonly NodeId[]) {
    const seen = new Set<NodeId>();
    const stack = [...roots];
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      if (!this.provided.has(id)) stack.push(...this.graph.node(id).args);
    }
    const needed = [...seen].sort((a, b) => a - b);
    const uses = new Map<NodeId, number>();
    const consumer = new Map<NodeId, NodeId>();
    for (const id of needed) {
      if (this.provided.has(id)) continue;
      for (const a of this.graph.node(id).args) {
        uses.set(a, (uses.get(a) ?? 0) + 1);
        consumer.set(a, id);
      }
    }
    for (const r of roots) uses.set(r, (uses.get(r) ?? 0) + 2); // a root is never fused away
    return { needed, uses, consumer };
  }

  private assignPlaces(
    needed: readonly NodeId[],
    uses: ReadonlyMap<NodeId, number>,
    consumer: ReadonlyMap<NodeId, NodeId>,
    terms: readonly Term[],
  ) {
    const places = new Map<NodeId, Place>(this.provided);
    const direct = new Set<Term>();
    for (const id of needed) {
      if (places.has(id)) continue;
      const node = this.graph.node(id);
      const termsHere = terms.filter((t) => t.node === id);
      const otherUses = (uses.get(id) ?? 0) - 2 * termsHere.length;
      // Computed straight into a sink when nothing else reads it, or when the sink holds exactly it
      // (an accumulating sink holds more than the node, so nothing may read the node back from it).
      const into = termsHere.find((t) => (otherUses === 0 && termsHere.length === 1) || (t.mode === "=" && t.only));
      if (into) {
        places.set(id, { kind: "array", slot: into.slot, mode: into.mode });
        direct.add(into);
      } else if (termsHere.length === 0 && this.fusable(id, uses, consumer)) {
        places.set(id, { kind: "inline" });
      } else if (node.shape.length === 0 && opDef(node.op).kind !== "structural") {
        places.set(id, { kind: "scalar", name: this.names.fresh(this.graph.names.get(id) ?? `s${id}`) });
      } else {
        const buffer = this.scratch.buffer(id, sizeOf(node.shape), this.names);
        places.set(id, { kind: "array", slot: { array: buffer, offset: "" }, mode: "=" });
      }
    }
    return { places, direct };
  }

  /** Fused into its consumer's loop: elementwise, used once, by a consumer reading each element once. */
  private fusable(id: NodeId, uses: ReadonlyMap<NodeId, number>, consumer: ReadonlyMap<NodeId, NodeId>): boolean {
    const node = this.graph.node(id);
    const def = opDef(node.op);
    if (def.kind !== "elementwise") return false;
    // Constants and broadcast scalars cost nothing to repeat.
    if (node.args.every((a) => this.graph.shape(a).length === 0) && (def.cost ?? 1) === 0) return true;
    if (uses.get(id) !== 1 || node.shape.length === 0) return false;
    const user = this.graph.node(consumer.get(id)!);
    const userDef = opDef(user.op);
    return userDef.kind === "elementwise" || userDef.kind === "reduce" || userDef.readsOnce === true;
  }

  /** An expression for element `i` of node `id`. */
  private read(id: NodeId, i: string, places: ReadonlyMap<NodeId, Place>): string {
    const place = places.get(id)!;
    const node = this.graph.node(id);
    const at = node.shape.length === 0 ? "0" : i;
    if (place.kind === "scalar") return place.name;
    if (place.kind === "array") return `${place.slot.array}[${index(place.slot.offset, at)}]`;
    const def = opDef(node.op);
    return def.expr!(node.args.map((a) => this.read(a, at, places)), node.attrs);
  }

  private compute(id: NodeId, place: Place, places: ReadonlyMap<NodeId, Place>): string[] {
    const node = this.graph.node(id);
    const def = opDef(node.op);
    const local = this.names.scope();
    const lines: string[] = [];
    const store = (i: string, value: string): string => {
      if (place.kind === "scalar") return `const ${place.name} = ${value};`;
      if (place.kind !== "array") throw new Error("internal error: storing an inline node");
      return `${place.slot.array}[${index(place.slot.offset, i)}] ${place.mode} ${value};`;
    };
    if (def.kind === "elementwise") {
      if (node.shape.length === 0) return [store("0", this.read(id, "0", new Map([...places, [id, { kind: "inline" }]])))];
      const i = local.fresh("i");
      const expr = def.expr!(node.args.map((a) => this.read(a, i, places)), node.attrs);
      return [`for (let ${i} = 0; ${i} < ${sizeOf(node.shape)}; ${i}++) ${store(i, expr)}`];
    }
    if (def.kind === "reduce") {
      const arg = node.args[0]!;
      // The accumulator lives in the step's scope, beside the scalar it produces.
      const acc = this.names.fresh("acc");
      const i = local.fresh("i");
      const n = sizeOf(this.graph.shape(arg));
      lines.push(`let ${acc} = 0;`);
      lines.push(`for (let ${i} = 0; ${i} < ${n}; ${i}++) ${acc} += ${this.read(arg, i, places)};`);
      lines.push(store("0", def.finish!(acc, n)));
      return lines;
    }
    const writer: KernelWriter = {
      node,
      argShapes: node.args.map((a) => this.graph.shape(a)),
      line: (code) => void lines.push(code),
      fresh: (base) => local.fresh(base),
      arg: (k, i) => this.read(node.args[k]!, i, places),
      store,
    };
    def.emit!(writer);
    return lines;
  }

  private copy(id: NodeId, slot: Slot, mode: Mode, places: ReadonlyMap<NodeId, Place>): string[] {
    const i = this.names.scope().fresh("i");
    const n = sizeOf(this.graph.shape(id));
    return [`for (let ${i} = 0; ${i} < ${n}; ${i}++) ${slot.array}[${index(slot.offset, i)}] ${mode} ${this.read(id, i, places)};`];
  }
}
