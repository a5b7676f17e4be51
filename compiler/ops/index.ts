/** The op table: every primitive of the IR, looked up by name or by its name in the language. */
import type { Attrs } from "../ir/graph.js";
import { elementwiseOps } from "./elementwise.js";
import { structuralOps } from "./structural.js";
import type { OpDef } from "./types.js";

export type { OpDef, Tensor, KernelWriter, RowWriter, Strided, VjpContext } from "./types.js";

function leaf(name: string): OpDef {
  return {
    name, arity: 0, kind: "leaf", cost: 0,
    shape: (_args, attrs: Attrs) => {
      const s = String(attrs["shape"]);
      return s === "" ? [] : s.split("x").map(Number);
    },
  };
}

/** Leaves: an input of step t, a param, a state's previous value, a gradient fed into the backward. */
const leafOps = ["input", "param", "state", "seed"].map(leaf);

export const OPS: ReadonlyMap<string, OpDef> = new Map(
  [...leafOps, ...elementwiseOps, ...structuralOps].map((op) => [op.name, op]),
);

/** Function names of the language (`σ`, `sigmoid`, `tanh`, ...) to op names. */
export const FUNCTIONS: ReadonlyMap<string, OpDef> = new Map(
  [...OPS.values()].flatMap((op) => (op.syntax ?? []).map((s) => [s, op] as const)),
);

export function opDef(name: string): OpDef {
  const def = OPS.get(name);
  if (!def) throw new Error(`internal error: unknown op '${name}'`);
  return def;
}
