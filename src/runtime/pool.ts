/**
 * Arrays a cell's calls need for themselves, kept for the next call of the same size instead of
 * left to the garbage collector: a steady training loop at one (T, B) allocates its state
 * history, tape and scratch once. Bounded: a few sets per size, a few sizes (the least recently
 * used size goes first), so sequences of ever-changing lengths do not pile arrays up.
 */
import type { Real } from "./abi.js";

const SETS_PER_KEY = 2;
const KEYS = 8;

export class ArrayPool {
  /** Sets given back, by key (a size); a Map keeps keys in the order they were last used. */
  private readonly free = new Map<string, Real[][]>();
  /** Arrays shared by every call of a key (read-only zeros, scratch nobody reads back). */
  private readonly shared = new Map<string, Real[]>();

  /** A set of arrays for `key`: one given back earlier, or `make()`. */
  take(key: string, make: () => Real[]): Real[] {
    const sets = this.touch(this.free, key);
    return sets?.pop() ?? make();
  }

  /** Gives `arrays` back for the next `take(key)`. */
  give(key: string, arrays: Real[]): void {
    const sets = this.touch(this.free, key) ?? [];
    if (sets.length < SETS_PER_KEY) sets.push(arrays);
    this.keep(this.free, key, sets);
  }

  /** The arrays every call of `key` shares, made once. */
  sharedSet(key: string, make: () => Real[]): Real[] {
    const arrays = this.touch(this.shared, key) ?? make();
    this.keep(this.shared, key, arrays);
    return arrays;
  }

  /** Lets go of every array. */
  clear(): void {
    this.free.clear();
    this.shared.clear();
  }

  /** The entry of `key`, moved to the most recently used end. */
  private touch<V>(map: Map<string, V>, key: string): V | undefined {
    const v = map.get(key);
    if (v !== undefined) map.delete(key), map.set(key, v);
    return v;
  }

  private keep<V>(map: Map<string, V>, key: string, value: V): void {
    map.set(key, value);
    if (map.size > KEYS) map.delete(map.keys().next().value!);
  }
}
