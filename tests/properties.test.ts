/**
 * Properties over random cells: the compiled kernels (float64, passes on and off) equal the
 * reference evaluator forward and backward, and their gradients equal finite differences.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { gradcheck } from "../src/gradcheck.js";
import { instantiate } from "../src/instantiate.js";
import { expectMatchesReference } from "./helpers/compare.js";
import { randomCells } from "./helpers/random-cell.js";

const build = (source: string, optimize: boolean, products: "runtime" | "inline" = "runtime") => {
  const [compiled] = compileSource(source, { dtype: "f64", optimize, products, path: "random.cell" });
  return { ir: compiled!.ir, cell: instantiate(compiled!) };
};

/** Passes off with products in the module; passes on with products both in the runtime and in the module. */
const CONFIGS = [[false, "inline"], [true, "runtime"], [true, "inline"]] as const;

describe("random cells", () => {
  it("draw, in every run, values that feed several sums and outputs, outputs that are leaves, states only read", () => {
    const cells = fc.sample(randomCells, { seed: 42, numRuns: 40 });
    const count = (re: RegExp) => cells.filter((c) => re.test(c)).length;
    expect(count(/output y\d = (x|h|c|a\d|h\[t-1\]|c\[t-1\])$/mu), "an output that is an input, state or local").toBeGreaterThan(3);
    expect(count(/output y\d = p\d+$/mu), "an output that is a param").toBeGreaterThan(3);
    expect(count(/\((x|h|c|a\d)(\[t-1\])? \+ (x|h|c|a\d)(\[t-1\])?[ )]/u), "a sum of values already computed").toBeGreaterThan(10);
    const unassigned = cells.filter((c) => /state h\[/u.test(c) && !/^ {2}h = /mu.test(c) && /output y\d = .*\bh\b/mu.test(c));
    expect(unassigned.length, "a state never assigned, read by an output").toBeGreaterThan(0);
  });

  it("compiled forward and BPTT equal the reference evaluator, with and without passes, products in the runtime or the module", () => {
    fc.assert(
      fc.property(randomCells, fc.integer({ min: 1, max: 1000 }), (source, seed) => {
        for (const [optimize, products] of CONFIGS) {
          const { ir, cell } = build(source, optimize, products);
          expectMatchesReference(ir, cell, 3, 2, seed, 1e-9);
        }
      }),
      { seed: 42, numRuns: 40 },
    );
  });

  it("compiled gradients equal float64 finite differences", () => {
    fc.assert(
      fc.property(randomCells, (source) => {
        const { ir, cell } = build(source, true);
        const result = gradcheck(ir, cell, { steps: 3, batch: 2, seed: 7 });
        const bad = result.rows.filter((r) => !r.ok);
        if (bad.length) throw new Error(`wrong gradients ${bad.map((r) => `${r.kind} ${r.name}: rel ${r.maxRelError}`).join(", ")}\n${source}`);
      }),
      { seed: 42, numRuns: 40 },
    );
  });
});
