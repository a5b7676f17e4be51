/**
 * Matrix products for emitted kernels, and the memory they run in.
 *
 * A cell's workspace lives in an `Arena`: with WebAssembly SIMD, one `WebAssembly.Memory` per
 * arena holding the workspace buffers and a staging area, and products run as the SIMD loops of
 * products-wasm.ts. Operands already in the arena (workspace buffers: stacked params, hoisted
 * projections, gate values; the state history and tape of the recording the cell lays out with
 * them) are used in place; others (the caller's params and inputs, recordings kept in plain
 * arrays) are copied into staging first, and results meant for them copied back. Where
 * WebAssembly SIMD is not available the same calls run as plain loops over the arrays themselves.
 *
 * The arena's memory only grows in `layout`, between kernel calls, so no view a running kernel
 * holds is ever detached.
 */
import { MAP_NAMES, PRODUCT_NAMES, ROW_LOOP_NAMES, wasmMapParams, wasmProductParams, wasmRowLoopParams, type DType, type ElementLoopShape, type ElementLoops, type MapName, type ProductName, type Products, type Real, type RowLoopName } from "./abi.js";
import { sigmoid } from "./math.js";
import { PRODUCTS_WASM } from "./products-wasm.js";
import { ROW_LOOPS_WASM } from "./row-loops-wasm.js";
import { elementLoops, type LoopStaging } from "./loops.js";

export type { Products };

/** Buffers of one kernel workspace, and the products that read and write them. */
export interface Arena {
  readonly products: Products;
  /** Whether products run as WebAssembly SIMD (else as plain loops). */
  readonly simd: boolean;
  /**
   * Fresh zeroed buffers, and room to stage `staging` elements of operands. Buffers of different
   * groups share memory (a group is the one kernel that uses them); those without are apart.
   */
  layout(buffers: readonly BufferRequest[], staging: number): Real[];
}

export interface BufferRequest {
  readonly length: number;
  readonly group?: string;
  /**
   * false: the buffer holds whatever its memory held (a buffer its user writes before reading,
   * as a recording's state history and tape): memory never written costs no page until used.
   */
  readonly zero?: boolean;
}

/**
 * Where each buffer starts (in elements, aligned to `unit`): buffers without a group one after
 * another, then each group's buffers from one common start. Returns the starts and the end.
 */
export function placeBuffers(buffers: readonly BufferRequest[], unit: number): { starts: number[]; end: number } {
  const round = (n: number) => Math.ceil(n / unit) * unit;
  const starts: number[] = new Array<number>(buffers.length).fill(0);
  let end = 0;
  buffers.forEach((b, k) => {
    if (b.group === undefined) (starts[k] = end), (end += round(b.length));
  });
  const base = end;
  const tops = new Map<string, number>();
  buffers.forEach((b, k) => {
    if (b.group === undefined) return;
    const at = tops.get(b.group) ?? base;
    starts[k] = at;
    tops.set(b.group, at + round(b.length));
    end = Math.max(end, at + round(b.length));
  });
  return { starts, end };
}

/** A WebAssembly product: the parameters `wasmProductParams` names, all numbers (addresses are bytes). */
type WasmProduct = (...args: number[]) => void;
/** A WebAssembly map (float32 only): the count, then the byte addresses of A and Y (`wasmMapParams`). */
type WasmMap = (n: number, A: number, Y: number) => void;

/** A WebAssembly row loop (float32 only): rows and n, then each operand's byte address and row stride (`wasmRowLoopParams`). */
type WasmRowLoop = (...args: number[]) => void;

let compiled: WebAssembly.Module | null | undefined;
let pending: Promise<boolean> | undefined;

/** The bytes of a module the build wrote as base64. */
const bytesOf = (base64: string) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));

/**
 * A cell's element loops, compiled when an arena first runs one (once per cell), or undefined where
 * WebAssembly SIMD is not available: its kernels then run their JavaScript loops. Where the module
 * does not compile (a Content-Security-Policy without 'wasm-unsafe-eval') they run so too; on a
 * browser's main thread, which refuses to compile a module over 4 KiB synchronously, it compiles in
 * the background and the loops run as JavaScript until it is done.
 */
