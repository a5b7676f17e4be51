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
 * one element, so any size is valid. Tile shapes: `nt` 2 rows × 4 outputs (8 vector
 * accumulators; the dot products run along contiguous k), `nn` 2 rows × 4 vectors of outputs,
 * `tn` 4 gradient rows × 2 vectors of columns, over blocks of rows that stay in cache.
 *
 * `rnnc` writes this text into src/runtime/products-wasm.ts as bytes (compiler/wasm/build.ts);
 * nothing here runs when kernels run.
 */

import { wasmProductParams, type DType, type ProductName } from "../../src/runtime/abi.js";

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

/** Rows of `tn` summed per block, so that a block of both operands stays in the L2 cache. */
const TN_ROW_BLOCK = 128;

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

function nt(p: Lanes): string {
  const { fn, v, E, body } = begin(p, ["as", "ys", "K"], "K", "kv", "m");
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
      ...pairs.map(([i, j]) => storeMaybeAcc(p, add(get(`y${i}`), i32((j) * E)), get(s(i, j)))),
      set("yn", add(get("yn"), i32(NR * E))),
    ];
  };
  fn.local("k", "i32");
  fn.local("n", "i32");
  fn.local("yn", "i32");
  const rows = (MR: number): string[] => [
    ...range(MR).map((i) => set(fn.local(`a${i}`, "i32"), add(get("A"), mul(add(get("m"), i32(i)), get("asb"))))),
    set("n", i32(0)),
    set("yn", add(get("Y"), mul(get("m"), get("ysb")))),
    ...fn.strip("n", 4, get("N"), withRows(MR, tile(MR, 4))),
    ...fn.strip("n", 1, get("N"), withRows(MR, tile(MR, 1))),
  ];
  // The tile's output rows start at yn (row m) and yn + ysb (row m + 1).
  const withRows = (MR: number, code: string[]) => [
    ...range(MR).map((i) => set(fn.local(`y${i}`, "i32"), i === 0 ? get("yn") : add(get("yn"), get("ysb")))),
    ...code,
  ];
  body.push(...fn.strip("m", 2, get("rows"), rows(2)), ...fn.strip("m", 1, get("rows"), rows(1)));
  return func("nt", p, fn, body);
}

function nn(p: Lanes): string {
  const { fn, v, E, body } = begin(p, ["as", "ys", "K", "N"], "K", "kv", "m");
  fn.local("k", "i32");
  fn.local("n", "i32");
  fn.local("pw", "i32");
  const pa = (i: number) => fn.local(`a${i}`, "i32");
  const py = (i: number) => fn.local(`y${i}`, "i32");
  /** MR rows × KV vectors of outputs starting at byte k; KV = 0: one scalar output. */
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
    return [
      ...pairs.map(([i, j]) => set(acc(i, j), zero)),
      set("n", i32(0)),
      set("pw", add(get("W"), get("k"))),
      ...fn.strip("n", E, get("Nb"), [
        ...range(MR).map((i) => set(a(i), vec ? v.splat(elem(i)) : elem(i))),
        ...cols.map((j) => set(w(j), load(at("pw", j * v.bytes)))),
        ...pairs.map(([i, j]) => madd(acc(i, j), get(a(i)), get(w(j)))),
        set("pw", add(get("pw"), get("Kb"))),
      ]),
      ...pairs.map(([i, j]) =>
        vec
          ? v.store(result(i, j), `(select ${v.add(v.load(result(i, j)), get(acc(i, j)))} ${get(acc(i, j))} ${get("acc")})`)
          : storeMaybeAcc(p, result(i, j), get(acc(i, j)))),
    ];
  };
  const rows = (MR: number): string[] => [
    ...range(MR).map((i) => set(pa(i), add(get("A"), mul(add(get("m"), i32(i)), get("asb"))))),
    ...range(MR).map((i) => set(py(i), add(get("Y"), mul(add(get("m"), i32(i)), get("ysb"))))),
    set("k", i32(0)),
    ...fn.strip("k", 4 * v.bytes, get("kv"), tile(MR, 4)),
    ...fn.strip("k", v.bytes, get("kv"), tile(MR, 1)),
    ...fn.strip("k", E, get("Kb"), tile(MR, 0)),
  ];
  body.push(...fn.strip("m", 2, get("rows"), rows(2)), ...fn.strip("m", 1, get("rows"), rows(1)));
  return func("nn", p, fn, body);
}

function tn(p: Lanes): string {
  const { fn, v, E, body } = begin(p, ["as", "bs", "C"], "C", "cv", "m0");
  for (const n of ["mEnd", "r", "c", "m", "pa", "pb", "pg"]) fn.local(n, "i32");
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
      set("pa", add(add(get("A"), mul(get("m0"), get("asb"))), `(i32.shl ${get("r")} ${i32(p.S)})`)),
      set("pb", add(add(get("B"), mul(get("m0"), get("bsb"))), get("c"))),
      ...fn.strip("m", 1, get("mEnd"), [
        ...range(RR).map((i) => set(a(i), vec ? v.splat(elem(i)) : elem(i))),
        ...cols.map((j) => set(b(j), load(at("pb", j * v.bytes)))),
        ...pairs.map(([i, j]) => madd(acc(i, j), get(a(i)), get(b(j)))),
        set("pa", add(get("pa"), get("asb"))),
        set("pb", add(get("pb"), get("bsb"))),
      ]),
      set("pg", add(add(get("G"), mul(get("r"), get("Cb"))), get("c"))),
      ...pairs.map(([i, j]) =>
        vec
          ? v.store(g(i, j), v.add(v.load(g(i, j)), get(acc(i, j))))
          : `(${p.t}.store ${g(i, j)} (${p.t}.add (${p.t}.load ${g(i, j)}) ${get(acc(i, j))}))`),
    ];
  };
  const cols = (RR: number): string[] => [
    set("c", i32(0)),
    ...fn.strip("c", 2 * v.bytes, get("cv"), tile(RR, 2)),
    ...fn.strip("c", v.bytes, get("cv"), tile(RR, 1)),
    ...fn.strip("c", E, get("Cb"), tile(RR, 0)),
  ];
  body.push(
    `(block $blocks (loop $block`,
    `(br_if $blocks (i32.ge_s ${get("m0")} ${get("rows")}))`,
    set("mEnd", `(select ${add(get("m0"), i32(TN_ROW_BLOCK))} ${get("rows")} (i32.lt_s ${add(get("m0"), i32(TN_ROW_BLOCK))} ${get("rows")}))`),
    set("r", i32(0)),
    ...fn.strip("r", 4, get("R"), cols(4)),
    ...fn.strip("r", 1, get("R"), cols(1)),
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

/** The whole module: products in both precisions over an imported memory. */
export function productsWat(): string {
  const funcs = [F32, F64].flatMap((p) => [nt(p), nn(p), tn(p)]);
  return ["(module", '(import "env" "memory" (memory 1))', ...funcs, ")"].join("\n");
}
