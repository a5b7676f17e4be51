/**
 * The WebAssembly text of the runtime's matrix products: three row-major products, each in
 * float32 (f32x4 lanes) and float64 (f64x2 lanes), register-tiled over 128-bit SIMD vectors.
 *
 *   nt  Y[m][n] (=|+=) Σ_k A[m][k] · W[n][k]     a matrix times every row (W·v per row)
 *   nn  Y[m][k] (=|+=) Σ_n A[m][n] · W[n][k]     the transposed matrix times every row (Wᵀ·d)
 *   tn  G[r][c]   +=   Σ_m A[m][r] · B[m][c]     a param gradient summed over rows
 *
 * Pointers are byte addresses in the imported memory; A, B and Y have a row stride (in elements),
 * W and G are contiguous. Each product runs in tiles of the widest size that still fits, down to
 * one element, so any size is valid, over blocks that stay in cache while every row uses them:
 *
 *   nt  4 rows × 2 outputs, then 2 rows × 4 and 1 row × 4 (8 or 4 vector accumulators; the
 *       remaining outputs one at a time), the dot
 *       products along contiguous k; panels of W rows (NT_PANEL_BYTES) in the outer loop.
 *   nn  2 rows × 4 vectors of outputs (then 1 vector, 1 element); blocks of NN_BLOCK_COLS outputs
 *       × NN_BLOCK_ROWS rows of W, packed into the scratch area when rows of W lie far apart.
 *   tn  4 gradient rows × 2 vectors of columns; blocks of TN_ROW_BLOCK rows × TN_BLOCK_COLS columns.
 *
 * Summation order, which the exactness of optimized builds rests on: `nt` sums each output in
 * vector lanes over k (lane l takes k ≡ l mod L, in order), adds the lanes pairwise, then the
 * k tail in order — the same for every output, whatever the rows, N, the tile or the panel (so a
 * stacked or hoisted product gives the bits of the separate ones; tests/products.test.ts checks it).
 * `nn` sums each block of NN_BLOCK_ROWS rows of W in order from zero and adds it to Y; `tn` sums
 * each block of TN_ROW_BLOCK rows in order from zero and adds it to G. Both depend on N or the
 * rows, and only the backward uses them (to 1e-12 against unoptimized builds, README "Exactness").
 *
 * `rnnc` writes this text into src/runtime/products-wasm.ts as bytes (compiler/wasm/build.ts);
 * nothing here runs when kernels run.
 */

import { wasmProductParams, type DType, type ProductName } from "../../src/runtime/abi.js";
import { mapsWat } from "./maps.js";

interface Lanes {
  readonly t: DType;
  readonly v: "f32x4" | "f64x2";
  /** Elements per vector. */
  readonly L: number;
  /** log2 of the element size in bytes. */
  readonly S: number;
}

const F32: Lanes = { t: "f32", v: "f32x4", L: 4, S: 2 };
const F64: Lanes = { t: "f64", v: "f64x2", L: 2, S: 3 };

/**
 * Register tiles: `nt` rows × outputs (in turn, while that many rows remain), `nn` rows × vectors
 * of outputs, `tn` gradient rows × vectors of columns.
 */
const NT_TILES = [[4, 2], [2, 4], [1, 4]] as const;
const NN_TILE = [2, 4] as const;
const TN_TILE = [4, 2] as const;
/** Bytes of W rows an `nt` panel holds: the panel stays in L2 while every row of A passes it. */
const NT_PANEL_BYTES = 128 * 1024;
/** An `nn` block: outputs (columns of W) × rows of W, used by every row of A while it is in cache. */
const NN_BLOCK_COLS = 64;
const NN_BLOCK_ROWS = 256;
/**
 * `nn` packs each block of W before using it when A has NN_PACK_ROWS rows or more and rows of W
 * are NN_PACK_STRIDE bytes or more apart (in place, a block's rows would meet in the same cache sets).
 */
