/**
 * Weight layouts of other frameworks, by name, onto rnnc's built-in cells and back:
 * - `"torch.nn.LSTM"`: `weight_ih_l0` `[4H, I]`, `weight_hh_l0` `[4H, H]`, `bias_ih_l0` and
 *   `bias_hh_l0` `[4H]`, gate blocks i, f, g, o, onto `examples/cells/lstm.cell` (`W*`, `U*`, `b*`;
 *   the two biases are summed; exported, the bias goes to `bias_ih` and `bias_hh` is zero);
 * - `"torch.nn.GRU"`: the same keys with blocks r, z, n onto `examples/cells/gru_torch.cell`
 *   (`W_i*`, `W_h*`, `b_i*`, `b_h*`);
 * - `"keras.LSTM"`: `kernel` `[I, 4H]`, `recurrent_kernel` `[H, 4H]`, `bias` `[4H]`, gate columns
 *   i, f, c, o, onto `lstm.cell` (Keras's `c` is the cell's candidate `g`).
 *
 * A cell with other param names maps them with `names` (built-in name → the cell's name). A source
 * tensor is nested arrays (`tensor.tolist()`) or `{ dtype, shape, data }` with flat row-major data
 * (what `exportLayout` returns). Every key, shape, dtype and number is checked before any param is
 * written; a `DataError` names the field.
 */
import { bumpParams } from "../runtime/params.js";
import { DataError } from "../runtime/errors.js";
import type { CellSpec, Tensors } from "../runtime/types.js";
import { fromNested } from "./serialize.js";

export type LayoutName = "torch.nn.LSTM" | "torch.nn.GRU" | "keras.LSTM";

