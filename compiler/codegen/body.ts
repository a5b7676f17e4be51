/**
 * The statements of one phase of a kernel: one time step for all B sequences, or a value for all
 * T·B steps at once, as loop IR (`loops/ir.ts`). Given where values already live (params, inputs,
 * states, the tape) and where results must go (sinks), it decides the place of every node — fused
 * into its single consumer's loop, a local of an element loop, a scratch buffer, or written straight
 * into its sink — and builds one loop nest per stored node: over rows (batch entries or steps)
 * outside, elements inside. Element loops of one size that follow each other are one loop; only
 * then is it decided which locals also need a buffer: those something outside their loop reads.
 * Nodes that are the same for every row (they depend on params only) go to a prologue, each into a
 * buffer of its own (a scalar too), which the kernels keep until params change.
 */
import { mapCall, rowLoopCall } from "../../src/runtime/abi.js";
import { opDef, viewOffsetOf, type KernelWriter, type RowWriter, type Strided } from "../ops/index.js";
import { type Graph, type NodeId, sizeOf, walk } from "../ir/graph.js";
import type { Names } from "./names.js";
import { type Ix, ix, num, parseIndex, plus, show, times } from "./loops/index-expr.js";
import { type Dialect, type Mode, type Stmt, code, comment, element, loop, store, storeText, when } from "./loops/ir.js";
import { type Val, applied, named } from "./loops/values.js";
import { type ProductOperand, callable, staging } from "./loops/product.js";
import { type MapGroup, type Schedule, mapBufferName, mapOfValue, scheduleMaps } from "./maps.js";

export type { Mode };

/**
 * A flat array. With a row base, the array is `[rows][size]` and this phase's row m is row
 * `rowBase + m`; without (null), it is one value for all rows (a param or its gradient).
 */
export interface Slot {
  readonly array: string;
  readonly rowBase: Ix | null;
  /** A view into a wider array: elements per row there, and where this value starts in a row. */
  readonly stride?: number;
  readonly offset?: number;
}

type Place =
  | { readonly kind: "array"; readonly slot: Slot; readonly mode: Mode; readonly view?: boolean }
  | { readonly kind: "scalar"; readonly name: string }
  | { readonly kind: "inline" }
  /** A local of the element loop computing it; it gets a buffer too if read outside that loop. */
  | { readonly kind: "local" };

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
  /** Whether it is its sink request's only term. */
  readonly only: boolean;
  /** Its sink request, and its place among that request's terms (the order they are added in). */
  readonly request: number;
  readonly index: number;
}

export type Rows = "one" | "B" | "TB" | "chunk";

export interface Scratch {
  /**
   * A buffer for `node` (or, named by a string, one of the kernels' own): `size` elements, times
   * the phase's rows unless `rows` is "one".
   */
  buffer(node: NodeId | string, size: number, names: Names, rows: Rows): string;
  /** Whether matrix products are calls into the runtime's products (else loops in the module). */
  readonly products: boolean;
  /**
   * Whether varying sigmoid, tanh and exp over vectors are calls into the runtime's elementwise
   * maps (float32 kernels with runtime products), each value and its argument rounded to the
   * dtype once, rather than computed per element in the loops.
   */
  readonly maps: boolean;
  /**
   * Whether an element loop the runtime's row loops compute (`ROW_LOOPS`: a gate's pre-activation
   * stored for its map) is calls into them (float32 kernels with runtime maps).
   */
  readonly rowLoops: boolean;
  /** A runtime product of this phase may stage `perRow` elements per row plus `fixed`. */
  stage(rows: Exclude<Rows, "one">, perRow: number, fixed: number): void;
  /**
   * The test that runs an element loop as the cell's WebAssembly (`mm.loop(…)`, false where it
   * cannot run there), given the loop's rows (`rows`, a phase of `phase` rows), its elements a row
   * and its statements for element i; null when the loop has no WebAssembly form.
   */
  elementLoop?(phase: Exclude<Rows, "one">, rows: string, size: number, body: readonly Stmt[]): string | null;
}

/** What the kernels know about values: their names in emitted code, and the comment above them. */
export interface Describe {
  /** The name a value's local or buffer is given (never a node id). */
  name(id: NodeId): string;
  /** The line above a computed value: the equation it comes from, or the gradient it is. */
  comment(id: NodeId): string | null;
}

/** The flat index of element `i` of row `m` in a slot of `size` elements per row. */
export function at(slot: Slot, m: Ix, size: number, i: Ix): Ix {
  const element = plus(num(slot.offset ?? 0), i);
  if (slot.rowBase === null) return element;
  return plus(times(plus(slot.rowBase, m), num(slot.stride ?? size)), element);
}

/** A slot's element i of row m as a tree (`loops/values.ts`): element i, or the row's one value when `element` is false. */
function loadOf(slot: Slot, size: number, element: boolean): Val & { kind: "load" } {
  return { kind: "load", array: slot.array, base: at(slot, num(0), size, num(0)), stride: slot.rowBase === null ? 0 : slot.stride ?? size, element };
}

/** A slot as base and row stride: where row 0 starts, and the distance between rows. */
export function strided(slot: Slot, size: number): Strided {
  if (slot.rowBase === null) return { array: slot.array, base: show(num(slot.offset ?? 0)), stride: 0 };
  return { array: slot.array, base: show(at(slot, num(0), size, num(0))), stride: slot.stride ?? size };
}

/**
 * Statements for element `i` of row m of an element loop; `values` holds the locals earlier
 * statements of the loop left for values they computed (read them instead of their arrays).
 */
type ElementStatement = (i: Ix, values: Map<NodeId, string>, names: Names) => Stmt[];

/** A loop statement a row loop computes: mapped value `id`'s argument `(a + b) + c` of arrays (`leaves`), `size` elements a row. */
interface Add3 {
  readonly id: NodeId;
  readonly size: number;
  readonly leaves: readonly [NodeId, NodeId, NodeId];
}

/**
 * One item of a phase, in order: a statement of an element loop, or code of its own. An element
 * statement computing a value says which (`computes`; `local` too when the value lives in a local).
 */
type Item =
  | {
      readonly kind: "element"; readonly size: number; readonly statement: ElementStatement; readonly reads: readonly NodeId[];
      readonly local?: NodeId; readonly computes?: NodeId;
      /** The mapped value whose argument this statement stores (`argument`). */
      readonly argumentOf?: NodeId;
      /** The value this statement copies (or adds) into a sink, and the sink (`copy`). */
      readonly copies?: { readonly id: NodeId; readonly slot: Slot; readonly mode: Mode };
    }
  | { readonly kind: "code"; readonly code: () => Stmt[]; readonly reads: readonly NodeId[] };

/**
 * Each item's loop, the values each loop computes again rather than read from another stage's
 * loop, and the items left out: locals that only other loops read.
 */
interface Loops {
  readonly groupOf: readonly number[];
  readonly again: ReadonlyMap<number, readonly NodeId[]>;
  readonly unread: ReadonlySet<number>;
}

