/**
 * The functions of issue 13: erf against high-precision values, and each new function's kernels,
 * constant folding and reference evaluator agreeing.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { opDef } from "../compiler/ops/index.js";
import { instantiate } from "../src/instantiate.js";
import { erf, gelu, powi } from "../src/runtime/math.js";
import { makeTempDir, removeDir, rnnc } from "./reference/harness.js";

/** erf(x) to 30 digits (mpmath at 40 digits); x is the double written. */
const ERF: readonly (readonly [number, number])[] = [
  [1e-300, 1.1283791670955126021723160763e-300],
  [1e-10, 1.12837916709551261500173010155e-10],
  [-3e-09, -0.00000000338513750128653768902147243151],
  [1.862645149230957e-09, 0.00000000210176998208372401556225186055],
  [0.1, 0.112462916018284898404712251014],
  [-0.3, -0.328626759459127416189617985318],
  [0.5, 0.520499877813046537682746653892],
  [0.84, 0.765142711454994517342058999255],
  [0.84375, 0.767225661232341633458978160274],
  [0.85, 0.770668057608352520214931248284],
  [1.0, 0.842700792949714869341220635083],
  [-1.2, -0.910313978229635368365931793847],
  [1.2499999, 0.922900104604343015083551177474],
  [1.25, 0.922900128256458230136523481197],
  [1.5, 0.966105146475310727066976261646],
  [2.0, 0.995322265018952734162069256367],
  [-2.5, -0.99959304798255504106043578426],
  [2.857, 0.999946641739913153628875697443],
  [2.8572, 0.999946706057591203752610425826],
  [3.0, 0.99997790950300141455862722387],
  [-4.0, -0.99999998458274209971998114784],
  [5.0, 0.99999999999846254020557196515],
  [5.9, 0.999999999999999928095902164495],
  [-2.114007, -0.997207094627384115171868254371],
  [-4.18981, -0.999999996882459095532573636536],
  [1.811214, 0.989576177631253296393527110816],
  [-5.130765, -0.999999999999601287400534080076],
  [0.430584, 0.457434287378156535981604147839],
  [-1.611733, -0.977352821264140640722761356248],
  [-5.304013, -0.999999999999936670649668927434],
  [0.089229, 0.100417572242039613497466127681],
  [-5.550052, -0.999999999999995804946422217001],
  [-0.796252, -0.739864268631805475552700262487],
  [-5.161735, -0.999999999999711794872733914274],
  [-4.911444, -0.999999999996237602835971274524],
  [-0.90577, -0.799789550348832988913646457689],
  [3.922225, 0.999999970916086358775255387667],
  [-4.514376, -0.999999999827807484727217440109],
  [-3.321132, -0.999997357179766676178860482685],
  [1.529199, 0.969429116769367108443795850541],
  [5.372507, 0.999999999999969896074622721783],
  [0.925235, 0.809289407319393062216866841098],
  [-1.239834, -0.920464923596741997165509403338],
  [5.715061, 0.999999999999999364522262681547],
  [-5.441008, -0.999999999999985822592033915629],
  [4.301622, 0.999999998823486222642152553639],
  [-2.524689, -0.999643630740082564950012062334],
  [-4.268939, -0.999999998431803524249132870955],
];

/** Distance in units in the last place of the double nearest to `exact`. */
const ulps = (got: number, exact: number): number => Math.abs(got - exact) / (2 ** (Math.floor(Math.log2(Math.abs(exact))) - 52));

describe("erf", () => {
  it("is within 1 ulp of high-precision values", () => {
    for (const [x, y] of ERF) expect(ulps(erf(x), y), `erf(${x})`).toBeLessThanOrEqual(1);
  });
  it("is odd, saturates and keeps NaN, ±0 and ±∞", () => {
    for (const [x] of ERF) expect(erf(-x)).toBe(-erf(x));
    expect(erf(7)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(Infinity)).toBe(1);
    expect(erf(NaN)).toBeNaN();
    expect(Object.is(erf(-0), -0)).toBe(true);
  });
  it("gives gelu as x·Φ(x)", () => {
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 15);
    expect(gelu(-1)).toBeCloseTo(-0.15865525393145707, 15);
    expect(gelu(0)).toBe(0);
  });
});

describe("powi", () => {
  it("multiplies from the left", () => {
    const x = 1.1;
    expect(powi(x, 3)).toBe(x * x * x);
    expect(powi(x, -2)).toBe(1 / (x * x));
    expect(powi(NaN, 0)).toBe(1);
    expect(powi(x, 1)).toBe(x);
  });
});

const ALL_FUNCTIONS = `cell every {
  size I = 3, H = 5
  const alpha = 0.5, lo = -0.8
  input x[I]
  state h[H], c[H]
  param W[H, I] ~ xavier, U[H, H] ~ orthogonal, b[H] = 0.1, tau, k ~ normal(1, 0.1)
  z = W·x + U·h + b
  e = gelu(z) + elu(z, alpha) + elu(z) + leaky_relu(z) + leaky_relu(z, 0.2) + clip(z, lo, 0.8) + softsign(z)
  p = square(z) / 4 + rsqrt(1 + z^2) + z^3 / 8 - (2 + tanh(z))^-1 + tau^2 * c
  c = softmax(e) + max(z, c) - min(p, 0.3) + max(z) * min(c) / 4
  h = tanh(k * e + tau * p - c)
}`;

