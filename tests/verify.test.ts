/**
 * The IR verifier: every stage and pass leaves valid IR on the example cells, and each invariant,
 * deliberately broken in an otherwise valid graph, is reported by its name.
 */
import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { differentiate } from "../compiler/autodiff.js";
import { checkSource } from "../compiler/index.js";
import type { CellIR } from "../compiler/ir/cell.js";
import type { Node, NodeId } from "../compiler/ir/graph.js";
import { assertValidIR, verifyIR, type Invariant } from "../compiler/ir/verify.js";
import { lowerCell } from "../compiler/lower.js";
import { optimize } from "../compiler/passes/index.js";

const LSTM = readFileSync("examples/cells/lstm.cell", "utf8");

/** The LSTM after autodiff, at small sizes: a fresh copy for each test to break. */
const fresh = (): CellIR => differentiate(lowerCell(checkSource(LSTM, { sizes: { I: 3, H: 4 } })[0]!));

/** The first node of `ir` with op `op`. */
const first = (ir: CellIR, op: string): Node => ir.graph.nodes.find((n) => n.op === op)!;

/** Replaces node `id` of the graph by `changes` applied to it. */
const patch = (ir: CellIR, id: NodeId, changes: Partial<Node>) => {
  ir.graph.nodes[id] = { ...ir.graph.node(id), ...changes };
};

/** The invariants `ir` breaks, each with its message. */
const broken = (ir: CellIR): [Invariant, string][] => verifyIR(ir).map((v) => [v.invariant, v.message]);

describe("verifyIR on valid IR", () => {
  for (const file of readdirSync("examples/cells").filter((f) => f.endsWith(".cell"))) {
    it(`${file}: lower, autodiff and every pass leave valid IR, optimized or not`, () => {
      const labels: string[] = [];
      const check = (label: string, ir: CellIR) => (labels.push(label), assertValidIR(ir, label));
      for (const cell of checkSource(readFileSync(`examples/cells/${file}`, "utf8"))) {
        const lowered = lowerCell(cell);
        check("lower", lowered);
        const base = differentiate(lowered);
        for (const options of [{}, { optimize: false }, { layout: "all" as const }, { stack: false, layout: "none" as const }])
          optimize(base, { ...options, verify: true, onPass: check });
      }
      expect(labels).toEqual(expect.arrayContaining(["lower", "simplify", "stack", "cse", "dce"]));
    });
  }
});