/**
 * How many elements a pass of an element loop of `size` runs: four, or two, when they divide the
 * size and the loop has more than one pass; else one.
 */
export function elementsPerPass(size: number): number {
  for (const n of [4, 2]) if (size % n === 0 && size > n) return n;
  return 1;
}

/** `places` with the values held in locals read from there. */
function withValues(places: ReadonlyMap<NodeId, Place>, values: ReadonlyMap<NodeId, string>): ReadonlyMap<NodeId, Place> {
  if (values.size === 0) return places;
  const out = new Map(places);
  for (const [id, name] of values) out.set(id, { kind: "scalar", name });
  return out;
}

export interface PhaseCode {
  /** Scalars computed from constants alone (no param, input or state), to run at every call before the prologue. */
  readonly constants: Stmt[];
  /** Row-independent work, to run once before any phase. */
  readonly prologue: Stmt[];
  readonly body: Stmt[];
}

export class StepBody {
  private readonly provided = new Map<NodeId, Place>();
  private readonly requests: SinkRequest[] = [];
  private readonly m: string;
  private readonly i: string;

  constructor(
    private readonly graph: Graph,
    private readonly names: Names,
    private readonly scratch: Scratch,
    private readonly varying: ReadonlySet<NodeId>,
    /**
     * How many rows this phase computes: "B" (one step of every sequence), "TB" (all steps) or
     * "chunk" (the steps of one chunk: `count` rows).
     */
    private readonly rows: Exclude<Rows, "one">,
    private readonly describe: Describe,
    /**
     * The loop indices, allocated by the kernel: over rows (batch entries, or all steps) and over
     * the elements of a row. Element loops never nest, so every one uses the same index.
     */
    index: { readonly row: string; readonly element: string },
    /** The language the statements' text is written in (element reads differ). */
    private readonly dialect: Dialect,
    /** The number of rows of a "chunk" phase. */
    private readonly count?: Ix,
  ) {
    this.m = index.row;
    this.i = index.element;
  }

  private get rowCount(): Ix {
    if (this.rows === "chunk") return this.count!;
    return this.rows === "B" ? ix("B") : times(ix("T"), ix("B"));
  }

  /** `node` is already available at `slot` (a leaf, or a value stored by an earlier phase). */
  provide(node: NodeId, slot: Slot): void {
    // A value that is the same in every row is recomputed once per call rather than read per row.
    if (slot.rowBase !== null && !this.varying.has(node)) return;
    if (!this.provided.has(node)) this.provided.set(node, { kind: "array", slot, mode: "=" });
  }

  /** The value of `root` must end up in `slot` (stored or accumulated). */
  sink(root: NodeId, slot: Slot, mode: Mode): void {
    this.requests.push({ root, slot, mode });
  }

  /** The tape array each recorded value goes to. */
  private readonly recorded = new Map<NodeId, string>();

  /**
   * `node` is recorded in `slot`, a row of the tape: stored there like a sink, and when it is
   * mapped, computed there — its map's buffer is the tape row when the taped values of its map
   * call fill the row as they would the buffer (`tape.ts` lays the tape out so).
   */
  record(node: NodeId, slot: Slot): void {
    this.sink(node, slot, "=");
    this.recorded.set(node, slot.array);
  }

  private readonly derived = new Map<NodeId, Slot>();

  /**
   * The values derived from params alone that this phase computes in its prologue, and where they
   * are kept: a later phase of the kernel is given them (`provide`), so each is computed once.
   */
  derivedValues(): ReadonlyMap<NodeId, Slot> {
    this.prepare();
    return this.derived;
  }

  /** A param a row loop reads, by node: its copy in a workspace buffer (`keepParamsForRowLoops`). */
  private readonly paramCopies = new Map<NodeId, Slot>();

  private prepared?: {
    readonly constants: Stmt[]; readonly prologue: Stmt[]; readonly items: readonly Item[]; readonly loops: Loops; readonly places: ReadonlyMap<NodeId, Place>;
  };

  /**
   * Decides the place of every value and which locals need a buffer, allocating the buffers. A
   * kernel prepares all its phases before emitting any, so the locals it then names (in each
   * loop's own scope) never shadow a buffer the kernel declares.
   */
  /** Whether `id` is a scalar computed from constants alone, through scalars only. */
  private constantScalar(id: NodeId, seen = new Map<NodeId, boolean>()): boolean {
    const known = seen.get(id);
    if (known !== undefined) return known;
    const node = this.graph.node(id);
    const def = opDef(node.op);
    const result = node.shape.length === 0 && (node.op === "const" ||
      (node.args.length > 0 && def.kind !== "structural" && def.kind !== "leaf" && node.args.every((a) => this.constantScalar(a, seen))));
    seen.set(id, result);
    return result;
  }

  prepare(): void {
    if (this.prepared) return;
    const terms = this.splitSums();
    const { needed, uses, consumer } = this.analyze(terms.map((t) => t.node));
    const schedule = scheduleMaps(this.graph, needed, (id) => this.provided.has(id), (id) => this.mapOf(id), (id) => this.recorded.get(id) ?? "");
    const { places, direct } = this.assignPlaces(needed, uses, consumer, terms, schedule);
    const prologue: Stmt[] = [];
    const constants: Stmt[] = [];
    const items: Item[] = [];
    /** Each item's map stage. */
    const stages: number[] = [];
    let stage = 0;
    const push = (item: Item) => void (items.push(item), stages.push(stage));
    const writes = new SinkWrites(terms);
    // Each sink's terms are written in the order the IR adds them — the first stores, the rest
    // add — so a sink holds exactly the sum the IR computes, bit for bit, whatever else was
    // optimized. A term is written once its value is ready and every term before it is written.
    const byRequest: Term[][] = this.requests.map(() => []);
    for (const t of terms) byRequest[t.request]!.push(t);
    const termsOf = new Map<NodeId, Term[]>();
    for (const t of terms) termsOf.set(t.node, [...(termsOf.get(t.node) ?? []), t]);
    const ready = new Set<NodeId>(this.provided.keys());
    const next = byRequest.map(() => 0);
    /** Writes the request's next terms while their values are ready (a direct term writes itself). */
    const advance = (request: number) => {
      const queue = byRequest[request]!;
      for (let t = queue[next[request]!]; t && ready.has(t.node) && !direct.has(t); t = queue[next[request]!]) {
        writes.record(t);
        push(this.copy(t.node, t.slot, t.mode, places));
        next[request]!++;
      }
    };
    /** `id` is ready: its terms computed straight into their sinks are written, and what follows them. */
    const done = (id: NodeId) => {
      ready.add(id);
      for (const t of termsOf.get(id) ?? []) {
        if (direct.has(t)) {
          if (next[t.request] !== t.index) throw new Error("internal error: a term computed into its sink before the terms it follows");
          writes.record(t);
          next[t.request]!++;
        }
        advance(t.request);
      }
    };
    byRequest.forEach((_, r) => advance(r));
    // The maps of a stage are called one after another; what their values feed follows them all.
    let mappedValues: NodeId[] = [];
    for (const event of schedule.events) {
      stage = event.stage;
      if (event.kind === "map") {
        push(this.mapItem(event.group, places));
        mappedValues.push(...event.group.members);
        continue;
      }
      mappedValues.forEach(done);
      mappedValues = [];
      if (event.kind === "argument") {
        push(this.argument(event.id, places));
        continue;
      }
      const id = event.id;
      const place = places.get(id)!;
      const computed = place.kind === "scalar" || place.kind === "local" || (place.kind === "array" && !place.view);
      if (place.kind === "scalar") constants.push(...this.withComment(id, this.compute(id, places)));
      else if (computed && !this.varying.has(id)) {
        prologue.push(...this.withComment(id, this.compute(id, places)));
        if (place.kind === "array") this.derived.set(id, place.slot);
      }
      else if (computed) push(this.elementStatement(id, places) ?? { kind: "code", code: () => this.withComment(id, this.compute(id, places)), reads: this.reads(id, places) });
      done(id);
    }
    mappedValues.forEach(done);
    if (next.some((n, r) => n !== byRequest[r]!.length)) throw new Error("internal error: a sink's terms were not all written");
    const loops = this.buffersForLocals(items, stages, places);
    this.keepParamsForRowLoops(items, loops, places, prologue);
    this.prepared = { constants, prologue, items, loops, places };
  }

