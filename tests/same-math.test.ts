/** The browser test's exp, expm1 and tanh of + − × ÷ (tests/browser/same-math.ts) are Math's within a few ulps. */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exp, expm1, tanh, withSameMath } from "./browser/same-math.js";

const ulps = (a: number, b: number) => Math.abs(a - b) / (Math.abs(b) * Number.EPSILON || Number.MIN_VALUE);

describe("same-math", () => {
  it("exp, expm1 and tanh are within 4 ulps of Math's", () => {
    const x = fc.double({ min: -740, max: 709, noNaN: true });
    fc.assert(fc.property(x, (v) => ulps(exp(v), Math.exp(v)) <= 4 || Math.exp(v) < 1e-300), { seed: 7, numRuns: 20000 });
    const small = fc.double({ min: -30, max: 30, noNaN: true });
    fc.assert(fc.property(small, (v) => ulps(expm1(v), Math.expm1(v)) <= 4 && ulps(tanh(v), Math.tanh(v)) <= 4), { seed: 8, numRuns: 20000 });
  });

  it("keeps special values", () => {
    expect([exp(NaN), exp(Infinity), exp(-Infinity), exp(0), exp(800), exp(-800)]).toEqual([NaN, Infinity, 0, 1, Infinity, 0]);
    expect(Object.is(tanh(-0), -0)).toBe(true);
    expect([tanh(25), tanh(-25), tanh(Infinity), expm1(0)]).toEqual([1, -1, 1, 0]);
  });

  it("puts Math's functions back, also when the call throws", () => {
    const own = Math.exp;
    expect(() => withSameMath(() => { expect(Math.exp).toBe(exp); throw new Error("x"); })).toThrow("x");
    expect(Math.exp).toBe(own);
  });
});
