/**
 * The statements of one phase of a kernel: one time step for all B sequences, or a value for all
 * T·B steps at once. Given where values already live (params, inputs, states, the tape) and where
 * results must go (sinks), it decides the place of every node — fused into its single consumer's
 * loop, a scalar local, a scratch buffer, or written straight into its sink — and emits one loop
 * nest per stored node: over rows (batch entries or steps) outside, elements inside. Nodes that
 * are the same for every row (they depend on params only) go to a prologue run once per call.
 */
import { opDef, viewOffsetOf, type KernelWriter, type RowWriter, type Strided } from "../ops/index.js";
import { type Graph, type NodeId, sizeOf, walk } from "../ir/graph.js";
import type { Names } from "./names.js";

export type Mode = "=" | "+=";

/**
 * A flat array. With a row base, the array is `[rows][size]` and this phase's row m is row
 * `rowBase + m`; without (null), it is one value for all rows (a param or its gradient).
 */
export interface Slot {
  readonly array: string;
  readonly rowBase: string | null;
  /** A view into a wider array: elements per row there, and where this value starts in a row. */
  readonly stride?: number;
  readonly offset?: number;
}

type Place =
  | { readonly kind: "array"; readonly slot: Slot; readonly mode: Mode; readonly view?: boolean }
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
  /** Whether it is its sink request's only term. */
  readonly only: boolean;
  /** Its sink request, and its place among that request's terms (the order they are added in). */
  readonly request: number;
  readonly index: number;
}

export type Rows = "one" | "B" | "TB";

export interface Scratch {
  /**
   * A buffer for `node` (or, named by a string, one of the kernels' own): `size` elements, times
   * the phase's rows unless `rows` is "one".
   */
  buffer(node: NodeId | string, size: number, names: Names, rows: Rows): string;
  /** Whether matrix products are calls into the runtime's products (else loops in the module). */
  readonly products: boolean;
  /** A runtime product of this phase may stage `perRow` elements per row plus `fixed`. */
  stage(rows: Exclude<Rows, "one">, perRow: number, fixed: number): void;
}

/** The flat index of element `i` of row `m` in a slot of `size` elements per row. */
export function at(slot: Slot, m: string, size: number, i: string): string {
  const offset = slot.offset ?? 0;
  const element = offset === 0 ? i : i === "0" ? String(offset) : `${offset} + ${i}`;
  if (slot.rowBase === null) return element;
  const stride = slot.stride ?? size;
  const row = slot.rowBase === "0" ? m : `${slot.rowBase} + ${m}`;
  if (stride === 1) return offset === 0 ? row : `${row} + ${offset}`;
  const base = /^[\w$]+$/u.test(row) ? `${row} * ${stride}` : `(${row}) * ${stride}`;
  return element === "0" ? base : `${base} + ${element}`;
}

/** A slot as base and row stride: where row 0 starts, and the distance between rows. */
export function strided(slot: Slot, size: number): Strided {
  const offset = slot.offset ?? 0;
  if (slot.rowBase === null) return { array: slot.array, base: String(offset), stride: 0 };
  const stride = slot.stride ?? size;
  const row = slot.rowBase === "0" ? "" : /^[\w$]+$/u.test(slot.rowBase) ? `${slot.rowBase} * ${stride}` : `(${slot.rowBase}) * ${stride}`;
  const base = row === "" ? String(offset) : offset === 0 ? row : `${row} + ${offset}`;
  return { array: slot.array, base, stride };
}

/**
 * Statements for element `i` of row m of an element loop; `values` holds the locals earlier
 * statements of the loop left for values they computed (read them instead of their arrays).
 */
type ElementStatement = (i: string, values: Map<NodeId, string>, names: Names) => string[];

/** `places` with the values held in locals read from there. */
function withValues(places: ReadonlyMap<NodeId, Place>, values: ReadonlyMap<NodeId, string>): ReadonlyMap<NodeId, Place> {
  if (values.size === 0) return places;
  const out = new Map(places);
  for (const [id, name] of values) out.set(id, { kind: "scalar", name });
  return out;
}

export interface PhaseCode {
  /** Row-independent work, to run once before any phase. */
  readonly prologue: string[];
  readonly body: string[];
}

