/**
 * A value derived from params alone is computed once per kernel, in its `if (paramsChanged)`
 * block, even when two phases of the kernel read it (the backward's recurrence and its deferred
 * param gradients, the forward's hoisted products and its recurrence): the later phase reads it
 * from where the earlier one left it. Each computed value has its comment above it, so a value
 * computed twice shows as a comment line twice in the block.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { randomCells } from "./helpers/random-cell.js";

/** The comment lines of a kernel body's `if (paramsChanged) { … }` block that occur more than once. */
function computedTwice(body: string): string[] {
  const lines = body.split("\n").map((l) => l.trim());
  const start = lines.indexOf("if (paramsChanged) {");
  if (start < 0) return [];
  const seen = new Set<string>();
  const twice: string[] = [];
  for (let k = start + 1, depth = 1; k < lines.length && depth > 0; k++) {
    const line = lines[k]!;
    depth += (line.match(/\{/gu) ?? []).length - (line.match(/\}/gu) ?? []).length;
    if (!line.startsWith("//")) continue;
    if (seen.has(line)) twice.push(line);
    seen.add(line);
  }
  return twice;
}

const twiceIn = (source: string) => {
  const [cell] = compileSource(source, { path: "cell.cell" });
  return cell!.module.kernels.flatMap((k) => computedTwice(k.body).map((line) => `${k.name}: ${line}`));
};

describe("values derived from params alone", () => {
  it("the check finds a value computed twice", () => {
    expect(computedTwice("if (paramsChanged) {\n// a = Wᵀ\nx;\nif (y) {\n// a = Wᵀ\n}\n}\n// a = Wᵀ")).toEqual(["// a = Wᵀ"]);
  });

  it("are computed once in the backward when its recurrence and its param gradients both read them", () => {
    // Found by the random cells: the transposes are read by the recurrence (for dh) and by the
    // deferred gradient of W3, and each phase's prologue used to compute them.
    const cell = `cell random {
  size I = 5, H = 6, K = 5
  input x[I]
  state h[H], c[K]
  param W0[H, H], V1[H, K], V2[K, H], W3[K, I], b4[I]
  h = -(-(-((W0 @ h))))
  c = (transpose(V1)·(sigmoid((V2ᵀ·((W3·x))))))
  output y0 = (x + b4 + x)
}`;
    expect(twiceIn(cell)).toEqual([]);
    const [compiled] = compileSource(cell, { path: "cell.cell" });
    const backward = compiled!.module.kernels.find((k) => k.name === "backward")!.body;
    expect(backward).toMatch(/transpose_V1 = transpose\(V1\)/u);
  });

  it("are computed once per kernel in random cells", () => {
    fc.assert(fc.property(randomCells, (source) => {
      expect(twiceIn(source)).toEqual([]);
    }), { seed: 9, numRuns: 40 });
  });
});
