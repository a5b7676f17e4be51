/**
 * Register-tiled loops for matrix products over many rows at once: `W·v` for every row (a
 * matrix-matrix product), and `Σ_rows a ⊗ b` accumulated into a param gradient. Sizes are
 * constants of the emitted code; only the row count is not.
 *
 * The tile shapes were chosen by measurement in V8 (float32 and float64 arrays, 2–2048 rows):
 * - `W·v`: 2 rows × 4 outputs (8 accumulators, 6 loads per 8 multiply-adds; wider or taller
 *   tiles measured slower, V8 keeping only ~15 doubles in registers); a
 *   lone row (B = 1, or an odd row count) takes 1 row × 8 outputs, since with one row every
 *   element of W is used once and only wider tiles amortize the load of v and the loop.
 * - `Σ_rows a ⊗ b`: 4 × 4 accumulators, over blocks of rows so that the rows a tile walks stay in
 *   the L1/L2 caches while the tiles of a block sweep the gradient (without the blocks, each tile
 *   streams every row of both operands through the cache again).
 * Leftover outputs (sizes not a multiple of the tile) take narrower tiles down to 1.
 */
import { productCall, type ProductName } from "../../src/runtime/abi.js";
import type { RowWriter, Strided } from "./types.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const plus = (v: string, k: number) => (k === 0 ? v : `${v} + ${k}`);
const step = (v: string, n: number) => (n === 1 ? `${v}++` : `${v} += ${n}`);

/** Rows of the param-gradient product summed per block (the block's rows stay in cache). */
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

/**
 * Local names (`s00`, `v0`, `w0`, …) from the writer, so none can shadow an array the loops read;
 * each is asked for once and reused by every tile (tiles are sibling blocks).
 */
function locals(w: RowWriter): (base: string) => string {
  const given = new Map<string, string>();
  return (base) => given.get(base) ?? (given.set(base, w.fresh(base)), given.get(base)!);
}

/** `let s00 = 0, s01 = 0, …;` for a rows × cols tile. */
const accumulators = (s: (i: number, j: number) => string, rows: number, cols: number) =>
  `let ${range(rows).flatMap((i) => range(cols).map((j) => `${s(i, j)} = 0`)).join(", ")};`;

/** `array, base, stride` arguments of a runtime product call. */
const operand = (s: Strided, strided = true) => (strided ? [s.array, s.base, s.stride] : [s.array, s.base]);

/**
 * A product as one call into the runtime (`mm.nt` / `mm.nn` / `mm.tn`), when products are calls
 * and every operand and the result are stored arrays.
 */
function callProduct(w: RowWriter, fn: ProductName, dims: [number, number], args: [number, number], perRow: number, fixed: number): boolean {
  const p = w.products;
  const [x, y] = [p?.arg(args[0]), p?.arg(args[1])];
  if (!p || !x || !y || !p.out) return false;
  p.stage(perRow, fixed);
  const parts = [w.rows, ...dims, ...operand(x), ...operand(y, fn === "tn"), ...operand(p.out, fn !== "tn"), p.accumulate ? 1 : 0];
  const set = p.accumulate ? "+=" : "=";
  const what = {
    nt: `${p.out.array}[m] ${set} ${y.array} · ${x.array}[m]`,
    nn: `${p.out.array}[m] ${set} ${y.array}ᵀ · ${x.array}[m]`,
    tn: `${p.out.array} ${set} Σ_m ${x.array}[m] ⊗ ${y.array}[m]`,
  }[fn];
  w.line(`${productCall(fn, parts)}; // ${what}, for ${w.rows === "B" ? "each of B rows" : `all ${w.rows} rows`}`);
  return true;
}

