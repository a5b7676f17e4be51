/**
 * The three kernels of a cell as function texts: `forward` over a sequence batch (recording the
 * tape), `backward` through time, and an allocation-free `step`. Time and batch stay loops; each
 * time step's body comes from `StepBody`.
 */
import type { TensorDecl } from "../ast.js";
import type { CellIR } from "../ir/cell.js";
import { type NodeId, sizeOf } from "../ir/graph.js";
import { StepBody, index, type Scratch, type Slot } from "./body.js";
import type { Names } from "./names.js";
import type { TapePlan } from "./plan.js";

export interface KernelTexts {
  readonly forward: string;
  readonly backward: string;
  readonly step: string;
}

interface Arrays {
  readonly params: string[];
  readonly inputs: string[];
  readonly states: string[];
  readonly outputs: string[];
  readonly tape: string[];
}

const size = (d: TensorDecl) => sizeOf(d.shape);
const destructure = (names: readonly string[], from: string) =>
  names.length ? `const [${names.join(", ")}] = ${from};` : "";
const fill = (i: string, n: number, array: string, offset: string, value: string) =>
  `for (let ${i} = 0; ${i} < ${n}; ${i}++) ${array}[${index(offset, i)}] = ${value};`;

export function emitKernels(ir: CellIR, tape: TapePlan, names: Names, scratch: Scratch): KernelTexts {
  const arrays: Arrays = {
    params: ir.params.map((p) => names.fresh(p.name)),
    inputs: ir.inputs.map((x) => names.fresh(x.name)),
    states: ir.states.map((s) => names.fresh(`${s.name}_seq`)),
    outputs: ir.outputs.map((o) => names.fresh(`${o.name}_out`)),
    tape: tape.taped.map((id) => names.fresh(`${ir.graph.names.get(id) ?? `v${id}`}_tape`)),
  };
  return {
    forward: emitForward(ir, tape, names, scratch, arrays),
    backward: emitBackward(ir, tape, names, scratch, arrays),
    step: emitStep(ir, names, scratch, arrays),
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

function emitForward(ir: CellIR, tape: TapePlan, outer: Names, scratch: Scratch, arrays: Arrays): string {
  const names = outer.scope();
  const [t, b, n, i] = ["t", "b", "n", "i"].map((s) => names.fresh(s)) as [string, string, string, string];
  const body = new StepBody(ir.graph, names, scratch);
  provideLeaves(ir, body, arrays, n, b);
  ir.nextStates.forEach((node, k) => body.sink(node, { array: arrays.states[k]!, offset: `(${n} + B) * ${size(ir.states[k]!)}` }, "="));
  ir.outputNodes.forEach((node, k) => body.sink(node, { array: arrays.outputs[k]!, offset: `${n} * ${size(ir.outputs[k]!)}` }, "="));
  tape.taped.forEach((node, k) => body.sink(node, { array: arrays.tape[k]!, offset: `${n} * ${sizeOf(ir.graph.shape(node))}` }, "="));
  const padded = [
    ...ir.states.map((s, k) => fill(i, size(s), arrays.states[k]!, `(${n} + B) * ${size(s)}`, `${arrays.states[k]}[${index(`${n} * ${size(s)}`, i)}]`)),
    ...ir.outputs.map((o, k) => fill(i, size(o), arrays.outputs[k]!, `${n} * ${size(o)}`, "0")),
  ];
  return [
    ...header(arrays, true),
    `for (let ${t} = 0; ${t} < T; ${t}++) {`,
    `for (let ${b} = 0; ${b} < B; ${b}++) {`,
    `const ${n} = ${t} * B + ${b};`,
    `if (M !== undefined && M[${n}] === 0) {`,
    "// padding: the state carries through, the outputs are zero",
    ...padded,
    "continue;",
    "}",
    ...body.emit(),
    "}",
    "}",
  ].join("\n");
}

function emitBackward(ir: CellIR, tape: TapePlan, outer: Names, scratch: Scratch, arrays: Arrays): string {
  const names = outer.scope();
  const gradNames = {
    params: ir.params.map((p) => names.fresh(`d${p.name}`)),
    inputs: ir.inputs.map((x) => names.fresh(`d${x.name}`)),
    carry: ir.states.map((s) => names.fresh(`d${s.name}_carry`)),
    outputs: ir.outputs.map((o) => names.fresh(`d${o.name}_out`)),
  };
  const [t, b, n, i] = ["t", "b", "n", "i"].map((s) => names.fresh(s)) as [string, string, string, string];
  const body = new StepBody(ir.graph, names, scratch);
  provideLeaves(ir, body, arrays, n, b);
  ir.nextStates.forEach((node, k) => body.provide(node, { array: arrays.states[k]!, offset: `(${n} + B) * ${size(ir.states[k]!)}` }));
  ir.outputNodes.forEach((node, k) => body.provide(node, { array: arrays.outputs[k]!, offset: `${n} * ${size(ir.outputs[k]!)}` }));
  tape.taped.forEach((node, k) => body.provide(node, { array: arrays.tape[k]!, offset: `${n} * ${sizeOf(ir.graph.shape(node))}` }));

  const seedCopies: string[] = [];
  for (const node of ir.graph.nodes) {
    if (node.op !== "seed") continue;
    const k = Number(node.attrs["index"]);
    if (node.attrs["kind"] === "output") {
      body.provide(node.id, { array: gradNames.outputs[k]!, offset: `${n} * ${size(ir.outputs[k]!)}` });
    } else {
      const buffer = scratch.buffer(node.id, size(ir.states[k]!), names);
      body.provide(node.id, { array: buffer, offset: "" });
      seedCopies.push(fill(i, size(ir.states[k]!), buffer, "", `${gradNames.carry[k]}[${index(`${b} * ${size(ir.states[k]!)}`, i)}]`));
    }
  }
  const grads = ir.grads!;
  const zeroCarry: string[] = [];
  grads.params.forEach((node, k) => node !== null && body.sink(node, { array: gradNames.params[k]!, offset: "" }, "+="));
  grads.inputs.forEach((node, k) => node !== null && body.sink(node, { array: gradNames.inputs[k]!, offset: `${n} * ${size(ir.inputs[k]!)}` }, "="));
  grads.states.forEach((node, k) => {
    const slot: Slot = { array: gradNames.carry[k]!, offset: `${b} * ${size(ir.states[k]!)}` };
    if (node !== null) body.sink(node, slot, "=");
    else zeroCarry.push(fill(i, size(ir.states[k]!), slot.array, slot.offset, "0"));
  });
  const statements = body.emit();
  return [
    ...header(arrays, true),
    destructure(gradNames.outputs, "GY"),
    destructure(gradNames.carry, "GS"),
    destructure(gradNames.params, "GP"),
    destructure(gradNames.inputs, "GX"),
    `for (let ${t} = T - 1; ${t} >= 0; ${t}--) {`,
    `for (let ${b} = 0; ${b} < B; ${b}++) {`,
    `const ${n} = ${t} * B + ${b};`,
    "// padding: the state gradient passes through; input gradients stay zero",
    `if (M !== undefined && M[${n}] === 0) continue;`,
    ...seedCopies,
    ...statements,
    ...zeroCarry,
    "}",
    "}",
  ].filter(Boolean).join("\n");
}

function emitStep(ir: CellIR, outer: Names, scratch: Scratch, arrays: Arrays): string {
  const names = outer.scope();
  const [b, i] = ["b", "i"].map((s) => names.fresh(s)) as [string, string];
  const body = new StepBody(ir.graph, names, scratch);
  ir.leaves.params.forEach((node, k) => body.provide(node, { array: arrays.params[k]!, offset: "" }));
  ir.leaves.inputs.forEach((node, k) => body.provide(node, { array: arrays.inputs[k]!, offset: `${b} * ${size(ir.inputs[k]!)}` }));
  ir.leaves.states.forEach((node, k) => body.provide(node, { array: arrays.states[k]!, offset: `${b} * ${size(ir.states[k]!)}` }));
  const commits: string[] = [];
  ir.nextStates.forEach((node, k) => {
    if (node === ir.leaves.states[k]) return;
    const n = size(ir.states[k]!);
    const next = scratch.buffer(-1 - k, n, names);
    body.sink(node, { array: next, offset: "" }, "=");
    commits.push(fill(i, n, arrays.states[k]!, `${b} * ${n}`, `${next}[${i}]`));
  });
  ir.outputNodes.forEach((node, k) => body.sink(node, { array: arrays.outputs[k]!, offset: `${b} * ${size(ir.outputs[k]!)}` }, "="));
  return [
    ...header(arrays, false),
    `for (let ${b} = 0; ${b} < B; ${b}++) {`,
    ...body.emit(),
    ...commits,
    "}",
  ].join("\n");
}

function provideLeaves(ir: CellIR, body: StepBody, arrays: Arrays, n: string, _b: string): void {
  ir.leaves.params.forEach((node, k) => body.provide(node, { array: arrays.params[k]!, offset: "" }));
  ir.leaves.inputs.forEach((node, k) => body.provide(node, { array: arrays.inputs[k]!, offset: `${n} * ${size(ir.inputs[k]!)}` }));
  ir.leaves.states.forEach((node, k) => body.provide(node, { array: arrays.states[k]!, offset: `${n} * ${size(ir.states[k]!)}` }));
}

export type { NodeId };
