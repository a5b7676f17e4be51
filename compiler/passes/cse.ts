/**
 * Common-subexpression elimination: structurally equal nodes become one. The graph hash-conses on
 * construction, so rebuilding merges them; `a + b` and `b + a` (and `a · b`, `b · a`) meet too,
 * as the one of them built first: IEEE 754 addition and multiplication are commutative, bit for
 * bit (ops say so in their entry: `commutative`). A node no other node equals keeps its arguments in their order, so the code generator,
 * which adds the terms of a sum in the order it finds them, adds them as before.
 */
import type { CellIR } from "../ir/cell.js";
import { opDef } from "../ops/index.js";
import { rebuild } from "./rebuild.js";

const commutative = (op: string): boolean => {
  const def = opDef(op);
  return def.kind === "elementwise" && def.commutative === true;
};

export function cse(ir: CellIR): CellIR {
  const first = new Map<string, number>();
  return rebuild(ir, (node, args, g) => {
    if (!commutative(node.op)) return g.copy(node, args);
    const key = `${node.op}(${[...args].sort((a, b) => a - b).join(",")})`;
    const seen = first.get(key);
    if (seen !== undefined) return seen;
    const id = g.copy(node, args);
    first.set(key, id);
    return id;
  });
}