const NN_PACK_ROWS = 4;
const NN_PACK_STRIDE = 2048;
/** Rows of `tn` summed per block, and columns of B per block, so that a block of both operands stays in cache. */
const TN_ROW_BLOCK = 128;
const TN_BLOCK_COLS = 128;
/** Gradient rows per `tn` block, and the distance between A's rows from which their columns are packed. */
const TN_BLOCK_ROWS = 64;
const TN_PACK_STRIDE = 1024;
/** Where in the scratch area `tn` packs B (A from its start): after the largest block of A. */
const TN_SCRATCH_B = TN_ROW_BLOCK * TN_BLOCK_ROWS * 8;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const get = (x: string) => `(local.get $${x})`;
const set = (x: string, v: string) => `(local.set $${x} ${v})`;
const i32 = (n: number) => `(i32.const ${n})`;
const add = (a: string, b: string) => `(i32.add ${a} ${b})`;
const mul = (a: string, b: string) => `(i32.mul ${a} ${b})`;
const at = (base: string, bytes: number) => (bytes === 0 ? get(base) : add(get(base), i32(bytes)));

/** One function's body: the locals it declares and a label counter. */
class Fn {
  private readonly locals = new Map<string, string>();
  private labels = 0;

  constructor(private readonly p: Lanes) {}

  local(name: string, type: "i32" | "v128" | "scalar"): string {
    this.locals.set(name, type === "scalar" ? this.p.t : type);
    return name;
  }

  declarations(): string {
    return [...this.locals].map(([n, t]) => `(local $${n} ${t})`).join(" ");
  }

  /** `while (counter + width <= limit) { body; counter += width }`. */
  strip(counter: string, width: number, limit: string, body: string[]): string[] {
    const n = this.labels++;
    return [
      `(block $done${n} (loop $next${n}`,
      `(br_if $done${n} (i32.gt_s ${add(get(counter), i32(width))} ${limit}))`,
      ...body,
      set(counter, add(get(counter), i32(width))),
      `(br $next${n})))`,
    ];
  }
}

function vecOps(p: Lanes) {
  const bytes = 16;
  return {
    bytes,
    load: (ptr: string) => `(v128.load ${ptr})`,
    store: (ptr: string, v: string) => `(v128.store ${ptr} ${v})`,
    zero: "(v128.const i64x2 0 0)",
    madd: (acc: string, a: string, b: string) => set(acc, `(${p.v}.add ${get(acc)} (${p.v}.mul ${a} ${b}))`),
    splat: (x: string) => `(${p.v}.splat ${x})`,
    add: (a: string, b: string) => `(${p.v}.add ${a} ${b})`,
    hsum: (v: string) => {
      const lanes = range(p.L).map((l) => `(${p.v}.extract_lane ${l} ${v})`);
      return p.L === 4 ? `(${p.t}.add (${p.t}.add ${lanes[0]} ${lanes[1]}) (${p.t}.add ${lanes[2]} ${lanes[3]}))` : `(${p.t}.add ${lanes[0]} ${lanes[1]})`;
    },
  };
}

/** Byte versions of the element counts and strides every product starts with. */
function prelude(fn: Fn, p: Lanes, names: readonly string[]): string[] {
  return names.map((n) => set(fn.local(`${n}b`, "i32"), `(i32.shl ${get(n)} ${i32(p.S)})`));
}

/**
 * A product's start: byte versions of its counts and strides, the bytes of the whole vectors in
 * `vectorsOf` elements (the rest is a scalar tail), and its outer counter set to 0.
 */
function begin(p: Lanes, bytes: readonly string[], vectorsOf: string, vectorBytes: string, counter: string) {
  const fn = new Fn(p);
  const body: string[] = [
    ...prelude(fn, p, bytes),
    set(fn.local(vectorBytes, "i32"), `(i32.shl (i32.and ${get(vectorsOf)} ${i32(-p.L)}) ${i32(p.S)})`),
    set(fn.local(counter, "i32"), i32(0)),
  ];
  return { fn, v: vecOps(p), E: 1 << p.S, body };
}

