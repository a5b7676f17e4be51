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
 *   nt  4 rows × 2 outputs, then 2 rows × 4 and 1 row × 4 (8 or 4 vector accumulators; the remaining
 *       outputs one at a time), the dot products along contiguous k; panels of W rows
 *       (NT_PANEL_BYTES) in the outer loop. The 4-row tiles read A from the scratch area, each 4
 *       rows copied there first with their vectors interleaved, so the tile reads them through
 *       one pointer and constant offsets (V8 spends an instruction on the address of each
 *       pointer: 3 instead of 6 an iteration, beside 16 multiplies and adds); they run for panels
 *       of NT_PACK_OUTPUTS outputs or more (to share the copy), and the 2-row tiles otherwise.
 *       Without a k tail (K a multiple of the lanes), the lanes of L accumulators are summed at
 *       once by shuffles and stored as one vector.
 *   nn  2 rows × 4 vectors of outputs (then 1 vector, 1 element), the rows' elements of A splat
 *       from memory; blocks of NN_BLOCK_ROWS rows of W, and in each, strips of 4 vectors of
 *       outputs used by every row of A in turn, copied to the scratch area first (rows one after
 *       another) when A has NN_PACK_ROWS rows or more.
 *   tn  4 gradient rows × 2 vectors of columns; blocks of TN_ROW_BLOCK rows × TN_BLOCK_COLS columns.
 *
 * Addresses that differ by a constant are one pointer and constant offsets (folded into the load
 * by the engine), and each loaded vector is used by every accumulator that needs it.
 *
 * Summation order, which the exactness of optimized builds rests on: `nt` sums each output in
 * vector lanes over k (lane l takes k ≡ l mod L, in order), adds the lanes pairwise ((l0 + l1) +
 * (l2 + l3) in f32x4), then the k tail in order — the same for every output, whatever the rows,
 * N, the tile or the panel (so a stacked or hoisted product gives the bits of the separate ones;
 * tests/products.test.ts checks it). `nn` sums each block of NN_BLOCK_ROWS rows of W in order
 * from zero and adds it to Y; `tn` sums each block of TN_ROW_BLOCK rows in order from zero and
 * adds it to G. Both depend on N or the rows, and only the backward uses them (to 1e-12 against
 * unoptimized builds, README "Exactness").
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
/**
 * `nt` tiles of NT_PACK_TILE_ROWS rows read A's rows from the scratch area, their vectors
 * interleaved (one pointer and constant offsets instead of a pointer a row), when the panel has
 * NT_PACK_OUTPUTS outputs or more to share the copy.
 */
const NT_PACK_TILE_ROWS = 4;
const NT_PACK_OUTPUTS = 16;
/** Rows of W in an `nn` block: the outputs of a strip sum them from zero, then add to Y. */
const NN_BLOCK_ROWS = 256;
/**
 * `nn` copies each strip of a block (NN_BLOCK_ROWS × 4 vectors, 16 KiB) to the scratch area before
 * using it when A has NN_PACK_ROWS rows or more: in place, the strip's rows lie Kb apart and meet
 * in the same cache sets.
 */
const NN_PACK_ROWS = 16;
/** Rows of `tn` summed per block, and columns of B per block, so that a block of both operands stays in cache. */
const TN_ROW_BLOCK = 128;
const TN_BLOCK_COLS = 128;
/** Gradient rows per `tn` block, and the distance between A's rows from which their columns are packed. */
const TN_BLOCK_ROWS = 64;
const TN_PACK_STRIDE = 1024;
/** Where in the scratch area `tn` packs B (A from its start): after the largest block of A. */
const TN_SCRATCH_B = TN_ROW_BLOCK * TN_BLOCK_ROWS * 8;

/** The scratch area's size: the largest block `nn` or `tn` packs. */
const SCRATCH_BYTES = Math.max(NN_BLOCK_ROWS * NN_TILE[1] * 16, TN_SCRATCH_B + TN_ROW_BLOCK * TN_BLOCK_COLS * 8);
// A panel of NT_PACK_OUTPUTS W rows fits NT_PANEL_BYTES, so the NT_PACK_TILE_ROWS rows of A `nt`
// packs for it (as long as a W row) fit the scratch area; their interleaved offsets are shifts.
if ((NT_PACK_TILE_ROWS * NT_PANEL_BYTES) / NT_PACK_OUTPUTS > SCRATCH_BYTES || !Number.isInteger(Math.log2(NT_PACK_TILE_ROWS)))
  throw new Error("nt: the packed rows of A must fit the scratch area, and be a power of two");

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const get = (x: string) => `(local.get $${x})`;
const set = (x: string, v: string) => `(local.set $${x} ${v})`;
const i32 = (n: number) => `(i32.const ${n})`;
const add = (a: string, b: string) => `(i32.add ${a} ${b})`;
const mul = (a: string, b: string) => `(i32.mul ${a} ${b})`;

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

