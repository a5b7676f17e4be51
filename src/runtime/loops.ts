/**
 * Runs a cell's element loops as WebAssembly (`ElementLoops`, compiled by compiler/wasm/loops.ts)
 * in a float32 arena: `mm.loop(k, rows, operands)` as emitted kernels call it before their own
 * JavaScript loop. The function computes what the JavaScript loop computes, but four elements
 * side by side, so it runs only where that gives the same numbers: where no array the loop writes
 * overlaps another operand, other than as the very same elements read and written in place in the
 * arena, or as other columns of the same rows (a step's gate gradients side by side in one buffer).
 * Operands outside the arena (a caller's output, an input) are copied into its staging area and
 * written ones copied back, in chunks of rows that fit; where even one row does not fit, or an
 * operand overlaps, the call returns false and the kernel runs its JavaScript loop.
 */
import type { ElementLoopShape, Products, Real } from "./abi.js";

/** What a loop needs of its arena: addresses of arrays in it, and its staging area. */
export interface LoopStaging {
  /** The byte address of element `off` of `a` in the arena, or -1 when `a` is not in it. */
  inside(a: Real, off: number): number;
  /** How many of `rows` rows fit in the staging area at `perRow` elements a row and `once` elements, over `operands` runs. */
  rowsThatFit(rows: number, perRow: number, once: number, operands: number): number;
  /** Empties the staging area. */
  begin(): void;
  /** Copies `rows` rows of `width` elements (`stride` apart in `a`, from `off`) in, compact; their address. */
  stage(a: Real, off: number, stride: number, rows: number, width: number): number;
  /** Room for `rows` compact rows of `width` elements, not copied in; its address. */
  reserve(rows: number, width: number): number;
  /** Copies compact rows at address `p` back to `a` (`stride` apart, from `off`). */
  unstage(p: number, a: Real, off: number, stride: number, rows: number, width: number): void;
}

type LoopFunction = (...args: number[]) => void;
type Operand = Real | number;

/** The most operands a loop's call passes (each array and its row 0's index, then the scalars): a loop with more stays JavaScript. */
export const LOOP_OPERANDS = 40;

/**
 * The fewest elements (rows times the widest row) a loop runs as WebAssembly: below, its call,
 * the overlap checks and the copies cost more than the JavaScript loop (one step of B = 1 at
 * H = 64 took 4.7 µs with its loops in JavaScript and 6.5 µs with them in WebAssembly).
 */
export const LOOP_MIN_ELEMENTS = 512;

const E = Float32Array.BYTES_PER_ELEMENT;

/**
 * `mm.loop` for the loops of the instance `instantiate` gives (functions `loop0`, `loop1`, …, shaped
 * as `shapes` say) once it gives one: until then every call returns false.
 */