export class StepBody {
  private readonly provided = new Map<NodeId, Place>();
  private readonly requests: SinkRequest[] = [];
  private readonly m: string;

  constructor(
    private readonly graph: Graph,
    private readonly names: Names,
    private readonly scratch: Scratch,
    private readonly varying: ReadonlySet<NodeId>,
    /** How many rows this phase computes: "B" (one step of every sequence) or "TB" (all steps). */
    private readonly rows: Exclude<Rows, "one">,
  ) {
    this.m = names.fresh("m");
  }

  private get rowCount(): string {
    return this.rows === "B" ? "B" : "T * B";
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

  emit(): PhaseCode {
    const terms = this.splitSums();
    const { needed, uses, consumer } = this.analyze(terms.map((t) => t.node));
    const { places, direct } = this.assignPlaces(needed, uses, consumer, terms);
    const prologue: string[] = [];
    const body: string[] = [];
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
    // Per-row element loops of one size that follow each other become one loop: each element's
    // statements read only that element (or a row's scalar computed before the loop), so they
    // can run in one pass — the gates of a step in one loop, as one would write them by hand.
    let group: { size: number; statements: ElementStatement[] } | null = null;
    const flush = () => {
      if (group) body.push(...this.elementLoop(group.size, group.statements));
      group = null;
    };
    const emitItem = (item: string[] | { size: number; statement: ElementStatement }) => {
      if (Array.isArray(item)) return flush(), void body.push(...item);
      if (group && group.size !== item.size) flush();
      (group ??= { size: item.size, statements: [] }).statements.push(item.statement);
    };
    /** Writes the request's next terms while their values are ready (a direct term writes itself). */
    const advance = (request: number) => {
      const queue = byRequest[request]!;
      for (let t = queue[next[request]!]; t && ready.has(t.node) && !direct.has(t); t = queue[next[request]!]) {
        writes.record(t);
        emitItem(this.copy(t.node, t.slot, t.mode, places));
        next[request]!++;
      }
    };
    byRequest.forEach((_, r) => advance(r));
    for (const id of needed) {
      if (this.provided.has(id)) continue;
      const place = places.get(id)!;
      const computed = place.kind === "scalar" || (place.kind === "array" && !place.view);
      if (computed && !this.varying.has(id)) prologue.push(...this.compute(id, place, places));
      else if (computed) emitItem(this.elementStatement(id, place, places) ?? this.compute(id, place, places));
      ready.add(id);
      for (const t of termsOf.get(id) ?? []) {
        if (direct.has(t)) {
          if (next[t.request] !== t.index) throw new Error("internal error: a term computed into its sink before the terms it follows");
          writes.record(t);
          next[t.request]!++;
        }
        advance(t.request);
      }
    }
    if (next.some((n, r) => n !== byRequest[r]!.length)) throw new Error("internal error: a sink's terms were not all written");
    flush();
    return { prologue, body };
  }

  /** One loop over this phase's rows and `size` elements, running `statements` for each element. */
  private elementLoop(size: number, statements: readonly ElementStatement[]): string[] {
    const local = this.names.scope();
    const i = local.fresh("i");
    const m = this.m;
    const values = new Map<NodeId, string>();
    const lines = statements.flatMap((s) => s(i, values, local));
    const inner = lines.length === 1
      ? [`for (let ${i} = 0; ${i} < ${size}; ${i}++) ${lines[0]}`]
      : [`for (let ${i} = 0; ${i} < ${size}; ${i}++) {`, ...lines, "}"];
    return [`for (let ${m} = 0; ${m} < ${this.rowCount}; ${m}++) {`, ...inner, "}"];
  }

  /**
   * A varying elementwise node stored in an array, as a statement for element i of row m. In a
   * loop of several statements its value is also kept in a local, which later statements read
   * instead of loading it back from the array.
   */
  private elementStatement(id: NodeId, place: Place, places: ReadonlyMap<NodeId, Place>) {
    const node = this.graph.node(id);
    const def = opDef(node.op);
    if (def.kind !== "elementwise" || node.shape.length === 0 || place.kind !== "array") return null;
    const size = sizeOf(node.shape);
    const m = this.m;
    const statement: ElementStatement = (i, values, names) => {
      const known = withValues(places, values);
      const args = node.args.map((a) => this.read(a, m, this.graph.shape(a).length === 0 ? "0" : i, known));
      const value = def.expr(args, node.attrs);
      const target = `${place.slot.array}[${at(place.slot, m, size, i)}]`;
      if (place.mode !== "=") return [`${target} ${place.mode} ${value};`];
      const name = names.fresh(this.graph.names.get(id) ?? `v${id}`);
      values.set(id, name);
      return [`const ${name} = ${value};`, `${target} = ${name};`];
    };
    return { size, statement };
  }

  /**
   * Each sink's root, split into its terms where it is a sum used nowhere else: along the sum's
   * left spine only, so that adding the terms one by one, in order, is the IR's own arithmetic
   * (`(a + b) + c` is a, b, c; in `a + (b + c)` the inner sum is one term).
   */
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
          (top ? rootCount.get(id) === 1 : !rootCount.has(id)) &&
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

  /** Nodes to compute (in order), how often each is used, and the consumer of single-use nodes. */
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
      const varying = this.varying.has(id);
      const termsHere = terms.filter((t) => t.node === id);
      const otherUses = (uses.get(id) ?? 0) - 2 * termsHere.length;
      // Computed straight into a sink when nothing else reads it, or when the sink holds exactly
      // it (an accumulating sink holds more than the node, so nothing may read it back from there),
      // and the terms it follows in its sink are all written by then (available, or computed earlier).
      const writtenBefore = (t: Term) =>
        terms.every((u) => u.request !== t.request || u.index >= t.index || this.provided.has(u.node) || u.node < t.node);
      const into = termsHere.find(
        (t) =>
          varying === (t.slot.rowBase !== null || t.mode === "+=") &&
          ((otherUses === 0 && termsHere.length === 1) || (t.mode === "=" && t.only)) &&
          writtenBefore(t),
      );
      if (into) {
        places.set(id, { kind: "array", slot: into.slot, mode: into.mode });
        direct.add(into);
      } else if (termsHere.length === 0 && this.fusable(id, uses, consumer)) {
        places.set(id, { kind: "inline" });
      } else if (this.view(id, places)) {
        places.set(id, this.view(id, places)!);
      } else if (node.shape.length === 0 && !varying && opDef(node.op).kind !== "structural") {
        places.set(id, { kind: "scalar", name: this.names.fresh(this.graph.names.get(id) ?? `s${id}`) });
      } else {
        const rows: Rows = varying ? this.rows : "one";
        const buffer = this.scratch.buffer(id, sizeOf(node.shape), this.names, rows);
        places.set(id, { kind: "array", slot: { array: buffer, rowBase: varying ? "0" : null }, mode: "=" });
      }
    }
    return { places, direct };
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
  private read(id: NodeId, m: string, i: string, places: ReadonlyMap<NodeId, Place>): string {
    const place = places.get(id)!;
    const node = this.graph.node(id);
    const size = sizeOf(node.shape);
    const el = node.shape.length === 0 ? "0" : i;
    if (place.kind === "scalar") return place.name;
    if (place.kind === "array") return `${place.slot.array}[${at(place.slot, m, size, el)}]`;
    const def = opDef(node.op, "elementwise");
    return def.expr(node.args.map((a) => this.read(a, m, el, places)), node.attrs);
  }

