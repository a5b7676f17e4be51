/**
 * The IR verifier: checks the invariants every stage and pass must leave in a cell's IR, so that a
 * broken pass is caught where it breaks something, by name, rather than as a wrong number later.
 *
 * - `id`: node k of the list has id k;
 * - `dangling`: every argument, root, leaf and name refers to a node of the graph;
 * - `op`, `arity`, `attrs`: a known op, with as many arguments as it takes and exactly its attributes;
 * - `order`, `cycle`: arguments come before the node that reads them (so the graph has no cycle;
 *   a cycle is reported as such, with its path);
 * - `shape`: each node's shape is what its op's shape rule gives for its arguments;
 * - `duplicate`: no two nodes are the same op of the same arguments (the graph hash-conses);
 * - `leaves`: each declared param, input and state has its own leaf of its declared shape, and each
 *   leaf a root reaches is a declared one (or a seed of an output or a state);
 * - `roots`: each root exists and has the shape of what it is the value or gradient of.
 *
 * Run after every stage and pass under `RNNC_VERIFY=1` or the `verify` option, and always in the
 * property tests.
 */
import type { TensorDecl } from "../ast.js";
import { attrProblem, OPS } from "../ops/index.js";
import { type CellIR, liveNodes, roots } from "./cell.js";
import { formatShape, IRError, type Node, type NodeId, sameShape } from "./graph.js";

export type Invariant = "id" | "dangling" | "op" | "arity" | "attrs" | "order" | "cycle" | "shape" | "duplicate" | "leaves" | "roots";

export interface Violation {
  readonly invariant: Invariant;
  readonly message: string;
}

/** Every broken invariant of `ir` (empty when it is valid). */
export function verifyIR(ir: CellIR): Violation[] {
  const found: Violation[] = [];
  const report = (invariant: Invariant, message: string) => void found.push({ invariant, message });
  const exists = (id: NodeId) => Number.isInteger(id) && ir.graph.nodes[id] !== undefined;
  ir.graph.nodes.forEach((node, k) => checkNode(ir, node, k, exists, report));
  checkDuplicates(ir, report);
  checkNames(ir, exists, report);
  const leavesOk = checkLeaves(ir, exists, report);
  const rootsOk = checkRoots(ir, exists, report);
  const walkable = found.every((v) => v.invariant !== "dangling" && v.invariant !== "id");
  if (leavesOk && rootsOk && walkable) checkLiveLeaves(ir, report);
  return found;
}

/** Throws an `IRError` naming every broken invariant of `ir`, which `label` (a stage or pass) produced. */
export function assertValidIR(ir: CellIR, label: string): void {
  const found = verifyIR(ir);
  if (found.length === 0) return;
  const lines = found.slice(0, 20).map((v) => `  [${v.invariant}] ${v.message}`);
  if (found.length > 20) lines.push(`  ... and ${found.length - 20} more`);
  throw new IRError(`internal error: invalid IR after ${label} (cell ${ir.name}):\n${lines.join("\n")}`);
}

/** Whether stages and passes are verified without being asked: `RNNC_VERIFY=1` in the environment. */
export function verifyByDefault(): boolean {
  return typeof process !== "undefined" && process.env["RNNC_VERIFY"] === "1";
}

type Report = (invariant: Invariant, message: string) => void;

const show = (node: Node) => `%${node.id} = ${node.op}${node.args.map((a) => ` %${a}`).join("")}`;

function checkNode(ir: CellIR, node: Node, k: number, exists: (id: NodeId) => boolean, report: Report): void {
  if (node.id !== k) report("id", `node ${k} of the list has id %${node.id}`);
  const def = OPS.get(node.op);
  if (!def) return report("op", `${show(node)}: no op '${node.op}'`);
  const arity = def.arity;
  const arityOk = arity === "variadic" ? node.args.length > 0 : node.args.length === arity;
  if (!arityOk)
    report("arity", `${show(node)}: ${node.op} takes ${arity === "variadic" ? "one or more" : arity} argument${arity === 1 ? "" : "s"}, not ${node.args.length}`);
  const problem = attrProblem(def, node.attrs);
  if (problem) report("attrs", `${show(node)}: ${problem}`);
  const missing = node.args.filter((a) => !exists(a));
  if (missing.length) return report("dangling", `${show(node)}: no node ${missing.map((a) => `%${a}`).join(", ")}`);
  const late = node.args.filter((a) => a >= node.id);
  if (late.length) {
    const cycle = findCycle(ir, node.id);
    if (cycle) report("cycle", `${show(node)}: a cycle ${cycle.map((id) => `%${id}`).join(" → ")}`);
    else report("order", `${show(node)}: reads ${late.map((a) => `%${a}`).join(", ")}, which come${late.length === 1 ? "s" : ""} after it`);
    return;
  }
  if (problem || !arityOk) return;
  const shape = def.shape(node.args.map((a) => ir.graph.nodes[a]!.shape), node.attrs, node.shape);
  if (typeof shape === "string") report("shape", `${show(node)}: ${shape}`);
  else if (!sameShape(shape, node.shape)) report("shape", `${show(node)} is ${formatShape(node.shape)}, but ${node.op} of its arguments is ${formatShape(shape)}`);
}

