/**
 * The WebAssembly text of the runtime's row loops in float32 (the ABI's `ROW_LOOPS`): loops over
 * `rows` rows of `n` elements, each operand rows apart by its own stride.
 *
 * Each loop computes exactly what the emitted JavaScript loop it replaces computes. The fused
 * elementwise loops (`add3`) widen the float32 operands to float64, do every operation in float64
 * and round the result to float32 once when stored: four elements at a time, as two f64x2 halves
 * of an f32x4; the last 1–3 elements of a row one at a time. The column sum (`colsum`) adds the
 * rows into the sums one after another in float32 — a float32 `+=` in JavaScript, a float64 add of
 * two float32s rounded once, gives the same bits. Any `n` ≥ 0 and any 4-byte addresses are valid.
 */
import { ROW_LOOP_NAMES, wasmRowLoopParams, type RowLoopName } from "../../src/runtime/abi.js";

const get = (x: string) => `(local.get $${x})`;
const LOW = (v: string) => `(f64x2.promote_low_f32x4 ${v})`;
const HIGH = (v: string) => `(f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${v} ${v}))`;
const NARROW = (lo: string, hi: string) => `(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero ${lo}) (f32x4.demote_f64x2_zero ${hi}))`;

/**
 * A row loop: its array operands (read, then the one written last) and its float64 expression
 * over them, once for f64x2 lanes and once for one f64 (`x(name)` reads operand `name`).
 */
interface RowLoop {
  readonly reads: readonly string[];
  readonly writes: string;
  readonly vector: (x: (name: string) => string) => string;
  readonly scalar: (x: (name: string) => string) => string;
}

/** The row loops that are fused elementwise loops (every one but the column sum). */
type ElementwiseRowLoop = Exclude<RowLoopName, "colsum">;

export const ROW_LOOP_BODIES: { readonly [L in ElementwiseRowLoop]: RowLoop } = {
  add3: {
    reads: ["A", "B", "C"],
    writes: "Y",
    vector: (x) => `(f64x2.add (f64x2.add ${x("A")} ${x("B")}) ${x("C")})`,
    scalar: (x) => `(f64.add (f64.add ${x("A")} ${x("B")}) ${x("C")})`,
  },
};

/** Checks that row loop `name`'s WebAssembly function takes `expected` (the ABI's `wasmRowLoopParams`), and returns them. */
function paramsOf(name: RowLoopName, expected: readonly string[]): string[] {
  const params = wasmRowLoopParams(name);
  if (params.join() !== expected.join()) throw new Error(`internal error: row loop ${name} takes ${params.join(", ")}, not ${expected.join(", ")}`);
  return params;
}

/** Row loop `name` over float32 rows: the function `<name>_f32` with the parameters `wasmRowLoopParams` gives it. */
export function rowLoopFunction(name: RowLoopName): string {
  if (name === "colsum") return colsumFunction();
  const body = ROW_LOOP_BODIES[name];
  const arrays = [...body.reads, body.writes];
  const params = paramsOf(name, ["rows", "n", ...arrays.flatMap((a) => [a, `${a.toLowerCase()}s`])]);
  const stride = (a: string) => `${a.toLowerCase()}s`;
  const at = (a: string) => `(i32.add ${get(a)} ${get("j")})`;
  return [
    `(func (export "${name}_f32") ${params.map((p) => `(param $${p} i32)`).join(" ")}`,
    `(local $m i32) (local $j i32) (local $whole i32) ${body.reads.map((a) => `(local $v${a} v128)`).join(" ")}`,
    // Strides and the row's length in bytes; `$whole` the bytes of the row's whole f32x4s.
    ...arrays.map((a) => `(local.set $${stride(a)} (i32.shl ${get(stride(a))} (i32.const 2)))`),
    `(local.set $whole (i32.shl (i32.and ${get("n")} (i32.const -4)) (i32.const 2)))`,
    `(local.set $n (i32.shl ${get("n")} (i32.const 2)))`,
    `(block $rowsDone (loop $row`,
    `(br_if $rowsDone (i32.ge_s ${get("m")} ${get("rows")}))`,
    `(local.set $j (i32.const 0))`,
    `(block $vectorsDone (loop $vector`,
    `(br_if $vectorsDone (i32.ge_u ${get("j")} ${get("whole")}))`,
    ...body.reads.map((a) => `(local.set $v${a} (v128.load align=4 ${at(a)}))`),
    `(v128.store align=4 ${at(body.writes)} ${NARROW(body.vector((a) => LOW(get(`v${a}`))), body.vector((a) => HIGH(get(`v${a}`))))})`,
    `(local.set $j (i32.add ${get("j")} (i32.const 16)))`,
    `(br $vector)))`,
    `(block $elementsDone (loop $element`,
    `(br_if $elementsDone (i32.ge_u ${get("j")} ${get("n")}))`,
    `(f32.store ${at(body.writes)} (f32.demote_f64 ${body.scalar((a) => `(f64.promote_f32 (f32.load ${at(a)}))`)}))`,
    `(local.set $j (i32.add ${get("j")} (i32.const 4)))`,
    `(br $element)))`,
    ...arrays.map((a) => `(local.set $${a} (i32.add ${get(a)} ${get(stride(a))}))`),
    `(local.set $m (i32.add ${get("m")} (i32.const 1)))`,
    `(br $row)))`,
    ")",
  ].join("\n");
}