  /** The runtime map computing `id`, when this phase hands it to one: a varying vector of a mapped op. */
  private mapOf(id: NodeId) {
    return mapOfValue(this.graph, this.varying, this.scratch.maps, id);
  }

  emit(): PhaseCode {
    this.prepare();
    const { constants, prologue, items, loops } = this.prepared!;
    return { constants, prologue, body: this.loops(items, loops) };
  }

  /**
   * Element statements of one size that follow each other become one loop: each element's
   * statements read only that element (or a row's scalar computed before the loop), so they can
   * run in one pass — the gates of a step in one loop, as one would write them by hand. Then a
   * local gets a buffer only when an item outside its loop reads it — unless that item is an
   * element statement of a later map stage: its loop computes the value again, in float64 as the
   * value's own loop did, so which values are rounded through a buffer never depends on how the
   * maps split the loops (nor, then, on rewrites that merge or remove values). Returns each item's
   * loop, and the values each loop computes again.
   */
  private buffersForLocals(items: readonly Item[], stages: readonly number[], places: Map<NodeId, Place>): Loops {
    const groupOf: number[] = [];
    let group = -1;
    items.forEach((item, k) => {
      const prev = items[k - 1];
      const joins = item.kind === "element" && prev?.kind === "element" && prev.size === item.size;
      groupOf.push(joins ? group : ++group);
    });
    /** The item computing each value in an element loop. */
    const home = new Map<NodeId, number>();
    items.forEach((item, k) => item.kind === "element" && item.computes !== undefined && home.set(item.computes, k));
    const stored = new Set<NodeId>();
    const again = new Map<number, Set<NodeId>>();
    const computeAgain = (id: NodeId, g: number) => {
      const set = again.get(g) ?? new Set<NodeId>();
      again.set(g, set);
      if (set.has(id)) return;
      set.add(id);
      for (const a of items[home.get(id)!]!.reads) if (home.has(a) && groupOf[home.get(a)!] !== g) computeAgain(a, g);
    };
    items.forEach((item, k) => {
      for (const id of item.reads) {
        const h = home.get(id);
        if (h === undefined || groupOf[h] === groupOf[k]) continue;
        if (item.kind === "element" && stages[h] !== stages[k]) computeAgain(id, groupOf[k]!);
        else if (items[h]!.kind === "element" && (items[h] as { local?: NodeId }).local !== undefined) stored.add(id);
      }
    });
    for (const id of [...stored].sort((a, b) => a - b)) {
      const buffer = this.scratch.buffer(id, sizeOf(this.graph.shape(id)), this.names, this.rows);
      places.set(id, { kind: "array", slot: { array: buffer, rowBase: num(0) }, mode: "=" });
    }
    // A local that only later loops read (each computing it again) is not computed in its own.
    const unread = new Set<number>();
    for (let k = items.length - 1; k >= 0; k--) {
      const local = (items[k] as { local?: NodeId }).local;
      if (local === undefined || stored.has(local)) continue;
      if (!items.some((other, j) => j > k && groupOf[j] === groupOf[k] && !unread.has(j) && other.reads.includes(local))) unread.add(k);
    }
    const sorted = new Map([...again].map(([g, ids]) => [g, [...ids].sort((a, b) => a - b)]));
    return { groupOf, again: sorted, unread };
  }

  /** The items as loops: an element loop for each run of element statements, code as it is. */
  private loops(items: readonly Item[], { groupOf, again, unread }: Loops): Stmt[] {
    const places = this.prepared!.places;
    const out: Stmt[] = [];
    for (let k = 0; k < items.length; ) {
      const first = items[k]!;
      if (first.kind === "code") {
        out.push(...first.code());
        k++;
        continue;
      }
      const calls = again.has(groupOf[k]!) ? null : this.rowLoopCalls(items, groupOf, k, unread, places);
      if (calls !== null) {
        out.push(...calls.stmts);
        k = calls.next;
        continue;
      }
      const sums = this.columnSums(items, groupOf, k, again, places);
      out.push(...[...sums.values()].flat());
      const own: ElementStatement[] = [];
      const g = groupOf[k]!;
      for (; k < items.length && groupOf[k] === g; k++) {
        const item = items[k]!;
        if (item.kind === "element" && !unread.has(k) && !sums.has(k)) own.push(item.statement);
      }
      // Values computed again are for the group's own statements: with every one a call, no loop.
      const statements = [...(again.get(g) ?? []).map((id) => this.computedAgain(id, places)), ...own];
      if (statements.length && (own.length || sums.size === 0)) out.push(...this.elementLoop(first.size, statements));
    }
    return out;
  }

