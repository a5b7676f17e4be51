/**
 * Register-tiled loops for matrix products over many rows at once: `W·v` for every row (a
 * matrix-matrix product, tiled 2 rows × 4 outputs), and `Σ_rows a ⊗ b` accumulated into a param
 * gradient (tiled 4 × 2). Sizes are constants of the emitted code; only the row count is not.
 */
import type { RowWriter } from "./types.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const plus = (v: string, k: number) => (k === 0 ? v : `${v} + ${k}`);

/** out[row][r] = Σ_k A[r][k] · v[row][k] (A stored transposed when `ta`). Needs A uniform, v varying. */
export function emitMatvecRows(w: RowWriter, R: number, K: number, ta: boolean): boolean {
  if (w.argVarying[0] || !w.argVarying[1] || w.intoUniform || w.argShapes[1]!.length !== 1) return false;
  const [m, r, k] = [w.fresh("m"), w.fresh("r"), w.fresh("k")];
  const A = (dr: number) => w.arg(0, "0", ta ? `${k} * ${R} + ${plus(r, dr)}` : `(${plus(r, dr)}) * ${K} + ${k}`);
  const tile = (rowsInTile: number, cols: number, rFrom: string) => {
    const acc = (i: number, j: number) => `s${i}${j}`;
    const out: string[] = [];
    out.push(`let ${range(rowsInTile).flatMap((i) => range(cols).map((j) => `${acc(i, j)} = 0`)).join(", ")};`);
    out.push(`for (let ${k} = 0; ${k} < ${K}; ${k}++) {`);
    range(rowsInTile).forEach((i) => out.push(`const v${i} = ${w.arg(1, plus(m, i), k)};`));
    range(cols).forEach((j) => out.push(`const w${j} = ${A(j)};`));
    range(rowsInTile).forEach((i) => range(cols).forEach((j) => out.push(`${acc(i, j)} += w${j} * v${i};`)));
    out.push("}");
    range(rowsInTile).forEach((i) => range(cols).forEach((j) => out.push(w.store(plus(m, i), plus(r, j), acc(i, j)))));
    return [`for (let ${r} = ${rFrom}; ${r} < ${rFrom === "0" ? R - (R % cols) : R}; ${r} += ${cols}) {`, ...out, "}"];
  };
  const R4 = R - (R % 4);
  const body = (rowsInTile: number) => [
    ...(R4 > 0 ? tile(rowsInTile, 4, "0") : []),
    ...(R4 < R ? tile(rowsInTile, 1, String(R4)) : []),
  ];
  w.line(`for (let ${m} = 0; ${m} + 1 < ${w.rows}; ${m} += 2) {`);
  body(2).forEach((l) => w.line(l));
  w.line("}");
  w.line(`if (${w.rows} % 2 === 1) {`);
  w.line(`const ${m} = ${w.rows} - 1;`);
  body(1).forEach((l) => w.line(l));
  w.line("}");
  return true;
}

/** G[r][c] += Σ_row a[row][r] · b[row][c], into a param gradient. Needs a and b varying. */
export function emitOuterRows(w: RowWriter, R: number, C: number): boolean {
  if (!w.intoUniform || !w.argVarying[0] || !w.argVarying[1]) return false;
  const [m, r, c] = [w.fresh("m"), w.fresh("r"), w.fresh("c")];
  const tile = (rows: number, cols: number, rFrom: string, rTo: number, cFrom: string, cTo: number) => {
    const acc = (i: number, j: number) => `s${i}${j}`;
    w.line(`for (let ${r} = ${rFrom}; ${r} < ${rTo}; ${r} += ${rows}) {`);
    w.line(`for (let ${c} = ${cFrom}; ${c} < ${cTo}; ${c} += ${cols}) {`);
    w.line(`let ${range(rows).flatMap((i) => range(cols).map((j) => `${acc(i, j)} = 0`)).join(", ")};`);
    w.line(`for (let ${m} = 0; ${m} < ${w.rows}; ${m}++) {`);
    range(rows).forEach((i) => w.line(`const a${i} = ${w.arg(0, m, plus(r, i))};`));
    range(cols).forEach((j) => w.line(`const b${j} = ${w.arg(1, m, plus(c, j))};`));
    range(rows).forEach((i) => range(cols).forEach((j) => w.line(`${acc(i, j)} += a${i} * b${j};`)));
    w.line("}");
    range(rows).forEach((i) => range(cols).forEach((j) => w.line(w.store("0", `(${plus(r, i)}) * ${C} + ${plus(c, j)}`, acc(i, j)))));
    w.line("}");
    w.line("}");
  };
  const R4 = R - (R % 4);
  const C2 = C - (C % 2);
  if (R4 > 0 && C2 > 0) tile(4, 2, "0", R4, "0", C2);
  if (R4 > 0 && C2 < C) tile(4, 1, "0", R4, String(C2), C);
  if (R4 < R) tile(1, 1, String(R4), R, "0", C);
  return true;
}
