/**
 * The three kernels of a cell as function bodies: `forward` over a sequence batch (recording the
 * tape), `backward` through time, and an allocation-free `step`. Each is a few phases of
 * `StepBody` loop IR: values hoisted out of the recurrence for all T·B steps, the recurrence itself
 * one step of all B sequences at a time, and gradient work deferred until after it. The bodies are
 * written in a dialect (`loops/ir.ts`): JavaScript, or the same code as TypeScript that type-checks
 * under the strictest common settings (`!` on element reads, lists unpacked as tuples).
 */
import { CHUNK_ROWS, KERNEL_PARAMETER, type KernelName } from "../../src/runtime/abi.js";
import type { TensorDecl } from "../ast.js";
import type { CellIR } from "../ir/cell.js";
import { type Graph, type NodeId, sizeOf, walk } from "../ir/graph.js";
import { viewOffsetOf } from "../ops/index.js";
import { StepBody, type Describe, type Rows, type Scratch, type Slot } from "./body.js";
import { describeValues } from "./describe.js";
import { type Ix, ix, num, plus, times } from "./loops/index-expr.js";
import { type Dialect, type Stmt, comment, element, identifiersIn, loop, render, store, unpack, unpacked, when } from "./loops/ir.js";
import type { Names } from "./names.js";
import type { KernelPlan } from "./plan.js";
import { type TapeArray, layTape, tapeSlot } from "./tape.js";

/** A kernel's body and which of its parameters the body reads. */
export interface KernelText {
  readonly body: string;
  readonly reads: ReadonlySet<string>;
}

export interface KernelTexts {
  readonly forward: KernelText;
  readonly backward: KernelText;
  readonly step: KernelText;
  readonly infer: KernelText;
  /** The tape's arrays, as forward records them and backward reads them. */
  readonly tape: readonly TapeArray[];
  /** The workspace buffers each kernel uses, in the order the module binds them from `WS`: each one's name in that kernel and its index in `WS`. */
  readonly uses: { readonly [K in KernelName]: readonly WorkspaceUse[] };
}

/** A workspace buffer as one kernel binds it: `const name = WS[index]`. */
export interface WorkspaceUse {
  readonly name: string;
  readonly index: number;
}

/**
 * The workspace: buffers kept across calls for values derived from params alone, and per-call
 * scratch for the rest. A buffer is identified by its index in the kernels' `WS` argument; each
 * kernel names the buffers it binds in its own scope, so a buffer is named after what it holds in
 * every kernel (the step kernel's one-step `Wx_x` and the forward's all-steps `Wx_x` are both
 * `Wx_x`), never with a suffix because another kernel has a buffer of that name.
 */
export interface Buffers {
  /** The index in `WS` of the buffer of `node` of `graph` (or of the kernels' own buffer with that name). */
  buffer(graph: Graph, node: NodeId | string, size: number, rows: Rows): number;
  /** Whether matrix products are calls into the runtime's products. */
  readonly products: boolean;
  /** Whether sigmoid, tanh and exp over vectors are calls into the runtime's maps (float32 with runtime products). */
  readonly maps: boolean;
  /** Whether element loops a runtime row loop computes are calls into it (`EmitOptions.rowLoops`). */
  readonly rowLoops: boolean;
  /** A runtime product may stage `perRow` elements per row plus `fixed`. */
  stage(rows: "B" | "TB", perRow: number, fixed: number): void;
  /** The test running an element loop as WebAssembly (`Scratch.elementLoop`), staging as many elements as a call may stage. */
  elementLoop?(phase: "B" | "TB", rows: string, size: number, body: readonly Stmt[]): string | null;
}

type KernelBuffers = Scratch & { used(): WorkspaceUse[] };

/**
 * The buffers of one kernel over `graph`, each named once in the kernel's scope, remembering which
 * it uses. A value the cell does not name is given its described name first, so no buffer is named
 * after a node id.
 */
