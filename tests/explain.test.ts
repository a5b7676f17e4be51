/**
 * `rnnc explain CELL.cell`: the derived backward as equations. Golden files (tests/golden/explain-*)
 * hold what it prints for the LSTM (before and after the passes) and for the Elman cell in Markdown
 * and LaTeX; regenerate with `UPDATE_GOLDEN=1 npx vitest run tests/explain.test.ts`. Every example
 * cell gets one gradient line per param, input and state.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { rnncClean as rnnc } from "./reference/harness.js";

const update = process.env["UPDATE_GOLDEN"] === "1";

async function expectGolden(name: string, ...argv: string[]): Promise<void> {
  const r = await rnnc("explain", ...argv);
  expect(r).toMatchObject({ code: 0, err: "" });
  const path = `tests/golden/explain-${name}.txt`;
  if (update) writeFileSync(path, r.out);
  expect(existsSync(path), `${path} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
  expect(r.out).toBe(readFileSync(path, "utf8"));
}

describe("rnnc explain CELL.cell", () => {
  it("the LSTM, as text", () => expectGolden("lstm", "examples/cells/lstm.cell"));
  it("the LSTM after the passes (products stacked)", () => expectGolden("lstm-after-passes", "examples/cells/lstm.cell", "--after-passes"));
  it("the Elman cell in Markdown", () => expectGolden("rnn-markdown", "examples/cells/rnn.cell", "--format", "markdown"));
  it("the Elman cell in LaTeX", () => expectGolden("rnn-latex", "examples/cells/rnn.cell", "--format", "latex"));

  it("the LSTM's gradients read as a textbook's", async () => {
    const { out } = await rnnc("explain", "examples/cells/lstm.cell");
    expect(out).toContain("  df_pre = df ⊙ (f ⊙ (1 - f))\n");
    expect(out).toMatch(/^  dWf \+= Σₜ df_pre·xᵀ +from  f = σ\(Wf·x \+ Uf·h\[t-1\] \+ bf\)$/m);
    expect(out).toMatch(/^  dc\[t-1\] = dc ⊙ f +from  c = f ⊙ c\[t-1\] \+ i ⊙ g$/m);
  });

  it.each(readdirSync("examples/cells"))("%s: one gradient line per param, input and state", async (file) => {
    const source = readFileSync(`examples/cells/${file}`, "utf8");
    const { out, code } = await rnnc("explain", `examples/cells/${file}`);
    expect(code).toBe(0);
    const declared = (kind: string) => [...source.matchAll(new RegExp(`^\\s*${kind} (.*)$`, "gm"))]
      .flatMap((m) => m[1]!.replace(/#.*/, "").split(/,(?![^[]*\])/).map((d) => d.trim().replace(/\s*[[=~].*$/, "")));
    for (const p of declared("param")) expect(out).toMatch(new RegExp(`^  d${p} \\+= Σₜ `, "m"));
    for (const x of declared("input")) expect(out).toMatch(new RegExp(`^  d${x} = `, "m"));
    for (const h of declared("state")) expect(out).toMatch(new RegExp(`^  d${h}\\[t-1\\] = `, "m"));
  });

  it("an unknown format is a usage error; a cell with errors is exit 1", async () => {
    expect((await rnnc("explain", "examples/cells/rnn.cell", "--format", "pdf")).code).toBe(2);
    expect((await rnnc("explain", "tests/errors/shape_mismatch.cell")).code).toBe(1);
  });
});