/** Stores `value` into element `ptr`, or adds it there when `acc` is set. */
function storeMaybeAcc(p: Lanes, ptr: string, value: string): string {
  return `(${p.t}.store ${ptr} (select (${p.t}.add (${p.t}.load ${ptr}) ${value}) ${value} ${get("acc")}))`;
}

/** Tile heights from `full` down to one row: the full tile, then 2 rows (when smaller), then 1. */
const edges = (full: number) => [...new Set([full, Math.min(full, 2), 1])];

/** The smaller of two i32 expressions (each evaluated once: pass locals or constants). */
const min = (a: string, b: string) => `(select ${a} ${b} (i32.lt_s ${a} ${b}))`;

/**
 * `do { body } while (counter < limit)`, `counter` advancing by `step` and starting at 0: the body
 * runs at least once, so a product over an empty sum still writes its zeros.
 */
function blocks(fn: Fn, counter: string, step: string, limit: string, body: string[]): string[] {
  const label = `$${counter}Loop`;
  fn.local(counter, "i32");
  return [set(counter, i32(0)), `(loop ${label}`, ...body, set(counter, add(get(counter), step)), `(br_if ${label} (i32.lt_s ${get(counter)} ${limit})))`];
}

function nt(p: Lanes): string {
  const { fn, v, E, body } = begin(p, ["as", "ys", "K"], "K", "kv", "m");
  const NR = Math.max(...NT_TILES.map(([, n]) => n));
  const tile = (MR: number, NR: number): string[] => {
    const x = (i: number) => fn.local(`x${i}`, "v128");
    const w = (j: number) => fn.local(`w${j}`, "v128");
    const acc = (i: number, j: number) => fn.local(`v${i}${j}`, "v128");
    const s = (i: number, j: number) => fn.local(`s${i}${j}`, "scalar");
    const pw = (j: number) => fn.local(`pw${j}`, "i32");
    const pa = (i: number) => `a${i}`;
    const pairs = range(MR).flatMap((i) => range(NR).map((j) => [i, j] as const));
    const scalar = (ptr: string) => `(${p.t}.load ${ptr})`;
    return [
      ...range(NR).map((j) => set(pw(j), add(get("W"), mul(add(get("n"), i32(j)), get("Kb"))))),
      ...pairs.map(([i, j]) => set(acc(i, j), v.zero)),
      set("k", i32(0)),
      ...fn.strip("k", v.bytes, get("kv"), [
        ...range(MR).map((i) => set(x(i), v.load(add(get(pa(i)), get("k"))))),
        ...range(NR).map((j) => set(w(j), v.load(add(get(pw(j)), get("k"))))),
        ...pairs.map(([i, j]) => v.madd(acc(i, j), get(w(j)), get(x(i)))),
      ]),
      ...pairs.map(([i, j]) => set(s(i, j), v.hsum(get(acc(i, j))))),
      ...fn.strip("k", E, get("Kb"), pairs.map(([i, j]) =>
        set(s(i, j), `(${p.t}.add ${get(s(i, j))} (${p.t}.mul ${scalar(add(get(pa(i)), get("k")))} ${scalar(add(get(pw(j)), get("k")))}))`))),
      ...pairs.map(([i, j]) => storeMaybeAcc(p, add(get(`y${i}`), i32(j * E)), get(s(i, j)))),
      set("yn", add(get("yn"), i32(NR * E))),
    ];
  };
  for (const n of ["k", "n", "yn", "panel", "nEnd"]) fn.local(n, "i32");
  // The tile's output rows start at yn (row m, column n) and yn + i·ysb.
  const withRows = (MR: number, code: string[]) => [
    ...range(MR).map((i) => set(fn.local(`y${i}`, "i32"), i === 0 ? get("yn") : add(get("yn"), mul(i32(i), get("ysb"))))),
    ...code,
  ];
  const rows = (MR: number, NR: number): string[] => [
    ...range(MR).map((i) => set(fn.local(`a${i}`, "i32"), add(get("A"), mul(add(get("m"), i32(i)), get("asb"))))),
    set("n", get("n0")),
    set("yn", add(add(get("Y"), mul(get("m"), get("ysb"))), `(i32.shl ${get("n0")} ${i32(p.S)})`)),
    ...fn.strip("n", NR, get("nEnd"), withRows(MR, tile(MR, NR))),
    ...fn.strip("n", 1, get("nEnd"), withRows(MR, tile(MR, 1))),
  ];
  // A panel of W rows (a multiple of the widest tile, at least one tile) that fits NT_PANEL_BYTES.
  const perPanel = `(i32.div_u ${i32(NT_PANEL_BYTES)} (select ${get("Kb")} ${i32(1)} ${get("Kb")}))`;
  body.push(
    set("panel", `(i32.mul (i32.div_u ${perPanel} ${i32(NR)}) ${i32(NR)})`),
    set("panel", `(select ${get("panel")} ${i32(NR)} (i32.gt_s ${get("panel")} ${i32(NR)}))`),
    ...blocks(fn, "n0", get("panel"), get("N"), [
      set("nEnd", min(add(get("n0"), get("panel")), get("N"))),
      set("m", i32(0)),
      ...NT_TILES.flatMap(([MR, NR]) => fn.strip("m", MR, get("rows"), rows(MR, NR))),
    ]),
  );
  return func("nt", p, fn, body);
}