export function compileLoops(loops: ElementLoops | undefined): ArenaLoops | undefined {
  if (loops === undefined || loops.shapes.length === 0 || !simdAvailable()) return undefined;
  let module: WebAssembly.Module | null | undefined;
  let compiling = false;
  return {
    shapes: loops.shapes,
    module() {
      if (module !== undefined || compiling) return module ?? undefined;
      const bytes = bytesOf(loops.wasm);
      try {
        module = new WebAssembly.Module(bytes);
      } catch (e) {
        if (!(e instanceof RangeError)) return void (module = null);
        compiling = true;
        WebAssembly.compile(bytes).then((m) => void (module = m), () => void (module = null));
        return undefined;
      }
      return module;
    },
  };
}

const productsBytes = () => bytesOf(PRODUCTS_WASM);

let rowLoopsCompiled: WebAssembly.Module | null | undefined;

/** The row loops module (small: compiled synchronously anywhere), or null where it does not compile. */
function rowLoopsModule(): WebAssembly.Module | null {
  if (rowLoopsCompiled !== undefined) return rowLoopsCompiled;
  try {
    rowLoopsCompiled = new WebAssembly.Module(bytesOf(ROW_LOOPS_WASM));
  } catch {
    rowLoopsCompiled = null;
  }
  return rowLoopsCompiled;
}

/**
 * The products module, compiled once per process; null where WebAssembly SIMD is missing, or
 * while a browser's main thread (which refuses to compile modules this size synchronously)
 * compiles it in the background — `productsReady()` resolves when that is done.
 */
function productsModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  if (typeof WebAssembly === "undefined") return (compiled = null);
  if (pending !== undefined) return null;
  try {
    compiled = new WebAssembly.Module(productsBytes());
  } catch (e) {
    if (!(e instanceof RangeError)) return (compiled = null);
    void productsReady();
    return null;
  }
  return compiled;
}

/**
 * Resolves once the products module is compiled (true) or found unusable (false). Cells whose
 * first call comes after it resolves run their products as WebAssembly SIMD; in Node this is
 * already so at import.
 */
export function productsReady(): Promise<boolean> {
  if (compiled !== undefined) return Promise.resolve(compiled !== null);
  pending ??= WebAssembly.compile(productsBytes()).then(
    (m) => ((compiled = m), true),
    () => ((compiled = null), false),
  );
  return pending;
}

/** Whether this JavaScript engine runs the WebAssembly products. */
export function simdAvailable(): boolean {
  return productsModule() !== null;
}

let simdWanted = true;

/**
 * Whether arenas created from now on run products as WebAssembly SIMD (the default where
 * available) or as plain loops — for comparing the two, or for engines where the SIMD module
 * misbehaves. Cells already used keep their arenas.
 */
export function useSimd(enabled: boolean): void {
  simdWanted = enabled;
}

/** A cell's element loops (`ElementLoops`): their shapes, and their module once it is compiled. */
export interface ArenaLoops {
  readonly shapes: readonly ElementLoopShape[];
  module(): WebAssembly.Module | undefined;
}

/**
 * An arena for a cell of this precision: WebAssembly when available and wanted, else plain. A
 * float32 WebAssembly arena runs the cell's element loops (`loops`), if it has any, in its memory.
 */
export function createArena(precision: DType, options: { simd?: boolean; maxPages?: number; loops?: ArenaLoops } = {}): Arena {
  const module = (options.simd ?? simdWanted) ? productsModule() : null;
  return module ? withFallback(wasmArena(module, precision, options.maxPages, options.loops), plainArena(precision)) : plainArena(precision);
}

/**
 * A WebAssembly arena that falls back to plain arrays and loops for a layout its memory cannot
 * hold (WebAssembly memory ends at 4 GiB), and goes back to WebAssembly when a later one fits.
 */
function withFallback(wasm: Arena, plain: Arena): Arena {
  let current = wasm;
  return {
    get products() {
      return current.products;
    },
    get simd() {
      return current.simd;
    },
    layout(buffers, staging) {
      try {
        current = wasm;
        return wasm.layout(buffers, staging);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        current = plain;
        return plain.layout(buffers, staging);
      }
    },
  };
}

/** The functions `names` of `instance` in `precision` (exported as `name_precision`), each checked to take `arity(name)` parameters. */
function exportsOf<N extends string, F>(instance: WebAssembly.Instance, names: readonly N[], precision: DType, arity: (name: N) => number): Record<N, F> {
  const entries = names.map((name) => {
    const fn = instance.exports[`${name}_${precision}`];
    const count = arity(name);
    if (typeof fn !== "function" || fn.length !== count) throw new Error(`internal error: the products module's ${name}_${precision} does not take ${count} parameters`);
    return [name, fn as F] as const;
  });
  return Object.fromEntries(entries) as Record<N, F>;
}

