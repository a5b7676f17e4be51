/**
 * The example cells of examples/cells/, compiled in-process for the training-runtime tests
 * (float64 unless asked otherwise, cached by file, sizes and dtype; a compiled cell holds no
 * params, so tests may share it).
 */

import { readFileSync } from "node:fs";
import { compile } from "../../src/index.js";
import type { Cell, DType } from "../../src/runtime/types.js";

const cache = new Map<string, Cell>();

export function exampleCell(file: string, sizes: Record<string, number>, dtype: DType = "f64"): Cell {
  const key = `${file} ${JSON.stringify(sizes)} ${dtype}`;
  let cell = cache.get(key);
  if (cell === undefined) {
    const source = readFileSync(new URL(`../../examples/cells/${file}`, import.meta.url), "utf8");
    cell = compile(source, { path: file, sizes, dtype });
    cache.set(key, cell);
  }
  return cell;
}

/** `h = tanh(Wx·x + Wh·h + b)`; output h. */
export const elmanCell = (I: number, H: number, dtype: DType = "f64"): Cell => exampleCell("rnn.cell", { I, H }, dtype);
/** SPEC §1's LSTM; outputs h, then c. */
export const lstmCell = (I: number, H: number, dtype: DType = "f64"): Cell => exampleCell("lstm.cell", { I, H }, dtype);
/** PyTorch's nn.GRU; output h. */
export const gruTorchCell = (I: number, H: number, dtype: DType = "f64"): Cell => exampleCell("gru_torch.cell", { I, H }, dtype);
