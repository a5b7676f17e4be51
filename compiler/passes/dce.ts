/** Dead-code elimination: only nodes some root depends on survive a rebuild. */
import { type CellIR, declaredLeaves, liveNodes, roots } from "../ir/cell.js";
import { rebuild } from "./rebuild.js";

/**
 * The IR without its dead nodes. When every node is live (as after a rebuild, which copies live
 * nodes only, with no rewrite leaving nodes behind) the IR is returned as it is: a rebuild would
 * add the same nodes in the same order under the same ids and names.
 */
export function dce(ir: CellIR): CellIR {
  if (liveNodes(ir, [...declaredLeaves(ir), ...roots(ir)]).length === ir.graph.nodes.length) return ir;
  return rebuild(ir);
}
