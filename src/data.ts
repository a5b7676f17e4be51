/**
 * Nested JSON arrays ⇄ flat typed arrays, following declared shapes. Every error names the field
 * and index it is about: `inputs.x[2][0]: expected 8 numbers, got 7`.
 */
import { DataError } from "./runtime/cell.js";
import type { Real, TensorSpec, Tensors } from "./runtime/types.js";

export { DataError };

const describe = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? `a list of ${v.length}` : typeof v === "string" ? JSON.stringify(v) : typeof v;

/** Reads `value` as nested lists of the given dimensions into `out` starting at `offset`. */
function readNested(field: string, value: unknown, dims: readonly number[], out: Real, offset: number): number {
  if (dims.length === 0) {
    if (typeof value !== "number" || !Number.isFinite(value)) throw new DataError(`${field}: expected a finite number, got ${describe(value)}`);
    out[offset] = value;
    return offset + 1;
  }
  if (!Array.isArray(value)) throw new DataError(`${field}: expected a list of ${dims[0]}, got ${describe(value)}`);
  if (value.length !== dims[0]) throw new DataError(`${field}: expected ${dims[0]} entries, got ${value.length}`);
  let at = offset;
  value.forEach((v, i) => (at = readNested(`${field}[${i}]`, v, dims.slice(1), out, at)));
  return at;
}

/** Writes a flat array as nested lists of the given dimensions. */
export function toNested(data: ArrayLike<number>, dims: readonly number[], offset = 0): unknown {
  if (dims.length === 0) {
    const v = data[offset]!;
    return Number.isFinite(v) ? v : null;
  }
  const stride = dims.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: dims[0]! }, (_, i) => toNested(data, dims.slice(1), offset + i * stride));
}

function objectField(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new DataError(`${field}: expected an object of named tensors, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

/**
 * Reads the named tensors of `group` (e.g. `params`) with leading dimensions `lead` (e.g. [T, B]).
 * Unknown names are errors; missing ones are errors unless `optional`.
 */
export function readTensors(
  group: string, value: unknown, specs: readonly TensorSpec[], lead: readonly number[],
  make: (n: number) => Real, optional = false,
): Tensors | undefined {
  if (value === undefined) {
    if (optional || specs.length === 0) return undefined;
    throw new DataError(`${group}: missing`);
  }
  const obj = objectField(group, value);
  for (const key of Object.keys(obj)) {
    if (!specs.some((s) => s.name === key)) {
      const known = specs.map((s) => s.name).join(", ") || "none";
      throw new DataError(`${group}.${key}: no such tensor (expected: ${known})`);
    }
  }
  const out: Tensors = {};
  for (const spec of specs) {
    const has = Object.prototype.hasOwnProperty.call(obj, spec.name);
    if (!has) {
      if (optional) continue;
      throw new DataError(`${group}.${spec.name}: missing`);
    }
    const dims = [...lead, ...spec.shape];
    // The outer list must be there before its storage is allocated: T and B alone are only claims.
    const outer = obj[spec.name];
    if (Array.isArray(outer) && dims.length === 0) {
      throw new DataError(`${group}.${spec.name}: expected a number (a scalar), got ${describe(outer)}`);
    }
    if (Array.isArray(outer) && outer.length !== dims[0]) {
      throw new DataError(`${group}.${spec.name}: expected ${dims[0]} entries, got ${outer.length}`);
    }
    const arr = make(dims.reduce((a, b) => a * b, 1));
    readNested(`${group}.${spec.name}`, obj[spec.name], dims, arr, 0);
    Object.defineProperty(out, spec.name, { value: arr, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Named tensors as nested lists, each with leading dimensions `lead`. */
export function writeTensors(tensors: Tensors, specs: readonly TensorSpec[], lead: readonly number[]): Record<string, unknown> {
  return Object.fromEntries(specs.map((s) => [s.name, toNested(tensors[s.name]!, [...lead, ...s.shape])]));
}

export function positiveCount(field: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
    throw new DataError(`${field}: expected a positive integer, got ${describe(value)}`);
  if (value > max) throw new DataError(`${field}: ${value} is too large; at most ${max} is allowed`);
  return value;
}
