import { describe, expect, it } from "vitest";
import { differentiate } from "../compiler/autodiff.js";
import { elementsPerPass } from "../compiler/codegen/body.js";
import { describeModule, renderJavaScript } from "../compiler/codegen/module.js";
import { planKernels } from "../compiler/codegen/plan.js";
import type { CheckedCell } from "../compiler/ast.js";
import { lowerCell } from "../compiler/lower.js";
import { instantiate } from "../src/instantiate.js";
import { elman } from "./helpers/cells.js";
import { expectMatchesReference } from "./helpers/compare.js";
import { readFileSync } from "node:fs";
import { compileSource } from "../compiler/index.js";
import { useSimd } from "../src/runtime/products.js";

/** Lowers, differentiates and emits a checked cell without the front end or the passes. */
function build(cell: CheckedCell) {
  const ir = differentiate(lowerCell(cell));
  return { ir, cell: instantiate({ module: describeModule(ir, planKernels(ir, true), { dtype: "f64", runtime: "rnnc/runtime", sourcePath: "t.cell", sourceText: "" }) }) };
}

describe("kernels", () => {
  it("products run as plain loops where WebAssembly SIMD is not used, with the same results", () => {
    const [compiled] = compileSource(readFileSync("examples/cells/lstm.cell", "utf8"), { dtype: "f64", sizes: { I: 5, H: 9 } });
    useSimd(false);
    try {
      expectMatchesReference(compiled!.ir, instantiate(compiled!), 7, 3, 5, 1e-9);
    } finally {
      useSimd(true);
    }
  });

  it("Elman forward and BPTT equal the reference evaluator", () => {
    const { ir, cell } = build(elman(3, 4));
    expectMatchesReference(ir, cell, 5, 3, 1);
  });

  it("element loops run four, two or one elements a pass, as the size allows, with the reference evaluator's values", () => {
    expect([3, 4, 5, 6, 8, 10, 12, 16].map(elementsPerPass)).toEqual([1, 2, 1, 2, 4, 2, 4, 4]);
    for (const [H, pass] of [[8, "j += 4"], [6, "j += 2"], [7, "j++"]] as const) {
      const [compiled] = compileSource(readFileSync("examples/cells/lstm.cell", "utf8"), { dtype: "f64", sizes: { I: 3, H } });
      const text = renderJavaScript(compiled!.module, "function");
      // The element loops (over the H values of c, h, their gradients, … of each row).
      expect(text).toContain(`for (let j = 0; j < ${H}; ${pass}) {`);
      if (pass !== "j++") expect(text).not.toContain(`for (let j = 0; j < ${H}; j++) {`);
      expectMatchesReference(compiled!.ir, instantiate(compiled!), 4, 3, 5, 1e-9);
    }
  });

  // Tiled products have remainders (odd row counts, one row, sizes not a multiple of the tile) and
  // param gradients run over blocks of rows: T·B above a block and odd B reach every path.
  for (const [file, sizes] of [["lstm", { I: 5, H: 9 }], ["gru_torch", { I: 7, H: 6 }], ["lnlstm", { I: 3, H: 10 }]] as const) {
    for (const [T, B] of [[1, 1], [45, 3], [2, 5]] as const) {
      for (const products of ["runtime", "inline"] as const) {
        it(`${file} with sizes ${JSON.stringify(sizes)} at T=${T}, B=${B}, products ${products}, equals the reference evaluator`, () => {
          const [compiled] = compileSource(readFileSync(`examples/cells/${file}.cell`, "utf8"), { dtype: "f64", sizes, products });
          expectMatchesReference(compiled!.ir, instantiate(compiled!), T, B, 5, 1e-9);
        });
      }
    }
  }
});
