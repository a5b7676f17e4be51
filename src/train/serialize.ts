/**
 * Saving and loading params as JSON, and importing PyTorch `nn.LSTM` / `nn.GRU` weights.
 *
 * A params file holds named groups of named tensors as nested arrays following each declared
 * shape (a matrix is a list of rows), as `rnnc eval` reads them:
 * `{ "format": "rnnc-params", "version": 1, "groups": { "lstm": { "Wf": [[...], ...], ... } } }`.
 * Saving refuses non-finite values (JSON has no NaN or ∞); loading checks every group, name, size and
 * value (finite, and within float32's range for float32 params) before writing anything. Errors are
 * `DataError`s naming the offending field and index.
 */

import { DataError } from "../runtime/errors.js";
import type { CellSpec, Real, Tensors } from "../runtime/types.js";
import { bumpParams } from "../runtime/params.js";
import { bumpAll, type ParamGroup } from "./optim.js";

const FORMAT = "rnnc-params";
const VERSION = 1;

/** Nested arrays: a number for a scalar, a list of nested arrays otherwise. */
export type Nested = number | readonly Nested[];

/** `data` (row-major) as nested arrays of the given shape. */
export function toNested(data: ArrayLike<number>, shape: readonly number[]): Nested {
  const build = (axis: number, offset: number): Nested => {
    if (axis === shape.length) return data[offset]!;
    const stride = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: shape[axis]! }, (_, i) => build(axis + 1, offset + i * stride));
  };
  return build(0, 0);
}

/** Nested arrays checked against `shape` and flattened row-major; errors name `field`. */
export function fromNested(value: unknown, shape: readonly number[], field: string): Float64Array {
  const flat = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let next = 0;
  const visit = (node: unknown, axis: number, path: string): void => {
    if (axis === shape.length) {
      if (typeof node !== "number" || !Number.isFinite(node)) {
        throw new DataError(`'${path}' should be a finite number, got ${JSON.stringify(node)}`);
      }
      flat[next++] = node;
      return;
    }
    if (!Array.isArray(node)) {
      throw new DataError(
        `'${path}' should be a list of ${shape[axis]} (shape [${shape.join(", ")}]), got ${describe(node)}`,
      );
    }
    if (node.length !== shape[axis]) {
      throw new DataError(
        `'${path}' has ${node.length} entries, expected ${shape[axis]} (shape [${shape.join(", ")}])`,
      );
    }
    node.forEach((child, i) => visit(child, axis + 1, `${path}[${i}]`));
  };
  visit(value, 0, field);
  return flat;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing (missing)";
  if (Array.isArray(value)) return `a list`;
  return value === null ? "null" : typeof value === "object" ? "an object" : JSON.stringify(value);
}

/** The params of `groups` as a JSON document; a non-finite value is an error naming where it is. */
export function saveParams(groups: readonly ParamGroup[]): string {
  const content = Object.fromEntries(
    groups.map((group) => [
      group.name,
      Object.fromEntries(
        Object.entries(group.params).map(([name, data]) => {
          const shape = shapeOf(group, name);
          checkTensor(group, name, data, shape);
          const bad = data.findIndex((v) => !Number.isFinite(v));
          if (bad >= 0)
            throw new DataError(
              `cannot save '${group.name}.${name}${indexPath(bad, shape)}': ${data[bad]} is not a finite number (JSON cannot hold it, so the file could not be loaded back)`,
            );
          return [name, toNested(data, shape)];
        }),
      ),
    ]),
  );
  return JSON.stringify({ format: FORMAT, version: VERSION, groups: content });
}

/** `[i][j]` for flat index `flat` of a row-major tensor of this shape. */
function indexPath(flat: number, shape: readonly number[]): string {
  let rest = flat;
  const index = shape.map((_, axis) => {
    const stride = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const i = Math.floor(rest / stride);
    rest -= i * stride;
    return `[${i}]`;
  });
  return index.join("");
}

function shapeOf(group: ParamGroup, name: string): readonly number[] {
  const shape = group.shapes[name];
  if (shape === undefined) throw new DataError(`group '${group.name}' declares no shape for param '${name}'`);
  return shape;
}