function nn(p: Lanes): string {
  const { fn, v, E, body } = begin(p, ["as", "ys", "K", "N"], "K", "kv", "m");
  const [MR, KV] = NN_TILE;
  for (const n of ["k", "n", "pw", "nEnd", "nEndb", "kEnd", "kvEnd", "add", "wk0", "wStride", "r"]) fn.local(n, "i32");
  const pa = (i: number) => fn.local(`a${i}`, "i32");
  const py = (i: number) => fn.local(`y${i}`, "i32");
  /** MR rows × KV vectors of outputs starting at byte k, summing W rows n0…nEnd; KV = 0: one scalar output. */
  const tile = (MR: number, KV: number): string[] => {
    const vec = KV > 0;
    const acc = (i: number, j: number) => fn.local(vec ? `v${i}${j}` : `s${i}`, vec ? "v128" : "scalar");
    const w = (j: number) => fn.local(vec ? `w${j}` : "ws", vec ? "v128" : "scalar");
    const a = (i: number) => fn.local(vec ? `x${i}` : `xs${i}`, vec ? "v128" : "scalar");
    const cols = range(Math.max(KV, 1));
    const pairs = range(MR).flatMap((i) => cols.map((j) => [i, j] as const));
    const zero = vec ? v.zero : `(${p.t}.const 0)`;
    const madd = (c: string, x: string, y: string) => (vec ? v.madd(c, x, y) : set(c, `(${p.t}.add ${get(c)} (${p.t}.mul ${x} ${y}))`));
    const load = (ptr: string) => (vec ? v.load(ptr) : `(${p.t}.load ${ptr})`);
    const elem = (i: number) => `(${p.t}.load ${add(get(`a${i}`), get("n"))})`;
    const result = (i: number, j: number) => add(add(get(`y${i}`), get("k")), i32(j * v.bytes));
    const sum = (i: number, j: number) => (vec ? v.add(v.load(result(i, j)), get(acc(i, j))) : `(${p.t}.add (${p.t}.load ${result(i, j)}) ${get(acc(i, j))})`);
    return [
      ...pairs.map(([i, j]) => set(acc(i, j), zero)),
      set("n", `(i32.shl ${get("n0")} ${i32(p.S)})`),
      set("pw", add(get("wk0"), get("k"))),
      ...fn.strip("n", E, get("nEndb"), [
        ...range(MR).map((i) => set(a(i), vec ? v.splat(elem(i)) : elem(i))),
        ...cols.map((j) => set(w(j), load(at("pw", j * v.bytes)))),
        ...pairs.map(([i, j]) => madd(acc(i, j), get(a(i)), get(w(j)))),
        set("pw", add(get("pw"), get("wStride"))),
      ]),
      ...pairs.map(([i, j]) => `(${vec ? "v128" : p.t}.store ${result(i, j)} (select ${sum(i, j)} ${get(acc(i, j))} ${get("add")}))`),
    ];
  };
  const rows = (MR: number): string[] => [
    ...range(MR).map((i) => set(pa(i), add(get("A"), mul(add(get("m"), i32(i)), get("asb"))))),
    ...range(MR).map((i) => set(py(i), add(get("Y"), mul(add(get("m"), i32(i)), get("ysb"))))),
    set("k", get("k0")),
    ...fn.strip("k", KV * v.bytes, get("kvEnd"), tile(MR, KV)),
    ...fn.strip("k", v.bytes, get("kvEnd"), tile(MR, 1)),
    ...fn.strip("k", E, get("kEnd"), tile(MR, 0)),
  ];
  // Blocks of NN_BLOCK_COLS outputs × NN_BLOCK_ROWS rows of W, each used by every row of A while
  // in cache; the first block of rows stores (or adds, with acc), the others add.
  body.push(
    ...blocks(fn, "k0", i32(NN_BLOCK_COLS << p.S), get("Kb"), [
      set("kEnd", min(add(get("k0"), i32(NN_BLOCK_COLS << p.S)), get("Kb"))),
      set("kvEnd", min(add(get("k0"), i32(NN_BLOCK_COLS << p.S)), get("kv"))),
      ...blocks(fn, "n0", i32(NN_BLOCK_ROWS), get("N"), [
        set("nEnd", min(add(get("n0"), i32(NN_BLOCK_ROWS)), get("N"))),
        set("nEndb", `(i32.shl ${get("nEnd")} ${i32(p.S)})`),
        set("add", `(i32.or ${get("acc")} (i32.ne ${get("n0")} ${i32(0)}))`),
        ...packBlock(fn),
        set("m", i32(0)),
        ...edges(MR).flatMap((r) => fn.strip("m", r, get("rows"), rows(r))),
      ]),
    ]),
  );
  return func("nn", p, fn, body);
}