const PAGE = 65536;

/** The module's scratch area: its address (a global the arena sets once it has room) and size. */
function scratchOf(instance: WebAssembly.Instance): { at: WebAssembly.Global; bytes: number } {
  const { scratch, scratch_bytes: bytes } = instance.exports;
  if (!(scratch instanceof WebAssembly.Global) || !(bytes instanceof WebAssembly.Global)) throw new Error("internal error: the products module exports no scratch area");
  return { at: scratch, bytes: bytes.value as number };
}

/**
 * Copies `n` elements: short runs element by element, long ones through a view (a view is an
 * object; short copies — one step of a small batch — allocate nothing).
 */
function copy(from: Real, i: number, to: Real, j: number, n: number): void {
  if (n < 512) for (let k = 0; k < n; k++) to[j + k] = from[i + k]!;
  else to.set(from.subarray(i, i + n), j);
}
const ALIGN = 16;

function wasmArena(module: WebAssembly.Module, precision: DType, maxPages?: number, loops?: ArenaLoops): Arena {
  const Arr = precision === "f32" ? Float32Array : Float64Array;
  const E = Arr.BYTES_PER_ELEMENT;
  const memory = new WebAssembly.Memory(maxPages === undefined ? { initial: 1 } : { initial: 1, maximum: maxPages });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const ex = exportsOf<ProductName, WasmProduct>(instance, PRODUCT_NAMES, precision, (name) => wasmProductParams(name).length);
  const scratch = scratchOf(instance);
  let heap: Real = new Arr(memory.buffer);
  /** First element of the staging area, and the next free one during a product. */
  let stagingStart = 0;
  let top = 0;

  const grow = (bytes: number) => {
    if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
    heap = new Arr(memory.buffer);
  };

  /** Byte address of element `off` of `a` if it lives in this arena, else -1 (`heap.buffer`: `memory.buffer` is a slower getter). */
  const inside = (a: Real, off: number): number => (a.buffer === heap.buffer && a instanceof Arr ? a.byteOffset + off * E : -1);

  /**
   * Copies `rows` rows of `width` elements (row stride `stride`) into staging; returns their address.
   * Rows without gaps between them (a step's rows of a state history, a chunk's rows of the input)
   * are one run, copied at once.
   */
  const stage = (a: Real, off: number, stride: number, rows: number, width: number): number => {
    const start = top;
    if (off === 0 && rows * width === a.length && (stride === width || rows === 1)) heap.set(a, start);
    else if (stride === width || rows === 1) copy(a, off, heap, start, rows * width);
    else for (let m = 0; m < rows; m++) copy(a, off + m * stride, heap, start + m * width, width);
    top = start + rows * width;
    top += (ALIGN / E - (top % (ALIGN / E))) % (ALIGN / E);
    return start * E;
  };

  /** An operand's address: in place, or a compact staged copy (numbers only: nothing allocated). */
  const address = (a: Real, off: number, stride: number, rows: number, width: number): number => {
    const p = inside(a, off);
    return p >= 0 ? p : stage(a, off, stride, rows, width);
  };
  /** The row stride of an operand at its `address`: its own in place, its width when staged. */
  const strideAt = (a: Real, stride: number, width: number): number => (inside(a, 0) >= 0 ? stride : width);

  /** Copies a staged result (compact rows of `width`) back into `a`: at once when its rows have no gaps. */
  const unstage = (p: number, a: Real, off: number, stride: number, rows: number, width: number) => {
    if (stride === width || rows === 1) copy(heap, p / E, a, off, rows * width);
    else for (let m = 0; m < rows; m++) copy(heap, p / E + m * width, a, off + m * stride, width);
  };

  const product = (fn: WasmProduct) =>
    (rows: number, N: number, K: number, A: Real, a0: number, as: number, W: Real, w0: number, Y: Real, y0: number, ys: number, acc: number, outWidth: number, aWidth: number) => {
      if (rows <= 0) return;
      top = stagingStart;
      const pa = address(A, a0, as, rows, aWidth);
      const sa = strideAt(A, as, aWidth);
      const pw = address(W, w0, K, 1, N * K);
      const py = inside(Y, y0);
      if (py >= 0) return fn(rows, N, K, pa, sa, pw, py, ys, acc);
      const ps = acc ? stage(Y, y0, ys, rows, outWidth) : (top * E);
      if (!acc) top += rows * outWidth;
      fn(rows, N, K, pa, sa, pw, ps, outWidth, acc);
      unstage(ps, Y, y0, ys, rows, outWidth);
    };
  const nt = product(ex.nt);
  const nn = product(ex.nn);

  /**
   * A float32 map: in place when A and Y live in the arena; else the operands outside it go through
   * the memory after the staging area's start (staging and scratch area are free between products),
   * in chunks that fit there, so a run of any length is valid without growing the memory.
   */
  const map = (fn: WasmMap) => (n: number, A: Real, a0: number, Y: Real, y0: number) => {
    if (n <= 0) return;
    const pa = inside(A, a0);
    const py = inside(Y, y0);
    if (pa >= 0 && py >= 0) return fn(n, pa, py);
    const same = A === Y && a0 === y0;
    const room = heap.length - stagingStart;
    // One staged run when only A or Y is outside (or both are the same run), else two.
    const chunk = (pa < 0 && py < 0 && !same ? room >> 1 : room) & -4;
    const sa = stagingStart;
    const sy = same || pa >= 0 ? sa : sa + chunk;
    for (let k = 0; k < n; k += chunk) {
      const c = Math.min(chunk, n - k);
      if (pa < 0) copy(A, a0 + k, heap, sa, c);
      fn(c, pa < 0 ? sa * E : pa + k * E, py < 0 ? sy * E : py + k * E);
      if (py < 0) copy(heap, sy, Y, y0 + k, c);
    }
  };
  const maps = exportsOf<MapName, WasmMap>(instance, MAP_NAMES, "f32", (name) => wasmMapParams(name).length);

  /**
   * How many of `rows` rows a row loop stages at once after the staging area's start: `perRow`
   * elements a row and `once` elements for every row, each of `operands` runs aligned (0 when not
   * even one row fits, and the loop runs as its plain version instead).
   */
  const rowsThatFit = (rows: number, perRow: number, once: number, operands: number): number => {
    const room = heap.length - stagingStart - operands * (ALIGN / E);
    if (once > room) return 0;
    return perRow === 0 ? rows : Math.min(rows, Math.floor((room - once) / perRow));
  };

  /**
   * A float32 row loop `Y = f(A, B, C)`: in place when every operand lives in the arena; else the
   * operands outside it are staged after the staging area's start (free between products), rows
   * in chunks that fit there, and the result copied back. Where not even one row fits, the plain
   * loop (the same arithmetic) runs over the arrays themselves.
   */
  const rowLoop = (fn: WasmRowLoop, plain: Products["add3"]): Products["add3"] =>
    (rows, n, A, a0, as, B, b0, bs, C, c0, cs, Y, y0, ys) => {
      if (rows <= 0 || n <= 0) return;
      const pa = inside(A, a0);
      const pb = inside(B, b0);
      const pc = inside(C, c0);
      const py = inside(Y, y0);
      if (pa >= 0 && pb >= 0 && pc >= 0 && py >= 0) return fn(rows, n, pa, as, pb, bs, pc, cs, py, ys);
      // Elements staged per row (operands outside that advance by row) and once (those that do not).
      const perRow = (pa < 0 && as !== 0 ? n : 0) + (pb < 0 && bs !== 0 ? n : 0) + (pc < 0 && cs !== 0 ? n : 0) + (py < 0 ? n : 0);
      const once = (pa < 0 && as === 0 ? n : 0) + (pb < 0 && bs === 0 ? n : 0) + (pc < 0 && cs === 0 ? n : 0);
      const chunk = rowsThatFit(rows, perRow, once, 4);
      if (chunk < 1) return plain(rows, n, A, a0, as, B, b0, bs, C, c0, cs, Y, y0, ys);
      for (let k = 0; k < rows; k += chunk) {
        const r = Math.min(chunk, rows - k);
        top = stagingStart;
        // Each operand in place (its row k on), or staged: one row if it does not advance, else r compact rows.
        const qa = pa >= 0 ? pa + k * as * E : stage(A, a0 + k * as, as, as === 0 ? 1 : r, n);
        const qb = pb >= 0 ? pb + k * bs * E : stage(B, b0 + k * bs, bs, bs === 0 ? 1 : r, n);
        const qc = pc >= 0 ? pc + k * cs * E : stage(C, c0 + k * cs, cs, cs === 0 ? 1 : r, n);
        const sa = pa >= 0 || as === 0 ? as : n;
        const sb = pb >= 0 || bs === 0 ? bs : n;
        const sc = pc >= 0 || cs === 0 ? cs : n;
        if (py >= 0) {
          fn(r, n, qa, sa, qb, sb, qc, sc, py + k * ys * E, ys);
          continue;
        }
        const qy = top * E;
        fn(r, n, qa, sa, qb, sb, qc, sc, qy, n);
        unstage(qy, Y, y0 + k * ys, ys, r, n);
      }
    };
  /**
   * The float32 column sum `G += Σ rows of A`: in place when A and G live in the arena; else G is
   * staged once (and copied back at the end), and A's rows outside the arena in chunks that fit
   * after it, each chunk added in order. Where not even one row fits, the plain loop (the same
   * arithmetic) runs over the arrays themselves.
   */
  const colsum = (fn: WasmRowLoop, plain: Products["colsum"]): Products["colsum"] =>
    (rows, n, A, a0, as, G, g0) => {
      if (rows <= 0 || n <= 0) return;
      const pa = inside(A, a0);
      const pg = inside(G, g0);
      if (pa >= 0 && pg >= 0) return fn(rows, n, pa, as, pg);
      const chunk = rowsThatFit(rows, pa < 0 && as !== 0 ? n : 0, (pa < 0 && as === 0 ? n : 0) + (pg < 0 ? n : 0), 2);
      if (chunk < 1) return plain(rows, n, A, a0, as, G, g0);
      top = stagingStart;
      const qg = pg >= 0 ? pg : stage(G, g0, n, 1, n);
      const base = top;
      for (let k = 0; k < rows; k += chunk) {
        top = base;
        const qa = pa >= 0 ? pa + k * as * E : stage(A, a0 + k * as, as, as === 0 ? 1 : Math.min(chunk, rows - k), n);
        fn(Math.min(chunk, rows - k), n, qa, pa >= 0 || as === 0 ? as : n, qg);
      }
      if (pg < 0) unstage(qg, G, g0, n, 1, n);
    };
  const rowsModule = precision === "f32" ? rowLoopsModule() : null;
  const rowLoops = rowsModule === null
    ? plainRowLoops
    : (() => {
        const ex = exportsOf<RowLoopName, WasmRowLoop>(new WebAssembly.Instance(rowsModule, { env: { memory } }), ROW_LOOP_NAMES, "f32", (name) => wasmRowLoopParams(name).length);
        return { add3: rowLoop(ex.add3, plainRowLoops.add3), colsum: colsum(ex.colsum, plainRowLoops.colsum) };
      })();
  const staging: LoopStaging = {
    inside,
    rowsThatFit,
    begin: () => void (top = stagingStart),
    stage,
    reserve(rows, width) {
      const start = top;
      top = start + rows * width;
      top += (ALIGN / E - (top % (ALIGN / E))) % (ALIGN / E);
      return start * E;
    },
    unstage,
  };
  const loopsInstance = (): WebAssembly.Instance | undefined => {
    const m = loops?.module();
    return m && new WebAssembly.Instance(m, { env: { memory } });
  };
  const loop = precision === "f32" && loops ? elementLoops(loopsInstance, loops.shapes, staging) : noLoops;
  const products: Products = {
    ...rowLoops,
    loop,
    ...(precision === "f32" ? { sigmoid: map(maps.sigmoid), tanh: map(maps.tanh), exp: map(maps.exp) } : plainMaps),
    nt: (rows, N, K, A, a0, as, W, w0, Y, y0, ys, acc) => nt(rows, N, K, A, a0, as, W, w0, Y, y0, ys, acc, N, K),
    nn: (rows, N, K, A, a0, as, W, w0, Y, y0, ys, acc) => nn(rows, N, K, A, a0, as, W, w0, Y, y0, ys, acc, K, N),
    tn(rows, R, C, A, a0, as, B, b0, bs, G, g0, acc) {
      if (!acc) G.fill(0, g0, g0 + R * C);
      if (rows <= 0) return;
      top = stagingStart;
      const pa = address(A, a0, as, rows, R);
      const pb = address(B, b0, bs, rows, C);
      const sa = strideAt(A, as, R);
      const sb = strideAt(B, bs, C);
      const pg = inside(G, g0);
      if (pg >= 0) return ex.tn(rows, R, C, pa, sa, pb, sb, pg);
      const ps = stage(G, g0, C, 1, R * C);
      ex.tn(rows, R, C, pa, sa, pb, sb, ps);
      unstage(ps, G, g0, R * C, 1, R * C);
    },
  };

  return {
    products,
    simd: true,
    layout(buffers, staging) {
      const unit = ALIGN / E;
      const { starts, end } = placeBuffers(buffers, unit);
      // Staging for the largest product, with room for the alignment of each of its three operands,
      // then the scratch area the products pack blocks of operands into.
      stagingStart = end;
      const scratchStart = (end + staging + 3 * unit + unit) * E;
      grow(scratchStart + scratch.bytes);
      scratch.at.value = scratchStart;
      buffers.forEach((b, k) => b.zero !== false && heap.fill(0, starts[k]!, starts[k]! + b.length));
      return buffers.map((b, k) => heap.subarray(starts[k]!, starts[k]! + b.length));
    },
  };
}