/** A tensor as another framework holds it: flat row-major data, its shape and dtype. */
export interface LayoutTensor {
  readonly dtype: "float32" | "float64";
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

export interface LayoutOptions {
  /** Prepended to every key, e.g. `"rnn."` for a submodule or `"lstm/lstm_cell/"` for Keras. */
  readonly prefix?: string;
  /** PyTorch: the layer (`_l{layer}` keys, default 0) and direction (`_reverse`). */
  readonly layer?: number;
  readonly reverse?: boolean;
  /** Keras: appended to every key, e.g. `":0"`. */
  readonly suffix?: string;
  /** The cell's name for each built-in param name it calls differently. */
  readonly names?: Readonly<Record<string, string>>;
  /** Import: the dtype the source tensors must have (checked on those that state one). */
  readonly dtype?: "float32" | "float64";
}

/** One tensor of a layout: gate blocks stacked by rows (`[G·H, n]`), by columns (`[n, G·H]`), or a vector. */
interface Piece {
  readonly key: string;
  readonly stack: "rows" | "cols" | "vector";
  /** The other dimension of a matrix: the input size or the hidden size. */
  readonly inner?: "I" | "H";
  readonly target: (gate: string) => string;
}

interface Layout {
  readonly framework: "torch" | "keras";
  readonly gates: readonly string[];
  readonly pieces: readonly Piece[];
}

const KERAS_GATE: Readonly<Record<string, string>> = { i: "i", f: "f", c: "g", o: "o" };

export const LAYOUTS: Readonly<Record<LayoutName, Layout>> = {
  "torch.nn.LSTM": {
    framework: "torch", gates: ["i", "f", "g", "o"],
    pieces: [
      { key: "weight_ih", stack: "rows", inner: "I", target: (g) => `W${g}` },
      { key: "weight_hh", stack: "rows", inner: "H", target: (g) => `U${g}` },
      { key: "bias_ih", stack: "vector", target: (g) => `b${g}` },
      { key: "bias_hh", stack: "vector", target: (g) => `b${g}` },
    ],
  },
  "torch.nn.GRU": {
    framework: "torch", gates: ["r", "z", "n"],
    pieces: [
      { key: "weight_ih", stack: "rows", inner: "I", target: (g) => `W_i${g}` },
      { key: "weight_hh", stack: "rows", inner: "H", target: (g) => `W_h${g}` },
      { key: "bias_ih", stack: "vector", target: (g) => `b_i${g}` },
      { key: "bias_hh", stack: "vector", target: (g) => `b_h${g}` },
    ],
  },
  "keras.LSTM": {
    framework: "keras", gates: ["i", "f", "c", "o"],
    pieces: [
      { key: "kernel", stack: "cols", inner: "I", target: (g) => `W${KERAS_GATE[g]}` },
      { key: "recurrent_kernel", stack: "cols", inner: "H", target: (g) => `U${KERAS_GATE[g]}` },
      { key: "bias", stack: "vector", target: (g) => `b${KERAS_GATE[g]}` },
    ],
  },
};

type Cellish = Pick<CellSpec, "name" | "params">;

/** Fills the cell's params from `weights` in the named layout (biases of one gate summed). */
export function importLayout(name: LayoutName, weights: Readonly<Record<string, unknown>>, cell: Cellish, params: Tensors, options: LayoutOptions = {}): void {
  const { layout, sizes, key, target } = resolve(name, cell, params, options);
  if (typeof weights !== "object" || weights === null) throw new DataError(`${name} weights: expected an object of named tensors`);
  const sums = new Map<string, Float64Array>();
  for (const piece of layout.pieces) {
    const k = key(piece.key);
    if (!Object.prototype.hasOwnProperty.call(weights, k)) {
      const expected = layout.pieces.map((p) => key(p.key)).join(", ");
      throw new DataError(`${name} weights: missing '${k}' (expected ${expected})`);
    }
    const shape = pieceShape(piece, sizes, layout.gates.length);
    let flat: Float64Array;
    try {
      flat = readTensor(weights[k], shape, k, options.dtype);
    } catch (e) {
      throw new DataError(`${name} weights: ${(e as Error).message}`);
    }
    layout.gates.forEach((gate, block) => {
      const param = target(piece.target(gate));
      const values = gateBlock(flat, piece, sizes, block);
      const sum = sums.get(param);
      if (sum) values.forEach((v, i) => (sum[i]! += v));
      else sums.set(param, values);
    });
  }
  for (const [param, values] of sums) {
    if (params[param] instanceof Float32Array) {
      const bad = values.findIndex((v) => Math.abs(v) >= 3.4028235677973366e38);
      if (bad >= 0) throw new DataError(`${name}: param '${param}'[${bad}] would be ${values[bad]}, beyond the float32 range of the cell's params`);
    }
  }
  for (const [param, values] of sums) params[param]!.set(values);
  bumpParams(params);
}

/** The cell's params as tensors of the named layout (float64 unless the params are float32). */
export function exportLayout(name: LayoutName, cell: Cellish, params: Tensors, options: LayoutOptions = {}): Record<string, LayoutTensor> {
  const { layout, sizes, key, target } = resolve(name, cell, params, options);
  const out: Record<string, LayoutTensor> = {};
  const written = new Set<string>();
  const dtype = Object.values(params).every((p) => p instanceof Float32Array) ? "float32" : "float64";
  for (const piece of layout.pieces) {
    const shape = pieceShape(piece, sizes, layout.gates.length);
    const data = new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(0);
    layout.gates.forEach((gate, block) => {
      const param = target(piece.target(gate));
      if (written.has(param)) return; // a second bias of a summed pair stays zero
      written.add(param);
      placeBlock(data, params[param]!, piece, sizes, block);
    });
    out[key(piece.key)] = { dtype, shape, data };
  }
  return out;
}

interface Sizes {
  readonly I: number;
  readonly H: number;
}

/** The layout, the sizes read off the cell's first input-weight block, and key and target naming; every target checked. */
function resolve(name: LayoutName, cell: Cellish, params: Tensors, options: LayoutOptions) {
  const layout = (LAYOUTS as Record<string, Layout | undefined>)[name];
  if (layout === undefined || !Object.prototype.hasOwnProperty.call(LAYOUTS, name))
    throw new DataError(`unknown layout '${String(name)}' (expected ${Object.keys(LAYOUTS).join(", ")})`);
  const target = (builtIn: string) => options.names?.[builtIn] ?? builtIn;
  const specOf = (param: string) => {
    const spec = cell.params.find((p) => p.name === param);
    if (spec === undefined) {
      const all = [...new Set(layout.pieces.flatMap((p) => layout.gates.map((g) => target(p.target(g)))))];
      throw new DataError(`cell '${cell.name}' has no param '${param}' (the ${name} layout fills ${all.join(", ")}; map other names with options.names)`);
    }
    return spec;
  };
  const first = specOf(target(layout.pieces[0]!.target(layout.gates[0]!)));
  if (first.shape.length !== 2) throw new DataError(`cell '${cell.name}' param '${first.name}' should be a matrix [H, I], got [${first.shape.join(", ")}]`);
  const sizes: Sizes = { H: first.shape[0]!, I: first.shape[1]! };
  for (const piece of layout.pieces) {
    for (const gate of layout.gates) {
      const spec = specOf(target(piece.target(gate)));
      const want = piece.stack === "vector" ? [sizes.H] : [sizes.H, sizes[piece.inner!]];
      if (spec.shape.join() !== want.join())
        throw new DataError(`cell '${cell.name}' param '${spec.name}' is [${spec.shape.join(", ")}], but the ${name} layout needs [${want.join(", ")}]`);
      const array = params[spec.name];
      const size = want.reduce((a, b) => a * b, 1);
      if (!(array instanceof Float32Array || array instanceof Float64Array) || array.length !== size)
        throw new DataError(`params of cell '${cell.name}': '${spec.name}' should be a Float32Array or Float64Array of ${size} numbers`);
    }
  }
  const torchKey = `_l${options.layer ?? 0}${options.reverse === true ? "_reverse" : ""}`;
  const key = (base: string) => `${options.prefix ?? ""}${base}${layout.framework === "torch" ? torchKey : (options.suffix ?? "")}`;
  return { layout, sizes, key, target };
}

function pieceShape(piece: Piece, sizes: Sizes, G: number): number[] {
  if (piece.stack === "vector") return [G * sizes.H];
  const inner = sizes[piece.inner!];
  return piece.stack === "rows" ? [G * sizes.H, inner] : [inner, G * sizes.H];
}

/** Gate `block` of a piece as the cell's `[H, n]` (or `[H]`) param, row-major. */
function gateBlock(flat: Float64Array, piece: Piece, sizes: Sizes, block: number): Float64Array {
  const { H } = sizes;
  if (piece.stack === "vector") return flat.slice(block * H, (block + 1) * H);
  const n = sizes[piece.inner!];
  if (piece.stack === "rows") return flat.slice(block * H * n, (block + 1) * H * n);
  const out = new Float64Array(H * n); // columns block·H… of [n, G·H], transposed
  const G = flat.length / (n * H);
  for (let h = 0; h < H; h++) for (let k = 0; k < n; k++) out[h * n + k] = flat[k * G * H + block * H + h]!;
  return out;
}

/** The inverse of `gateBlock`: a param written into its block of `data`. */
function placeBlock(data: number[], param: ArrayLike<number>, piece: Piece, sizes: Sizes, block: number): void {
  const { H } = sizes;
  if (piece.stack !== "cols") {
    const at = block * param.length;
    for (let i = 0; i < param.length; i++) data[at + i] = param[i]!;
    return;
  }
  const n = sizes[piece.inner!];
  const G = data.length / (n * H);
  for (let h = 0; h < H; h++) for (let k = 0; k < n; k++) data[k * G * H + block * H + h] = param[h * n + k]!;
}

/** A source tensor, nested arrays or `{ dtype, shape, data }`, checked and flattened. */
function readTensor(value: unknown, shape: readonly number[], field: string, dtype: LayoutOptions["dtype"]): Float64Array {
  if (Array.isArray(value)) return fromNested(value, shape, field);
  if (typeof value !== "object" || value === null) throw new DataError(`${field}: expected nested arrays or { dtype, shape, data }, got ${value === null ? "null" : typeof value}`);
  const t = value as Partial<Record<"dtype" | "shape" | "data", unknown>>;
  const kind = typeof t.dtype === "string" ? t.dtype.replace(/^torch\./, "") : undefined;
  if (kind !== "float32" && kind !== "float64") throw new DataError(`${field}.dtype: expected "float32" or "float64", got ${JSON.stringify(t.dtype) ?? "nothing"}`);
  if (dtype !== undefined && kind !== dtype) throw new DataError(`${field}.dtype: expected "${dtype}", got "${kind}"`);
  if (!Array.isArray(t.shape) || t.shape.join() !== shape.join())
    throw new DataError(`${field}.shape: expected [${shape.join(", ")}], got ${Array.isArray(t.shape) ? `[${t.shape.join(", ")}]` : JSON.stringify(t.shape) ?? "nothing"}`);
  const data = t.data;
  const size = shape.reduce((a, b) => a * b, 1);
  const arrayLike = Array.isArray(data) || data instanceof Float32Array || data instanceof Float64Array;
  if (!arrayLike || (data as ArrayLike<unknown>).length !== size)
    throw new DataError(`${field}.data: expected ${size} numbers, got ${arrayLike ? (data as ArrayLike<unknown>).length : typeof data}`);
  const flat = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const v = (data as ArrayLike<unknown>)[i];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new DataError(`${field}.data[${i}]: expected a finite number, got ${JSON.stringify(v) ?? String(v)}`);
    if (kind === "float32" && Math.fround(v) !== v) throw new DataError(`${field}.data[${i}]: ${v} is not a float32 value, as dtype says`);
    flat[i] = v;
  }
  return flat;
}
