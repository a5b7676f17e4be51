/**
 * Cells for the training-runtime tests, compiled in-process (float64, cached by source and sizes;
 * a compiled cell holds no params, so tests may share it).
 */

import { compile } from "../../src/index.js";
import type { Cell } from "../../src/runtime/types.js";

export const ELMAN_SOURCE = `
cell elman {
  size I = 8, H = 16
  input x[I]
  state h[H]
  param Wx[H, I], Wh[H, H], b[H]
  h = tanh(Wx·x + Wh·h + b)
}`;

/** The LSTM of SPEC.md §1 (as examples/cells/lstm.cell): outputs h, then c. */
export const LSTM_SOURCE = `
cell lstm {
  size I = 8, H = 16
  input x[I]
  state h[H], c[H]
  param Wf[H, I], Uf[H, H], bf[H]
  param Wi[H, I], Ui[H, H], bi[H]
  param Wg[H, I], Ug[H, H], bg[H]
  param Wo[H, I], Uo[H, H], bo[H]
  f = σ(Wf·x + Uf·h + bf)
  i = σ(Wi·x + Ui·h + bi)
  g = tanh(Wg·x + Ug·h + bg)
  o = σ(Wo·x + Uo·h + bo)
  c = f ⊙ c + i ⊙ g
  h = o ⊙ tanh(c)
}`;

const cache = new Map<string, Cell>();

export function compiledCell(source: string, sizes: Record<string, number>): Cell {
  const key = `${source}\n${JSON.stringify(sizes)}`;
  let cell = cache.get(key);
  if (cell === undefined) {
    cell = compile(source, { sizes, dtype: "f64" });
    cache.set(key, cell);
  }
  return cell;
}

export const elmanCell = (I: number, H: number): Cell => compiledCell(ELMAN_SOURCE, { I, H });
export const lstmCell = (I: number, H: number): Cell => compiledCell(LSTM_SOURCE, { I, H });