function tracking(buffers: Buffers, graph: Graph, describe: Describe): KernelBuffers {
  const used = new Map<number, string>();
  return {
    buffer(node, size, names, rows) {
      if (typeof node === "number" && !graph.names.has(node)) graph.name(node, describe.name(node));
      const index = buffers.buffer(graph, node, size, rows);
      let name = used.get(index);
      if (name === undefined) {
        const base = typeof node === "string" ? node : describe.name(node);
        // A value kept for all T·B steps whose name the kernel already gives out (a param
        // gradient's `dbc` holds the sum over steps, the buffer each step's `dbc`) is `dbc_steps`.
        name = names.fresh((rows === "TB" || rows === "chunk") && names.taken(base) ? `${base}_steps` : base);
        used.set(index, name);
      }
      return name;
    },
    products: buffers.products,
    maps: buffers.maps,
    rowLoops: buffers.rowLoops,
    // A chunk's products stage no more than all T·B rows would.
    stage: (rows, perRow, fixed) => buffers.stage(rows === "chunk" ? "TB" : rows, perRow, fixed),
    ...(buffers.elementLoop ? { elementLoop: (phase, rows, size, body) => buffers.elementLoop!(phase === "chunk" ? "TB" : phase, rows, size, body) } : {}),
    used: () => [...used].map(([index, name]) => ({ name, index })),
  };
}

interface Arrays {
  readonly params: string[];
  readonly inputs: string[];
  readonly states: string[];
  readonly outputs: string[];
  /** The tape's arrays' names, and where each taped value is in them from a row on. */
  readonly tape: string[];
  readonly taped: (node: NodeId, rowBase: Ix) => Slot;
}

/** Loop indices, chosen among names the cell does not use (a gate `i` stays `i`). */
interface Indices {
  /** Time steps. */
  readonly t: string;
  /** Batch entries: the rows of one step. */
  readonly b: string;
  /** All T·B rows at once. */
  readonly r: string;
  /** Elements of a row. */
  readonly i: string;
  /** Chunks of steps (`chunked`): steps per chunk, a chunk's first step, its steps, a step's place in it. */
  readonly chunk: string;
  readonly t0: string;
  readonly steps: string;
  readonly tc: string;
}

const size = (d: TensorDecl) => sizeOf(d.shape);
/**
 * The prologues' values derived from params alone (stacked weights), each in a workspace buffer
 * kept across calls: computed only when the runtime says params changed (or the workspace is new).
 */
const derived = (prologue: readonly Stmt[]): Stmt[] =>
  prologue.length ? [comment("Values derived from params alone, kept until params change."), when(KERNEL_PARAMETER.paramsChanged, prologue)] : [];
/**
 * Prepares a kernel's phases in order, each given the params-only values the phases before it
 * compute in their prologues: two phases needing one such value share its computation.
 */
function prepareInOrder(...phases: StepBody[]): void {
  phases.forEach((phase, k) => {
    phase.prepare();
    for (const later of phases.slice(k + 1)) for (const [node, slot] of phase.derivedValues()) later.provide(node, slot);
  });
}
const destructure = (names: readonly string[], from: string): Stmt[] => (names.length ? [unpack(names, from)] : []);
const B = ix("B");
/** Row `t·B` of a `[T][B][n]` array: the first row of step t. */
const stepRow = (t: string): Ix => times(ix(t), B);
/** Row `(t + 1)·B`: the first row of the state history after step t. */
const nextRow = (t: string): Ix => times(plus(ix(t), num(1)), B);
/** `for i < n: target[i] = value(i)` over one row's n elements. */
const fill = (i: string, n: number, target: Slot, row: Ix, value: (i: Ix) => string): Stmt =>
  loop(i, num(n), [store(target.array, atRow(target, row, n, ix(i)), "=", value(ix(i)))]);
/** Element i of row `row` of `slot` (which has `n` elements per row). */
const atRow = (slot: Slot, row: Ix, n: number, i: Ix): Ix => plus(times(plus(slot.rowBase ?? num(0), row), num(slot.stride ?? n)), num(slot.offset ?? 0), i);
/** Row `t0·B`: the first row of the chunk. */
const chunkRow = (x: Indices): Ix => times(ix(x.t0), B);
/** A value of the chunk's step t in a buffer of the chunk's rows: row `(t − t0)·B`. */
const rowInChunk = (x: Indices): Ix => times(ix(x.tc), B);

/**
 * The time loop in chunks of steps, each about `CHUNK_ROWS` rows (`chunkSteps` in the runtime
 * sizes the buffers alike): `before` runs over the rows of a chunk, then the chunk's steps one at
 * a time (`during`, from the last one down when `down`), then `after` over its rows. Buffers of
 * values hoisted out of the recurrence or deferred after it hold one chunk's rows, not all T·B, and
 * they are used while they are still in cache.
 */
