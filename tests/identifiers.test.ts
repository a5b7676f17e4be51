import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { identifiersIn } from "../compiler/codegen/loops/ir.js";

/** The definition `identifiersIn` implements, as a regular expression: a run of identifier parts not after a `.` or another part. */
const IDENTIFIER = /(?<![.\w$\u0370-\u03ff])[A-Za-z_$\u0370-\u03ff][\w$\u0370-\u03ff]*/gu;
const byRegex = (line: string): string[] => {
  const cut = line.indexOf("//");
  return [...new Set([...(cut < 0 ? line : line.slice(0, cut)).matchAll(IDENTIFIER)].map((m) => m[0]))];
};

describe("identifiersIn", () => {
  it("finds names, not property names, numbers or comments", () => {
    expect([...identifiersIn(["const x1 = a.b + 1e5 * $y[_z]; // not this"])]).toEqual(["const", "x1", "a", "$y", "_z"]);
    expect([...identifiersIn(["αβ = γ.δ + 3α + λ1"])]).toEqual(["αβ", "γ", "λ1"]);
  });

  it("agrees with its definition on every line of the generated modules and on edge cases", () => {
    const lines = readdirSync("generated")
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) => readFileSync(`generated/${f}`, "utf8").split("\n"));
    lines.push("a..b", ".a", "x.y.z", "é x", "a𝒳b 𝒳a", "1λ λ_1", "x//y", "", "$", "_");
    for (const line of lines) expect([...identifiersIn([line])], line).toEqual(byRegex(line));
  });
});
