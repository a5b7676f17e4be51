/**
 * `step` allocates nothing in the steady state: after warm-up, a long run of steps triggers no
 * young-generation collection (V8's `--trace-gc` prints none). Run in a child Node process on the
 * built package, with products in the runtime (WebAssembly SIMD, operands staged) and inline.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const script = (products: string) => `
import { readFileSync } from "node:fs";
const { compile } = await import("./dist/src/index.js");
const cell = compile(readFileSync("examples/cells/lstm.cell", "utf8"), { dtype: "f32", products: "${products}" });
const params = cell.initParams(1);
const inputs = { x: new Float32Array(8 * 4).fill(0.5) };
const state = cell.createState(4);
for (let i = 0; i < 30000; i++) cell.step(params, inputs, state);
console.log("START");
for (let i = 0; i < 100000; i++) cell.step(params, inputs, state);
console.log("END");
`;

describe("steady state", () => {
  for (const products of ["runtime", "inline"]) {
    it(`100k steps of an LSTM (B = 4, products ${products}) trigger no garbage collection`, () => {
      // V8 optimizes (and tiers WebAssembly up) on other threads by default; on a loaded machine the
      // optimized code can arrive after the warm-up, and swapping it in allocates. Optimizing on
      // the main thread makes the warm-up end with the code the loop then runs.
      const synchronous = ["--no-concurrent-recompilation", "--no-concurrent-osr", "--no-wasm-dynamic-tiering"];
      const run = spawnSync(process.execPath, ["--trace-gc", ...synchronous, "--input-type=module", "-e", script(products)], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      const between = run.stdout.split("START")[1]?.split("END")[0];
      expect(between, run.stdout).toBeDefined();
      expect(between!.match(/Scavenge|Mark-Compact/g) ?? []).toEqual([]);
    });
  }
});
