/**
 * The three kernels of a cell as function texts: `forward` over a sequence batch (recording the
 * tape), `backward` through time, and an allocation-free `step`. Each is a few phases of
 * `StepBody` code: values hoisted out of the recurrence for all T·B steps, the recurrence itself
 * one step of all B sequences at a time, and gradient work deferred until after it.
 */
import type { TensorDecl } from "../ast.js";
import type { CellIR } from "../ir/cell.js";
import { type Graph, type NodeId, sizeOf } from "../ir/graph.js";
import { StepBody, type Rows, type Scratch, type Slot } from "./body.js";
import type { Names } from "./names.js";
import type { KernelPlan } from "./plan.js";

export interface KernelTexts {
  readonly forward: string;
  readonly backward: string;
  readonly step: string;
  /** The workspace buffers each kernel uses, by name, in the order the module binds them from `WS`. */
  readonly uses: { readonly forward: readonly string[]; readonly backward: readonly string[]; readonly step: readonly string[] };
}

/** Module-level scratch for row-independent values, and per-call workspace for the rest. */
export interface Buffers {
  /** The buffer of `node` of `graph`, or of the kernels' own buffer with that name. */
  buffer(graph: Graph, node: NodeId | string, size: number, names: Names, rows: Rows): string;
  /** The position of a workspace buffer in the kernels' `WS` argument (undefined for scratch). */
  workspaceIndex(name: string): number | undefined;
  /** Whether matrix products are calls into the runtime's products. */
  readonly products: boolean;
  /** A runtime product may stage `perRow` elements per row plus `fixed`. */
  stage(rows: Exclude<Rows, "one">, perRow: number, fixed: number): void;
}

type KernelBuffers = Scratch & { used(): string[] };

/** The buffers of one kernel over `graph`, remembering which workspace buffers it uses. */
function tracking(buffers: Buffers, graph: Graph): KernelBuffers {
  const used = new Set<string>();
  return {
    buffer(node, size, names, rows) {
      const name = buffers.buffer(graph, node, size, names, rows);
      if (buffers.workspaceIndex(name) !== undefined) used.add(name);
      return name;
    },
    products: buffers.products,
    stage: (rows, perRow, fixed) => buffers.stage(rows, perRow, fixed),
    used: () => [...used],
  };
}

interface Arrays {
  readonly params: string[];
  readonly inputs: string[];
  readonly states: string[];
  readonly outputs: string[];
  readonly tape: string[];
}

const size = (d: TensorDecl) => sizeOf(d.shape);
const destructure = (names: readonly string[], from: string) => (names.length ? `const [${names.join(", ")}] = ${from};` : "");
const rowLoop = (m: string, rows: string, body: string[]) => [`for (let ${m} = 0; ${m} < ${rows}; ${m}++) {`, ...body, "}"];
const fill = (i: string, n: number, target: string, value: string) => `for (let ${i} = 0; ${i} < ${n}; ${i}++) ${target.replace("#", i)} = ${value.replace("#", i)};`;

/**
 * `step` may be built from its own IR: one that leaves params unstacked, since a stacked copy of
 * the params would be rebuilt at every call of a single step.
 */
export function emitKernels(ir: CellIR, plan: KernelPlan, names: Names, buffers: Buffers, step = { ir, plan }): KernelTexts {
  const arrays: Arrays = {
    params: ir.params.map((p) => names.fresh(p.name)),
    inputs: ir.inputs.map((x) => names.fresh(x.name)),
    states: ir.states.map((s) => names.fresh(`${s.name}_seq`)),
    outputs: ir.outputs.map((o) => names.fresh(`${o.name}_out`)),
    tape: plan.taped.map((id) => names.fresh(`${ir.graph.names.get(id) ?? `v${id}`}_tape`)),
  };
  const uses = { forward: [] as string[], backward: [] as string[], step: [] as string[] };
  const kernel = (key: keyof typeof uses, emit: typeof emitForward, cell: CellIR, cellPlan: KernelPlan) => {
    const tracked = tracking(buffers, cell.graph);
    const text = emit(cell, cellPlan, names.scope(), tracked, arrays);
    uses[key] = tracked.used();
    return text;
  };
  return {
    forward: kernel("forward", emitForward, ir, plan),
    backward: kernel("backward", emitBackward, ir, plan),
    step: kernel("step", emitStep, step.ir, step.plan),
    uses,
  };
}

function header(arrays: Arrays, withTape: boolean): string[] {
  return [
    destructure(arrays.params, "P"),
    destructure(arrays.inputs, "X"),
    destructure(arrays.states, "S"),
    destructure(arrays.outputs, "Y"),
    withTape ? destructure(arrays.tape, "R") : "",
  ].filter(Boolean);
}

