/**
 * Golden files for rendered errors: each `tests/errors/NAME.cell` holds wrong cells, and next to it
 * `NAME.err` holds the diagnostics rnnc prints for it. A change to the messages shows up as a diff
 * of the `.err` files; regenerate them with `UPDATE_GOLDEN=1 npx vitest run tests/errors.test.ts`.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFile } from "../compiler/check.js";
import { DiagnosticBag, renderDiagnostics } from "../compiler/diagnostics.js";
import { parseFile } from "../compiler/parser.js";
import { Source } from "../compiler/source.js";

const DIR = "tests/errors";
const update = process.env["UPDATE_GOLDEN"] === "1";

function render(name: string): string {
  const source = new Source(name, readFileSync(join(DIR, name), "utf8"));
  const bag = new DiagnosticBag(source);
  checkFile(parseFile(source, bag), source, bag);
  return `${renderDiagnostics(bag.sorted(), source)}\n`;
}

describe("rendered errors match their golden files", () => {
  const cells = readdirSync(DIR).filter((f) => f.endsWith(".cell")).sort();

  it("has golden cases", () => expect(cells.length).toBeGreaterThan(20));

  for (const name of cells) {
    it(name, () => {
      const golden = join(DIR, name.replace(/\.cell$/, ".err"));
      const actual = render(name);
      expect(actual.trim(), "every golden case must have an error").not.toBe("");
      if (update) writeFileSync(golden, actual);
      expect(existsSync(golden), `${golden} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
      expect(actual).toBe(readFileSync(golden, "utf8"));
    });
  }
});