export function elementLoops(instantiate: () => WebAssembly.Instance | undefined, shapes: readonly ElementLoopShape[], arena: LoopStaging): Products["loop"] {
  if (shapes.some((s) => 2 * s.arrays.length + s.scalars > LOOP_OPERANDS)) throw new Error(`internal error: an element loop takes more than ${LOOP_OPERANDS} operands`);
  let functions: LoopFunction[] | undefined;
  const functionsOf = (instance: WebAssembly.Instance) => shapes.map((shape, k) => {
    const fn = instance.exports[`loop${k}`];
    const arity = 1 + 2 * shape.arrays.length + shape.scalars;
    if (typeof fn !== "function" || fn.length !== arity) throw new Error(`internal error: the cell's element loop ${k} does not take ${arity} parameters`);
    return fn as LoopFunction;
  });
  // Each loop's arguments and operands' addresses, reused from call to call.
  const args = shapes.map((s) => new Array<number>(1 + 2 * s.arrays.length + s.scalars).fill(0));
  const addresses = shapes.map((s) => new Array<number>(s.arrays.length).fill(0));
  const widest = shapes.map((s) => Math.max(...s.arrays.map((a) => a.width)));
  const o: (Operand | undefined)[] = new Array<Operand | undefined>(LOOP_OPERANDS).fill(undefined);
  // Each operand its own parameter: an array of them (or rest parameters) would be allocated at every call.
  // prettier-ignore
  return function loop(index: number, rows: number, o0?: Operand, o1?: Operand, o2?: Operand, o3?: Operand, o4?: Operand, o5?: Operand, o6?: Operand, o7?: Operand, o8?: Operand, o9?: Operand, o10?: Operand, o11?: Operand, o12?: Operand, o13?: Operand, o14?: Operand, o15?: Operand, o16?: Operand, o17?: Operand, o18?: Operand, o19?: Operand, o20?: Operand, o21?: Operand, o22?: Operand, o23?: Operand, o24?: Operand, o25?: Operand, o26?: Operand, o27?: Operand, o28?: Operand, o29?: Operand, o30?: Operand, o31?: Operand, o32?: Operand, o33?: Operand, o34?: Operand, o35?: Operand, o36?: Operand, o37?: Operand, o38?: Operand, o39?: Operand): boolean {
    o[0] = o0; o[1] = o1; o[2] = o2; o[3] = o3; o[4] = o4; o[5] = o5; o[6] = o6; o[7] = o7; o[8] = o8; o[9] = o9;
    o[10] = o10; o[11] = o11; o[12] = o12; o[13] = o13; o[14] = o14; o[15] = o15; o[16] = o16; o[17] = o17; o[18] = o18; o[19] = o19;
    o[20] = o20; o[21] = o21; o[22] = o22; o[23] = o23; o[24] = o24; o[25] = o25; o[26] = o26; o[27] = o27; o[28] = o28; o[29] = o29;
    o[30] = o30; o[31] = o31; o[32] = o32; o[33] = o33; o[34] = o34; o[35] = o35; o[36] = o36; o[37] = o37; o[38] = o38; o[39] = o39;
    return run(index, rows, o as readonly Operand[]);
  };

  function run(index: number, rows: number, operands: readonly Operand[]): boolean {
    const shape = shapes[index];
    if (shape === undefined) throw new Error(`internal error: the cell has no element loop ${index}`);
    if (rows <= 0) return true;
    const { arrays } = shape;
    // A short loop costs less as JavaScript than the call, the checks and the copies.
    if (rows * widest[index]! < LOOP_MIN_ELEMENTS) return false;
    if (functions === undefined) {
      const instance = instantiate();
      if (instance === undefined) return false;
      functions = functionsOf(instance);
    }
    if (!apart(shape, rows, operands, arena)) return false;
    const a = args[index]!;
    const at = addresses[index]!;
    const n = arrays.length;
    for (let s = 0; s < shape.scalars; s++) a[1 + 2 * n + s] = operands[2 * n + s] as number;
    let perRow = 0;
    let once = 0;
    let outside = 0;
    for (let q = 0; q < n; q++) {
      const { stride, width } = arrays[q]!;
      const p = arena.inside(operands[2 * q] as Real, operands[2 * q + 1] as number);
      at[q] = p;
      if (p >= 0) continue;
      outside++;
      if (stride === 0) once += width;
      else perRow += width;
    }
    const chunk = outside === 0 ? rows : arena.rowsThatFit(rows, perRow, once, outside);
    if (chunk < 1) return false;
    const fn = functions[index]!;
    for (let start = 0; start < rows; start += chunk) {
      const r = Math.min(chunk, rows - start);
      arena.begin();
      a[0] = r;
      for (let q = 0; q < n; q++) {
        const { stride, width, reads } = arrays[q]!;
        if (at[q]! >= 0) {
          a[1 + 2 * q] = at[q]! + start * stride * E;
          a[2 + 2 * q] = stride;
          continue;
        }
        const array = operands[2 * q] as Real;
        const off = (operands[2 * q + 1] as number) + start * stride;
        const count = stride === 0 ? 1 : r;
        a[1 + 2 * q] = reads ? arena.stage(array, off, stride, count, width) : arena.reserve(count, width);
        a[2 + 2 * q] = stride === 0 ? 0 : width;
      }
      fn.apply(undefined, a);
      for (let q = 0; q < n; q++) {
        const { stride, width, writes } = arrays[q]!;
        if (at[q]! >= 0 || !writes) continue;
        const off = (operands[2 * q + 1] as number) + start * stride;
        arena.unstage(a[1 + 2 * q]!, operands[2 * q] as Real, off, stride, stride === 0 ? 1 : r, width);
      }
    }
    return true;
  }
}

/**
 * Whether two operands `bytes` apart with the same row stride hold different columns of the same
 * rows (the gates of a step side by side in one buffer): each row of one lies in the gap between
 * the other's rows, so no element is both.
 */
function besideEachOther(bytes: number, a: ElementLoopShape["arrays"][number], b: ElementLoopShape["arrays"][number], size: number): boolean {
  const s = a.stride;
  if (s === 0 || b.stride !== s || bytes % size !== 0 || a.width > s || b.width > s) return false;
  const d = (((bytes / size) % s) + s) % s;
  return d >= a.width && d + b.width <= s;
}

/**
 * Whether no array the loop writes overlaps another operand, except the same elements of the
 * same rows in the arena (read and written in place, element by element, as the JavaScript does)
 * and other columns of the same rows.
 */
function apart(shape: ElementLoopShape, rows: number, operands: readonly Operand[], arena: LoopStaging): boolean {
  const { arrays } = shape;
  for (let w = 0; w < arrays.length; w++) {
    const wrote = arrays[w]!;
    if (!wrote.writes) continue;
    const A = operands[2 * w] as Real;
    const startA = A.byteOffset + (operands[2 * w + 1] as number) * A.BYTES_PER_ELEMENT;
    const endA = startA + ((rows - 1) * wrote.stride + wrote.width) * A.BYTES_PER_ELEMENT;
    for (let o = 0; o < arrays.length; o++) {
      if (o === w) continue;
      const other = arrays[o]!;
      const B = operands[2 * o] as Real;
      if (B.buffer !== A.buffer) continue;
      const startB = B.byteOffset + (operands[2 * o + 1] as number) * B.BYTES_PER_ELEMENT;
      const endB = startB + ((rows - 1) * other.stride + other.width) * B.BYTES_PER_ELEMENT;
      if (endA <= startB || endB <= startA || besideEachOther(startB - startA, wrote, other, A.BYTES_PER_ELEMENT)) continue;
      const same = startA === startB && wrote.stride === other.stride && wrote.width === other.width;
      if (!same || arena.inside(A, 0) < 0) return false;
    }
  }
  return true;
}
