import { describe, expect, it } from "vitest";
import { initializeParams, orthogonal, pytorchUniform, Rng, xavierUniform } from "../../src/train/init.js";

function meanAndVariance(values: ArrayLike<number>): [number, number] {
  const n = values.length;
  const mean = Array.from(values).reduce((a, b) => a + b, 0) / n;
  const variance = Array.from(values).reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  return [mean, variance];
}

/** Max |MᵀM − I| for an `[rows, cols]` matrix with orthonormal columns (or MMᵀ for rows). */
function orthonormalityError(m: Float64Array, rows: number, cols: number, byRows: boolean): number {
  const [count, length] = byRows ? [rows, cols] : [cols, rows];
  const at = (vector: number, k: number) => (byRows ? m[vector * cols + k]! : m[k * cols + vector]!);
  let worst = 0;
  for (let a = 0; a < count; a++) {
    for (let b = 0; b < count; b++) {
      let dot = 0;
      for (let k = 0; k < length; k++) dot += at(a, k) * at(b, k);
      worst = Math.max(worst, Math.abs(dot - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

describe("Rng", () => {
  it("is determined by its seed", () => {
    const draws = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 5 }, () => rng.next());
    };
    const a = new Rng(42);
    const b = new Rng(42);
    expect(Array.from({ length: 100 }, () => a.next())).toEqual(Array.from({ length: 100 }, () => b.next()));
    expect(draws(1)).not.toEqual(draws(2));
  });

  it("draws uniforms in [0, 1) with mean 1/2 and variance 1/12", () => {
    const rng = new Rng(1);
    const values = Array.from({ length: 20000 }, () => rng.next());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const [mean, variance] = meanAndVariance(values);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(variance).toBeCloseTo(1 / 12, 2);
  });

  it("draws normals with mean 0 and variance 1 (Box–Muller)", () => {
    const rng = new Rng(2);
    const [mean, variance] = meanAndVariance(Array.from({ length: 20000 }, () => rng.normal()));
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.04);
  });

  it("shuffles into a permutation", () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = new Rng(3).shuffle([...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
  });
});

describe("initialisers", () => {
  it("PyTorch uniform stays within ±1/√H with variance bound²/3", () => {
    const data = pytorchUniform(new Float64Array(40000), 16, new Rng(4));
    expect(Math.max(...Array.from(data, Math.abs))).toBeLessThanOrEqual(0.25);
    const [mean, variance] = meanAndVariance(data);
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(variance).toBeCloseTo(0.25 ** 2 / 3, 3);
  });

  it("Xavier uniform stays within √(6/(fanIn + fanOut))", () => {
    const data = xavierUniform(new Float64Array(30 * 20), 30, 20, new Rng(5));
    const bound = Math.sqrt(6 / 50);
    expect(Math.max(...Array.from(data, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(data, Math.abs))).toBeGreaterThan(0.9 * bound);
  });

  it.each([
    [8, 8],
    [12, 5],
    [5, 12],
  ])("orthogonal [%i, %i] has orthonormal columns or rows (QᵀQ ≈ I)", (rows, cols) => {
    const q = orthogonal(new Float64Array(rows * cols), rows, cols, new Rng(6)) as Float64Array;
    expect(orthonormalityError(q, rows, cols, rows < cols)).toBeLessThan(1e-12);
  });

  it("orthogonal scales by the gain", () => {
    const q = orthogonal(new Float64Array(16), 4, 4, new Rng(7), 2) as Float64Array;
    expect(
      orthonormalityError(
        q.map((v) => v / 2),
        4,
        4,
        false,
      ),
    ).toBeLessThan(1e-12);
  });
});

describe("initializeParams", () => {
  const spec = {
    params: [
      { name: "W", shape: [4, 3], size: 12 },
      { name: "U", shape: [4, 4], size: 16 },
      { name: "b", shape: [4], size: 4 },
    ],
    states: [{ name: "h", shape: [4], size: 4 }],
  };
  const fresh = () => ({ W: new Float64Array(12), U: new Float64Array(16), b: new Float64Array(4) });

  it("draws matrices and biases from ±1/√hidden by default, and is seeded", () => {
    const a = initializeParams(spec, fresh(), { seed: 9 });
    const b = initializeParams(spec, fresh(), { seed: 9 });
    const c = initializeParams(spec, fresh(), { seed: 10 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    for (const data of Object.values(a)) {
      expect(Math.max(...Array.from(data, Math.abs))).toBeLessThanOrEqual(0.5);
      expect(data.some((v) => v !== 0)).toBe(true);
    }
  });

  it("zeroes biases by default with orthogonal weights", () => {
    const params = initializeParams(spec, fresh(), { seed: 1, weights: "orthogonal" });
    expect(Array.from(params.b)).toEqual([0, 0, 0, 0]);
    expect(orthonormalityError(params.U as Float64Array, 4, 4, false)).toBeLessThan(1e-12);
    expect(orthonormalityError(params.W as Float64Array, 4, 3, false)).toBeLessThan(1e-12);
  });

  it("names a param without a tensor", () => {
    expect(() => initializeParams(spec, { W: new Float64Array(12) }, { seed: 1 })).toThrow(/'U'/);
  });
});
