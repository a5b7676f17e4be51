/**
 * Sums written into one target from several terms: the term that initialises the target is
 * written before every term that adds to it, whatever else the terms feed. Each cell here is a
 * case a value (an input, a state, a param) feeds a sum and an output at once.
 */
import { describe, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { instantiate } from "../src/instantiate.js";
import { expectMatchesReference } from "./helpers/compare.js";

const CASES: Record<string, string> = {
  "a state never assigned, read by an output sum": `
    cell unassigned {
      size H = 2
      input x[H]
      state m[H]
      param b[H]
      output o = m + b
    }`,
  "an input read by an output and by a sum": `
    cell shared_input {
      size H = 2
      input u[H]
      state s[H]
      param b[H]
      s = b + u
      output y = u
    }`,
  "an input in a state update and in an output sum": `
    cell input_twice {
      size H = 2
      input x[H]
      state h[H]
      param b[H]
      h = (x + h) ⊙ x
      output y = b + x
    }`,
  "an input in an activation's sum and an output of its own": `
    cell activation {
      size H = 2
      input u[H]
      state c[H]
      param b[H], W[H, H]
      output y = σ(u + b + W·c)
      output o = u
    }`,
};

describe("sums written from several terms", () => {
  for (const [what, source] of Object.entries(CASES)) {
    for (const optimize of [true, false]) {
      for (const products of ["runtime", "inline"] as const) {
        it(`${what}: passes ${optimize ? "on" : "off"}, products ${products}, equal the reference evaluator`, () => {
          const [compiled] = compileSource(source, { dtype: "f64", optimize, products, path: "sums.cell" });
          for (const [T, B] of [[1, 1], [3, 2]] as const) expectMatchesReference(compiled!.ir, instantiate(compiled!), T, B, 11, 1e-12);
        });
      }
    }
  }
});
