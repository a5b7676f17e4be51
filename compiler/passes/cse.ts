/**
 * Common-subexpression elimination: structurally equal nodes become one. The graph hash-conses on
 * construction, so rebuilding merges them; commutative ops put their arguments in a canonical
 * order first, so `a + b` and `b + a` meet too.
 */
import type { CellIR } from "../ir/cell.js";
import { rebuild } from "./rebuild.js";

const COMMUTATIVE = new Set(["add", "mul"]);

export function cse(ir: CellIR): CellIR {
  return rebuild(ir, (node, args, g) =>
    g.apply(node.op, COMMUTATIVE.has(node.op) ? [...args].sort((a, b) => a - b) : args, node.attrs),
  );
}