  /**
   * The statements of the element loop of items `k`… (one group) that add a stored value's rows
   * into a param gradient (`dbf[j] += df_pre[m][j]` for every row m), as calls of the runtime's
   * column sum (`ROW_LOOPS.colsum`) by item, when the kernel calls row loops. Each call adds the
   * same rows in the same order into the same float32 sums as the loop did, so it runs before the
   * rest of the loop when nothing else in the loop writes either array: the gradient no other
   * statement adds to (else their adds would interleave), the value stored before the loop, not
   * by it (a value the loop computes is added as its unrounded local).
   */
  private columnSums(items: readonly Item[], groupOf: readonly number[], k: number, again: Loops["again"], places: ReadonlyMap<NodeId, Place>): Map<number, Stmt[]> {
    const calls = new Map<number, Stmt[]>();
    if (!this.scratch.rowLoops) return calls;
    const group: number[] = [];
    for (let j = k; j < items.length && groupOf[j] === groupOf[k]; j++) group.push(j);
    const arrayOf = (id: NodeId | undefined) => {
      const place = id === undefined ? undefined : places.get(id);
      return place?.kind === "array" ? place.slot.array : undefined;
    };
    /** The array each item writes, if any. */
    const writes = group.map((j) => {
      const item = items[j]!;
      if (item.kind !== "element") return undefined;
      return item.copies?.slot.array ?? arrayOf(item.argumentOf ?? item.computes);
    });
    const computed = new Set([...group.flatMap((j) => (items[j] as { computes?: NodeId }).computes ?? []), ...(again.get(groupOf[k]!) ?? [])]);
    group.forEach((j, n) => {
      const item = items[j]!;
      const copies = item.kind === "element" ? item.copies : undefined;
      if (item.kind !== "element" || !copies || copies.mode !== "+=" || copies.slot.rowBase !== null || computed.has(copies.id)) return;
      const source = places.get(copies.id);
      if (source?.kind !== "array" || source.slot.rowBase === null) return;
      const others = writes.filter((_, o) => o !== n);
      if (others.includes(copies.slot.array) || others.includes(source.slot.array) || source.slot.array === copies.slot.array) return;
      calls.set(j, this.colsumCall(item.size, source.slot, copies.slot));
    });
    return calls;
  }

  /** `mm.colsum(…)` adding every row of a value (`size` elements a row, at `from`) into the sum at `into`. */
  private colsumCall(size: number, from: Slot, into: Slot): Stmt[] {
    const a = strided(from, size);
    const g = strided(into, size);
    const rows = this.rows === "B" ? "each of B rows" : this.rows === "chunk" ? "all steps * B rows" : "all T * B rows";
    const call = rowLoopCall("colsum", [show(this.rowCount), size, a.array, a.base, a.stride, g.array, g.base]);
    const column = (slot: Slot) => (slot.offset ? `${slot.offset} + j` : "j");
    const sum = `${g.array}[${column(into)}] += Σ_m ${a.array}[m][${column(from)}]`;
    return [comment(`${sum}, for ${rows} in order`), comment("prettier-ignore"), code(`${call};`)];
  }

  /**
   * The element loop of items `k`… (one group) as calls of the runtime's row loops (`ROW_LOOPS`),
   * when the kernel calls them (float32, runtime products) and every statement of
   * the loop is one a row loop computes: each the stored argument of a mapped value that is
   * `(a + b) + c` of row-strided or broadcast arrays (a gate's pre-activation). Else null.
   */
  private rowLoopCalls(items: readonly Item[], groupOf: readonly number[], k: number, unread: ReadonlySet<number>, places: ReadonlyMap<NodeId, Place>): { stmts: Stmt[]; next: number } | null {
    const matched = this.rowLoopGroup(items, groupOf, k, unread, places);
    return matched && { stmts: matched.calls.flatMap((c) => this.add3Call(c, places)), next: matched.next };
  }

  /** The add3 of each statement of the group from item `k` when every one is an add3 (and the kernel calls row loops), and where the group ends; else null. */
  private rowLoopGroup(items: readonly Item[], groupOf: readonly number[], k: number, unread: ReadonlySet<number>, places: ReadonlyMap<NodeId, Place>): { calls: Add3[]; next: number } | null {
    if (!this.scratch.rowLoops) return null;
    const calls: Add3[] = [];
    let next = k;
    for (const g = groupOf[k]; next < items.length && groupOf[next] === g; next++) {
      const item = items[next]!;
      if (unread.has(next)) continue;
      const call = item.kind === "element" && item.argumentOf !== undefined ? this.add3Of(item.argumentOf, item.size, places) : null;
      if (call === null) return null;
      calls.push(call);
    }
    return { calls, next };
  }

  /**
   * The params the row loops of this phase read (biases) live outside the arena the runtime runs
   * them in: each gets a copy in a workspace buffer, made in the prologue (when params change),
   * which the calls read instead.
   */
  private keepParamsForRowLoops(items: readonly Item[], { groupOf, again, unread }: Loops, places: ReadonlyMap<NodeId, Place>, prologue: Stmt[]): void {
    for (let k = 0; k < items.length; k++) {
      if (items[k]!.kind !== "element" || groupOf[k] === groupOf[k - 1] || again.has(groupOf[k]!)) continue;
      for (const call of this.rowLoopGroup(items, groupOf, k, unread, places)?.calls ?? []) {
        for (const leaf of call.leaves) {
          if (this.graph.node(leaf).op !== "param" || this.paramCopies.has(leaf)) continue;
          const param = places.get(leaf) as { slot: Slot };
          const size = sizeOf(this.graph.shape(leaf));
          const buffer = this.scratch.buffer(`${param.slot.array}_copy`, size, this.names, "one");
          this.paramCopies.set(leaf, { array: buffer, rowBase: null });
          prologue.push(comment(`${buffer} = ${param.slot.array}, where the runtime's row loops read it`), code(`${buffer}.set(${param.slot.array});`));
        }
      }
    }
  }

  /** The operands of `(a + b) + c`, the argument of mapped value `id` (`size` elements a row), if they are arrays; else null. */
  private add3Of(id: NodeId, size: number, places: ReadonlyMap<NodeId, Place>): Add3 | null {
    const target = places.get(id)!;
    const sumId = this.graph.node(id).args[0]!;
    const sum = this.graph.node(sumId);
    if (target.kind !== "array" || sum.op !== "add" || places.get(sumId)?.kind !== "inline") return null;
    const innerId = sum.args[0]!;
    const inner = this.graph.node(innerId);
    if (inner.op !== "add" || places.get(innerId)?.kind !== "inline") return null;
    const leaves = [inner.args[0]!, inner.args[1]!, sum.args[1]!] as const;
    for (const leaf of leaves) {
      const shape = this.graph.shape(leaf);
      if (places.get(leaf)?.kind !== "array" || shape.length === 0 || sizeOf(shape) !== size) return null;
    }
    return { id, size, leaves };
  }

  /** `mm.add3(…)` computing `call`, reading params from their copies. */
  private add3Call({ id, size, leaves }: Add3, places: ReadonlyMap<NodeId, Place>): Stmt[] {
    const target = places.get(id) as { slot: Slot };
    const slots = leaves.map((leaf) => this.paramCopies.get(leaf) ?? (places.get(leaf) as { slot: Slot }).slot);
    const operands = [...slots, target.slot].map((slot) => strided(slot, size));
    const args = operands.flatMap((o) => [o.array, o.base, o.stride]);
    const rows = this.rows === "B" ? "each of B rows" : "all T * B rows";
    const [a, b, c, y] = operands.map((o) => `${o.array}[${o.stride === 0 ? "" : "m]["}j]`);
    const call = rowLoopCall("add3", [show(this.rowCount), size, ...args]);
    // One line a call, as the loop it stands for reads (the formatter would give each argument one).
    return this.withComment(id, [comment(`${y} = (${a} + ${b}) + ${c}, for ${rows}`), comment("prettier-ignore"), code(`${call};`)]);
  }

