/**
 * Common-subexpression elimination: structurally equal nodes become one. The graph hash-conses on
 * construction, so rebuilding merges them; `a + b` and `b + a` (and `a · b`, `b · a`) meet too,
 * as the one of them built first: IEEE 754 addition and multiplication are commutative, bit for
 * bit. A node no other node equals keeps its arguments in their order, so the code generator,
 * which adds the terms of a sum in the order it finds them, adds them as before.
 */
import type { CellIR } from "../ir/cell.js";
import { rebuild } from "./rebuild.js";

const COMMUTATIVE = new Set(["add", "mul"]);

export function cse(ir: CellIR): CellIR {
  const first = new Map<string, number>();
  return rebuild(ir, (node, args, g) => {
    if (!COMMUTATIVE.has(node.op)) return g.apply(node.op, args, node.attrs);
    const key = `${node.op}(${[...args].sort((a, b) => a - b).join(",")})`;
    const seen = first.get(key);
    if (seen !== undefined) return seen;
    const id = g.apply(node.op, args, node.attrs);
    first.set(key, id);
    return id;
  });
}
