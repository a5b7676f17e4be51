/**
 * A matrix product over many rows, as one node of the loop IR, and its two renderings: a call into
 * the runtime's products (`mm.nt(...)`, exactly the arguments `PRODUCTS` in the ABI lists), or
 * register-tiled loops in the module, specialized to the sizes. The op (`ops/gemm.ts`) says which
 * product it is; the code generator decides the rendering: a call when products are calls
 * (`--products runtime`) and every operand and the result are stored arrays, loops otherwise.
 *
 *   nt  Y[m][n] (=|+=) Σ_k A[m][k] · W[n][k]   W `[N][K]`
 *   nn  Y[m][k] (=|+=) Σ_n A[m][n] · W[n][k]   W `[N][K]`
 *   tn  G[r][c] (=|+=) Σ_m A[m][r] · B[m][c]   G `[R][C]`
 *
 * The tile shapes were chosen by measurement in V8 (float32 and float64 arrays, 2–2048 rows):
 * - `nt`/`nn`: 2 rows × 4 outputs (8 accumulators, 6 loads per 8 multiply-adds; wider or taller
 *   tiles measured slower, V8 keeping only ~15 doubles in registers); a lone row (B = 1, or an odd
 *   row count) takes 1 row × 8 outputs, since with one row every element of W is used once and
 *   only wider tiles amortize the load of the row and the loop.
 * - `tn`: 4 × 4 accumulators, over blocks of rows so that the rows a tile walks stay in the L1/L2
 *   caches while the tiles of a block sweep the result (without the blocks, each tile streams
 *   every row of both operands through the cache again).
 * Leftover outputs (sizes not a multiple of the tile) take narrower tiles down to 1.
 */
import { productCall, type ProductName } from "../../../src/runtime/abi.js";
import type { Strided } from "../../ops/types.js";

/** An operand: where it is stored (null when it is computed where it is read), and a read of element i of a row. */
export interface ProductOperand {
  readonly stored: Strided | null;
  read(row: string, i: string): string;
}

export interface ProductNode {
  readonly op: ProductName;
  /** Expression for the number of rows (`B`, `T * B`). */
  readonly rows: string;
  /** The two sizes after `rows` in the call: `N, K` for nt and nn, `R, C` for tn. */
  readonly dims: readonly [number, number];
  /** A and W (nt, nn), or A and B (tn). */
  readonly operands: readonly [ProductOperand, ProductOperand];
  /** The result: where it is stored, and the statement storing (or adding) a value at element i of a row. */
  readonly out: { readonly stored: Strided | null; store(row: string, i: string, value: string): string };
  /** Whether the result is added to (`+=`) rather than stored. */
  readonly accumulate: boolean;
  readonly rendering: "call" | "loops";
  /** A fresh local name for each base the loops ask for (the same name whenever asked again). */
  local(base: string): string;
}

/** Whether the node can be a runtime call: every operand and the result are stored arrays. */
export const callable = (p: Pick<ProductNode, "operands" | "out">): boolean =>
  p.operands.every((o) => o.stored !== null) && p.out.stored !== null;

/** The elements a call may copy into staging: per row, and fixed (`CellSpec.staging`). */
export function staging(dims: readonly [number, number]): { perRow: number; fixed: number } {
  const [d0, d1] = dims;
  return { perRow: d0 + d1, fixed: d0 * d1 };
}

export function renderProduct(p: ProductNode): string[] {
  return p.rendering === "call" ? [call(p)] : p.op === "tn" ? outerRows(p) : matvecRows(p);
}

/** `array, base, stride` (or `array, base` for a contiguous operand) of a call. */
const operand = (s: Strided, strided: boolean) => (strided ? [s.array, s.base, s.stride] : [s.array, s.base]);