  /**
   * One loop over this phase's rows and `size` elements, running `statements` for each element.
   * A pass of the element loop runs several elements one after another, each in a block of its
   * own (`unrolled`): the engine checks each typed array it touches (its kind, where its elements
   * are, its length) once a pass rather than once an element — about a third of the instructions
   * of a loop over a dozen arrays. The elements run in the same order as one at a time would.
   */
  private elementLoop(size: number, statements: readonly ElementStatement[]): Stmt[] {
    const i = this.i;
    const perPass = elementsPerPass(size);
    const pass = (write: (i: Ix) => Stmt[]): Stmt[] => {
      if (perPass === 1) return write(ix(i));
      return Array.from({ length: perPass }, (_, k): Stmt => ({ kind: "block", body: write(plus(ix(i), num(k))) }));
    };
    const rows = (body: Stmt[]): Stmt[] => this.orWasm(size, statements, loop(this.m, this.rowCount, [{ kind: "for", index: i, from: num(0), to: num(size), step: perPass, body }]));
    if (!this.readsEachOnce) {
      return rows(pass((at) => {
        const local = this.names.scope();
        const values = new Map<NodeId, string>();
        return statements.flatMap((s) => s(at, values, local));
      }));
    }
    // A stored value the loop's statements read more than once is read into a local at its first
    // use: the engine cannot keep it in a register across the stores between the reads (any typed
    // array may alias another), so each read would load it again.
    const counts = new Map<NodeId, number>();
    this.counting = counts;
    const tried = new Map<NodeId, string>();
    const scope = this.names.scope();
    statements.forEach((s) => s(ix(i), tried, scope));
    this.counting = null;
    this.readOnce = new Set([...counts].filter(([, n]) => n > 1).map(([id]) => id));
    const body = pass((at) => {
      const local = this.names.scope();
      const values = new Map<NodeId, string>();
      return statements.flatMap((s) => s(at, values, local));
    });
    const out = rows(body);
    this.readOnce = new Set();
    return out;
  }

  /**
   * An element loop (`js`), run as the cell's WebAssembly where the kernel has it: the same
   * statements for one element, compiled from their trees, tried first; the JavaScript loop runs
   * where they cannot (an array aliasing another, no WebAssembly), and is the loop the reader reads.
   */
  private orWasm(size: number, statements: readonly ElementStatement[], js: Stmt): Stmt[] {
    if (!this.scratch.elementLoop) return [js];
    const values = new Map<NodeId, string>();
    const local = this.names.scope();
    const one = statements.flatMap((s) => s(ix(this.i), values, local));
    const call = this.scratch.elementLoop(this.rows, show(this.rowCount), size, one);
    if (call === null) return [js];
    // One line a call, as the row loops' calls (the formatter would give each operand one).
    return [comment("As WebAssembly where its arrays allow, else as JavaScript:"), when(`\n// prettier-ignore\n!${call}\n`, [js])];
  }

  /**
   * Whether element loops read each stored value they use more than once into a local at its first
   * use (the backward's phases, whose statements read the taped values of a step several times).
   */
  readsEachOnce = false;

  /** While an element loop's statements are tried out: how often each stored value is read. */
  private counting: Map<NodeId, number> | null = null;
  /** Stored values the element loop being written reads more than once. */
  private readOnce: ReadonlySet<NodeId> = new Set();

  /**
   * Locals for the stored values among `reads` that the loop reads more than once and no earlier
   * statement of it has read yet: each element read into a local named after its value, once.
   */
  private readsOnce(reads: readonly NodeId[], m: Ix, i: Ix, places: ReadonlyMap<NodeId, Place>, values: Map<NodeId, string>, names: Names): Stmt[] {
    const out: Stmt[] = [];
    for (const id of new Set(reads)) {
      if (!this.readOnce.has(id) || values.has(id) || places.get(id)?.kind !== "array") continue;
      const value = this.read(id, m, i, places);
      const name = names.fresh(this.describe.name(id));
      values.set(id, name);
      // Above it, the equation of the value (or, for a leaf, what it is), as above a computed one.
      const text = this.describe.comment(id) ?? `${this.describe.name(id)}, read once for the statements below`;
      out.push(comment(text), { kind: "const", name, value, tree: this.tree(id, places) });
    }
    return out;
  }

  /** The stored nodes `id`'s expression reads, looking through the nodes fused into it. */
  private reads(id: NodeId, places: ReadonlyMap<NodeId, Place>): NodeId[] {
    return this.graph.node(id).args.flatMap((a) => (places.get(a)?.kind === "inline" ? this.reads(a, places) : [a]));
  }

  private withComment(id: NodeId, stmts: Stmt[]): Stmt[] {
    const text = this.describe.comment(id);
    return text === null || stmts.length === 0 ? stmts : [comment(text), ...stmts];
  }

  /**
   * A varying elementwise node, as a statement for element i of row m. Its value is a local, which
   * later statements of the loop read; stored in an array (its sink, or a buffer when read outside
   * the loop) as well.
   */
  private elementStatement(id: NodeId, places: ReadonlyMap<NodeId, Place>): Item | null {
    const node = this.graph.node(id);
    const def = opDef(node.op);
    const place = places.get(id)!;
    if (def.kind !== "elementwise" || node.shape.length === 0 || (place.kind !== "array" && place.kind !== "local")) return null;
    const size = sizeOf(node.shape);
    const m = ix(this.m);
    const statement: ElementStatement = (i, values, names) => {
      const loads = this.readsOnce(this.reads(id, places), m, i, places, values, names);
      const known = withValues(places, values);
      const args = node.args.map((a) => this.read(a, m, this.graph.shape(a).length === 0 ? num(0) : i, known));
      const value = def.expr(args, node.attrs);
      const tree = applied(node.op, node.attrs, node.args.map((a) => this.tree(a, known)));
      // The place is read now: a local may have been given a buffer after the loops were formed.
      const target = places.get(id)!;
      if (target.kind === "array" && target.mode !== "=") return [...loads, this.store(target.slot, size, m, i, target.mode, value, tree)];
      const name = names.fresh(this.describe.name(id));
      values.set(id, name);
      const lines = this.withComment(id, [{ kind: "const", name, value, tree }]);
      if (target.kind === "array") lines.push(this.store(target.slot, size, m, i, "=", name, named(name)));
      return [...loads, ...lines];
    };
    return { kind: "element", size, statement, reads: this.reads(id, places), computes: id, ...(place.kind === "local" ? { local: id } : {}) };
  }

  /** A value of an earlier map stage's loop computed again in this one, into a local (no store). */
  private computedAgain(id: NodeId, places: ReadonlyMap<NodeId, Place>): ElementStatement {
    const node = this.graph.node(id);
    const def = opDef(node.op, "elementwise");
    const m = ix(this.m);
    return (i, values, names) => {
      const loads = this.readsOnce(this.reads(id, places), m, i, places, values, names);
      const known = withValues(places, values);
      const value = def.expr(node.args.map((a) => this.read(a, m, this.graph.shape(a).length === 0 ? num(0) : i, known)), node.attrs);
      const tree = applied(node.op, node.attrs, node.args.map((a) => this.tree(a, known)));
      const name = names.fresh(this.describe.name(id));
      values.set(id, name);
      return [...loads, ...this.withComment(id, [{ kind: "const", name, value, tree }])];
    };
  }