/** The group's array for param `name` must be a Float32Array or Float64Array of its shape's size. */
function checkTensor(group: ParamGroup, name: string, data: unknown, shape: readonly number[]): asserts data is Real {
  const where = `group '${group.name}' param '${name}'`;
  if (!(data instanceof Float32Array || data instanceof Float64Array))
    throw new DataError(`${where}: expected a Float32Array or Float64Array, got ${describe(data)}`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size)
    throw new DataError(`${where}: holds ${data.length} numbers but its shape [${shape.join(", ")}] has ${size}`);
}

/** The largest finite float32, and the midpoint above it: larger values round to ∞ in float32. */
const FLOAT32_MAX = 3.4028234663852886e38;
const FLOAT32_OVERFLOW = 3.4028235677973366e38;

/** Float32 targets cannot hold values that round to ±∞: an error naming the first such value. */
function checkFitsFloat32(field: string, values: Float64Array, shape: readonly number[]): void {
  const bad = values.findIndex((v) => Math.abs(v) >= FLOAT32_OVERFLOW);
  if (bad >= 0)
    throw new DataError(
      `'${field}${indexPath(bad, shape)}' is ${values[bad]}, beyond the float32 range of these params (±${FLOAT32_MAX})`,
    );
}

/**
 * Reads params saved by `saveParams` into `groups` (in place). The file must hold exactly these
 * groups and params with these shapes; otherwise nothing is written and the Error names the field.
 */
export function loadParams(json: string, groups: readonly ParamGroup[]): void {
  const document: unknown = JSON.parse(json);
  if (!isRecord(document) || document["format"] !== FORMAT)
    throw new DataError(`params file: 'format' should be "${FORMAT}"`);
  if (document["version"] !== VERSION)
    throw new DataError(
      `params file: 'version' ${String(document["version"])} is not supported (expected ${VERSION})`,
    );
  const saved = document["groups"];
  if (!isRecord(saved)) throw new DataError(`params file: 'groups' should be an object`);
  checkSameNames(
    Object.keys(saved),
    groups.map((g) => g.name),
    "group",
    "params file",
  );
  const decoded = groups.map((group) => {
    const savedGroup = saved[group.name];
    if (!isRecord(savedGroup)) throw new DataError(`params file: '${group.name}' should be an object of params`);
    checkSameNames(Object.keys(savedGroup), Object.keys(group.params), "param", `group '${group.name}'`);
    return Object.entries(group.params).map(([name, data]) => {
      const shape = shapeOf(group, name);
      checkTensor(group, name, data, shape);
      const values = fromNested(savedGroup[name], shape, `${group.name}.${name}`);
      if (data instanceof Float32Array) checkFitsFloat32(`${group.name}.${name}`, values, shape);
      return values;
    });
  });
  groups.forEach((group, g) => Object.values(group.params).forEach((data, p) => data.set(decoded[g]![p]!)));
  bumpAll(groups);
}