/** Params, this phase's inputs and previous states, as slots with the given row base. */
function provideLeaves(ir: CellIR, body: StepBody, arrays: Arrays, rowBase: string): void {
  ir.leaves.params.forEach((node, k) => body.provide(node, { array: arrays.params[k]!, rowBase: null }));
  ir.leaves.inputs.forEach((node, k) => body.provide(node, { array: arrays.inputs[k]!, rowBase }));
  ir.leaves.states.forEach((node, k) => body.provide(node, { array: arrays.states[k]!, rowBase }));
}

function emitForward(ir: CellIR, plan: KernelPlan, names: Names, buffers: Scratch, arrays: Arrays): string {
  const [t, m, i] = ["t", "b", "i"].map((s) => names.fresh(s)) as [string, string, string];
  const hoist = new StepBody(ir.graph, names, buffers, plan.varying, "TB");
  const step = new StepBody(ir.graph, names, buffers, plan.varying, "B");
  provideLeaves(ir, hoist, arrays, "0");
  provideLeaves(ir, step, arrays, `${t} * B`);
  const phaseOf = (node: NodeId) => (plan.hoisted.has(node) ? hoist : step);
  const here = (node: NodeId, base: string, hoistedBase: string) => (plan.hoisted.has(node) ? hoistedBase : base);
  ir.nextStates.forEach((node, k) => phaseOf(node).sink(node, { array: arrays.states[k]!, rowBase: here(node, `(${t} + 1) * B`, "B") }, "="));
  ir.outputNodes.forEach((node, k) => phaseOf(node).sink(node, { array: arrays.outputs[k]!, rowBase: here(node, `${t} * B`, "0") }, "="));
  plan.taped.forEach((node, k) => {
    if (plan.hoisted.has(node)) {
      hoist.sink(node, { array: arrays.tape[k]!, rowBase: "0" }, "=");
      step.provide(node, { array: arrays.tape[k]!, rowBase: `${t} * B` });
    } else step.sink(node, { array: arrays.tape[k]!, rowBase: `${t} * B` }, "=");
  });
  for (const node of plan.hoistedStored) {
    const buffer = buffers.buffer(node, sizeOf(ir.graph.shape(node)), names, "TB");
    hoist.sink(node, { array: buffer, rowBase: "0" }, "=");
    step.provide(node, { array: buffer, rowBase: `${t} * B` });
  }
  const before = hoist.emit();
  const during = step.emit();
  const masked = [
    `if (M[${t} * B + ${m}] !== 0) continue;`,
    "// padding: the state carries through, the outputs are zero",
    ...ir.states.map((s, k) => fill(i, size(s), `${arrays.states[k]}[((${t} + 1) * B + ${m}) * ${size(s)} + #]`, `${arrays.states[k]}[(${t} * B + ${m}) * ${size(s)} + #]`)),
    ...ir.outputs.map((o, k) => fill(i, size(o), `${arrays.outputs[k]}[(${t} * B + ${m}) * ${size(o)} + #]`, "0")),
  ];
  return [
    ...header(arrays, true),
    ...before.prologue,
    ...during.prologue,
    ...(before.body.length ? ["// Everything that does not depend on a state, for all T·B steps at once.", ...before.body] : []),
    `for (let ${t} = 0; ${t} < T; ${t}++) {`,
    ...during.body,
    `if (M !== undefined) {`,
    ...rowLoop(m, "B", masked),
    "}",
    "}",
  ].join("\n");
}