  /**
   * The argument of mapped value `id`, stored (rounded to the dtype) where the map will compute
   * the value in place: an element statement of the stage computing the argument.
   */
  private argument(id: NodeId, places: ReadonlyMap<NodeId, Place>): Item {
    const arg = this.graph.node(id).args[0]!;
    const place = places.get(id)!;
    if (place.kind !== "array") throw new Error("internal error: a mapped value has no buffer");
    const size = sizeOf(this.graph.shape(id));
    const m = ix(this.m);
    const reads = places.get(arg)?.kind === "inline" ? this.reads(arg, places) : [arg];
    const statement: ElementStatement = (i, values) => {
      const known = withValues(places, values);
      return this.withComment(id, [this.store(place.slot, size, m, i, "=", this.read(arg, m, i, known), this.tree(arg, known))]);
    };
    return { kind: "element", size, statement, reads, argumentOf: id };
  }

  /** One call of a runtime map over every row of its group's buffer (or tape rows), in place. */
  private mapItem(group: MapGroup, places: ReadonlyMap<NodeId, Place>): Item {
    const firstId = group.members[0]!;
    const first = places.get(firstId)!;
    if (first.kind !== "array") throw new Error("internal error: a mapped value has no buffer");
    const buffer = first.slot.array;
    const start = show(at(first.slot, num(0), sizeOf(this.graph.shape(firstId)), num(0)));
    const def = opDef(this.graph.node(firstId).op, "elementwise");
    const what = `${group.members.map((id) => this.describe.name(id)).join(", ")} = ${def.syntax?.[0] ?? def.name}(…)`;
    const rows = this.rows === "B" ? "each of B rows" : "all T * B rows";
    const call = mapCall(group.map, [show(times(this.rowCount, num(group.width))), buffer, start, buffer, start]);
    return { kind: "code", reads: [], code: () => [comment(`${what}, for ${rows}${this.locations(group.members)}`), code(`${call};`)] };
  }

  /** Where the equations of `ids` are, as their comments say (`   lstm.cell:13, 14, 16`), or nothing. */
  private locations(ids: readonly NodeId[]): string {
    const found = ids.map((id) => /   (\S+):(\d+)$/u.exec(this.describe.comment(id) ?? "")).filter((m) => m !== null);
    const files = [...new Set(found.map((m) => m[1]!))];
    if (files.length !== 1) return "";
    return `   ${files[0]}:${[...new Set(found.map((m) => m[2]!))].join(", ")}`;
  }

  /**
   * Each sink's root, split into its terms where it is a sum used nowhere else: along the sum's
   * left spine only, so that adding the terms one by one, in order, is the IR's own arithmetic
   * (`(a + b) + c` is a, b, c; in `a + (b + c)` the inner sum is one term).
   */
  private splitSums(): Term[] {
    const { uses, roots } = this.analyze(this.requests.map((r) => r.root));
    const terms: Term[] = [];
    this.requests.forEach((req, request) => {
      const parts: NodeId[] = [];
      const split = (id: NodeId, top: boolean) => {
        const n = this.graph.node(id);
        // The root of one request only, or a sum only its parent on the spine reads.
        const splittable = n.op === "add" && !this.provided.has(id) &&
          (top ? roots.get(id) === 1 && !uses.has(id) : !roots.has(id) && uses.get(id) === 1) &&
          n.args.every((a) => sizeOf(this.graph.shape(a)) === sizeOf(n.shape));
        if (!splittable) return void parts.push(id);
        split(n.args[0]!, false);
        parts.push(n.args[1]!);
      };
      split(req.root, true);
      parts.forEach((node, index) =>
        terms.push({ node, slot: req.slot, mode: index === 0 ? req.mode : "+=", only: parts.length === 1, request, index }));
    });
    return terms;
  }

  /**
   * Nodes to compute (in order), how many computed nodes read each node, the consumer of nodes
   * read once, and how many sink requests each root has.
   */
  private analyze(roots: readonly NodeId[]) {
    const needed = [...walk(this.graph, roots, (id) => this.provided.has(id))].sort((a, b) => a - b);
    const uses = new Map<NodeId, number>();
    const consumer = new Map<NodeId, NodeId>();
    for (const id of needed) {
      if (this.provided.has(id)) continue;
      for (const a of this.graph.node(id).args) {
        uses.set(a, (uses.get(a) ?? 0) + 1);
        consumer.set(a, id);
      }
    }
    const rootCount = new Map<NodeId, number>();
    for (const r of roots) rootCount.set(r, (rootCount.get(r) ?? 0) + 1);
    return { needed, uses, consumer, roots: rootCount as ReadonlyMap<NodeId, number> };
  }

  private assignPlaces(
    needed: readonly NodeId[],
    uses: ReadonlyMap<NodeId, number>,
    consumer: ReadonlyMap<NodeId, NodeId>,
    terms: readonly Term[],
    schedule: Schedule,
  ) {
    const places = new Map<NodeId, Place>(this.provided);
    const direct = new Set<Term>();
    // A mapped value lives in its group's buffer, where the map computes it from its argument; a
    // recorded group's buffer is its tape row, which the value is then written to by the map.
    for (const group of schedule.groups) {
      const recorded = this.recordedTerms(group, terms);
      if (recorded) {
        for (const t of recorded) places.set(t.node, { kind: "array", slot: t.slot, mode: "=" }), direct.add(t);
        continue;
      }
      const buffer = this.scratch.buffer(this.mapBufferName(group), group.width, this.names, this.rows);
      for (const id of group.members) {
        const slot: Slot = { array: buffer, rowBase: num(0), stride: group.width, offset: group.offsets.get(id)! };
        places.set(id, { kind: "array", slot, mode: "=" });
      }
    }
    const rank = (id: NodeId) => schedule.rank.get(id) ?? -1;
    // A value something slices gets an array (not a loop local), so that the slices are views of it.
    const sliced = new Set(needed.filter((id) => !this.provided.has(id) && viewOffsetOf(this.graph.node(id).op)).map((id) => this.graph.node(id).args[0]!));
    for (const id of needed) {
      if (places.has(id)) continue;
      const node = this.graph.node(id);
      const varying = this.varying.has(id);
      const termsHere = terms.filter((t) => t.node === id);
      const readers = uses.get(id) ?? 0;
      // Computed straight into a sink when nothing else reads it, or when the sink holds exactly
      // it (an accumulating sink holds more than the node, so nothing may read it back from there),
      // and the terms it follows in its sink are all written by then (available, or computed earlier).
      const writtenBefore = (t: Term) =>
        terms.every((u) => u.request !== t.request || u.index >= t.index || this.provided.has(u.node) || rank(u.node) < rank(t.node));
      const into = termsHere.find(
        (t) =>
          varying === (t.slot.rowBase !== null || t.mode === "+=") &&
          ((readers === 0 && termsHere.length === 1) || (t.mode === "=" && t.only)) &&
          writtenBefore(t),
      );
      if (into) {
        places.set(id, { kind: "array", slot: into.slot, mode: into.mode });
        direct.add(into);
      } else if (termsHere.length === 0 && this.fusable(id, uses, consumer)) {
        places.set(id, { kind: "inline" });
      } else if (this.view(id, places)) {
        places.set(id, this.view(id, places)!);
      } else if (!varying && this.constantScalar(id)) {
        // Computed at every call in the kernel's own precision (a double), as constant folding
        // computes it: never rounded through a buffer of the cell's dtype.
        places.set(id, { kind: "scalar", name: this.names.fresh(this.describe.name(id)) });
      } else if (varying && opDef(node.op).kind === "elementwise" && node.shape.length > 0 && !sliced.has(id)) {
        places.set(id, { kind: "local" });
      } else {
        const rows: Rows = varying ? this.rows : "one";
        const buffer = this.scratch.buffer(id, sizeOf(node.shape), this.names, rows);
        places.set(id, { kind: "array", slot: { array: buffer, rowBase: varying ? num(0) : null }, mode: "=" });
      }
    }
    return { places, direct };
  }