/**
 * The elementwise maps as plain loops, each element computed in float64 through `Math` as an
 * emitted kernel computes it, and rounded once when stored.
 */
export const plainMaps: { readonly [F in MapName]: Products[F] } = {
  sigmoid(n, A, a0, Y, y0) {
    for (let k = 0; k < n; k++) Y[y0 + k] = sigmoid(A[a0 + k]!);
  },
  tanh(n, A, a0, Y, y0) {
    for (let k = 0; k < n; k++) Y[y0 + k] = Math.tanh(A[a0 + k]!);
  },
  exp(n, A, a0, Y, y0) {
    for (let k = 0; k < n; k++) Y[y0 + k] = Math.exp(A[a0 + k]!);
  },
};

/** The row loops as plain loops, the same arithmetic as the emitted JavaScript loops they stand for. */
export const plainRowLoops: { readonly [L in RowLoopName]: Products[L] } = {
  add3(rows, n, A, a0, as, B, b0, bs, C, c0, cs, Y, y0, ys) {
    for (let m = 0; m < rows; m++) {
      const a = a0 + m * as;
      const b = b0 + m * bs;
      const c = c0 + m * cs;
      const y = y0 + m * ys;
      for (let j = 0; j < n; j++) Y[y + j] = A[a + j]! + B[b + j]! + C[c + j]!;
    }
  },
  colsum(rows, n, A, a0, as, G, g0) {
    for (let m = 0; m < rows; m++) {
      const a = a0 + m * as;
      for (let j = 0; j < n; j++) G[g0 + j] += A[a + j]!;
    }
  },
};