  private compute(id: NodeId, place: Place, places: ReadonlyMap<NodeId, Place>): string[] {
    const node = this.graph.node(id);
    const def = opDef(node.op);
    const local = this.names.scope();
    const size = sizeOf(node.shape);
    const lines: string[] = [];
    const store = (m: string, i: string, value: string): string => {
      if (place.kind === "scalar") return `const ${place.name} = ${value};`;
      if (place.kind !== "array") throw new Error("internal error: storing a fused node");
      return `${place.slot.array}[${at(place.slot, m, size, i)}] ${place.mode} ${value};`;
    };
    const varying = this.varying.has(id);
    const m = this.m;
    if (varying && def.kind === "structural" && def.emitRows) {
      const writer: RowWriter = {
        node,
        argShapes: node.args.map((a) => this.graph.shape(a)),
        argVarying: node.args.map((a) => this.varying.has(a)),
        intoUniform: place.kind === "array" && place.slot.rowBase === null,
        rows: this.rowCount,
        line: (code) => void lines.push(code),
        fresh: (base) => local.fresh(base),
        arg: (k, row, i) => this.read(node.args[k]!, row, i, places),
        store,
        products: this.scratch.products ? this.productSlots(id, place, places) : undefined,
      };
      if (def.emitRows(writer)) return lines;
      lines.length = 0;
    }
    if (def.kind === "elementwise") {
      if (node.shape.length === 0 && !varying) {
        return [store(m, "0", this.read(id, m, "0", new Map([...places, [id, { kind: "inline" }]])))];
      }
      const i = local.fresh("i");
      const expr = def.expr(node.args.map((a) => this.read(a, m, this.graph.shape(a).length === 0 ? "0" : i, places)), node.attrs);
      lines.push(size === 1 && node.shape.length === 0 ? store(m, "0", expr) : `for (let ${i} = 0; ${i} < ${size}; ${i}++) ${store(m, i, expr)}`);
    } else if (def.kind === "reduce") {
      const arg = node.args[0]!;
      // The accumulator lives in the step's scope, beside the scalar it produces.
      const acc = varying ? local.fresh("acc") : this.names.fresh("acc");
      const i = local.fresh("i");
      const n = sizeOf(this.graph.shape(arg));
      lines.push(`let ${acc} = 0;`);
      lines.push(`for (let ${i} = 0; ${i} < ${n}; ${i}++) ${acc} += ${this.read(arg, m, i, places)};`);
      lines.push(store(m, "0", def.finish(acc, n)));
    } else {
      const writer: KernelWriter = {
        node,
        argShapes: node.args.map((a) => this.graph.shape(a)),
        line: (code) => void lines.push(code),
        fresh: (base) => local.fresh(base),
        arg: (k, i) => this.read(node.args[k]!, m, i, places),
        store: (i, value) => store(m, i, value),
        whole: (k) => {
          const p = places.get(node.args[k]!);
          return p?.kind === "array" && !p.view && p.slot.rowBase === null && !p.slot.offset ? p.slot.array : null;
        },
        target: place.kind === "array" && place.mode === "=" ? { array: place.slot.array, start: at(place.slot, m, size, "0") } : null,
      };
      opDef(node.op, "structural").emit(writer);
    }
    return varying ? [`for (let ${m} = 0; ${m} < ${this.rowCount}; ${m}++) {`, ...lines, "}"] : lines;
  }