  /** A map's buffer is named after the values it holds (`f_i_o`), or after the map when that is long. */
  private mapBufferName(group: MapGroup): string {
    return mapBufferName(group.map, group.members.map((id) => this.describe.name(id)));
  }

  /**
   * The terms recording a group's values, when the group can be computed in their tape row: each
   * value's is its only term into that array, and the row holds the group exactly as its buffer
   * would (the same width, each value at its offset there).
   */
  private recordedTerms(group: MapGroup, terms: readonly Term[]): Term[] | null {
    const found: Term[] = [];
    for (const id of group.members) {
      const mine = terms.filter((t) => t.node === id && t.slot.array === this.recorded.get(id));
      const t = mine[0];
      const size = sizeOf(this.graph.shape(id));
      if (mine.length !== 1 || !t || t.mode !== "=" || !t.only || t.slot.rowBase === null) return null;
      if ((t.slot.stride ?? size) !== group.width || (t.slot.offset ?? 0) !== group.offsets.get(id)) return null;
      found.push(t);
    }
    const first = found[0]!.slot;
    return found.every((t) => t.slot.array === first.array && show(t.slot.rowBase!) === show(first.rowBase!)) ? found : null;
  }

  /** A slice of a stored value is read in place, not copied (ops say where their view starts). */
  private view(id: NodeId, places: ReadonlyMap<NodeId, Place>): Place | undefined {
    const node = this.graph.node(id);
    const viewOf = viewOffsetOf(node.op);
    const source = places.get(node.args[0]!);
    if (!viewOf || source?.kind !== "array" || source.mode !== "=") return undefined;
    if (this.varying.has(id) !== (source.slot.rowBase !== null)) return undefined;
    const argShape = this.graph.shape(node.args[0]!);
    const slot: Slot = {
      array: source.slot.array,
      rowBase: source.slot.rowBase,
      stride: source.slot.stride ?? sizeOf(argShape),
      offset: (source.slot.offset ?? 0) + viewOf(node.attrs, argShape),
    };
    return { kind: "array", slot, mode: "=", view: true };
  }

  /** Fused into its consumer's loop: elementwise, used once, by a consumer reading each element once. */
  private fusable(id: NodeId, uses: ReadonlyMap<NodeId, number>, consumer: ReadonlyMap<NodeId, NodeId>): boolean {
    const node = this.graph.node(id);
    const def = opDef(node.op);
    if (def.kind !== "elementwise") return false;
    // Constants and broadcast scalars cost nothing to repeat.
    if (!this.varying.has(id) && node.args.every((a) => this.graph.shape(a).length === 0) && (def.cost ?? 1) === 0) return true;
    if (uses.get(id) !== 1 || node.shape.length === 0) return false;
    const userId = consumer.get(id)!;
    if (this.varying.has(userId) !== this.varying.has(id)) return false;
    const userDef = opDef(this.graph.node(userId).op);
    return userDef.kind === "elementwise" || userDef.kind === "reduce" || (userDef.kind === "structural" && userDef.readsOnce === true);
  }

  /** An expression for element `i` of node `id` in row `m`. */
  private read(id: NodeId, m: Ix, i: Ix, places: ReadonlyMap<NodeId, Place>): string {
    const place = places.get(id)!;
    const node = this.graph.node(id);
    const size = sizeOf(node.shape);
    const el = node.shape.length === 0 ? num(0) : i;
    if (place.kind === "scalar") return place.name;
    if (place.kind === "array") {
      if (this.counting && node.shape.length > 0) this.counting.set(id, (this.counting.get(id) ?? 0) + 1);
      return element(place.slot.array, at(place.slot, m, size, el), this.dialect);
    }
    if (place.kind === "local") throw new Error("internal error: a loop's local read outside its loop");
    return opDef(node.op, "elementwise").expr(node.args.map((a) => this.read(a, m, el, places)), node.attrs);
  }

  /** Node `id`'s value for element i of row m as a tree (`loops/values.ts`): what `read` writes as text. */
  private tree(id: NodeId, places: ReadonlyMap<NodeId, Place>): Val {
    const place = places.get(id)!;
    const node = this.graph.node(id);
    if (place.kind === "scalar") return named(place.name);
    if (place.kind === "array") return loadOf(place.slot, sizeOf(node.shape), node.shape.length > 0);
    if (place.kind === "local") throw new Error("internal error: a loop's local read outside its loop");
    return applied(node.op, node.attrs, node.args.map((a) => this.tree(a, places)));
  }

  /** An element loop's store of `value` (as text and as `tree`) into element i of row m of `slot`. */
  private store(slot: Slot, size: number, m: Ix, i: Ix, mode: Mode, value: string, tree: Val): Stmt {
    return { kind: "store", array: slot.array, index: at(slot, m, size, i), mode, value, at: loadOf(slot, size, true), tree };
  }