/**
 * Where the tiles of an `nn` block read W: row n, byte k at wk0 + (n − n0)·wStride + k. With
 * enough rows, far enough apart (NN_PACK_ROWS, NN_PACK_STRIDE), and a scratch area, the block is first copied there row after row,
 * so that it is read from contiguous memory by every row of A; else in place.
 */
function packBlock(fn: Fn): string[] {
  const scratch = "(global.get $scratch)";
  return [
    `(if (i32.and (i32.ne ${scratch} ${i32(0)}) (i32.and (i32.ge_s ${get("rows")} ${i32(NN_PACK_ROWS)}) (i32.ge_s ${get("Kb")} ${i32(NN_PACK_STRIDE)})))`,
    `(then`,
    set("wStride", `(i32.sub ${get("kEnd")} ${get("k0")})`),
    set("wk0", `(i32.sub ${scratch} ${get("k0")})`),
    ...blocks(fn, "r", i32(1), `(i32.sub ${get("nEnd")} ${get("n0")})`, [
      `(memory.copy ${add(scratch, mul(get("r"), get("wStride")))} ${add(add(get("W"), mul(add(get("n0"), get("r")), get("Kb"))), get("k0"))} ${get("wStride")})`,
    ]),
    `)`,
    `(else`,
    set("wStride", get("Kb")),
    set("wk0", add(get("W"), mul(get("n0"), get("Kb")))),
    `))`,
  ];
}

