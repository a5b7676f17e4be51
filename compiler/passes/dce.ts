/** Dead-code elimination: only nodes some root depends on survive a rebuild. */
import type { CellIR } from "../ir/cell.js";
import { rebuild } from "./rebuild.js";

export function dce(ir: CellIR): CellIR {
  return rebuild(ir);
}