function chunked(x: Indices, dialect: Dialect, down: boolean, before: readonly Stmt[], during: readonly Stmt[], after: readonly Stmt[]): Stmt[] {
  const { t, chunk, t0, steps, tc } = x;
  const position: Stmt[] = identifiersIn(render(during, dialect)).has(tc)
    ? [comment("The step's row in buffers of the chunk's rows."), { kind: "const", name: tc, value: `${t} - ${t0}` }]
    : [];
  return [
    comment(`Steps per chunk: about ${CHUNK_ROWS} rows of the batch at a time.`),
    { kind: "const", name: chunk, value: `Math.min(T, Math.ceil(${CHUNK_ROWS} / B))` },
    {
      kind: "chunks", index: t0, length: chunk, down,
      body: [
        comment("Steps in this chunk: `chunk`, fewer in the last one."),
        { kind: "const", name: steps, value: `Math.min(${chunk}, T - ${t0})` },
        ...before,
        { kind: "for", index: t, from: ix(t0), to: plus(ix(t0), ix(steps)), down, body: [...position, ...during] },
        ...after,
      ],
    },
  ];
}

/**
 * `step` may be built from its own IR: one that leaves params unstacked, since a stacked copy of
 * the params would be rebuilt at every call of a single step.
 */
export function emitKernels(ir: CellIR, plan: KernelPlan, names: Names, buffers: Buffers, dialect: Dialect, step = { ir, plan }): KernelTexts {
  const describe = describeValues(ir);
  const stepDescribe = step.ir === ir ? describe : describeValues(step.ir);
  for (const id of plan.taped) if (!ir.graph.names.has(id)) ir.graph.name(id, describe.name(id));
  const tape = layTape(ir, plan, buffers.maps, describe);
  const tapeNames = tape.map((a) => names.fresh(`${a.name}_tape`));
  const arrays: Arrays = {
    params: ir.params.map((p) => names.fresh(p.name)),
    inputs: ir.inputs.map((x) => names.fresh(x.name)),
    states: ir.states.map((s) => names.fresh(`${s.name}_seq`)),
    outputs: ir.outputs.map((o) => names.fresh(`${o.name}_out`)),
    tape: tapeNames,
    taped: (node, rowBase) => tapeSlot(tape, tapeNames, node, rowBase),
  };
  // Every name a value of the cell may be given; loop indices keep clear of them.
  const cellNames = new Set<string>();
  for (const cell of [ir, step.ir]) {
    for (const name of cell.graph.names.values()) cellNames.add(name), cellNames.add(`d${name}`);
    for (const d of [...cell.params, ...cell.inputs, ...cell.states, ...cell.outputs]) cellNames.add(d.name);
  }
  const pick = (kernel: Names, ...candidates: string[]) => kernel.fresh(candidates.find((c) => !cellNames.has(c)) ?? `${candidates[0]}_index`);
  const indices = (kernel: Names): Indices => ({
    t: pick(kernel, "t", "s"), b: pick(kernel, "b", "n"), r: pick(kernel, "r", "row"), i: pick(kernel, "i", "j", "k", "e"),
    chunk: pick(kernel, "chunk", "chunk_steps"), t0: pick(kernel, "start", "chunk_start"), steps: pick(kernel, "steps", "chunk_length"), tc: pick(kernel, "tc", "t_in_chunk"),
  });
  const uses = { forward: [] as WorkspaceUse[], backward: [] as WorkspaceUse[], step: [] as WorkspaceUse[], infer: [] as WorkspaceUse[] };
  const kernel = (key: keyof typeof uses, emit: typeof emitForward, cell: CellIR, cellPlan: KernelPlan, d: Describe) => {
    const tracked = tracking(buffers, cell.graph, d);
    const scope = names.scope();
    const body = emit(cell, cellPlan, scope, indices(scope), tracked, arrays, d, dialect);
    uses[key] = tracked.used();
    const { stmts, reads } = unpacked(body);
    return { body: render(stmts, dialect).join("\n"), reads };
  };
  return {
    forward: kernel("forward", emitForward, ir, plan, describe),
    backward: kernel("backward", emitBackward, ir, plan, describe),
    step: kernel("step", emitStep, step.ir, step.plan, stepDescribe),
    infer: kernel("infer", emitInfer, ir, plan, describe),
    tape,
    uses,
  };
}

