/**
 * A taped value that the runtime's maps compute is computed in its tape row: the tape is laid out
 * as the map's buffer (one array for the taped values of one map call, `f_i_o_tape` of rows of
 * 3·H for the LSTM), the forward stores the map's arguments there and maps the row in place, and
 * the loops after it and the backward read the values from there. Nothing is copied onto the tape
 * from a map's buffer. `infer` and `step` record nothing and keep their buffers; float64 kernels
 * and `--products inline` tape each value in an array of its own.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { instantiate } from "../src/instantiate.js";
import { expectMatchesReference } from "./helpers/compare.js";

const CELLS = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).map((f) => f.replace(/\.cell$/u, "")).sort();
const source = (name: string) => readFileSync(`examples/cells/${name}.cell`, "utf8");
const compiled = (name: string, options: Parameters<typeof compileSource>[1]) => compileSource(source(name), { path: `${name}.cell`, ...options })[0]!;

/** The body of kernel `name` in an emitted JavaScript module, without its comments. */
function kernel(code: string, name: string): string {
  const start = code.indexOf(`function ${name}(`);
  return code.slice(start, code.indexOf("\n}\n", start)).replace(/\/\/.*$/gmu, "");
}

/** The arrays the runtime's maps compute in, in order of the calls. */
const mapped = (body: string) => [...body.matchAll(/mm\.(?:sigmoid|tanh|exp)\([^,]+, (\w+),/gu)].map((m) => m[1]!);

/** Statements storing an element of a map's array onto the tape as it is (a copy). */
function copiesOntoTape(body: string): string[] {
  const maps = new Set(mapped(body));
  return [...body.matchAll(/\b(\w+_tape)\[[^\]]+\] = (\w+)\[[^\]]+\];/gu)].filter((m) => maps.has(m[2]!)).map((m) => m[0]);
}

describe("float32 forward with runtime maps: taped values computed in their tape rows", () => {
  it("lstm: f, i, o in one tape array mapped in place, g and tanh(c) in theirs; infer and step keep their buffers", () => {
    const { code, module } = compiled("lstm", { dtype: "f32" });
    expect(kernel(code, "forward").match(/mm\.(sigmoid|tanh|exp)\([^;]*\)/gu)).toEqual([
      "mm.sigmoid(B * 48, f_i_o_tape, t * B * 48, f_i_o_tape, t * B * 48)",
      "mm.tanh(B * 16, g_tape, t * B * 16, g_tape, t * B * 16)",
      "mm.tanh(B * 16, tanh_c_tape, t * B * 16, tanh_c_tape, t * B * 16)",
    ]);
    for (const name of ["infer", "step"]) expect(mapped(kernel(code, name))).toEqual(["f_i_o", "g", "tanh_c"]);
    expect(module.spec.tape).toEqual([
      { name: "f_i_o", shape: [48], size: 48 },
      { name: "g", shape: [16], size: 16 },
      { name: "tanh_c", shape: [16], size: 16 },
    ]);
    // The loop after the maps reads f and i from the tape row; the backward reads o at its offset.
    expect(kernel(code, "forward")).toContain("f_i_o_tape[(t * B + b) * 48 + j] * c_seq[(t * B + b) * 16 + j]");
    expect(kernel(code, "backward")).toMatch(/f_i_o_tape\[\([\w *+]+\) \* 48 \+ 32 \+ j\]/u);
  });

  it("minGRU: the gates hoisted out of the recurrence are mapped in their tape rows over a chunk", () => {
    const body = kernel(compiled("mingru", { dtype: "f32" }).code, "forward");
    expect(body.match(/mm\.sigmoid\([^;]*\)/gu)).toEqual(["mm.sigmoid(steps * B * 16, z_tape, start * B * 16, z_tape, start * B * 16)"]);
  });

  it.each(CELLS)("%s: no forward copies a mapped value onto the tape, optimized or not", (name) => {
    for (const optimize of [true, false]) {
      const body = kernel(compiled(name, { dtype: "f32", optimize }).code, "forward");
      expect(copiesOntoTape(body)).toEqual([]);
    }
  });

  it("the check above finds a copy from a map's buffer onto the tape", () => {
    const body = "mm.tanh(B * 16, g, 0, g, 0);\n g_tape[(t * B + b) * 16 + j] = g[b * 16 + j];";
    expect(copiesOntoTape(body)).toEqual(["g_tape[(t * B + b) * 16 + j] = g[b * 16 + j];"]);
  });

  it.each([
    ["float64", { dtype: "f64" }],
    ["float32 with products inline", { dtype: "f32", products: "inline" }],
  ] as const)("%s: one tape array per taped value, as before", (_, options) => {
    const { module } = compiled("lstm", options);
    expect(module.spec.tape.map((a) => a.name)).toEqual(["f", "i", "g", "o", "tanh_c"]);
  });
});

describe("float32 cells with the tape in map rows match the reference evaluator, forward and backward", () => {
  // Every example cell, optimized (values hoisted and mapped over chunks, deferred gradients reading
  // the tape at offsets) and not, at an odd batch and more steps than one chunk holds at B = 3.
  it.each(CELLS)("%s", (name) => {
    for (const optimize of [true, false]) {
      const cell = compiled(name, { dtype: "f32", optimize, sizes: {} });
      for (const [T, B] of [[3, 2], [90, 3]] as const) expectMatchesReference(cell.ir, instantiate(cell), T, B, 11, 2e-4);
    }
  });
});