  /** Where a product's arguments and result are stored, for a call into the runtime's products. */
  private productSlots(id: NodeId, place: Place, places: ReadonlyMap<NodeId, Place>): RowWriter["products"] {
    const args = this.graph.node(id).args;
    const stored = (id: NodeId, p: Place | undefined): Strided | null =>
      p?.kind === "array" ? strided(p.slot, sizeOf(this.graph.shape(id))) : null;
    return {
      arg: (k) => stored(args[k]!, places.get(args[k]!)),
      out: place.kind === "array" ? strided(place.slot, sizeOf(this.graph.shape(id))) : null,
      accumulate: place.kind === "array" && place.mode === "+=",
      stage: (perRow, fixed) => this.scratch.stage(this.rows, perRow, fixed),
    };
  }

  /** Copies (or adds) a node's value into a sink: an element statement when it runs per row. */
  private copy(id: NodeId, slot: Slot, mode: Mode, places: ReadonlyMap<NodeId, Place>): string[] | { size: number; statement: ElementStatement } {
    const size = sizeOf(this.graph.shape(id));
    const m = this.m;
    const value = (i: string, values: ReadonlyMap<NodeId, string>) => this.read(id, m, i, withValues(places, values));
    const statement: ElementStatement = (i, values) => [`${slot.array}[${at(slot, m, size, i)}] ${mode} ${value(i, values)};`];
    if (this.varying.has(id) || slot.rowBase !== null) return { size, statement };
    const i = this.names.scope().fresh("i");
    return [`for (let ${i} = 0; ${i} < ${size}; ${i}++) ${statement(i, new Map(), this.names)[0]}`];
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
    return `${slot.array}|${slot.rowBase}|${slot.stride ?? ""}|${slot.offset ?? 0}`;
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