function header(arrays: Arrays, withTape: boolean): Stmt[] {
  return [
    ...destructure(arrays.params, "P"),
    ...destructure(arrays.inputs, "X"),
    ...destructure(arrays.states, "S"),
    ...destructure(arrays.outputs, "Y"),
    ...(withTape ? destructure(arrays.tape, "R") : []),
  ];
}

/** Params, this phase's inputs and previous states, as slots with the given row base. */
function provideLeaves(ir: CellIR, body: StepBody, arrays: Arrays, rowBase: Ix): void {
  ir.leaves.params.forEach((node, k) => body.provide(node, { array: arrays.params[k]!, rowBase: null }));
  ir.leaves.inputs.forEach((node, k) => body.provide(node, { array: arrays.inputs[k]!, rowBase }));
  ir.leaves.states.forEach((node, k) => body.provide(node, { array: arrays.states[k]!, rowBase }));
}

function emitForward(ir: CellIR, plan: KernelPlan, names: Names, x: Indices, buffers: Scratch, arrays: Arrays, describe: Describe, dialect: Dialect): Stmt[] {
  const { t, b, i } = x;
  const hoist = new StepBody(ir.graph, names, buffers, plan.varying, "chunk", describe, { row: x.r, element: i }, dialect, times(ix(x.steps), B));
  const step = new StepBody(ir.graph, names, buffers, plan.varying, "B", describe, { row: b, element: i }, dialect);
  provideLeaves(ir, hoist, arrays, chunkRow(x));
  provideLeaves(ir, step, arrays, stepRow(t));
  const phaseOf = (node: NodeId) => (plan.hoisted.has(node) ? hoist : step);
  const here = (node: NodeId, base: Ix, hoistedBase: Ix) => (plan.hoisted.has(node) ? hoistedBase : base);
  ir.nextStates.forEach((node, k) => phaseOf(node).sink(node, { array: arrays.states[k]!, rowBase: here(node, nextRow(t), plus(chunkRow(x), B)) }, "="));
  ir.outputNodes.forEach((node, k) => phaseOf(node).sink(node, { array: arrays.outputs[k]!, rowBase: here(node, stepRow(t), chunkRow(x)) }, "="));
  plan.taped.forEach((node) => {
    if (plan.hoisted.has(node)) {
      hoist.record(node, arrays.taped(node, chunkRow(x)));
      step.provide(node, arrays.taped(node, stepRow(t)));
    } else step.record(node, arrays.taped(node, stepRow(t)));
  });
  for (const node of plan.hoistedStored) {
    const buffer = buffers.buffer(node, sizeOf(ir.graph.shape(node)), names, "chunk");
    hoist.sink(node, { array: buffer, rowBase: num(0) }, "=");
    step.provide(node, { array: buffer, rowBase: rowInChunk(x) });
  }
  prepareInOrder(hoist, step);
  const before = hoist.emit();
  const during = step.emit();
  const masked = element("M", plus(stepRow(t), ix(b)), dialect);
  const padding: Stmt[] = [
    comment("padding: the state carries through, the outputs are zero"),
    ...ir.states.map((s, k) => fill(i, size(s), { array: arrays.states[k]!, rowBase: nextRow(t) }, ix(b), (e) =>
      element(arrays.states[k]!, atRow({ array: arrays.states[k]!, rowBase: stepRow(t) }, ix(b), size(s), e), dialect))),
    ...ir.outputs.map((o, k) => fill(i, size(o), { array: arrays.outputs[k]!, rowBase: stepRow(t) }, ix(b), () => "0")),
  ];
  const each = [...during.body, when("M !== undefined", [loop(b, B, [when(`${masked} === 0`, padding)])])];
  return [
    ...header(arrays, true),
    ...before.constants, ...during.constants, ...derived([...before.prologue, ...during.prologue]),
    ...(before.body.length
      ? chunked(x, dialect, false, [comment("Everything that does not depend on a state, for the chunk's steps at once."), ...before.body], each, [])
      : [{ kind: "for", index: t, from: num(0), to: ix("T"), body: each } as const]),
  ];
}

