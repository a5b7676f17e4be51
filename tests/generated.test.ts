/**
 * `generated/` holds the example cells compiled by `npm run generate`; it is committed, and the
 * emitted modules are the golden files of code generation, compared as vitest file snapshots: a
 * stale module fails the test with a diff of what the compiler emits now. Regenerate with
 * `npm run generate` (or `npx vitest run tests/generated.test.ts --update`, which writes the same
 * files). `vitest run` never rewrites a file that differs; it writes a missing one only outside CI
 * (with `CI=true` a missing one fails too), and the first test fails on a missing module anyway.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModule } from "../compiler/build.js";
import { compileSource } from "../compiler/index.js";
import { compile } from "../src/index.js";

const cells = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).sort();

describe("generated/", () => {
  it("has a module for every example cell", () => {
    const modules = readdirSync("generated").filter((f) => f.endsWith(".ts")).sort();
    expect(modules).toEqual(cells.map((f) => `${basename(f, ".cell")}.ts`));
  });

  for (const file of cells) {
    it(`${file}: generated module is what the compiler emits now`, async () => {
      const path = `examples/cells/${file}`;
      const [compiled] = compileSource(readFileSync(path, "utf8"), { path, runtime: "../src/runtime/index.js", dtype: "f32" });
      const fresh = await buildModule(compiled!);
      await expect(fresh, `generated/${compiled!.name}.ts is stale: run npm run generate`).toMatchFileSnapshot(`../generated/${compiled!.name}.ts`);
    });

    it(`${file}: the generated module runs like the in-process compile`, async () => {
      const name = basename(file, ".cell");
      const mod = (await import(`../generated/${name}.ts`)) as { cell: ReturnType<typeof compile> };
      const fresh = compile(readFileSync(`examples/cells/${file}`, "utf8"), { dtype: "f32" });
      const params = fresh.initParams(3);
      const T = 3, B = 2;
      const inputs = Object.fromEntries(fresh.inputs.map((x) => [x.name, Float32Array.from({ length: T * B * x.size }, (_, i) => Math.sin(i))]));
      const a = mod.cell.forward(params, inputs, { T, B });
      const b = fresh.forward(params, inputs, { T, B });
      for (const o of fresh.outputs) expect(a.outputs[o.name]).toEqual(b.outputs[o.name]);
    });
  }
});
