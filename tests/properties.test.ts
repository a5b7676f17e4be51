/**
 * Properties over random cells: the compiled kernels (float64, passes on and off) equal the
 * reference evaluator forward and backward, and their gradients equal finite differences. The IR is
 * verified after every stage and pass (ir/verify.ts). Sizes, steps T and batch B are drawn too, so
 * that the tiled products reach their odd tails: a lone last row (B odd), strips narrower than a
 * tile (sizes not a multiple of 4 or 8) and more than one block of rows (T·B > 128).
 *
 * The seed is fixed; `RNNC_SEED=random npx vitest run tests/properties.test.ts` draws a fresh one
 * and prints it (tests/helpers/seed.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { assertValidIR } from "../compiler/ir/verify.js";
import { gradcheck } from "../src/gradcheck.js";
import { instantiate } from "../src/instantiate.js";
import { type ReferenceResult, runReference } from "../compiler/ir/interpret.js";
import { expectMatchesReference, randomData } from "./helpers/compare.js";
import { randomCells } from "./helpers/random-cell.js";
import { propertySeed } from "./helpers/seed.js";

/** Sizes of a run: the cell's I, H, K, and steps T and batch B. */
interface Extent {
  readonly sizes: { readonly I: number; readonly H: number; readonly K: number };
  readonly T: number;
  readonly B: number;
}

const size = fc.integer({ min: 1, max: 11 });
/** Small batches, and a few over 128 rows in all (T·B), one block of rows more than the products take at once. */
const extents: fc.Arbitrary<Extent> = fc.record({
  sizes: fc.record({ I: size, H: size, K: size }),
  T: fc.integer({ min: 1, max: 4 }),
  B: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 5 }), weight: 6 }, { arbitrary: fc.integer({ min: 43, max: 47 }), weight: 1 }),
});

const build = (source: string, optimize: boolean, products: "runtime" | "inline" = "runtime", sizes?: Extent["sizes"]) => {
  const verify = (label: string, ir: Parameters<typeof assertValidIR>[0]) => assertValidIR(ir, label);
  const [compiled] = compileSource(source, { dtype: "f64", optimize, products, sizes, path: "random.cell", onPass: verify });
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
    expect(count(/^ {2}S = /mu), "a matrix state, assigned").toBeGreaterThan(3);
    expect(count(/outer\(/u), "an outer product").toBeGreaterThan(3);
    expect(count(/(sum|mean)\([^\n]*, [01]\)|M\d+\)?·|\)ᵀ·/u), "a matrix read by a product or an axis reduction").toBeGreaterThan(3);
    expect(count(/\]\[\w+:\w+(\+\w+)?\]|\)\[\w+:\w+(\+\w+)?\]/u), "a slice").toBeGreaterThan(3);
    const unassigned = cells.filter((c) => /state h\[/u.test(c) && !/^ {2}h = /mu.test(c) && /output y\d = .*\bh\b/mu.test(c));
    expect(unassigned.length, "a state never assigned, read by an output").toBeGreaterThan(0);
  });

  it("draw sizes, steps and batches that reach every tail of the tiled products", () => {
    const drawn = fc.sample(extents, { seed: 42, numRuns: 40 });
    const count = (pred: (e: Extent) => boolean) => drawn.filter(pred).length;
    const sizes = drawn.flatMap((e) => [e.sizes.I, e.sizes.H, e.sizes.K]);
    expect(count((e) => e.B === 1), "a batch of one row").toBeGreaterThan(3);
    expect(count((e) => e.B % 2 === 1 && e.B > 1), "an odd batch: pairs of rows, then a lone one").toBeGreaterThan(5);
    expect(count((e) => e.T * e.B > 128), "more than one block of 128 rows").toBeGreaterThan(1);
    expect(count((e) => e.T === 1), "a single step").toBeGreaterThan(3);
    expect(sizes.filter((n) => n > 8 && n % 4 !== 0).length, "a size past a tile of 8, with a narrower strip after it").toBeGreaterThan(10);
    expect(new Set(sizes.map((n) => n % 4)), "every remainder after tiles of 4").toEqual(new Set([0, 1, 2, 3]));
  });

  it("compiled forward and BPTT equal the reference evaluator, with and without passes, products in the runtime or the module", () => {
    fc.assert(
      fc.property(randomCells, extents, fc.integer({ min: 1, max: 1000 }), (source, { sizes, T, B }, seed) => {
        let ref: ReferenceResult | undefined;
        for (const [optimize, products] of CONFIGS) {
          const { ir, cell } = build(source, optimize, products, sizes);
          ref ??= runReference(ir, { T, B, ...randomData(ir, T, B, seed) });
          expectMatchesReference(ir, cell, T, B, seed, 1e-9, ref);
        }
      }),
      { seed: propertySeed(42, "properties: reference"), numRuns: 40 },
    );
  }, 300_000);

  it("compiled gradients equal float64 finite differences", () => {
    fc.assert(
      fc.property(randomCells, (source) => {
        const { ir, cell } = build(source, true);
        const result = gradcheck(ir, cell, { steps: 3, batch: 2, seed: 7 });
        const bad = result.rows.filter((r) => !r.ok);
        if (bad.length) throw new Error(`wrong gradients ${bad.map((r) => `${r.kind} ${r.name}: rel ${r.maxRelError}`).join(", ")}\n${source}`);
      }),
      { seed: propertySeed(42, "properties: finite differences"), numRuns: 40 },
    );
  }, 300_000);
});