/**
 * The forward without a record: the states go back and forth between the caller's `[B][n]` arrays
 * and a swap buffer, nothing is taped, and values hoisted out of the recurrence are kept only
 * where the recurrence reads them. The same statements as `forward`, so the same numbers.
 */
function emitInfer(ir: CellIR, plan: KernelPlan, names: Names, x: Indices, buffers: Scratch, arrays: Arrays, describe: Describe, dialect: Dialect): Stmt[] {
  const { t, b, i } = x;
  const nowOf = ir.states.map((s) => names.fresh(`${s.name}_now`));
  const nextOf = ir.states.map((s) => names.fresh(`${s.name}_new`));
  const swapOf = ir.states.map((s) => buffers.buffer(`${s.name}_swap`, size(s), names, "B"));
  const hoist = new StepBody(ir.graph, names, buffers, plan.varying, "chunk", describe, { row: x.r, element: i }, dialect, times(ix(x.steps), B));
  const step = new StepBody(ir.graph, names, buffers, plan.varying, "B", describe, { row: b, element: i }, dialect);
  provideLeaves(ir, hoist, arrays, chunkRow(x));
  // The states first: the first place given for a value is where it is read from.
  ir.leaves.states.forEach((node, k) => step.provide(node, { array: nowOf[k]!, rowBase: num(0) }));
  provideLeaves(ir, step, arrays, stepRow(t));
  /** A hoisted value the recurrence reads: computed for a chunk's rows into a buffer, read a row at a time. */
  const kept = new Set<NodeId>();
  const keep = (node: NodeId) => {
    if (kept.has(node)) return;
    kept.add(node);
    const buffer = buffers.buffer(node, sizeOf(ir.graph.shape(node)), names, "chunk");
    hoist.sink(node, { array: buffer, rowBase: num(0) }, "=");
    step.provide(node, { array: buffer, rowBase: rowInChunk(x) });
  };
  ir.nextStates.forEach((node, k) => {
    if (plan.hoisted.has(node)) keep(node);
    step.sink(node, { array: nextOf[k]!, rowBase: num(0) }, "=");
  });
  ir.outputNodes.forEach((node, k) => (plan.hoisted.has(node) ? hoist : step).sink(node, { array: arrays.outputs[k]!, rowBase: plan.hoisted.has(node) ? chunkRow(x) : stepRow(t) }, "="));
  hoistedReadByRecurrence(ir, plan).forEach(keep);
  prepareInOrder(hoist, step);
  const before = hoist.emit();
  const during = step.emit();
  const row = (array: string): Slot => ({ array, rowBase: num(0) });
  const padding: Stmt[] = [
    comment("padding: the state carries through, the outputs are zero"),
    ...ir.states.map((s, k) => fill(i, size(s), row(nextOf[k]!), ix(b), (e) => element(nowOf[k]!, atRow(row(nowOf[k]!), ix(b), size(s), e), dialect))),
    ...ir.outputs.map((o, k) => fill(i, size(o), { array: arrays.outputs[k]!, rowBase: stepRow(t) }, ix(b), () => "0")),
  ];
  const { turns, settle } = takingTurns(ir.states.map((s, k) => ({ name: s.name, size: size(s), current: nowOf[k]!, other: nextOf[k]!, home: arrays.states[k]! })), names, i, dialect);
  const each: Stmt[] = [
    ...during.body,
    when("M !== undefined", [loop(b, B, [when(`${element("M", plus(stepRow(t), ix(b)), dialect)} === 0`, padding)])]),
    comment("The state after this step is the next step's."),
    ...turns,
  ];
  return [
    ...header(arrays, false),
    ...ir.states.flatMap((_, k): Stmt[] => [
      { kind: "let", name: nowOf[k]!, value: arrays.states[k]! },
      { kind: "let", name: nextOf[k]!, value: swapOf[k]! },
    ]),
    ...before.constants, ...during.constants, ...derived([...before.prologue, ...during.prologue]),
    ...(before.body.length
      ? chunked(x, dialect, false, [comment("Everything that does not depend on a state, for the chunk's steps at once."), ...before.body], each, [])
      : [{ kind: "for", index: t, from: num(0), to: ix("T"), body: each } as const]),
    ...(settle.length ? [comment("After an odd number of steps the states are in the other array."), ...settle] : []),
  ];
}