/**
 * Where the tiles of a `tn` block read an operand (A or B): row m, byte b at base + (m − m0)·stride
 * + b. When its rows lie TN_PACK_STRIDE bytes or more apart and there is a scratch area, bytes
 * first…end of rows m0…mEnd are first copied to scratch + at, `width` bytes a row; else in place.
 */
function pack(fn: Fn, o: { base: string; stride: string; from: string; rowBytes: string; first: string; end: string; width: number; at: number }): string[] {
  const to = add("(global.get $scratch)", i32(o.at));
  return [
    `(if (i32.and (i32.ne (global.get $scratch) ${i32(0)}) (i32.ge_s ${get(o.rowBytes)} ${i32(TN_PACK_STRIDE)}))`,
    `(then`,
    set(o.stride, i32(o.width)),
    set(o.base, `(i32.sub ${to} ${o.first})`),
    ...blocks(fn, "pm", i32(1), `(i32.sub ${get("mEnd")} ${get("m0")})`, [
      `(memory.copy ${add(to, mul(get("pm"), i32(o.width)))} ${add(add(get(o.from), mul(add(get("m0"), get("pm")), get(o.rowBytes))), o.first)} (i32.sub ${o.end} ${o.first}))`,
    ]),
    `)`,
    `(else`,
    set(o.stride, get(o.rowBytes)),
    set(o.base, add(get(o.from), mul(get("m0"), get(o.rowBytes)))),
    `))`,
  ];
}

function tn(p: Lanes): string {
  const { fn, v, E, body } = begin(p, ["as", "bs", "C"], "C", "cv", "m0");
  const [RR0, CV0] = TN_TILE;
  for (const n of ["mEnd", "r", "c", "m", "pa", "pb", "pg", "cEnd", "cvEnd", "rEnd", "aBase", "aStride", "bBase", "bStride"]) fn.local(n, "i32");
  /** RR gradient rows × CV vectors of columns at byte c; CV = 0: one scalar column. */
  const tile = (RR: number, CV: number): string[] => {
    const vec = CV > 0;
    const cols = range(Math.max(CV, 1));
    const acc = (i: number, j: number) => fn.local(vec ? `v${i}${j}` : `s${i}`, vec ? "v128" : "scalar");
    const a = (i: number) => fn.local(vec ? `x${i}` : `xs${i}`, vec ? "v128" : "scalar");
    const b = (j: number) => fn.local(vec ? `w${j}` : "ws", vec ? "v128" : "scalar");
    const pairs = range(RR).flatMap((i) => cols.map((j) => [i, j] as const));
    const elem = (i: number) => `(${p.t}.load ${at("pa", i * E)})`;
    const load = (ptr: string) => (vec ? v.load(ptr) : `(${p.t}.load ${ptr})`);
    const madd = (c: string, x: string, y: string) => (vec ? v.madd(c, x, y) : set(c, `(${p.t}.add ${get(c)} (${p.t}.mul ${x} ${y}))`));
    // G row r + i starts at pg + i·Cb.
    const g = (i: number, j: number) => add(add(get("pg"), mul(i32(i), get("Cb"))), i32(j * v.bytes));
    return [
      ...pairs.map(([i, j]) => set(acc(i, j), vec ? v.zero : `(${p.t}.const 0)`)),
      set("m", get("m0")),
      set("pa", add(get("aBase"), `(i32.shl ${get("r")} ${i32(p.S)})`)),
      set("pb", add(get("bBase"), get("c"))),
      ...fn.strip("m", 1, get("mEnd"), [
        ...range(RR).map((i) => set(a(i), vec ? v.splat(elem(i)) : elem(i))),
        ...cols.map((j) => set(b(j), load(at("pb", j * v.bytes)))),
        ...pairs.map(([i, j]) => madd(acc(i, j), get(a(i)), get(b(j)))),
        set("pa", add(get("pa"), get("aStride"))),
        set("pb", add(get("pb"), get("bStride"))),
      ]),
      set("pg", add(add(get("G"), mul(get("r"), get("Cb"))), get("c"))),
      ...pairs.map(([i, j]) =>
        vec
          ? v.store(g(i, j), v.add(v.load(g(i, j)), get(acc(i, j))))
          : `(${p.t}.store ${g(i, j)} (${p.t}.add (${p.t}.load ${g(i, j)}) ${get(acc(i, j))}))`),
    ];
  };
  const cols = (RR: number): string[] => [
    set("c", get("c0")),
    ...fn.strip("c", CV0 * v.bytes, get("cvEnd"), tile(RR, CV0)),
    ...fn.strip("c", v.bytes, get("cvEnd"), tile(RR, 1)),
    ...fn.strip("c", E, get("cEnd"), tile(RR, 0)),
  ];
  // Blocks of TN_ROW_BLOCK rows × TN_BLOCK_COLS columns of B, and within them of TN_BLOCK_ROWS
  // gradient rows (columns of A), each packed when its rows lie far apart and used by every tile
  // of the block while in cache.
  const cb = i32(TN_BLOCK_COLS << p.S);
  body.push(
    `(block $blocks (loop $block`,
    `(br_if $blocks (i32.ge_s ${get("m0")} ${get("rows")}))`,
    set("mEnd", min(add(get("m0"), i32(TN_ROW_BLOCK)), get("rows"))),
    ...blocks(fn, "c0", cb, get("Cb"), [
      set("cEnd", min(add(get("c0"), cb), get("Cb"))),
      set("cvEnd", min(add(get("c0"), cb), get("cv"))),
      ...pack(fn, { base: "bBase", stride: "bStride", from: "B", rowBytes: "bsb", first: get("c0"), end: get("cEnd"), width: TN_BLOCK_COLS << p.S, at: TN_SCRATCH_B }),
      ...blocks(fn, "r0", i32(TN_BLOCK_ROWS), get("R"), [
        set("rEnd", min(add(get("r0"), i32(TN_BLOCK_ROWS)), get("R"))),
        ...pack(fn, { base: "aBase", stride: "aStride", from: "A", rowBytes: "asb", first: `(i32.shl ${get("r0")} ${i32(p.S)})`, end: `(i32.shl ${get("rEnd")} ${i32(p.S)})`, width: TN_BLOCK_ROWS << p.S, at: 0 }),
        set("r", get("r0")),
        ...edges(RR0).flatMap((r) => fn.strip("r", r, get("rEnd"), cols(r))),
      ]),
    ]),
    set("m0", add(get("m0"), i32(TN_ROW_BLOCK))),
    `(br $block)))`,
  );
  return func("tn", p, fn, body);
}