/** Column blocks of the column sum, widest first: f32x4s summed side by side, their sums in locals over every row. */
const COLSUM_BLOCKS = [8, 4, 1] as const;

/**
 * `colsum_f32(rows, n, A, as, G)`: `G[j] += A[m][j]` for each row m in order. A block of columns
 * at a time (8, then 4, then 1 f32x4 of them, then single columns): their sums are loaded from
 * G, kept in locals while every row is added (independent adds, so they overlap), and stored.
 * Each column's adds are the same float32 adds in the same order whatever the block.
 */
function colsumFunction(): string {
  const params = paramsOf("colsum", ["rows", "n", "A", "as", "G"]);
  const widest = Math.max(...COLSUM_BLOCKS);
  const sums = Array.from({ length: widest }, (_, k) => `$s${k}`);
  /** The loop over columns `width` f32x4s at a time while they fit before byte `end` of a row. */
  const block = (width: number, end: string) => {
    const vectors = sums.slice(0, width);
    return [
      `(block $done${width} (loop $columns${width}`,
      `(br_if $done${width} (i32.gt_u (i32.add ${get("j")} (i32.const ${16 * width})) ${end}))`,
      ...vectors.map((s, k) => `(local.set ${s} (v128.load offset=${16 * k} align=4 (i32.add ${get("G")} ${get("j")})))`),
      `(local.set $p (i32.add ${get("A")} ${get("j")}))`,
      `(local.set $m (i32.const 0))`,
      `(block $rowsDone${width} (loop $row${width}`,
      `(br_if $rowsDone${width} (i32.ge_s ${get("m")} ${get("rows")}))`,
      ...vectors.map((s, k) => `(local.set ${s} (f32x4.add (local.get ${s}) (v128.load offset=${16 * k} align=4 ${get("p")})))`),
      `(local.set $p (i32.add ${get("p")} ${get("as")}))`,
      `(local.set $m (i32.add ${get("m")} (i32.const 1)))`,
      `(br $row${width})))`,
      ...vectors.map((s, k) => `(v128.store offset=${16 * k} align=4 (i32.add ${get("G")} ${get("j")}) (local.get ${s}))`),
      `(local.set $j (i32.add ${get("j")} (i32.const ${16 * width})))`,
      `(br $columns${width})))`,
    ];
  };
  return [
    `(func (export "colsum_f32") ${params.map((p) => `(param $${p} i32)`).join(" ")}`,
    `(local $m i32) (local $j i32) (local $p i32) ${sums.map((s) => `(local ${s} v128)`).join(" ")} (local $s f32)`,
    // The row stride and the row's length in bytes.
    `(local.set $as (i32.shl ${get("as")} (i32.const 2)))`,
    `(local.set $n (i32.shl ${get("n")} (i32.const 2)))`,
    ...COLSUM_BLOCKS.flatMap((width) => block(width, get("n"))),
    // The last 1–3 columns, one at a time.
    `(block $columnsDone (loop $column`,
    `(br_if $columnsDone (i32.ge_u ${get("j")} ${get("n")}))`,
    `(local.set $s (f32.load (i32.add ${get("G")} ${get("j")})))`,
    `(local.set $p (i32.add ${get("A")} ${get("j")}))`,
    `(local.set $m (i32.const 0))`,
    `(block $rowsDone (loop $row`,
    `(br_if $rowsDone (i32.ge_s ${get("m")} ${get("rows")}))`,
    `(local.set $s (f32.add ${get("s")} (f32.load ${get("p")})))`,
    `(local.set $p (i32.add ${get("p")} ${get("as")}))`,
    `(local.set $m (i32.add ${get("m")} (i32.const 1)))`,
    `(br $row)))`,
    `(f32.store (i32.add ${get("G")} ${get("j")}) ${get("s")})`,
    `(local.set $j (i32.add ${get("j")} (i32.const 4)))`,
    `(br $column)))`,
    ")",
  ].join("\n");
}

/** The row loops' module: it imports the memory of the arena it runs in. */
export function rowLoopsWat(): string {
  return ['(module (import "env" "memory" (memory 1))', ...ROW_LOOP_NAMES.map(rowLoopFunction), ")"].join("\n");
}