/**
 * The hoisted values the recurrence reads (outputs and next states computed in it): without a
 * tape to hold them, each is kept in a buffer. A slice of a hoisted value is read in place, so
 * the value it slices is what is kept.
 */
function hoistedReadByRecurrence(ir: CellIR, plan: KernelPlan): NodeId[] {
  const read = new Set<NodeId>();
  const roots = [...ir.nextStates, ...ir.outputNodes].filter((id) => !plan.hoisted.has(id));
  walk(ir.graph, roots, (id) => {
    if (!plan.hoisted.has(id)) return ir.graph.node(id).args.length === 0;
    if (viewOffsetOf(ir.graph.node(id).op)) return false;
    read.add(id);
    return true;
  });
  return [...read].sort((a, b) => a - b);
}

/**
 * Two arrays per value that take turns from step to step (`current` is read, `other` written):
 * the statements that swap them after a step, and those that copy the value back to its `home`
 * array after an odd number of steps left it in the other one.
 */
function takingTurns(
  pairs: readonly { readonly name: string; readonly size: number; readonly current: string; readonly other: string; readonly home: string }[],
  names: Names,
  i: string,
  dialect: Dialect,
): { turns: Stmt[]; settle: Stmt[] } {
  const turns = pairs.flatMap((p): Stmt[] => {
    const was = names.fresh(`${p.name}_was`);
    return [
      { kind: "const", name: was, value: p.current },
      { kind: "assign", name: p.current, mode: "=", value: p.other },
      { kind: "assign", name: p.other, mode: "=", value: was },
    ];
  });
  const settle = pairs.map((p) =>
    when(`${p.current} !== ${p.home}`, [loop(i, times(B, num(p.size)), [store(p.home, ix(i), "=", element(p.current, ix(i), dialect))])]),
  );
  return { turns, settle };
}

