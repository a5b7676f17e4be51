/**
 * The `into` option of `forward` and `backward`: arrays the caller owns, written instead of new
 * ones (as PyTorch's `out=`), so a training loop at one size allocates no results per call.
 * Each is checked before the call writes anything: a known name, the cell's own typed array (a
 * float32 cell does not write float64 arrays), the right length, and no memory shared with any
 * other array of the call — a kernel would read what it had just overwritten.
 */
import type { CellSpec, Real, TensorSpec } from "./abi.js";
import { DataError } from "./errors.js";
import { describe, object, onlyKeys, unknownName } from "./validate.js";

/** What a call reads or writes besides: a field, its specs, its arrays in spec order. */
export type Taken = [field: string, specs: readonly TensorSpec[], arrays: readonly (Real | undefined)[]][];

/** The groups `into` takes in each call, and the tensors each group is of. */
const GROUPS = {
  outputs: ["forward", "outputs"],
  final: ["forward", "states"],
  inputs: ["backward", "inputs"],
  initial: ["backward", "states"],
} as const;
type Group = keyof typeof GROUPS;

const ARRAYS = { f32: Float32Array, f64: Float64Array } as const;

/** Whether two typed arrays share any byte of memory. */
export const overlap = (a: Real, b: Real): boolean =>
  a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;

/**
 * The caller's arrays for `into[group]` in spec order, undefined where a name is not given (or
 * undefined for no group at all), each `per` × its size numbers. They are added to `taken`, so a
 * later group is checked against them too. `refused`: why this group may not be given. `carries`:
 * the field of `taken` whose state arrays each may be itself (a state carried over in place: the
 * call reads it before it writes the result).
 */
export function destinations(into: unknown, group: Group, spec: CellSpec, per: number, taken: Taken, refused?: string, carries?: string): (Real | undefined)[] | undefined {
  if (into === undefined) return undefined;
  const [call, of] = GROUPS[group];
  const known = Object.keys(GROUPS).filter((g) => GROUPS[g as Group][0] === call);
  onlyKeys("options.into", object("options.into", into, `an object { ${known.map((g) => g + "?").join(", ")} }`), known);
  const given = (into as Record<string, unknown>)[group];
  if (given === undefined) return undefined;
  const field = `options.into.${group}`;
  if (refused !== undefined) throw new DataError(`${field}: given, but ${refused}`);
  const specs = spec[of];
  const named = object(field, given, "an object of named arrays") as Record<string, unknown>;
  const names = specs.map((s) => s.name);
  for (const key in named) if (!names.includes(key)) throw unknownName(field, key, "name", names);
  const Arr = ARRAYS[spec.dtype];
  const arrays: (Real | undefined)[] = [];
  for (const [j, s] of specs.entries()) {
    const a = Object.prototype.hasOwnProperty.call(named, s.name) ? named[s.name] : undefined;
    if (a !== undefined) {
      if (!(a instanceof Arr)) throw new DataError(`${field}.${s.name}: expected a ${Arr.name} (the cell's dtype is ${spec.dtype}), got ${describe(a)}`);
      if (a.length !== per * s.size) throw new DataError(`${field}.${s.name}: expected ${per * s.size} numbers, got ${a.length}`);
      for (const [other, otherSpecs, otherArrays] of [...taken, [field, specs, arrays] as const])
        otherArrays.forEach((b, k) => {
          if (b !== undefined && overlap(a, b) && !(a === b && k === j && other === carries)) throw new DataError(`${field}.${s.name}: shares memory with ${other}.${otherSpecs[k]!.name}; pass an array of its own`);
        });
    }
    arrays.push(a as Real | undefined);
  }
  taken.push([field, specs, arrays]);
  return arrays;
}