describe("verifyIR on broken IR names the invariant", () => {
  it("shape: a node whose shape is not its op's", () => {
    const ir = fresh();
    const add = first(ir, "add");
    patch(ir, add.id, { shape: [5] });
    expect(broken(ir)).toContainEqual(["shape", expect.stringMatching(new RegExp(`^%${add.id} = add .* is \\[5\\], but add of its arguments is \\[4\\]`))]);
  });

  it("shape: arguments the op's shape rule rejects", () => {
    const ir = fresh();
    const mm = first(ir, "matmul");
    patch(ir, mm.id, { args: [mm.args[1]!, mm.args[0]!] });
    expect(broken(ir).map(([k]) => k)).toContain("shape");
  });

  it("arity: a binary op with one argument", () => {
    const ir = fresh();
    const mul = first(ir, "mul");
    patch(ir, mul.id, { args: [mul.args[0]!] });
    expect(broken(ir)).toContainEqual(["arity", `%${mul.id} = mul %${mul.args[0]}: mul takes 2 arguments, not 1`]);
  });

  it("op: an op the table does not have", () => {
    const ir = fresh();
    const node = first(ir, "tanh");
    patch(ir, node.id, { op: "tahn" });
    expect(broken(ir)).toContainEqual(["op", expect.stringContaining("no op 'tahn'")]);
  });

  it("attrs: unknown, missing and ill-typed attributes", () => {
    const ir = fresh();
    const mm = first(ir, "matmul");
    patch(ir, mm.id, { attrs: { ta: 1, tb: false } });
    const param = first(ir, "param");
    patch(ir, param.id, { attrs: { index: 0, shape: "4x3" } });
    const c = first(ir, "const");
    patch(ir, c.id, { attrs: {} });
    const found = broken(ir);
    expect(found).toContainEqual(["attrs", expect.stringContaining("matmul attribute ta=1: not a boolean")]);
    expect(found).toContainEqual(["attrs", expect.stringContaining("param takes no attribute 'shape'")]);
    expect(found).toContainEqual(["attrs", expect.stringContaining("const needs attribute 'value'")]);
  });

  it("dangling: an argument, a root, a leaf and a name that are no node", () => {
    const ir = fresh();
    const add = first(ir, "add");
    patch(ir, add.id, { args: [add.args[0]!, 9999] });
    ir.graph.names.set(8888, "ghost");
    const broke = { ...ir, nextStates: [7777, ...ir.nextStates.slice(1)], leaves: { ...ir.leaves, inputs: [6666] } };
    const messages = broken(broke).filter(([k]) => k === "dangling").map(([, m]) => m);
    expect(messages).toEqual([
      `%${add.id} = add %${add.args[0]} %9999: no node %9999`,
      "name 'ghost' is given to %8888, which is no node",
      "the leaf of input x is %6666, which is no node",
      "the next value of state h is %7777, which is no node",
    ]);
  });

  it("order: an argument defined after the node that reads it", () => {
    const ir = fresh();
    const node = first(ir, "tanh");
    const later = ir.graph.nodes.find((n) => n.id > node.id && n.shape.length === 1 && n.shape[0] === 4)!;
    patch(ir, node.id, { args: [later.id] });
    const found = broken(ir);
    expect(found).toContainEqual(["order", `%${node.id} = tanh %${later.id}: reads %${later.id}, which comes after it`]);
    expect(found.map(([k]) => k)).not.toContain("cycle");
  });

  it("cycle: a node that depends on itself, with its path", () => {
    const ir = fresh();
    const sig = first(ir, "sigmoid");
    const user = ir.graph.nodes.find((n) => n.args.includes(sig.id))!;
    patch(ir, sig.id, { args: [user.id] });
    expect(broken(ir)).toContainEqual(["cycle", `%${sig.id} = sigmoid %${user.id}: a cycle %${sig.id} → %${user.id} → %${sig.id}`]);
  });

  it("id: a node whose id is not its place in the list", () => {
    const ir = fresh();
    const node = first(ir, "tanh");
    patch(ir, node.id, { id: node.id + 1 });
    expect(broken(ir).map(([k]) => k)).toContain("id");
  });

  it("duplicate: the same node twice (hash-consing broken)", () => {
    const ir = fresh();
    const add = first(ir, "add");
    ir.graph.nodes.push({ ...add, id: ir.graph.nodes.length });
    expect(broken(ir)).toEqual([["duplicate", `%${ir.graph.nodes.length - 1} = add %${add.args[0]} %${add.args[1]} is the same node as %${add.id}`]]);
  });

  it("leaves: a declared leaf of the wrong kind, and a live leaf nobody declared", () => {
    const ir = fresh();
    const wrong = { ...ir, leaves: { ...ir.leaves, params: [ir.leaves.inputs[0]!, ...ir.leaves.params.slice(1)] } };
    expect(broken(wrong)).toContainEqual(["leaves", expect.stringMatching(/^the leaf of param Wf is %\d+ = input, not param #0$/)]);

    const stray = fresh();
    const mm = first(stray, "matmul");
    const extra = stray.graph.leaf("param", 42, stray.graph.shape(mm.args[0]!));
    patch(stray, mm.id, { args: [extra, mm.args[1]!] });
    expect(broken(stray)).toContainEqual(["leaves", `%${extra} = param #42 is not the declared leaf of param #42`]);
  });

  it("roots: a root of another shape than what it stands for", () => {
    const ir = fresh();
    const x = ir.leaves.inputs[0]!;
    const broke = { ...ir, outputNodes: [x, ...ir.outputNodes.slice(1)] };
    expect(broken(broke)).toContainEqual(["roots", `output h is %${x} of shape [3], not [4]`]);
  });
});

describe("verification during compilation", () => {
  const saved = process.env["RNNC_VERIFY"];
  afterEach(() => {
    if (saved === undefined) delete process.env["RNNC_VERIFY"];
    else process.env["RNNC_VERIFY"] = saved;
  });

  const brokenInput = () => {
    const ir = fresh();
    const add = first(ir, "add");
    patch(ir, add.id, { shape: [5] });
    return ir;
  };

  it("RNNC_VERIFY=1 checks what the passes are given and each pass's result, naming the stage", () => {
    process.env["RNNC_VERIFY"] = "1";
    expect(() => optimize(brokenInput())).toThrow(/^internal error: invalid IR after autodiff \(cell lstm\):\n {2}\[shape\] %\d+ = add/);
  });

  it("the verify option does the same without the environment, and false turns it off", () => {
    delete process.env["RNNC_VERIFY"];
    expect(() => optimize(brokenInput(), { verify: true })).toThrow(/invalid IR after autodiff/);
    process.env["RNNC_VERIFY"] = "1";
    expect(() => optimize(fresh(), { verify: false })).not.toThrow();
  });
});