function call(p: ProductNode): string {
  const [x, y] = p.operands.map((o) => o.stored!) as [Strided, Strided];
  const out = p.out.stored!;
  const parts = [p.rows, ...p.dims, ...operand(x, true), ...operand(y, p.op === "tn"), ...operand(out, p.op !== "tn"), p.accumulate ? 1 : 0];
  const set = p.accumulate ? "+=" : "=";
  const what = {
    nt: `${out.array}[m] ${set} ${y.array} · ${x.array}[m]`,
    nn: `${out.array}[m] ${set} ${y.array}ᵀ · ${x.array}[m]`,
    tn: `${out.array} ${set} Σ_m ${x.array}[m] ⊗ ${y.array}[m]`,
  }[p.op];
  return `${productCall(p.op, parts)}; // ${what}, for ${p.rows === "B" ? "each of B rows" : `all ${p.rows} rows`}`;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const plus = (v: string, k: number) => (k === 0 ? v : `${v} + ${k}`);
const step = (v: string, n: number) => (n === 1 ? `${v}++` : `${v} += ${n}`);

/** Rows of the `tn` product summed per block (the block's rows stay in cache). */
const OUTER_ROW_BLOCK = 128;

/**
 * Splits `0..n` into strips for the given tile widths, widest first: each width covers as many
 * whole tiles as fit in what is left. Returns [width, from, to] triples.
 */
function strips(n: number, widths: readonly number[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  let from = 0;
  for (const wd of widths) {
    const to = from + Math.floor((n - from) / wd) * wd;
    if (to > from) out.push([wd, from, to]);
    from = to;
  }
  return out;
}

/** `let s00 = 0, s01 = 0, …;` for a rows × cols tile. */
const accumulators = (s: (i: number, j: number) => string, rows: number, cols: number) =>
  `let ${range(rows).flatMap((i) => range(cols).map((j) => `${s(i, j)} = 0`)).join(", ")};`;

/** nt: out[m][r] = Σ_k A[m][k] · W[r][k]; nn: out[m][r] = Σ_k A[m][k] · W[k][r]. W is the same for every row. */
function matvecRows(p: ProductNode): string[] {
  const [vec, mat] = p.operands;
  const [R, K] = p.op === "nt" ? p.dims : [p.dims[1], p.dims[0]];
  const [m, r, k] = [p.local("m"), p.local("r"), p.local("k")];
  const [s, v, a] = [(i: number, j: number) => p.local(`s${i}${j}`), (i: number) => p.local(`v${i}`), (j: number) => p.local(`w${j}`)];
  const W = (dr: number) => mat.read("0", p.op === "nn" ? `${k} * ${R} + ${plus(r, dr)}` : `(${plus(r, dr)}) * ${K} + ${k}`);
  /** Rows m..m+rows-1, outputs from..to-1 in tiles of `cols`. */
  const tile = (rows: number, cols: number, from: number, to: number) => {
    const out = [`for (let ${r} = ${from}; ${r} < ${to}; ${step(r, cols)}) {`, accumulators(s, rows, cols)];
    out.push(`for (let ${k} = 0; ${k} < ${K}; ${k}++) {`);
    range(rows).forEach((i) => out.push(`const ${v(i)} = ${vec.read(plus(m, i), k)};`));
    range(cols).forEach((j) => out.push(`const ${a(j)} = ${W(j)};`));
    range(rows).forEach((i) => range(cols).forEach((j) => out.push(`${s(i, j)} += ${a(j)} * ${v(i)};`)));
    out.push("}");
    range(rows).forEach((i) => range(cols).forEach((j) => out.push(p.out.store(plus(m, i), plus(r, j), s(i, j)))));
    out.push("}");
    return out;
  };
  const body = (rows: number, widths: readonly number[]) => strips(R, widths).flatMap(([cols, from, to]) => tile(rows, cols, from, to));
  return [
    `for (let ${m} = 0; ${m} + 1 < ${p.rows}; ${m} += 2) {`,
    ...body(2, [4, 1]),
    "}",
    `if (${p.rows} % 2 === 1) {`,
    `const ${m} = ${p.rows} - 1;`,
    ...body(1, [8, 4, 1]),
    "}",
  ];
}

/**
 * tn: G[r][c] += Σ_row A[row][r] · B[row][c], into a value that is the same for every row (a
 * param gradient, which always accumulates: each block of rows adds its part).
 */
function outerRows(p: ProductNode): string[] {
  if (!p.accumulate) throw new Error("internal error: tiled tn loops only accumulate (a param gradient)");
  const [A, Bop] = p.operands;
  const [R, C] = p.dims;
  const [m0, mEnd, m, r, c] = [p.local("m0"), p.local("mEnd"), p.local("m"), p.local("r"), p.local("c")];
  const [s, a, b] = [(i: number, j: number) => p.local(`s${i}${j}`), (i: number) => p.local(`a${i}`), (j: number) => p.local(`b${j}`)];
  const out: string[] = [];
  const tile = (rows: number, cols: number, rFrom: number, rTo: number, cFrom: number, cTo: number) => {
    out.push(`for (let ${r} = ${rFrom}; ${r} < ${rTo}; ${step(r, rows)}) {`);
    out.push(`for (let ${c} = ${cFrom}; ${c} < ${cTo}; ${step(c, cols)}) {`);
    out.push(accumulators(s, rows, cols));
    out.push(`for (let ${m} = ${m0}; ${m} < ${mEnd}; ${m}++) {`);
    range(rows).forEach((i) => out.push(`const ${a(i)} = ${A.read(m, plus(r, i))};`));
    range(cols).forEach((j) => out.push(`const ${b(j)} = ${Bop.read(m, plus(c, j))};`));
    range(rows).forEach((i) => range(cols).forEach((j) => out.push(`${s(i, j)} += ${a(i)} * ${b(j)};`)));
    out.push("}");
    range(rows).forEach((i) => range(cols).forEach((j) => out.push(p.out.store("0", `(${plus(r, i)}) * ${C} + ${plus(c, j)}`, s(i, j)))));
    out.push("}");
    out.push("}");
  };
  out.push(`for (let ${m0} = 0; ${m0} < ${p.rows}; ${m0} += ${OUTER_ROW_BLOCK}) {`);
  out.push(`const ${mEnd} = Math.min(${m0} + ${OUTER_ROW_BLOCK}, ${p.rows});`);
  for (const [rows, rFrom, rTo] of strips(R, [4, 1])) {
    for (const [cols, cFrom, cTo] of strips(C, [4, 1])) tile(rows, cols, rFrom, rTo, cFrom, cTo);
  }
  out.push("}");
  return out;
}
