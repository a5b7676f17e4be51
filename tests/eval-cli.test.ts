/**
 * `rnnc eval` as a user meets it: the README's worked example (input and output, run for real),
 * params and inputs drawn with --init and --random-inputs, the mask, the layout of the JSON, and
 * the hint about --size when the data was made for other sizes.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeDir, rnncClean as rnnc } from "./reference/harness.js";

const RNN = "examples/cells/rnn.cell";
let dir = "";
beforeAll(() => void (dir = makeTempDir()));
afterAll(() => removeDir(dir));

function temp(name: string, data: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof data === "string" ? data : JSON.stringify(data));
  return path;
}

/** The JSON blocks of the README's `rnnc eval` section, in order. */
function readmeBlocks(): string[] {
  const readme = readFileSync("README.md", "utf8");
  const section = readme.slice(readme.indexOf("### rnnc eval"), readme.indexOf("\n## ", readme.indexOf("### rnnc eval")));
  return [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

interface Result {
  outputs: Record<string, number[][][]>;
  final: Record<string, number[][]>;
  used?: { params?: Record<string, unknown>; inputs?: Record<string, number[][][]> };
}

describe("the README's worked example", () => {
  it("is what rnnc eval prints for it, exactly", async () => {
    const [input, output] = readmeBlocks();
    const path = temp("readme.json", input!);
    const r = await rnnc("eval", RNN, "--size", "I=2,H=3", "--data", path, "--pretty");
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toBe(output);
  });

  it("without --pretty (and not on a terminal), one line of the same JSON", async () => {
    const [input, output] = readmeBlocks();
    const r = await rnnc("eval", RNN, "--size", "I=2,H=3", "--data", temp("readme.json", input!));
    expect(r.out.trimEnd().split("\n")).toHaveLength(1);
    expect(JSON.parse(r.out)).toEqual(JSON.parse(output!));
  });
});

describe("--init and --random-inputs", () => {
  it("--init SEED draws the params: no data needed, seeded, the data's params win", async () => {
    const a = await rnnc("eval", RNN, "--init", "1", "--random-inputs", "--steps", "3", "--batch", "2");
    expect(a).toMatchObject({ code: 0, err: "" });
    const ra = JSON.parse(a.out) as Result;
    expect(ra.outputs["h"]).toHaveLength(3);
    expect(ra.outputs["h"]![0]).toHaveLength(2);
    expect(Object.keys(ra.used!.params!)).toEqual(["Wx", "Wh", "b"]);
    expect(ra.used!.inputs!["x"]).toHaveLength(3);
    const again = JSON.parse((await rnnc("eval", RNN, "--init", "1", "--random-inputs", "--steps", "3", "--batch", "2")).out);
    expect(again).toEqual(ra);
    const other = JSON.parse((await rnnc("eval", RNN, "--init", "2", "--random-inputs", "--steps", "3", "--batch", "2")).out) as Result;
    expect(other.used!.params).not.toEqual(ra.used!.params);
    const b = Array.from({ length: 16 }, (_, i) => i / 16);
    const given = temp("b.json", { T: 1, B: 1, params: { b }, inputs: { x: [[Array(8).fill(0)]] } });
    const withB = JSON.parse((await rnnc("eval", RNN, "--init", "1", "--data", given)).out) as Result;
    expect(withB.used!.params!["b"]).toEqual(b);
    expect(withB.used!.params!["Wx"]).toEqual(ra.used!.params!["Wx"]);
  });

  it("the drawn numbers, given back with --data, give the same outputs", async () => {
    const drawn = JSON.parse((await rnnc("eval", RNN, "--init", "7", "--random-inputs", "--steps", "2")).out) as Result;
    const path = temp("drawn.json", { T: 2, B: 1, params: drawn.used!.params, inputs: drawn.used!.inputs });
    const replay = JSON.parse((await rnnc("eval", RNN, "--data", path)).out) as Result;
    expect(replay.outputs).toEqual(drawn.outputs);
  });

  it("without --data and without --init: a usage error saying both ways", async () => {
    const r = await rnnc("eval", RNN);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--data IN.json is required \(or draw the params with --init SEED/);
  });
});

describe("mask", () => {
  it("a padded step carries the state through and outputs zeros", async () => {
    const r = JSON.parse((await rnnc("eval", RNN, "--init", "3", "--random-inputs", "--steps", "2", "--batch", "2",
      "--data", temp("mask.json", { mask: [[1, 1], [1, 0]] }))).out) as Result;
    const h = r.outputs["h"]!;
    expect(h[1]![1]!.every((v) => v === 0)).toBe(true);
    expect(r.final["h"]![1]).toEqual(h[0]![1]);
    expect(r.final["h"]![0]).toEqual(h[1]![0]);
  });

  it("a mask of the wrong shape is an error naming it, exit 1", async () => {
    const r = await rnnc("eval", RNN, "--init", "3", "--random-inputs", "--steps", "2", "--data", temp("bad-mask.json", { mask: [[1], [2]] }));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/mask\[1\]\[0\]: expected 0 or 1, got 2/);
  });
});

describe("data made for other sizes", () => {
  it("says which --size would fit", async () => {
    const [input] = readmeBlocks();
    const path = temp("small.json", input!);
    const r = await rnnc("eval", RNN, "--data", path);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`rnnc: error: ${path}: params.Wx: expected 16 entries, got 3 (the cell has H = 16; if the data is for H = 3, pass --size H=3)\n`);
  });
});
