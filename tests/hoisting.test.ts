/**
 * What hoisting leaves in the time loops of the cells whose gates read the input only (minGRU and
 * minLSTM, Feng et al. 2024): no matrix product runs inside the forward's or the backward's loop
 * over t, against the GRU, whose recurrent products stay there. Read from the committed modules in
 * generated/ (tests/generated.test.ts keeps them what the compiler emits).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/** The body of the first `for (let t ...)` loop of `kernel` in `generated/<cell>.ts`. */
function timeLoop(cell: string, kernel: "forward" | "backward"): string {
  const text = readFileSync(`generated/${cell}.ts`, "utf8");
  const start = text.indexOf(`\nfunction ${kernel}(`);
  const loop = text.indexOf("for (let t = ", start);
  expect(start, `${cell}: function ${kernel}`).toBeGreaterThanOrEqual(0);
  expect(loop, `${cell}: the time loop of ${kernel}`).toBeGreaterThan(start);
  let depth = 0;
  for (let i = text.indexOf("{", loop); i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(loop, i + 1);
  }
  throw new Error(`${cell}: unbalanced braces in ${kernel}`);
}

/** The product calls (`mm.nt(...)`, `mm.nn(...)`, `mm.tn(...)`) in a piece of emitted code. */
/** The runtime calls of `code` other than element loops run as WebAssembly (`mm.loop`, elementwise work). */
const products = (code: string): string[] => code.match(/\bmm\.(?!loop\()\w+\(/g) ?? [];

describe("hoisting on cells whose gates read the input only", () => {
  for (const cell of ["mingru", "minlstm"]) {
    it(`${cell}: no matrix product inside the forward's or the backward's time loop`, () => {
      expect(products(timeLoop(cell, "forward"))).toEqual([]);
      expect(products(timeLoop(cell, "backward"))).toEqual([]);
      // ...they all run over T·B rows outside it: the stacked input product, its gradients and dx.
      expect(products(readFileSync(`generated/${cell}.ts`, "utf8")).length).toBeGreaterThan(0);
    });
  }

  it("gru (its gates read h): the recurrent products stay in both time loops", () => {
    expect(products(timeLoop("gru", "forward")).length).toBeGreaterThan(0);
    expect(products(timeLoop("gru", "backward")).length).toBeGreaterThan(0);
  });
});
