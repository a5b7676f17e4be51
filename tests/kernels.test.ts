import { describe, it } from "vitest";
import { differentiate } from "../compiler/autodiff.js";
import { emitModule } from "../compiler/codegen/module.js";
import { planKernels } from "../compiler/codegen/plan.js";
import type { CheckedCell } from "../compiler/ast.js";
import { lowerCell } from "../compiler/lower.js";
import { load } from "../src/load.js";
import { elman } from "./helpers/cells.js";
import { expectMatchesReference } from "./helpers/compare.js";

/** Lowers, differentiates and emits a checked cell without the front end or the passes. */
function build(cell: CheckedCell) {
  const ir = differentiate(lowerCell(cell));
  return { ir, cell: load(emitModule(ir, planKernels(ir, true), { dtype: "f64", runtime: "rnnc/runtime", sourcePath: "t.cell" })) };
}

describe("kernels", () => {
  it("Elman forward and BPTT equal the reference evaluator", () => {
    const { ir, cell } = build(elman(3, 4));
    expectMatchesReference(ir, cell, 5, 3, 1);
  });
});
