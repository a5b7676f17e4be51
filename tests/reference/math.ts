/**
 * Plain float64 helpers for the reference cells: vectors are `number[]`, matrices `number[][]`
 * (a list of rows, `[rows][cols]`, as the `.cell` files and the eval JSON lay them out). Nothing
 * here imports the compiler or the runtime: the references must stay independent of what they test.
 */

export type Vec = number[];
export type Mat = number[][];

/** mulberry32, written out again here so the references share no code with the runtime. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const zeros = (n: number): Vec => new Array<number>(n).fill(0);
export const zerosMat = (rows: number, cols: number): Mat => Array.from({ length: rows }, () => zeros(cols));

/** W·x. */
export function matvec(W: Mat, x: Vec): Vec {
  return W.map((row) => row.reduce((acc, w, j) => acc + w * x[j]!, 0));
}

/** out += Wᵀ·g (the adjoint of `W·x` with respect to x). */
export function addMatTvec(out: Vec, W: Mat, g: Vec): void {
  W.forEach((row, r) => row.forEach((w, j) => (out[j]! += w * g[r]!)));
}

/** G += g·xᵀ (the adjoint of `W·x` with respect to W). */
export function addOuter(G: Mat, g: Vec, x: Vec): void {
  G.forEach((row, r) => x.forEach((xj, j) => (row[j]! += g[r]! * xj)));
}

/** out += a. */
export function addTo(out: Vec, a: Vec): void {
  a.forEach((v, i) => (out[i]! += v));
}

export const add = (...vs: Vec[]): Vec => vs[0]!.map((_, i) => vs.reduce((s, v) => s + v[i]!, 0));
export const sub = (a: Vec, b: Vec): Vec => a.map((v, i) => v - b[i]!);
export const mul = (a: Vec, b: Vec): Vec => a.map((v, i) => v * b[i]!);
export const map = (a: Vec, f: (v: number, i: number) => number): Vec => a.map(f);
export const mean = (a: Vec): number => a.reduce((s, v) => s + v, 0) / a.length;
export const dot = (a: Vec, b: Vec): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
export const sigmoidV = (a: Vec): Vec => a.map(sigmoid);
export const tanhV = (a: Vec): Vec => a.map(Math.tanh);
export const reluV = (a: Vec): Vec => a.map((v) => (v > 0 ? v : 0));

/** dLoss/d(pre-activation) of σ from its output s: g·s·(1 − s). */
export const dSigmoid = (g: Vec, s: Vec): Vec => g.map((v, i) => v * s[i]! * (1 - s[i]!));
/** dLoss/d(pre-activation) of tanh from its output y: g·(1 − y²). */
export const dTanh = (g: Vec, y: Vec): Vec => g.map((v, i) => v * (1 - y[i]! * y[i]!));

export const softplus = (v: number): number => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
export const expV = (a: Vec): Vec => a.map(Math.exp);
export const scale = (a: Vec, s: number): Vec => a.map((v) => v * s);

/**
 * The share of dLoss/d(max(a, b)) that goes to `a`: 1 when a > b, 0 when a < b, and ½ at a tie
 * (PyTorch's subgradient for elementwise `torch.maximum`, split evenly between equal arguments).
 */
export const maxShare = (a: number, b: number): number => (a > b ? 1 : a < b ? 0 : 0.5);