function checkSameNames(
  found: readonly string[],
  expected: readonly string[],
  kind: string,
  where: string,
): void {
  const missing = expected.filter((name) => !found.includes(name));
  if (missing.length > 0)
    throw new DataError(`${where}: missing ${kind} '${missing[0]}' (expected ${expected.join(", ")})`);
  const unknown = found.filter((name) => !expected.includes(name));
  if (unknown.length > 0)
    throw new DataError(`${where}: unknown ${kind} '${unknown[0]}' (expected ${expected.join(", ")})`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// PyTorch state dicts

/**
 * A PyTorch state dict as JSON, e.g. from
 * `json.dump({k: v.tolist() for k, v in lstm.state_dict().items()}, f)`.
 */
export type TorchStateDict = Readonly<Record<string, unknown>>;

/** Where one PyTorch gate block goes in an rnnc cell. */
interface GateTarget {
  /** rnnc param taking this block of `weight_ih` (`[H, I]`). */
  readonly input: string;
  /** rnnc param taking this block of `weight_hh` (`[H, H]`). */
  readonly hidden: string;
  /** rnnc params taking this block of the biases: their sum, or one of them. */
  readonly biases: readonly { readonly name: string; readonly from: readonly ("ih" | "hh")[] }[];
}

/** `nn.LSTM` blocks in PyTorch's order i, f, g, o, into `examples/cells/lstm.cell` (biases summed). */
const LSTM_GATES: readonly GateTarget[] = ["i", "f", "g", "o"].map((gate) => ({
  input: `W${gate}`,
  hidden: `U${gate}`,
  biases: [{ name: `b${gate}`, from: ["ih", "hh"] }],
}));

/** `nn.GRU` blocks in PyTorch's order r, z, n, into `examples/cells/gru_torch.cell`, which keeps
 * PyTorch's two biases per gate (b_hn must stay apart: it sits inside r ⊙ (W_hn·h + b_hn)). */
const GRU_GATES: readonly GateTarget[] = ["r", "z", "n"].map((gate) => ({
  input: `W_i${gate}`,
  hidden: `W_h${gate}`,
  biases: [
    { name: `b_i${gate}`, from: ["ih"] },
    { name: `b_h${gate}`, from: ["hh"] },
  ],
}));

export interface TorchImportOptions {
  /** Which layer of a multi-layer module (`_l{layer}` keys); default 0. */
  readonly layer?: number;
  /** The reverse direction of a bidirectional module (`_reverse` keys). */
  readonly reverse?: boolean;
  /** Prefix of the keys, e.g. "rnn." for a submodule; default none. */
  readonly prefix?: string;
}

/** Copies one layer of an `nn.LSTM` state dict into the params of an `lstm.cell`-style cell. */
export function importTorchLstm(
  stateDict: TorchStateDict,
  cell: Pick<CellSpec, "name" | "params">,
  params: Tensors,
  options: TorchImportOptions = {},
): void {
  importTorchGates(stateDict, cell, params, LSTM_GATES, options);
}

/** Copies one layer of an `nn.GRU` state dict into the params of a `gru_torch.cell`-style cell. */
export function importTorchGru(
  stateDict: TorchStateDict,
  cell: Pick<CellSpec, "name" | "params">,
  params: Tensors,
  options: TorchImportOptions = {},
): void {
  importTorchGates(stateDict, cell, params, GRU_GATES, options);
}

function importTorchGates(
  stateDict: TorchStateDict,
  cell: Pick<CellSpec, "name" | "params">,
  params: Tensors,
  gates: readonly GateTarget[],
  options: TorchImportOptions,
): void {
  const shapeOfParam = (name: string): readonly number[] => {
    const spec = cell.params.find((p) => p.name === name);
    if (spec === undefined) throw new DataError(`cell '${cell.name}' has no param '${name}' to import into`);
    return spec.shape;
  };
  const [H, I] = shapeOfParam(gates[0]!.input) as [number, number];
  const suffix = `_l${options.layer ?? 0}${options.reverse === true ? "_reverse" : ""}`;
  const key = (name: string): string => `${options.prefix ?? ""}${name}${suffix}`;
  const G = gates.length;
  const weightIh = fromNested(stateDict[key("weight_ih")], [G * H, I], key("weight_ih"));
  const weightHh = fromNested(stateDict[key("weight_hh")], [G * H, H], key("weight_hh"));
  const bias = {
    ih: fromNested(stateDict[key("bias_ih")], [G * H], key("bias_ih")),
    hh: fromNested(stateDict[key("bias_hh")], [G * H], key("bias_hh")),
  };
  const writes: [string, Float64Array][] = [];
  gates.forEach((gate, block) => {
    writes.push([gate.input, weightIh.subarray(block * H * I, (block + 1) * H * I)]);
    writes.push([gate.hidden, weightHh.subarray(block * H * H, (block + 1) * H * H)]);
    for (const target of gate.biases) {
      const sum = new Float64Array(H);
      for (const source of target.from) for (let k = 0; k < H; k++) sum[k]! += bias[source][block * H + k]!;
      writes.push([target.name, sum]);
    }
  });
  for (const [name, values] of writes) checkTarget(cell, params, name, values.length, shapeOfParam(name));
  for (const [name, values] of writes) params[name]!.set(values);
  bumpParams(params);
}

function checkTarget(
  cell: Pick<CellSpec, "name">,
  params: Tensors,
  name: string,
  length: number,
  shape: readonly number[],
): void {
  const target = params[name];
  if (target === undefined) throw new DataError(`params of cell '${cell.name}' have no tensor '${name}'`);
  if (target.length !== length) {
    throw new DataError(
      `cell '${cell.name}' param '${name}' is [${shape.join(", ")}] (${target.length} values) but the PyTorch block has ${length}`,
    );
  }
}