describe("a cell using every new function, x^n, consts, scalar params and initial values", () => {
  it("gradient-checks (rnnc gradcheck), optimized and not", async () => {
    const dir = makeTempDir();
    try {
      const file = join(dir, "every.cell");
      writeFileSync(file, ALL_FUNCTIONS);
      for (const flags of [[], ["--steps", "5", "--batch", "3", "--seed", "4"]]) {
        const run = await rnnc("gradcheck", file, ...flags);
        expect(run.out + run.err, "gradcheck").toContain("all 8 gradients match");
        expect(run.code).toBe(0);
      }
    } finally {
      removeDir(dir);
    }
  });

  it("gives the same forward bits with and without the passes (float64), and gradients to 1e-12", () => {
    const [opt] = compileSource(ALL_FUNCTIONS, { dtype: "f64", optimize: true });
    const [plain] = compileSource(ALL_FUNCTIONS, { dtype: "f64", optimize: false });
    const run = (module: NonNullable<typeof opt>) => {
      const cell = instantiate(module);
      const params = cell.initParams(3);
      const T = 4, B = 2;
      const x = Float64Array.from({ length: T * B * 3 }, (_, i) => Math.sin(i * 1.7));
      const trace = cell.forward(params, { x }, { T, B });
      const grads = cell.createGrads();
      const ones = (n: number) => new Float64Array(n).fill(1);
      cell.backward(params, trace, { outputs: { h: ones(T * B * 5), c: ones(T * B * 5) } }, grads);
      return { outputs: trace.outputs, grads };
    };
    const [a, b] = [run(opt!), run(plain!)];
    for (const name of ["h", "c"]) expect(Array.from(a.outputs[name]!)).toEqual(Array.from(b.outputs[name]!));
    for (const [name, g] of Object.entries(a.grads)) {
      Array.from(g).forEach((v, i) => expect(Math.abs(v - b.grads[name]![i]!), `${name}[${i}]`).toBeLessThan(1e-12 * Math.max(1, Math.abs(v))));
    }
  });
});

describe("rnnc eval with a scalar param", () => {
  const cell = `cell s {\n  size I = 2, H = 3\n  input x[I]\n  state h[H]\n  param W[H, I], tau\n  h = tanh(tau * (W·x) + h)\n}\n`;
  const data = (tau: unknown) => ({
    T: 2, B: 2, params: { W: [[1, 2], [3, 4], [5, 6]], tau }, inputs: { x: [[[0.1, 0.2], [0.3, -0.1]], [[0.3, 0.4], [-0.2, 0.1]]] },
    finalGrads: { h: [[1, 1, 1], [1, 1, 1]] },
  });
  const evalJson = async (dir: string, d: unknown) => {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(d));
    return rnnc("eval", join(dir, "s.cell"), "--data", path);
  };

  it("reads it as a number and returns its gradient, summed over batch and time, as a number", async () => {
    const dir = makeTempDir();
    try {
      writeFileSync(join(dir, "s.cell"), cell);
      const result = JSON.parse((await evalJson(dir, data(0.5))).out) as { grads: { params: { tau: number } } };
      expect(typeof result.grads.params.tau).toBe("number");
      const loss = async (tau: number) => {
        const r = JSON.parse((await evalJson(dir, { ...data(tau), finalGrads: undefined })).out) as { final: { h: number[][] } };
        return r.final.h.flat().reduce((s, v) => s + v, 0);
      };
      const eps = 1e-6;
      const numeric = ((await loss(0.5 + eps)) - (await loss(0.5 - eps))) / (2 * eps);
      expect(Math.abs(result.grads.params.tau - numeric)).toBeLessThan(1e-7);
      const wrong = await evalJson(dir, data([0.5]));
      expect(wrong.code).toBe(1);
      expect(wrong.err).toContain("params.tau: expected a number (a scalar), got a list of 1");
    } finally {
      removeDir(dir);
    }
  });
});

describe("kinks of the new functions", () => {
  it("each says how far its arguments are from where it is not differentiable", () => {
    const elementwise = (name: string) => opDef(name, "elementwise");
    expect(elementwise("clip").kink!([0.7], { lo: -0.5, hi: 0.75 })).toBeCloseTo(0.05, 12);
    expect(elementwise("leaky_relu").kink!([-0.3], { slope: 0.1 })).toBe(0.3);
    expect(elementwise("elu").kink!([-0.3], { alpha: 0.5 })).toBe(0.3);
    expect(elementwise("elu").kink!([-0.3], { alpha: 1 })).toBe(Infinity); // C¹ when α = 1
    expect(elementwise("maximum").kink!([0.25, 1], {})).toBe(0.75);
    expect(opDef("max", "reduce").kink!(Float64Array.of(1, 3, 2.5))).toBe(0.5);
    expect(opDef("min", "reduce").kink!(Float64Array.of(1, 3, 1.25))).toBe(0.25);
  });

  it("rnnc gradcheck keeps clear of them, and judges a cell that sits on one", async () => {
    const dir = makeTempDir();
    try {
      const file = join(dir, "kinks.cell");
      writeFileSync(file, `cell kinks {
  size I = 3, H = 4
  input x[I]
  state h[H]
  param W[H, I], U[H, H], b[H]
  z = W·x + U·h + b
  h = tanh(clip(z, -0.2, 0.2) + max(z, 0.1) + leaky_relu(z, 0.3) + max(z) + elu(z, 0.5) + clip(relu(-relu(z)), 0, 1))
}`);
      const run = await rnnc("gradcheck", file);
      expect(run.out).toContain("all 5 gradients match");
      expect(run.code).toBe(0);
    } finally {
      removeDir(dir);
    }
  });
});