function emitBackward(ir: CellIR, plan: KernelPlan, names: Names, buffers: Scratch, arrays: Arrays): string {
  const grad = {
    params: ir.params.map((p) => names.fresh(`d${p.name}`)),
    inputs: ir.inputs.map((x) => names.fresh(`d${x.name}`)),
    carry: ir.states.map((s) => names.fresh(`d${s.name}_carry`)),
    outputs: ir.outputs.map((o) => names.fresh(`d${o.name}_out`)),
  };
  const [t, m, i, padded] = ["t", "b", "i", "padded"].map((s) => names.fresh(s)) as [string, string, string, string];
  const step = new StepBody(ir.graph, names, buffers, plan.varying, "B");
  const after = new StepBody(ir.graph, names, buffers, plan.varying, "TB");
  const at = (rowBase: string, tb: boolean) => (tb ? "0" : rowBase);
  for (const [body, tb] of [[step, false], [after, true]] as const) {
    provideLeaves(ir, body, arrays, at(`${t} * B`, tb));
    ir.nextStates.forEach((node, k) => body.provide(node, { array: arrays.states[k]!, rowBase: tb ? "B" : `(${t} + 1) * B` }));
    ir.outputNodes.forEach((node, k) => body.provide(node, { array: arrays.outputs[k]!, rowBase: at(`${t} * B`, tb) }));
    plan.taped.forEach((node, k) => body.provide(node, { array: arrays.tape[k]!, rowBase: at(`${t} * B`, tb) }));
  }
  const seedCopies: string[] = [];
  const keepCopies: string[] = [];
  const restore: string[] = [];
  for (const node of ir.graph.nodes) {
    if (node.op !== "seed") continue;
    const k = Number(node.attrs["index"]);
    if (node.attrs["kind"] === "output") {
      step.provide(node.id, { array: grad.outputs[k]!, rowBase: `${t} * B` });
      after.provide(node.id, { array: grad.outputs[k]!, rowBase: "0" });
      continue;
    }
    const n = size(ir.states[k]!);
    const seed = buffers.buffer(node.id, n, names, "B");
    const keep = buffers.buffer(`d${ir.states[k]!.name}_in`, n, names, "B");
    step.provide(node.id, { array: seed, rowBase: "0" });
    const carry = `${grad.carry[k]}[${m} * ${n} + #]`;
    keepCopies.push(fill(i, n, `${keep}[${m} * ${n} + #]`, carry));
    seedCopies.push(fill(i, n, `${seed}[${m} * ${n} + #]`, `${padded} ? 0 : ${carry}`));
    restore.push(fill(i, n, carry, `${keep}[${m} * ${n} + #]`));
  }
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
    const buffer = buffers.buffer(node, width, names, "TB");
    let offset = 0;
    for (const a of n.args) {
      step.sink(a, { array: buffer, rowBase: `${t} * B`, stride: width, offset }, "=");
      if (deferred.has(a)) parts.set(a, { array: buffer, rowBase: "0", stride: width, offset });
      offset += sizeOf(ir.graph.shape(a));
    }
    step.provide(node, { array: buffer, rowBase: `${t} * B` });
    after.provide(node, { array: buffer, rowBase: "0" });
    assembled.add(node);
  }
  plan.deferredInputs.forEach((node) => {
    if (assembled.has(node)) return;
    if (parts.has(node)) return after.provide(node, parts.get(node)!);
    const buffer = buffers.buffer(node, sizeOf(ir.graph.shape(node)), names, "TB");
    step.sink(node, { array: buffer, rowBase: `${t} * B` }, "=");
    after.provide(node, { array: buffer, rowBase: "0" });
  });
  const gradPhase = plan.defer ? after : step;
  const grads = ir.grads!;
  grads.params.forEach((node, k) => node !== null && gradPhase.sink(node, { array: grad.params[k]!, rowBase: null }, "+="));
  grads.inputs.forEach((node, k) => node !== null && gradPhase.sink(node, { array: grad.inputs[k]!, rowBase: plan.defer ? "0" : `${t} * B` }, "="));
  const zeroCarry: string[] = [];
  grads.states.forEach((node, k) => {
    const slot: Slot = { array: grad.carry[k]!, rowBase: "0" };
    if (node !== null) step.sink(node, slot, "=");
    else zeroCarry.push(...rowLoop(m, "B", [fill(i, size(ir.states[k]!), `${slot.array}[${m} * ${size(ir.states[k]!)} + #]`, "0")]));
  });
  const during = step.emit();
  const later = after.emit();
  return [
    ...header(arrays, true),
    destructure(grad.outputs, "GY"),
    destructure(grad.carry, "GS"),
    destructure(grad.params, "GP"),
    destructure(grad.inputs, "GX"),
    ...during.prologue,
    ...later.prologue,
    `for (let ${t} = T - 1; ${t} >= 0; ${t}--) {`,
    "// Padded steps get no gradient; their state gradient passes through unchanged.",
    ...rowLoop(m, "B", [`const ${padded} = M !== undefined && M[${t} * B + ${m}] === 0;`, ...keepCopies, ...seedCopies]),
    ...during.body,
    ...zeroCarry,
    `if (M !== undefined) {`,
    ...rowLoop(m, "B", [`if (M[${t} * B + ${m}] === 0) {`, ...restore, "}"]),
    "}",
    "}",
    ...(later.body.length ? ["// Param and input gradients, for all T·B steps at once.", ...later.body] : []),
  ].join("\n");
}

function emitStep(ir: CellIR, plan: KernelPlan, names: Names, buffers: Scratch, arrays: Arrays): string {
  const [m, i] = ["b", "i"].map((s) => names.fresh(s)) as [string, string];
  const body = new StepBody(ir.graph, names, buffers, plan.varying, "B");
  provideLeaves(ir, body, arrays, "0");
  const commits: string[] = [];
  ir.nextStates.forEach((node, k) => {
    if (node === ir.leaves.states[k]) return;
    const n = size(ir.states[k]!);
    const next = buffers.buffer(`${ir.states[k]!.name}_next`, n, names, "B");
    body.sink(node, { array: next, rowBase: "0" }, "=");
    commits.push(fill(i, n, `${arrays.states[k]}[${m} * ${n} + #]`, `${next}[${m} * ${n} + #]`));
  });
  ir.outputNodes.forEach((node, k) => body.sink(node, { array: arrays.outputs[k]!, rowBase: "0" }, "="));
  const code = body.emit();
  return [...header(arrays, false), ...code.prologue, ...code.body, ...(commits.length ? rowLoop(m, "B", commits) : [])].join("\n");
}