/** `op` of `ptr` with a constant byte offset (folded into the address by the engine). */
const mem = (op: string, ptr: string, offset: number, ...rest: string[]) =>
  `(${[op, ...(offset ? [`offset=${offset}`] : []), ptr, ...rest].join(" ")})`;

function vecOps(p: Lanes) {
  const bytes = 16;
  return {
    bytes,
    load: (ptr: string, offset = 0) => mem("v128.load", ptr, offset),
    /** One element at `ptr` in every lane. */
    splatLoad: (ptr: string, offset = 0) => mem(`v128.load${8 << p.S}_splat`, ptr, offset),
    store: (ptr: string, v: string, offset = 0) => mem("v128.store", ptr, offset, v),
    zero: "(v128.const i64x2 0 0)",
    madd: (acc: string, a: string, b: string) => set(acc, `(${p.v}.add ${get(acc)} (${p.v}.mul ${a} ${b}))`),
    splat: (x: string) => `(${p.v}.splat ${x})`,
    add: (a: string, b: string) => `(${p.v}.add ${a} ${b})`,
    hsum: (v: string) => {
      const lanes = range(p.L).map((l) => `(${p.v}.extract_lane ${l} ${v})`);
      return p.L === 4 ? `(${p.t}.add (${p.t}.add ${lanes[0]} ${lanes[1]}) (${p.t}.add ${lanes[2]} ${lanes[3]}))` : `(${p.t}.add ${lanes[0]} ${lanes[1]})`;
    },
    /**
     * The lane sums of L vectors as one vector (lane i: vector i's), each added as `hsum` adds it:
     * (l0 + l1) + (l2 + l3) in f32x4, l0 + l1 in f64x2 — by shuffles instead of lane extracts.
     */
    hsums: (vs: readonly string[]): string => {
      const E = 1 << p.S;
      // Lanes `lanes` (of the 2L lanes of a then b) as one vector.
      const pick = (a: string, b: string, lanes: number[]) => `(i8x16.shuffle ${lanes.flatMap((l) => range(E).map((x) => l * E + x)).join(" ")} ${a} ${b})`;
      const pairs = (a: string, b: string) => {
        const even = range(p.L).map((l) => 2 * l);
        return `(${p.v}.add ${pick(a, b, even)} ${pick(a, b, even.map((l) => l + 1))})`;
      };
      return p.L === 4 ? pairs(pairs(vs[0]!, vs[1]!), pairs(vs[2]!, vs[3]!)) : pairs(vs[0]!, vs[1]!);
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
  const L = p.L;
  const NR = Math.max(...NT_TILES.map(([, n]) => n));
  // packed: the vectors of A's MR rows are read from the scratch area, where `rows` interleaved them.
  const tile = (MR: number, NR: number, packed = false): string[] => {
    const w = (j: number) => fn.local(`w${j}`, "v128");
    const x = (i: number) => fn.local(`x${i}`, "v128");
    const acc = (i: number, j: number) => fn.local(`v${i}_${j}`, "v128");
    const s = (i: number, j: number) => fn.local(`s${i}_${j}`, "scalar");
    const pw = (j: number) => fn.local(`pw${j}`, "i32");
    const pa = (i: number) => `a${i}`;
    const pairs = range(MR).flatMap((i) => range(NR).map((j) => [i, j] as const));
    const scalar = (ptr: string) => `(${p.t}.load ${ptr})`;
    // One vector of k (at byte k + offset) for every pair; the operand used by more pairs is
    // loaded first, the other just before its uses, so few vectors are live at once.
    const step = (offset: number): string[] => {
      const loadW = (j: number) => set(w(j), v.load(add(get(pw(j)), get("k")), offset));
      const loadX = (i: number) =>
        set(x(i), packed ? v.load(add(get("pp"), `(i32.shl ${get("k")} ${i32(Math.log2(MR))})`), offset * MR + i * v.bytes) : v.load(add(get(pa(i)), get("k")), offset));
      return MR >= NR
        ? [...range(NR).map(loadW), ...range(MR).flatMap((i) => [loadX(i), ...range(NR).map((j) => v.madd(acc(i, j), get(w(j)), get(x(i))))])]
        : [...range(MR).map(loadX), ...range(NR).flatMap((j) => [loadW(j), ...range(MR).map((i) => v.madd(acc(i, j), get(w(j)), get(x(i))))])];
    };
    // Each output: lane sums, then the k tail in order; stored one element at a time.
    const scalarEnd = [
      ...pairs.map(([i, j]) => set(s(i, j), v.hsum(get(acc(i, j))))),
      ...fn.strip("k", E, get("Kb"), pairs.map(([i, j]) =>
        set(s(i, j), `(${p.t}.add ${get(s(i, j))} (${p.t}.mul ${scalar(add(get(pa(i)), get("k")))} ${scalar(add(get(pw(j)), get("k")))}))`))),
      ...pairs.map(([i, j]) => storeMaybeAcc(p, add(get(`y${i}`), i32(j * E)), get(s(i, j)))),
    ];
    return [
      set(pw(0), add(get("W"), mul(get("n"), get("Kb")))),
      ...range(NR - 1).map((j) => set(pw(j + 1), add(get(pw(j)), get("Kb")))),
      ...pairs.map(([i, j]) => set(acc(i, j), v.zero)),
      set("k", i32(0)),
      ...fn.strip("k", v.bytes, get("kv"), step(0)),
      // Without a k tail, L outputs at a time: their lane sums by shuffles, stored as one vector
      // (or in lanes of NR outputs, one row each).
      ...((MR * NR) % L === 0 && (NR % L === 0 || L % NR === 0)
        ? [`(if (i32.eq ${get("kv")} ${get("Kb")})`, "(then", ...vectorEnd(p, fn, MR, NR, acc), ")", "(else", ...scalarEnd, "))"]
        : scalarEnd),
      set("yn", add(get("yn"), i32(NR * E))),
    ];
  };
  for (const n of ["k", "n", "yn", "panel", "nEnd"]) fn.local(n, "i32");
  const pa = (i: number) => `a${i}`;
  // The tile's output rows start at yn (row m, column n) and yn + i·ysb.
  const withRows = (MR: number, code: string[]) => [
    ...range(MR).map((i) => set(fn.local(`y${i}`, "i32"), i === 0 ? get("yn") : add(get(`y${i - 1}`), get("ysb")))),
    ...code,
  ];
  const outputs = (MR: number, NR: number, packed: boolean): string[] => [
    set("n", get("n0")),
    set("yn", add(add(get("Y"), mul(get("m"), get("ysb"))), `(i32.shl ${get("n0")} ${i32(p.S)})`)),
    ...fn.strip("n", NR, get("nEnd"), withRows(MR, tile(MR, NR, packed))),
    ...fn.strip("n", 1, get("nEnd"), withRows(MR, tile(MR, 1, packed))),
  ];
  const rows = (MR: number, NR: number): string[] => [
    ...range(MR).map((i) => set(fn.local(`a${i}`, "i32"), i === 0 ? add(get("A"), mul(get("m"), get("asb"))) : add(get(`a${i - 1}`), get("asb")))),
    ...(MR === NT_PACK_TILE_ROWS
      ? [
          // The rows' vectors of k to the scratch area: vector q of row i at pp + (q·MR + i)·16.
          set(fn.local("pp", "i32"), "(global.get $scratch)"),
          set("k", i32(0)),
          ...fn.strip("k", v.bytes, get("kv"), range(MR).map((i) => v.store(add(get("pp"), `(i32.shl ${get("k")} ${i32(Math.log2(MR))})`), v.load(add(get(pa(i)), get("k"))), i * v.bytes))),
          ...outputs(MR, NR, true),
        ]
      : outputs(MR, NR, false)),
  ];
  // A panel of W rows (a multiple of the widest tile, at least one tile) that fits NT_PANEL_BYTES.
  const perPanel = `(i32.div_u ${i32(NT_PANEL_BYTES)} (select ${get("Kb")} ${i32(1)} ${get("Kb")}))`;
  body.push(
    set("panel", `(i32.mul (i32.div_u ${perPanel} ${i32(NR)}) ${i32(NR)})`),
    set("panel", `(select ${get("panel")} ${i32(NR)} (i32.gt_s ${get("panel")} ${i32(NR)}))`),
    ...blocks(fn, "n0", get("panel"), get("N"), [
      set("nEnd", min(add(get("n0"), get("panel")), get("N"))),
      // Pack A's rows when there is a scratch area and the panel has NT_PACK_OUTPUTS outputs or more.
      set(fn.local("packA", "i32"), `(i32.and (i32.ne (global.get $scratch) ${i32(0)}) (i32.ge_s (i32.sub ${get("nEnd")} ${get("n0")}) ${i32(NT_PACK_OUTPUTS)}))`),
      set("m", i32(0)),
      // Tiles of NT_PACK_TILE_ROWS rows only packed (else the smaller tiles take every row).
      ...NT_TILES.flatMap(([MR, NR]) =>
        MR === NT_PACK_TILE_ROWS ? [`(if ${get("packA")}`, "(then", ...fn.strip("m", MR, get("rows"), rows(MR, NR)), "))"] : fn.strip("m", MR, get("rows"), rows(MR, NR))),
    ]),
  );
  return func("nt", p, fn, body);
}

/**
 * The end of an `nt` tile without a k tail: the accumulators of pairs (i, j) in row-major order, L
 * at a time, summed into one vector by `hsums` and stored (added to Y with acc) at once: a vector
 * of L outputs of one row when NR ≥ L, else lanes of NR outputs of L / NR rows.
 */
function vectorEnd(p: Lanes, fn: Fn, MR: number, NR: number, acc: (i: number, j: number) => string): string[] {
  const v = vecOps(p);
  const E = 1 << p.S;
  const L = p.L;
  const r = fn.local("r", "v128");
  const old = fn.local("old", "v128");
  const out: string[] = [];
  for (let g = 0; g < (MR * NR) / L; g++) {
    const idx = range(L).map((l) => g * L + l);
    out.push(set(r, v.hsums(idx.map((q) => get(acc(Math.floor(q / NR), q % NR))))));
    const [i0, j0] = [Math.floor((g * L) / NR), (g * L) % NR];
    if (NR >= L) {
      out.push(v.store(get(`y${i0}`), `(select ${v.add(v.load(get(`y${i0}`), j0 * E), get(r))} ${get(r)} ${get("acc")})`, j0 * E));
    } else {
      // Lane c holds row i0 + c's NR outputs from column j0 = 0.
      const bits = NR * E * 8;
      const chunks = L / NR;
      out.push(set(old, v.zero));
      for (let c = 0; c < chunks; c++) out.push(set(old, `(v128.load${bits}_lane ${c} ${get(`y${i0 + c}`)} ${get(old)})`));
      out.push(set(r, `(select ${v.add(get(old), get(r))} ${get(r)} ${get("acc")})`));
      for (let c = 0; c < chunks; c++) out.push(`(v128.store${bits}_lane ${c} ${get(`y${i0 + c}`)} ${get(r)})`);
    }
  }
  return out;
}

function nn(p: Lanes): string {
  const { fn, v, E, body } = begin(p, ["as", "ys", "K", "N"], "K", "kv", "m");
  const [MR, KV] = NN_TILE;
  for (const n of ["k", "n", "pw", "nEnd", "n0b", "nEndb", "add", "wp0", "wStride", "pd", "pe"]) fn.local(n, "i32");
  const pa = (i: number) => fn.local(`a${i}`, "i32");
  const py = (i: number) => fn.local(`y${i}`, "i32");
  /** MR rows × KV vectors of outputs starting at byte k, summing W rows n0…nEnd; KV = 0: one scalar output. */
  const tile = (MR: number, KV: number): string[] => {
    const vec = KV > 0;
    const acc = (i: number, j: number) => fn.local(vec ? `v${i}_${j}` : `s${i}`, vec ? "v128" : "scalar");
    const w = (j: number) => fn.local(vec ? `w${j}` : "ws", vec ? "v128" : "scalar");
    const a = (i: number) => fn.local(vec ? `x${i}` : `xs${i}`, vec ? "v128" : "scalar");
    const cols = range(Math.max(KV, 1));
    const zero = vec ? v.zero : `(${p.t}.const 0)`;
    const madd = (c: string, x: string, y: string) => (vec ? v.madd(c, x, y) : set(c, `(${p.t}.add ${get(c)} (${p.t}.mul ${x} ${y}))`));
    const load = (ptr: string, offset: number) => (vec ? v.load(ptr, offset) : mem(`${p.t}.load`, ptr, offset));
    const elem = (i: number) => (vec ? v.splatLoad : (ptr: string) => mem(`${p.t}.load`, ptr, 0))(add(get(`a${i}`), get("n")));
    const result = (i: number) => add(get(`y${i}`), get("k"));
    const sum = (i: number, j: number) => (vec ? v.add(v.load(result(i), j * v.bytes), get(acc(i, j))) : `(${p.t}.add ${mem(`${p.t}.load`, result(i), 0)} ${get(acc(i, j))})`);
    return [
      ...range(MR).flatMap((i) => cols.map((j) => set(acc(i, j), zero))),
      set("n", get("n0b")),
      set("pw", get("wp0")),
      ...fn.strip("n", E, get("nEndb"), [
        // The rows' elements of A first, then each vector of W row n just before its uses.
        ...range(MR).map((i) => set(a(i), elem(i))),
        ...cols.flatMap((j) => [set(w(j), load(get("pw"), j * v.bytes)), ...range(MR).map((i) => madd(acc(i, j), get(a(i)), get(w(j))))]),
        set("pw", add(get("pw"), get("wStride"))),
      ]),
      ...range(MR).flatMap((i) => cols.map((j) => mem(`${vec ? "v128" : p.t}.store`, result(i), j * v.bytes, `(select ${sum(i, j)} ${get(acc(i, j))} ${get("add")})`))),
    ];
  };
  /** Every row of A, in tiles of MR rows and fewer, for the outputs at byte k. */
  const rows = (KV: number): string[] => [
    set("m", i32(0)),
    ...edges(MR).flatMap((r) =>
      fn.strip("m", r, get("rows"), [
        ...range(r).map((i) => set(pa(i), i === 0 ? add(get("A"), mul(get("m"), get("asb"))) : add(get(`a${i - 1}`), get("asb")))),
        ...range(r).map((i) => set(py(i), i === 0 ? add(get("Y"), mul(get("m"), get("ysb"))) : add(get(`y${i - 1}`), get("ysb")))),
        ...tile(r, KV),
      ]),
    ),
  ];
  // Blocks of NN_BLOCK_ROWS rows of W, and in them strips of outputs (KV vectors, then one, then
  // one element), each used by every row of A while in cache; the first block stores (or adds,
  // with acc), the others add. With NN_PACK_ROWS rows of A or more, a strip of KV vectors is first
  // copied to the scratch area (its rows one after another: every row of A then reads it from
  // contiguous memory, without W's rows meeting in the same cache sets).
  const inPlace = [set("wp0", add(add(get("W"), mul(get("n0"), get("Kb"))), get("k"))), set("wStride", get("Kb"))];
  const scratch = "(global.get $scratch)";
  const stripBytes = KV * v.bytes;
  body.push(
    ...blocks(fn, "n0", i32(NN_BLOCK_ROWS), get("N"), [
      set("nEnd", min(add(get("n0"), i32(NN_BLOCK_ROWS)), get("N"))),
      set("n0b", `(i32.shl ${get("n0")} ${i32(p.S)})`),
      set("nEndb", `(i32.shl ${get("nEnd")} ${i32(p.S)})`),
      set("add", `(i32.or ${get("acc")} (i32.ne ${get("n0")} ${i32(0)}))`),
      set("k", i32(0)),
      ...fn.strip("k", stripBytes, get("kv"), [
        ...inPlace,
        `(if (i32.and (i32.ne ${scratch} ${i32(0)}) (i32.ge_s ${get("rows")} ${i32(NN_PACK_ROWS)}))`,
        "(then",
        // From wp0 (row n0) to the scratch area, stripBytes a row, until its end pe.
        set("pe", add(scratch, mul(`(i32.sub ${get("nEnd")} ${get("n0")})`, i32(stripBytes)))),
        set("pd", scratch),
        `(block $packed (loop $pack`,
        `(br_if $packed (i32.ge_u ${get("pd")} ${get("pe")}))`,
        ...range(KV).map((j) => v.store(get("pd"), v.load(get("wp0"), j * v.bytes), j * v.bytes)),
        set("wp0", add(get("wp0"), get("Kb"))),
        set("pd", add(get("pd"), i32(stripBytes))),
        "(br $pack)))",
        set("wp0", scratch),
        set("wStride", i32(stripBytes)),
        "))",
        ...rows(KV),
      ]),
      ...fn.strip("k", v.bytes, get("kv"), [...inPlace, ...rows(1)]),
      ...fn.strip("k", E, get("Kb"), [...inPlace, ...rows(0)]),
    ]),
  );
  return func("nn", p, fn, body);
}

/**
 * Where the tiles of a `tn` block read an operand (A or B): row m, byte b at base + (m − m0)·stride
 * + b. When its rows lie TN_PACK_STRIDE bytes or more apart and there is a scratch area, bytes
 * first…end of rows m0…mEnd are first copied to scratch + at, `width` bytes a row; else in place.
 */
function pack(fn: Fn, p: Lanes, o: { base: string; stride: string; from: string; rowBytes: string; first: string; end: string; width: number; at: number }): string[] {
  const to = add("(global.get $scratch)", i32(o.at));
  const [E, t] = [1 << p.S, p.t];
  for (const n of ["pLen", "pLenv", "pSrc", "pDst", "pq"]) fn.local(n, "i32");
  return [
    `(if (i32.and (i32.ne (global.get $scratch) ${i32(0)}) (i32.ge_s ${get(o.rowBytes)} ${i32(TN_PACK_STRIDE)}))`,
    `(then`,
    set(o.stride, i32(o.width)),
    set(o.base, `(i32.sub ${to} ${o.first})`),
    set("pLen", `(i32.sub ${o.end} ${o.first})`),
    set("pLenv", `(i32.and ${get("pLen")} ${i32(-16)})`),
    set("pSrc", add(add(get(o.from), mul(get("m0"), get(o.rowBytes))), o.first)),
    set("pDst", to),
    // Row by row: whole vectors, then the last elements one by one (nothing read past `end`).
    ...blocks(fn, "pm", i32(1), `(i32.sub ${get("mEnd")} ${get("m0")})`, [
      set("pq", i32(0)),
      ...fn.strip("pq", 16, get("pLenv"), [`(v128.store ${add(get("pDst"), get("pq"))} (v128.load ${add(get("pSrc"), get("pq"))}))`]),
      ...fn.strip("pq", E, get("pLen"), [`(${t}.store ${add(get("pDst"), get("pq"))} (${t}.load ${add(get("pSrc"), get("pq"))}))`]),
      set("pSrc", add(get("pSrc"), get(o.rowBytes))),
      set("pDst", add(get("pDst"), i32(o.width))),
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
    const elem = (i: number) => (vec ? v.splatLoad(get("pa"), i * E) : mem(`${p.t}.load`, get("pa"), i * E));
    const load = (ptr: string, offset: number) => (vec ? v.load(ptr, offset) : mem(`${p.t}.load`, ptr, offset));
    const madd = (c: string, x: string, y: string) => (vec ? v.madd(c, x, y) : set(c, `(${p.t}.add ${get(c)} (${p.t}.mul ${x} ${y}))`));
    // G row r + i starts at pg + i·Cb.
    const g = (i: number, j: number) => add(add(get("pg"), mul(i32(i), get("Cb"))), i32(j * v.bytes));
    return [
      ...pairs.map(([i, j]) => set(acc(i, j), vec ? v.zero : `(${p.t}.const 0)`)),
      set("m", get("m0")),
      set("pa", add(get("aBase"), `(i32.shl ${get("r")} ${i32(p.S)})`)),
      set("pb", add(get("bBase"), get("c"))),
      ...fn.strip("m", 1, get("mEnd"), [
        // The vectors of B first, then each row's element of A just before its uses.
        ...cols.map((j) => set(b(j), load(get("pb"), j * v.bytes))),
        ...range(RR).flatMap((i) => [set(a(i), elem(i)), ...cols.map((j) => madd(acc(i, j), get(a(i)), get(b(j))))]),
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
      ...pack(fn, p, { base: "bBase", stride: "bStride", from: "B", rowBytes: "bsb", first: get("c0"), end: get("cEnd"), width: TN_BLOCK_COLS << p.S, at: TN_SCRATCH_B }),
      ...blocks(fn, "r0", i32(TN_BLOCK_ROWS), get("R"), [
        set("rEnd", min(add(get("r0"), i32(TN_BLOCK_ROWS)), get("R"))),
        ...pack(fn, p, { base: "aBase", stride: "aStride", from: "A", rowBytes: "asb", first: `(i32.shl ${get("r0")} ${i32(p.S)})`, end: `(i32.shl ${get("rEnd")} ${i32(p.S)})`, width: TN_BLOCK_ROWS << p.S, at: 0 }),
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
    `(global (export "scratch_bytes") i32 (i32.const ${SCRATCH_BYTES}))`,
    ...funcs,
    ")",
  ].join("\n");
}