/** No element loop runs here: the kernel runs its own. */
const noLoops: Products["loop"] = () => false;

/** Products as plain loops over the arrays themselves, accumulating in float64. */
export const plainProducts: Products = {
  ...plainMaps,
  ...plainRowLoops,
  loop: noLoops,
  nt(rows, N, K, A, a0, as, W, w0, Y, y0, ys, acc) {
    for (let m = 0; m < rows; m++) {
      const a = a0 + m * as;
      const y = y0 + m * ys;
      for (let n = 0; n < N; n++) {
        const w = w0 + n * K;
        let s = 0;
        for (let k = 0; k < K; k++) s += A[a + k]! * W[w + k]!;
        Y[y + n] = acc ? Y[y + n]! + s : s;
      }
    }
  },
  nn(rows, N, K, A, a0, as, W, w0, Y, y0, ys, acc) {
    for (let m = 0; m < rows; m++) {
      const a = a0 + m * as;
      const y = y0 + m * ys;
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += A[a + n]! * W[w0 + n * K + k]!;
        Y[y + k] = acc ? Y[y + k]! + s : s;
      }
    }
  },
  tn(rows, R, C, A, a0, as, B, b0, bs, G, g0, acc) {
    for (let r = 0; r < R; r++) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let m = 0; m < rows; m++) s += A[a0 + m * as + r]! * B[b0 + m * bs + c]!;
        G[g0 + r * C + c] = acc ? G[g0 + r * C + c]! + s : s;
      }
    }
  },
};

function plainArena(precision: DType): Arena {
  const Arr = precision === "f32" ? Float32Array : Float64Array;
  return {
    products: plainProducts,
    simd: false,
    layout(buffers) {
      const { starts, end } = placeBuffers(buffers, 1);
      const memory = new Arr(end);
      return buffers.map((b, k) => memory.subarray(starts[k]!, starts[k]! + b.length));
    },
  };
}
