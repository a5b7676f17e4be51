/**
 * Warnings and the diagnostic catalog: every code has a long explanation whose example reports it
 * and whose fix does not (`rnnc explain CODE`, golden in tests/golden/explain.txt); every code
 * with an example also has a golden rendering in tests/errors/; the warnings reach in-process
 * callers; example cells are warning-free; and gradcheck calls identically zero gradients `zero`.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXPLANATIONS } from "../compiler/explain.js";
import { E, W } from "../compiler/messages.js";
import { compile } from "../src/index.js";
import { explainCode } from "../src/explain.js";
import { checkText } from "../src/front.js";
import { rnncClean as rnnc, FORGOTTEN_UPDATE } from "./reference/harness.js";

const CODES = [...Object.values(E), ...Object.values(W)];
const GOLDEN = "tests/golden/explain.txt";
const update = process.env["UPDATE_GOLDEN"] === "1";


describe("the catalog", () => {
  it.each(CODES)("%s has an explanation; its example reports it, its fix does not", (code) => {
    const e = EXPLANATIONS[code];
    expect(e, code).toBeDefined();
    if (!e!.example) return expect(code, "only limits and export's own codes go without an example").toMatch(/^E(1004|2003|400\d|500\d)$/);
    expect(checkText("example.cell", e!.example).diagnostics.map((d) => d.code)).toContain(code);
    const fixed = checkText("fix.cell", e!.fix!);
    expect(fixed.diagnostics.map((d) => d.code)).not.toContain(code);
    expect(fixed.ok, `${code}'s fix compiles`).toBe(true);
  });

  it("has no explanation for a code that does not exist", () => {
    expect(Object.keys(EXPLANATIONS).sort()).toEqual([...CODES].sort());
  });

  it("every code with an example has a golden rendering in tests/errors/", () => {
    const golden = readdirSync("tests/errors").filter((f) => f.endsWith(".err")).map((f) => readFileSync(`tests/errors/${f}`, "utf8")).join("\n");
    for (const code of CODES.filter((c) => EXPLANATIONS[c]?.example)) expect(golden, code).toContain(`[${code}]`);
  });

  it("rnnc explain CODE for every code matches tests/golden/explain.txt", () => {
    const text = `${CODES.map(explainCode).join("\n\n---\n\n")}\n`;
    if (update) writeFileSync(GOLDEN, text);
    expect(text).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("rnnc explain takes any case, and an unknown code is a usage error with the nearest", async () => {
    expect((await rnnc("explain", "w3002")).out).toBe(`${explainCode("W3002")}\n`);
    const r = await rnnc("explain", "E3020");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no diagnostic code 'E3020'; did you mean 'E30\d\d'\?/);
  });
});

describe("warnings", () => {
  it("the example cells have none", () => {
    for (const name of readdirSync("examples/cells")) {
      const file = checkText(name, readFileSync(`examples/cells/${name}`, "utf8"));
      expect(file.diagnostics, name).toEqual([]);
    }
  });

  it("reach in-process callers through onWarnings, and the cell still compiles", () => {
    const seen: string[] = [];
    const cell = compile(FORGOTTEN_UPDATE, { path: "forgot.cell", onWarnings: (rendered, ws) => seen.push(rendered, ...ws.map((w) => w.code)) });
    expect(cell.name).toBe("rnn");
    expect(seen[0]).toMatch(/^forgot\.cell:4:9: warning\[W3002\]: state 'h' is never assigned/);
    expect(seen.slice(1)).toEqual(["W3002"]);
  });

  it("a state update written to a local, an LSTM missing its c update: one warning each, naming the local", () => {
    const lstm = readFileSync("examples/cells/lstm.cell", "utf8").replace(/^(\s*)c = /m, "$1c_next = ");
    const file = checkText("lstm.cell", lstm);
    expect(file.diagnostics.map((d) => [d.code, d.hint])).toEqual([["W3002", "did you mean 'c = ...' instead of 'c_next = ...'?"]]);
  });
});

describe("gradcheck: identically zero gradients are 'zero', not 'ok'", () => {
  it("the forgotten update: params and input zero, the initial state checked; exit 0", async () => {
    const { writeFileSync: write } = await import("node:fs");
    const { makeTempDir, removeDir } = await import("./reference/harness.js");
    const dir = makeTempDir();
    try {
      const path = `${dir}/forgot.cell`;
      write(path, FORGOTTEN_UPDATE);
      const r = await rnnc("gradcheck", path);
      expect(r.code).toBe(0);
      const rows = r.out.split("\n").filter((l) => /^(param|input|initial) /.test(l));
      expect(rows.map((l) => [l.split(/\s+/).slice(0, 2).join(" "), l.split(/\s+/).at(-1)])).toEqual([
        ["param Wx", "zero"], ["param Wh", "zero"], ["param b", "zero"], ["input x", "zero"], ["initial h", "ok"],
      ]);
      expect(r.out).toMatch(/^1 of 5 gradients match, 4 are identically zero$/m);
      expect(r.out).toMatch(/^zero: param Wx, param Wh, param b, input x: the analytic and the numeric gradient are both exactly 0/m);
      expect(r.err).toMatch(/warning\[W3002\]/);
      const json = JSON.parse((await rnnc("gradcheck", path, "--json")).out) as { rows: { name: string; zero: boolean }[] }[];
      expect(json[0]!.rows.map((row) => row.zero)).toEqual([true, true, true, true, false]);
    } finally {
      removeDir(dir);
    }
  });

  it("a working cell has no zero row", async () => {
    const r = await rnnc("gradcheck", "examples/cells/rnn.cell");
    expect(r.out).toMatch(/^all 5 gradients match$/m);
    expect(r.out).not.toMatch(/ zero$/m);
  });
});
