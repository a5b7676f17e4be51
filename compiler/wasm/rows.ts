/**
 * The WebAssembly text of the runtime's row loops in float32 (the ABI's `ROW_LOOPS`): fused
 * elementwise loops over `rows` rows of `n` elements, each operand rows apart by its own stride.
 *
 * Each loop computes exactly what the emitted JavaScript loop it replaces computes: the float32
 * operands widened to float64, every operation in float64, the result rounded to float32 once
 * when stored. Four elements at a time, as two f64x2 halves of an f32x4; the last 1–3 elements of
 * a row one at a time. Any `n` ≥ 0 and any 4-byte addresses are valid.
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

export const ROW_LOOP_BODIES: { readonly [L in RowLoopName]: RowLoop } = {
  add3: {
    reads: ["A", "B", "C"],
    writes: "Y",
    vector: (x) => `(f64x2.add (f64x2.add ${x("A")} ${x("B")}) ${x("C")})`,
    scalar: (x) => `(f64.add (f64.add ${x("A")} ${x("B")}) ${x("C")})`,
  },
};

/** Row loop `name` over float32 rows: the function `<name>_f32` with the parameters `wasmRowLoopParams` gives it. */
export function rowLoopFunction(name: RowLoopName): string {
  const body = ROW_LOOP_BODIES[name];
  const arrays = [...body.reads, body.writes];
  const params = wasmRowLoopParams(name);
  const expected = ["rows", "n", ...arrays.flatMap((a) => [a, `${a.toLowerCase()}s`])];
  if (params.join() !== expected.join()) throw new Error(`internal error: row loop ${name} takes ${params.join(", ")}, not ${expected.join(", ")}`);
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

/** The row loops' module: it imports the memory of the arena it runs in. */
export function rowLoopsWat(): string {
  return ['(module (import "env" "memory" (memory 1))', ...ROW_LOOP_NAMES.map(rowLoopFunction), ")"].join("\n");
}