/** A path of arguments from `start` back to itself, if there is one (ids as read, start first). */
function findCycle(ir: CellIR, start: NodeId): NodeId[] | null {
  const path: NodeId[] = [];
  const done = new Set<NodeId>();
  const visit = (id: NodeId): boolean => {
    if (path.length > 0 && id === start) return true;
    if (done.has(id) || ir.graph.nodes[id] === undefined) return false;
    done.add(id);
    path.push(id);
    for (const a of ir.graph.nodes[id]!.args) if (visit(a)) return true;
    path.pop();
    return false;
  };
  return visit(start) ? [...path, start] : null;
}

function checkDuplicates(ir: CellIR, report: Report): void {
  const seen = new Map<string, NodeId>();
  for (const node of ir.graph.nodes) {
    const attrs = Object.keys(node.attrs).sort().map((k) => `${k}=${Object.is(node.attrs[k], -0) ? "-0" : String(node.attrs[k])}`);
    const key = `${node.op}(${node.args.join(",")}){${attrs.join(",")}}${node.shape.join("x")}`;
    const first = seen.get(key);
    if (first !== undefined) report("duplicate", `${show(node)} is the same node as %${first}`);
    else seen.set(key, node.id);
  }
}

function checkNames(ir: CellIR, exists: (id: NodeId) => boolean, report: Report): void {
  for (const [id, name] of ir.graph.names) if (!exists(id)) report("dangling", `name '${name}' is given to %${id}, which is no node`);
}

const LEAF_KINDS = [["params", "param"], ["inputs", "input"], ["states", "state"]] as const;

/** Each declared tensor has its own leaf of its shape. Returns whether the table can be trusted. */
function checkLeaves(ir: CellIR, exists: (id: NodeId) => boolean, report: Report): boolean {
  let ok = true;
  for (const [group, op] of LEAF_KINDS) {
    const decls: readonly TensorDecl[] = ir[group];
    const ids = ir.leaves[group];
    if (ids.length !== decls.length) (ok = false), report("leaves", `${decls.length} ${group} declared, ${ids.length} leaves`);
    ids.forEach((id, k) => {
      const decl = decls[k];
      if (!exists(id)) return (ok = false), report("dangling", `the leaf of ${op} ${decl?.name ?? k} is %${id}, which is no node`);
      const node = ir.graph.nodes[id]!;
      if (node.op !== op || node.attrs["index"] !== k) (ok = false), report("leaves", `the leaf of ${op} ${decl?.name ?? k} is ${show(node)}, not ${op} #${k}`);
      else if (decl && !sameShape(node.shape, decl.shape)) report("leaves", `${op} ${decl.name} is declared ${formatShape(decl.shape)}, its leaf %${id} is ${formatShape(node.shape)}`);
    });
  }
  return ok;
}

/** Each root exists and is shaped as what it stands for. Returns whether all exist. */
function checkRoots(ir: CellIR, exists: (id: NodeId) => boolean, report: Report): boolean {
  let ok = true;
  const check = (what: string, id: NodeId | null, decl: TensorDecl | undefined) => {
    if (id === null) return;
    if (!exists(id)) return (ok = false), report("dangling", `${what} is %${id}, which is no node`);
    const shape = ir.graph.nodes[id]!.shape;
    if (decl && !sameShape(shape, decl.shape)) report("roots", `${what} is %${id} of shape ${formatShape(shape)}, not ${formatShape(decl.shape)}`);
  };
  const count = (what: string, ids: readonly unknown[], decls: readonly unknown[]) => {
    if (ids.length !== decls.length) (ok = false), report("roots", `${decls.length} ${what} declared, ${ids.length} roots`);
  };
  count("states", ir.nextStates, ir.states);
  count("outputs", ir.outputNodes, ir.outputs);
  ir.nextStates.forEach((id, k) => check(`the next value of state ${ir.states[k]?.name ?? k}`, id, ir.states[k]));
  ir.outputNodes.forEach((id, k) => check(`output ${ir.outputs[k]?.name ?? k}`, id, ir.outputs[k]));
  const g = ir.grads;
  if (g) {
    for (const [group] of LEAF_KINDS) {
      count(`${group} (gradients)`, g[group], ir[group]);
      g[group].forEach((id, k) => check(`the gradient of ${ir[group][k]?.name ?? k}`, id, ir[group][k]));
    }
  }
  return ok;
}

/** Each leaf the roots reach is a declared one, or a seed of a declared output or state of its shape. */
function checkLiveLeaves(ir: CellIR, report: Report): void {
  for (const id of liveNodes(ir, roots(ir))) {
    const node = ir.graph.nodes[id]!;
    const index = Number(node.attrs["index"]);
    const group = LEAF_KINDS.find(([, op]) => op === node.op)?.[0];
    if (group && ir.leaves[group][index] !== id) report("leaves", `${show(node)} #${index} is not the declared leaf of ${ir[group][index]?.name ?? `${node.op} #${index}`}`);
    if (node.op !== "seed") continue;
    const decl = node.attrs["kind"] === "output" ? ir.outputs[index] : ir.states[index];
    if (!decl) report("leaves", `${show(node)}: a seed of ${String(node.attrs["kind"])} #${index}, which the cell does not have`);
    else if (!sameShape(decl.shape, node.shape)) report("leaves", `${show(node)}: the seed of ${decl.name} is ${formatShape(node.shape)}, not ${formatShape(decl.shape)}`);
  }
}