  private compute(id: NodeId, places: ReadonlyMap<NodeId, Place>): Stmt[] {
    const node = this.graph.node(id);
    const def = opDef(node.op);
    const place = places.get(id)!;
    const local = this.names.scope();
    // An op's loops run inside the row loop, never inside an element loop: its first `i` is the
    // kernel's element index, as a reduction's loop uses it (no `i_1` beside an unused `i`).
    let elementIndex = false;
    const fresh = (base: string) => (base === "i" && !elementIndex ? ((elementIndex = true), this.i) : local.fresh(base));
    const size = sizeOf(node.shape);
    const lines: Stmt[] = [];
    const put = (m: Ix, i: Ix, value: string): Stmt => {
      if (place.kind === "scalar") return { kind: "const", name: place.name, value };
      if (place.kind !== "array") throw new Error("internal error: storing a value that has no array");
      return store(place.slot.array, at(place.slot, m, size, i), place.mode, value);
    };
    const text = (s: Stmt) => (s.kind === "store" ? storeText(s.array, s.index, s.mode, s.value, this.dialect) : `const ${(s as { name: string }).name} = ${(s as { value: string }).value};`);
    const varying = this.varying.has(id);
    const m = ix(this.m);
    if (varying && def.kind === "structural" && def.emitRows) {
      const writer: RowWriter = {
        node,
        argShapes: node.args.map((a) => this.graph.shape(a)),
        argVarying: node.args.map((a) => this.varying.has(a)),
        intoUniform: place.kind === "array" && place.slot.rowBase === null,
        rows: show(this.rowCount),
        line: (line) => void lines.push(code(line)),
        fresh,
        arg: (k, row, i) => this.read(node.args[k]!, parseIndex(row), parseIndex(i), places),
        store: (row, i, value) => text(put(parseIndex(row), parseIndex(i), value)),
        product: (p) => void lines.push(this.product(id, p, place, places, local)),
      };
      if (def.emitRows(writer)) return lines;
      lines.length = 0;
    }
    if (def.kind === "elementwise") {
      if (node.shape.length === 0 && !varying) {
        return [put(m, num(0), this.read(id, m, num(0), new Map([...places, [id, { kind: "inline" }]])))];
      }
      const i = this.i;
      const expr = def.expr(node.args.map((a) => this.read(a, m, this.graph.shape(a).length === 0 ? num(0) : ix(i), places)), node.attrs);
      lines.push(size === 1 && node.shape.length === 0 ? put(m, num(0), expr) : loop(i, num(size), [put(m, ix(i), expr)]));
    } else if (def.kind === "reduce") {
      const arg = node.args[0]!;
      // The accumulator lives in the step's scope, beside the scalar it produces.
      const acc = varying ? local.fresh("acc") : this.names.fresh("acc");
      const i = this.i;
      const n = sizeOf(this.graph.shape(arg));
      const x = this.read(arg, m, ix(i), places);
      const fold = def.fold;
      lines.push({ kind: "let", name: acc, value: fold?.init ?? "0" });
      lines.push(loop(i, num(n), [fold ? { kind: "assign", name: acc, mode: "=", value: fold.step(acc, x) } : { kind: "assign", name: acc, mode: "+=", value: x }]));
      lines.push(put(m, num(0), def.finish(acc, n)));
    } else {
      const writer: KernelWriter = {
        node,
        argShapes: node.args.map((a) => this.graph.shape(a)),
        line: (line) => void lines.push(code(line)),
        fresh,
        arg: (k, i) => this.read(node.args[k]!, m, parseIndex(i), places),
        store: (i, value) => text(put(m, parseIndex(i), value)),
        whole: (k) => {
          const p = places.get(node.args[k]!);
          return p?.kind === "array" && !p.view && p.slot.rowBase === null && !p.slot.offset ? p.slot.array : null;
        },
        target: place.kind === "array" && place.mode === "=" ? { array: place.slot.array, start: show(at(place.slot, m, size, num(0))) } : null,
      };
      opDef(node.op, "structural").emit(writer);
    }
    return varying ? [loop(this.m, this.rowCount, lines)] : lines;
  }

  /**
   * Node `id` as one product of the loop IR: its operands (where they are stored, and how an
   * element is read), its result, and its rendering — a runtime call when products are calls and
   * every operand and the result are stored arrays, tiled loops otherwise.
   */
  private product(id: NodeId, p: Parameters<RowWriter["product"]>[0], place: Place, places: ReadonlyMap<NodeId, Place>, local: Names): Stmt {
    const node = this.graph.node(id);
    const stored = (id: NodeId, p: Place | undefined): Strided | null =>
      p?.kind === "array" ? strided(p.slot, sizeOf(this.graph.shape(id))) : null;
    const operand = (k: number): ProductOperand => {
      const arg = node.args[k]!;
      return { stored: stored(arg, places.get(arg)), read: (row, i) => this.read(arg, parseIndex(row), parseIndex(i), places) };
    };
    const size = sizeOf(node.shape);
    const out = {
      stored: place.kind === "array" ? strided(place.slot, size) : null,
      store: (row: string, i: string, value: string) => {
        if (place.kind !== "array") throw new Error("internal error: a product's result has no array");
        return storeText(place.slot.array, at(place.slot, parseIndex(row), size, parseIndex(i)), place.mode, value, this.dialect);
      },
    };
    const operands = [operand(p.args[0]), operand(p.args[1])] as const;
    const call = this.scratch.products && callable({ operands, out });
    if (call) {
      const { perRow, fixed } = staging(p.dims);
      this.scratch.stage(this.rows, perRow, fixed);
    }
    const given = new Map<string, string>();
    const name = (base: string) => given.get(base) ?? (given.set(base, local.fresh(base)), given.get(base)!);
    return {
      kind: "product",
      node: {
        op: p.op, rows: show(this.rowCount), dims: p.dims, operands, out,
        accumulate: place.kind === "array" && place.mode === "+=",
        rendering: call ? "call" : "loops",
        local: name,
      },
    };
  }

  /** Copies (or adds) a node's value into a sink: an element statement when it runs per row. */
  private copy(id: NodeId, slot: Slot, mode: Mode, places: ReadonlyMap<NodeId, Place>): Item {
    const size = sizeOf(this.graph.shape(id));
    const m = ix(this.m);
    const reads = places.get(id)?.kind === "inline" ? this.reads(id, places) : [id];
    const statement: ElementStatement = (i, values) => {
      const known = withValues(places, values);
      return [this.store(slot, size, m, i, mode, this.read(id, m, i, known), this.tree(id, known))];
    };
    if (this.varying.has(id) || slot.rowBase !== null) return { kind: "element", size, statement, reads, copies: { id, slot, mode } };
    return {
      kind: "code",
      reads,
      code: () => {
        const i = this.i;
        return [loop(i, num(size), statement(ix(i), new Map(), this.names))];
      },
    };
  }
}

/**
 * The order in which a phase writes its sinks, checked as the statements are emitted: a sink that
 * has an initialising term is written by it before any term adds to it, and only once.
 */
class SinkWrites {
  private readonly initialised = new Set<string>();
  private readonly hasInit = new Set<string>();

  constructor(terms: readonly Term[]) {
    for (const t of terms) if (t.mode === "=") this.hasInit.add(SinkWrites.key(t.slot));
  }

  private static key(slot: Slot): string {
    return `${slot.array}|${slot.rowBase === null ? "" : show(slot.rowBase)}|${slot.stride ?? ""}|${slot.offset ?? 0}`;
  }

  record(t: Term): void {
    const key = SinkWrites.key(t.slot);
    if (t.mode === "=") {
      if (this.initialised.has(key)) throw new Error(`internal error: sink ${t.slot.array} is initialised twice`);
      this.initialised.add(key);
    } else if (this.hasInit.has(key) && !this.initialised.has(key)) {
      throw new Error(`internal error: a term adds to sink ${t.slot.array} before the term that initialises it`);
    }
  }
}
