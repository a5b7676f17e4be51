/**
 * Params files hold only what can be loaded back: saving refuses NaN and ±∞ (JSON would write
 * `null`), loading refuses values a float32 param cannot hold (they would become ∞), and arrays
 * that do not match their declared shape are errors naming the tensor — before anything is written.
 */
import { describe, expect, it } from "vitest";
import { dataError } from "../helpers/data-error.js";
import type { Real } from "../../src/runtime/types.js";
import type { ParamGroup } from "../../src/train/optim.js";
import { loadParams, saveParams } from "../../src/train/serialize.js";

/** One group "rnn" with W [2, 3] and b [2], in the given array type, filled 0.1, 0.2, … */
function group(Arr: typeof Float32Array | typeof Float64Array = Float64Array): ParamGroup {
  const fill = (n: number): Real => new Arr(Array.from({ length: n }, (_, i) => (i + 1) / 10));
  const params = { W: fill(6), b: fill(2) };
  return { name: "rnn", params, grads: { W: new Arr(6), b: new Arr(2) }, shapes: { W: [2, 3], b: [2] } };
}

describe("saveParams refuses what it could not load back", () => {
  it.each([[NaN], [Infinity], [-Infinity]])("%s in a param: an error naming the tensor and index", (bad) => {
    const g = group();
    g.params["W"]![4] = bad;
    expect(dataError(() => saveParams([g]))).toBe(
      `cannot save 'rnn.W[1][1]': ${bad} is not a finite number (JSON cannot hold it, so the file could not be loaded back)`,
    );
  });

  it("a param whose array does not match its shape, or is not a float array", () => {
    const g = group();
    g.params["b"] = new Float64Array(3);
    expect(dataError(() => saveParams([g]))).toBe("group 'rnn' param 'b': holds 3 numbers but its shape [2] has 2");
    (g.params as Record<string, unknown>)["b"] = [0.5, "x"];
    expect(dataError(() => saveParams([g]))).toMatch(/^group 'rnn' param 'b': expected a Float32Array or Float64Array/);
  });
});

describe("loadParams refuses values the params cannot hold", () => {
  const saved = (change: (params: { W: number[][]; b: number[] }) => void): string => {
    const document = JSON.parse(saveParams([group()]));
    change(document.groups.rnn);
    return JSON.stringify(document);
  };
  const values = (g: ParamGroup) => Object.values(g.params).map((a) => Array.from(a));

  it("1e39 into float32 params: an error naming tensor and index, and nothing written", () => {
    const target = group(Float32Array);
    target.params["W"]!.fill(0);
    const before = values(target);
    expect(dataError(() => loadParams(saved((p) => (p.W[0]![2] = -1e39)), [target]))).toBe(
      "'rnn.W[0][2]' is -1e+39, beyond the float32 range of these params (±3.4028234663852886e+38)",
    );
    expect(values(target)).toEqual(before);
  });

  it("the largest float32 loads into float32 params, and 1e39 into float64 params", () => {
    const f32 = group(Float32Array);
    loadParams(saved((p) => (p.b[0] = 3.4028234663852886e38)), [f32]);
    expect(f32.params["b"]![0]).toBe(3.4028234663852886e38);
    const f64 = group(Float64Array);
    loadParams(saved((p) => (p.b[0] = 1e39)), [f64]);
    expect(f64.params["b"]![0]).toBe(1e39);
  });

  it("a non-number and a wrong length in the file, and a target whose array does not match its shape", () => {
    expect(dataError(() => loadParams(saved((p) => ((p.b as unknown[])[1] = "0.5")), [group()]))).toMatch(/^'rnn\.b\[1\]' should be a finite number, got "0\.5"/);
    expect(dataError(() => loadParams(saved((p) => p.W[1]!.pop()), [group()]))).toMatch(/^'rnn\.W\[1\]' has 2 entries, expected 3/);
    const target = group();
    target.params["W"] = new Float64Array(7);
    expect(dataError(() => loadParams(saveParams([group()]), [target]))).toBe("group 'rnn' param 'W': holds 7 numbers but its shape [2, 3] has 6");
  });
});
