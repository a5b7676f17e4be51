/**
 * Initial values declared in a cell (`param g[H] = 1`, `~ orthogonal`, ...): carried in the spec,
 * honoured by the cell's `initParams` and by `initializeParams`; params without one keep
 * PyTorch's default.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import { initializeParams } from "../../src/train/init.js";

const SOURCE = `cell inits {
  size I = 6, H = 12
  const one = 1
  input x[I]
  state h[H]
  param W[H, I] ~ xavier, U[H, H] ~ orthogonal, V[I, H] ~ orthogonal
  param g[H] = one, bf[H] = 2 * one, z[H] = 0, u[H] ~ uniform(-0.1, 0.3), n[H] ~ normal(5, 0.02), b[H], tau
  h = tanh(g ⊙ (W·x + U·h) + V ᵀ·x + bf + z + u + n + b) * tau
}`;

/** Max |M·Mᵀ − I| over the rows of an `[rows, cols]` matrix (rows ≤ cols), or of its columns. */
function orthonormality(m: ArrayLike<number>, rows: number, cols: number): number {
  const byRows = rows <= cols;
  const [count, length] = byRows ? [rows, cols] : [cols, rows];
  const at = (v: number, k: number) => (byRows ? m[v * cols + k]! : m[k * cols + v]!);
  let worst = 0;
  for (let a = 0; a < count; a++)
    for (let b = 0; b < count; b++) {
      let dot = 0;
      for (let k = 0; k < length; k++) dot += at(a, k) * at(b, k);
      worst = Math.max(worst, Math.abs(dot - (a === b ? 1 : 0)));
    }
  return worst;
}

function expectDeclared(p: Record<string, ArrayLike<number>>): void {
  const all = (name: string) => Array.from(p[name]!);
  expect(all("g").every((v) => v === 1)).toBe(true);
  expect(all("bf").every((v) => v === 2)).toBe(true);
  expect(all("z").every((v) => v === 0)).toBe(true);
  expect(all("u").every((v) => v >= -0.1 && v < 0.3)).toBe(true);
  expect(new Set(all("u")).size).toBe(12);
  const n = all("n");
  expect(n.every((v) => Math.abs(v - 5) < 0.2)).toBe(true);
  expect(n.some((v) => v !== 5)).toBe(true);
  const bound = Math.sqrt(6 / (12 + 6));
  expect(all("W").every((v) => Math.abs(v) <= bound)).toBe(true);
  expect(all("W").some((v) => Math.abs(v) > 1 / Math.sqrt(12))).toBe(true); // xavier's bound, not ±1/√H
  expect(orthonormality(p["U"]!, 12, 12)).toBeLessThan(1e-5);
  expect(orthonormality(p["V"]!, 6, 12)).toBeLessThan(1e-5);
  // Without an initial value: PyTorch's ±1/√H.
  expect(all("b").every((v) => Math.abs(v) <= 1 / Math.sqrt(12))).toBe(true);
  expect(Math.abs(p["tau"]![0]!)).toBeLessThanOrEqual(1 / Math.sqrt(12));
}

describe("initial values declared in a cell", () => {
  const cell = compile(SOURCE, { dtype: "f64" });

  it("are in the spec", () => {
    const init = Object.fromEntries(cell.params.map((p) => [p.name, p.init]));
    expect(init).toEqual({
      W: { kind: "xavier" }, U: { kind: "orthogonal" }, V: { kind: "orthogonal" }, g: { kind: "constant", value: 1 },
      bf: { kind: "constant", value: 2 }, z: { kind: "constant", value: 0 }, u: { kind: "uniform", low: -0.1, high: 0.3 },
      n: { kind: "normal", mean: 5, std: 0.02 }, b: undefined, tau: undefined,
    });
    expect(cell.params.find((p) => p.name === "tau")!.shape).toEqual([]);
  });

  it("start the cell's initParams", () => {
    expectDeclared(cell.initParams(7));
    expect(cell.initParams(7)).toEqual(cell.initParams(7));
  });

  it("start initializeParams, whatever the weight scheme", () => {
    for (const weights of ["pytorch", "xavier", "orthogonal"] as const) {
      const params = initializeParams(cell, cell.createParams(), { seed: 3, weights, biases: "pytorch" });
      expectDeclared(params);
    }
  });

  it("leave cells without them as they were", () => {
    const plain = compile(SOURCE.replace(/ ~ \w+(\([^)]*\))?| = (2 \* )?(one|0)(?=[,\n])/g, ""), { dtype: "f64" });
    expect(plain.params.every((p) => p.init === undefined)).toBe(true);
    const bound = 1 / Math.sqrt(12);
    expect(Object.values(plain.initParams(7)).every((a) => Array.from(a).every((v) => Math.abs(v) <= bound))).toBe(true);
  });
});