/** out[row][r] = Σ_k A[r][k] · v[row][k] (A stored transposed when `ta`). Needs A uniform, v varying. */
export function emitMatvecRows(w: RowWriter, R: number, K: number, ta: boolean): boolean {
  if (w.argVarying[0] || !w.argVarying[1] || w.intoUniform || w.argShapes[1]!.length !== 1) return false;
  // Y[m][r] = Σ_k v[m][k]·A[r][k] is `nt`; with A stored [K][R], Y[m][r] = Σ_k v[m][k]·A[k][r] is `nn`.
  if (callProduct(w, ta ? "nn" : "nt", ta ? [K, R] : [R, K], [1, 0], K + R, R * K)) return true;
  const [m, r, k] = [w.fresh("m"), w.fresh("r"), w.fresh("k")];
  const name = locals(w);
  const [s, v, a] = [(i: number, j: number) => name(`s${i}${j}`), (i: number) => name(`v${i}`), (j: number) => name(`w${j}`)];
  const A = (dr: number) => w.arg(0, "0", ta ? `${k} * ${R} + ${plus(r, dr)}` : `(${plus(r, dr)}) * ${K} + ${k}`);
  /** Rows m..m+rows-1, outputs from..to-1 in tiles of `cols`. */
  const tile = (rows: number, cols: number, from: number, to: number) => {
    const out = [`for (let ${r} = ${from}; ${r} < ${to}; ${step(r, cols)}) {`, accumulators(s, rows, cols)];
    out.push(`for (let ${k} = 0; ${k} < ${K}; ${k}++) {`);
    range(rows).forEach((i) => out.push(`const ${v(i)} = ${w.arg(1, plus(m, i), k)};`));
    range(cols).forEach((j) => out.push(`const ${a(j)} = ${A(j)};`));
    range(rows).forEach((i) => range(cols).forEach((j) => out.push(`${s(i, j)} += ${a(j)} * ${v(i)};`)));
    out.push("}");
    range(rows).forEach((i) => range(cols).forEach((j) => out.push(w.store(plus(m, i), plus(r, j), s(i, j)))));
    out.push("}");
    return out;
  };
  const body = (rows: number, widths: readonly number[]) =>
    strips(R, widths).flatMap(([cols, from, to]) => tile(rows, cols, from, to));
  w.line(`for (let ${m} = 0; ${m} + 1 < ${w.rows}; ${m} += 2) {`);
  body(2, [4, 1]).forEach((l) => w.line(l));
  w.line("}");
  w.line(`if (${w.rows} % 2 === 1) {`);
  w.line(`const ${m} = ${w.rows} - 1;`);
  body(1, [8, 4, 1]).forEach((l) => w.line(l));
  w.line("}");
  return true;
}

/** G[r][c] += Σ_row a[row][r] · b[row][c], into a param gradient. Needs a and b varying. */
export function emitOuterRows(w: RowWriter, R: number, C: number): boolean {
  if (!w.intoUniform || !w.argVarying[0] || !w.argVarying[1]) return false;
  if (callProduct(w, "tn", [R, C], [0, 1], R + C, R * C)) return true;
  const [m0, mEnd, m, r, c] = [w.fresh("m0"), w.fresh("mEnd"), w.fresh("m"), w.fresh("r"), w.fresh("c")];
  const name = locals(w);
  const [s, a, b] = [(i: number, j: number) => name(`s${i}${j}`), (i: number) => name(`a${i}`), (j: number) => name(`b${j}`)];
  const tile = (rows: number, cols: number, rFrom: number, rTo: number, cFrom: number, cTo: number) => {
    w.line(`for (let ${r} = ${rFrom}; ${r} < ${rTo}; ${step(r, rows)}) {`);
    w.line(`for (let ${c} = ${cFrom}; ${c} < ${cTo}; ${step(c, cols)}) {`);
    w.line(accumulators(s, rows, cols));
    w.line(`for (let ${m} = ${m0}; ${m} < ${mEnd}; ${m}++) {`);
    range(rows).forEach((i) => w.line(`const ${a(i)} = ${w.arg(0, m, plus(r, i))};`));
    range(cols).forEach((j) => w.line(`const ${b(j)} = ${w.arg(1, m, plus(c, j))};`));
    range(rows).forEach((i) => range(cols).forEach((j) => w.line(`${s(i, j)} += ${a(i)} * ${b(j)};`)));
    w.line("}");
    range(rows).forEach((i) => range(cols).forEach((j) => w.line(w.store("0", `(${plus(r, i)}) * ${C} + ${plus(c, j)}`, s(i, j)))));
    w.line("}");
    w.line("}");
  };
  w.line(`for (let ${m0} = 0; ${m0} < ${w.rows}; ${m0} += ${OUTER_ROW_BLOCK}) {`);
  w.line(`const ${mEnd} = Math.min(${m0} + ${OUTER_ROW_BLOCK}, ${w.rows});`);
  for (const [rows, rFrom, rTo] of strips(R, [4, 1])) {
    for (const [cols, cFrom, cTo] of strips(C, [4, 1])) tile(rows, cols, rFrom, rTo, cFrom, cTo);
  }
  w.line("}");
  return true;
}