/** Product `name` in precision `p`, with the parameters the ABI gives its WebAssembly function. */
function func(name: ProductName, p: Lanes, fn: Fn, body: readonly string[]): string {
  return [
    `(func (export "${name}_${p.t}") ${wasmProductParams(name).map((n) => `(param $${n} i32)`).join(" ")}`,
    fn.declarations(),
    ...body,
    ")",
  ].join("\n");
}

/**
 * The whole module: products in both precisions and the float32 maps (maps.ts) over an imported
 * memory, and the scratch area
 * `nn` and `tn` pack blocks of W and A into: `scratch` is its byte address (0, the default, means
 * none: they read in place), `scratch_bytes` the room it needs. One instance, one scratch area.
 */
export function productsWat(): string {
  const funcs = [...[F32, F64].flatMap((p) => [nt(p), nn(p), tn(p)]), ...mapsWat()];
  return [
    "(module",
    '(import "env" "memory" (memory 1))',
    '(global $scratch (export "scratch") (mut i32) (i32.const 0))',
    `(global (export "scratch_bytes") i32 (i32.const ${Math.max(NN_BLOCK_COLS * NN_BLOCK_ROWS * 8, TN_SCRATCH_B + TN_ROW_BLOCK * TN_BLOCK_COLS * 8)}))`,
    ...funcs,
    ")",
  ].join("\n");
}