function emitBackward(ir: CellIR, plan: KernelPlan, names: Names, x: Indices, buffers: Scratch, arrays: Arrays, describe: Describe, dialect: Dialect): Stmt[] {
  const { t, b, i } = x;
  const grad = {
    params: ir.params.map((p) => names.fresh(`d${p.name}`)),
    inputs: ir.inputs.map((x) => names.fresh(`d${x.name}`)),
    carry: ir.states.map((s) => names.fresh(`d${s.name}_carry`)),
    outputs: ir.outputs.map((o) => names.fresh(`d${o.name}_out`)),
    // Rows per step of each output gradient: B, or 0 for zeros read again at every step.
    outputRows: ir.outputs.map((o) => names.fresh(`d${o.name}_out_rows`)),
  };
  // The state gradients go back through two arrays taking turns: each step reads its seed (the
  // gradient of the state after it) from one and leaves the gradient of the state before it in
  // the other, which is the next step's seed. No copies, unless there is a mask.
  const seedOf = ir.states.map((s) => names.fresh(`d${s.name}_seed`));
  const backOf = ir.states.map((s) => names.fresh(`d${s.name}_back`));
  const swapOf = ir.states.map((s) => buffers.buffer(`d${s.name}_swap`, size(s), names, "B"));
  const step = new StepBody(ir.graph, names, buffers, plan.varying, "B", describe, { row: b, element: i }, dialect);
  // Deferred work runs a chunk of steps at a time, after the chunk's steps (when there is any).
  const chunkedRows = plan.defer ? "chunk" : "TB";
  const after = new StepBody(ir.graph, names, buffers, plan.varying, chunkedRows, describe, { row: x.r, element: i }, dialect, times(ix(x.steps), B));
  // Deferred input gradients are a phase of their own, which the caller may skip.
  const afterInputs = new StepBody(ir.graph, names, buffers, plan.varying, chunkedRows, describe, { row: x.r, element: i }, dialect, times(ix(x.steps), B));
  for (const phase of [step, after, afterInputs]) phase.readsEachOnce = true;
  /** Where a deferred phase finds row 0 of its rows. */
  const later = plan.defer ? chunkRow(x) : num(0);
  /** Where the recurrence's step t keeps a value for the deferred phases. */
  const stepInChunk = plan.defer ? rowInChunk(x) : stepRow(t);
  const provideLater = (node: NodeId, slot: Slot) => {
    after.provide(node, slot);
    afterInputs.provide(node, slot);
  };
  for (const [body, tb] of [[step, false], [after, true], [afterInputs, true]] as const) {
    provideLeaves(ir, body, arrays, tb ? later : stepRow(t));
    ir.nextStates.forEach((node, k) => body.provide(node, { array: arrays.states[k]!, rowBase: tb ? plus(later, B) : nextRow(t) }));
    ir.outputNodes.forEach((node, k) => body.provide(node, { array: arrays.outputs[k]!, rowBase: tb ? later : stepRow(t) }));
    plan.taped.forEach((node) => body.provide(node, arrays.taped(node, tb ? later : stepRow(t))));
  }
  const masked = element("M", plus(stepRow(t), ix(b)), dialect);
  const keep: Stmt[] = [];
  const restore: Stmt[] = [];
  for (const node of ir.graph.nodes) {
    if (node.op !== "seed") continue;
    const k = Number(node.attrs["index"]);
    if (node.attrs["kind"] === "output") {
      // An output gradient advances by its own rows per step (`outputGradRows` in the runtime).
      const rows = ix(grad.outputRows[k]!);
      step.provide(node.id, { array: grad.outputs[k]!, rowBase: times(ix(t), rows) });
      provideLater(node.id, { array: grad.outputs[k]!, rowBase: plan.defer ? times(ix(x.t0), rows) : later });
      continue;
    }
    step.provide(node.id, { array: seedOf[k]!, rowBase: num(0) });
  }
  // With a mask, a padded row's seed is zero for this step, and its state gradient passes through.
  ir.states.forEach((s, k) => {
    const n = size(s);
    const kept = buffers.buffer(`d${s.name}_kept`, n, names, "B");
    const row = (array: string): Slot => ({ array, rowBase: num(0) });
    keep.push(fill(i, n, row(kept), ix(b), (e) => element(seedOf[k]!, atRow(row(seedOf[k]!), ix(b), n, e), dialect)));
    keep.push(fill(i, n, row(seedOf[k]!), ix(b), () => "0"));
    restore.push(fill(i, n, row(backOf[k]!), ix(b), (e) => element(kept, atRow(row(kept), ix(b), n, e), dialect)));
  });
  // A stored concatenation (the gate gradients stacked for one product) is assembled in place:
  // each part is written straight into its columns, and a part the deferred phase also needs is
  // read from there, not kept in a buffer of its own.
  const deferred = new Set(plan.deferredInputs);
  const assembled = new Set<NodeId>();
  const parts = new Map<NodeId, Slot>();
  for (const node of plan.deferredInputs) {
    const n = ir.graph.node(node);
    const width = sizeOf(n.shape);
    if (n.op !== "concat" || new Set(n.args).size !== n.args.length || n.args.some((a) => parts.has(a))) continue;
    const buffer = buffers.buffer(node, width, names, chunkedRows);
    let offset = 0;
    for (const a of n.args) {
      step.sink(a, { array: buffer, rowBase: stepInChunk, stride: width, offset }, "=");
      if (deferred.has(a)) parts.set(a, { array: buffer, rowBase: num(0), stride: width, offset });
      offset += sizeOf(ir.graph.shape(a));
    }
    step.provide(node, { array: buffer, rowBase: stepInChunk });
    provideLater(node, { array: buffer, rowBase: num(0) });
    assembled.add(node);
  }
  plan.deferredInputs.forEach((node) => {
    if (assembled.has(node)) return;
    if (parts.has(node)) return provideLater(node, parts.get(node)!);
    const buffer = buffers.buffer(node, sizeOf(ir.graph.shape(node)), names, chunkedRows);
    step.sink(node, { array: buffer, rowBase: stepInChunk }, "=");
    provideLater(node, { array: buffer, rowBase: num(0) });
  });
  const gradPhase = plan.defer ? after : step;
  const grads = ir.grads!;
  grads.params.forEach((node, k) => node !== null && gradPhase.sink(node, { array: grad.params[k]!, rowBase: null }, "+="));
  grads.inputs.forEach((node, k) => node !== null && (plan.defer ? afterInputs : step).sink(node, { array: grad.inputs[k]!, rowBase: plan.defer ? later : stepRow(t) }, "="));
  const zeroCarry: Stmt[] = [];
  grads.states.forEach((node, k) => {
    const slot: Slot = { array: backOf[k]!, rowBase: num(0) };
    if (node !== null) step.sink(node, slot, "=");
    else zeroCarry.push(loop(b, B, [fill(i, size(ir.states[k]!), slot, ix(b), () => "0")]));
  });
  prepareInOrder(step, after, afterInputs);
  const during = step.emit();
  const paramsLater = after.emit();
  const inputsLater = afterInputs.emit();
  const { turns, settle } = takingTurns(ir.states.map((s, k) => ({ name: `d${s.name}`, size: size(s), current: seedOf[k]!, other: backOf[k]!, home: grad.carry[k]! })), names, i, dialect);
  // The rows per step of the output gradients the kernel reads.
  const read = identifiersIn(render([...during.body, ...paramsLater.body, ...inputsLater.body], dialect));
  const rowsRead = grad.outputRows.flatMap((name, k): Stmt[] =>
    read.has(name) ? [{ kind: "const", name, value: element(KERNEL_PARAMETER.outputGradRows, num(k), dialect) }] : []);
  const each: Stmt[] = [
    ...(keep.length ? [when("M !== undefined", [loop(b, B, [when(`${masked} === 0`, keep)])])] : []),
    ...during.body,
    ...zeroCarry,
    ...(restore.length ? [when("M !== undefined", [loop(b, B, [when(`${masked} === 0`, restore)])])] : []),
    comment("The gradient carried back is the next step's seed."),
    ...turns,
  ];
  return [
    ...header(arrays, true),
    ...destructure(grad.outputs, "GY"),
    ...rowsRead,
    ...destructure(grad.carry, "GS"),
    ...destructure(grad.params, "GP"),
    ...destructure(grad.inputs, "GX"),
    ...ir.states.flatMap((_, k): Stmt[] => [
      { kind: "let", name: seedOf[k]!, value: grad.carry[k]! },
      { kind: "let", name: backOf[k]!, value: swapOf[k]! },
    ]),
    ...during.constants, ...paramsLater.constants, ...inputsLater.constants, ...derived([...during.prologue, ...paramsLater.prologue, ...inputsLater.prologue]),
    ...(plan.defer
      ? chunked(x, dialect, true, [], each, [
          ...(paramsLater.body.length ? [comment("Param gradients, for the chunk's steps at once."), ...paramsLater.body] : []),
          ...(inputsLater.body.length ? [comment("Input gradients, for the chunk's steps at once, when asked for."), when(KERNEL_PARAMETER.inputGrads, inputsLater.body)] : []),
        ])
      : [{ kind: "for", index: t, from: num(0), to: ix("T"), down: true, body: each } as const]),
    ...(settle.length ? [comment("After an odd number of steps the state gradients are in the other array."), when(KERNEL_PARAMETER.initialGrads, settle)] : []),
  ];
}

function emitStep(ir: CellIR, plan: KernelPlan, names: Names, x: Indices, buffers: Scratch, arrays: Arrays, describe: Describe, dialect: Dialect): Stmt[] {
  const { b, i } = x;
  const body = new StepBody(ir.graph, names, buffers, plan.varying, "B", describe, { row: b, element: i }, dialect);
  provideLeaves(ir, body, arrays, num(0));
  const commits: Stmt[] = [];
  ir.nextStates.forEach((node, k) => {
    if (node === ir.leaves.states[k]) return;
    const n = size(ir.states[k]!);
    const next = buffers.buffer(`${ir.states[k]!.name}_next`, n, names, "B");
    body.sink(node, { array: next, rowBase: num(0) }, "=");
    commits.push(fill(i, n, { array: arrays.states[k]!, rowBase: num(0) }, ix(b), (e) => element(next, atRow({ array: next, rowBase: num(0) }, ix(b), n, e), dialect)));
  });
  ir.outputNodes.forEach((node, k) => body.sink(node, { array: arrays.outputs[k]!, rowBase: num(0) }, "="));
  const code = body.emit();
  return [...header(arrays, false), ...code.constants, ...derived(code.prologue), ...code.body, ...(commits.length ? [loop(b, B, commits)] : [])];
}
