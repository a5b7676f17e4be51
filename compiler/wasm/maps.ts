/**
 * The WebAssembly text of the runtime's elementwise maps in float32: sigmoid, tanh and exp over a
 * run of `n` contiguous elements, `Y[k] = f(A[k])` (the ABI's `MAPS`; A and Y the same run or apart).
 *
 * Each f32x4 of A is widened to two f64x2 and computed in float64, then narrowed back (rounded once),
 * so a result is within 1 ulp of `Math` in float64 rounded to float32 (`plainMaps`), and equal to it
 * but where the exact value lies within ~1e-13 (relative) of a float32 rounding boundary:
 *
 *   exp(y) = 2^k · (1 + p(r)),  y = k·ln2 + r, |r| ≤ ln2/2 (Cody–Waite: ln2 in two parts, k·LN2_HI exact)
 *   p(r)   = eʳ − 1 = r + r²·(1/2! + r/3! + … + r^(EXP_DEGREE−2)/EXP_DEGREE!)   (error < 3e-13 · eʳ;
 *            the sum in brackets by Estrin's scheme, a tree of depth 4 instead of a chain of 8)
 *   sigmoid(x) = 1 / (1 + exp(−x))
 *   tanh(x)    = ±m / (m + 2),  m = expm1(2|x|) = 2^k·p(r) + (2^k − 1)   (no cancellation at small |x|)
 *
 * 2^k is built in the exponent bits: y/ln2 + 1.5·2^52 rounds y/ln2 to the integer k in the low bits.
 * The argument is first clamped to ±EXP_CLAMP, where every map's float32 result is already 0, 1 or
 * ∞ (f32 underflows below e^−104 and overflows above e^88.8): so 2^k stays a normal float64 and
 * ±∞ give exp 0 / ∞, sigmoid 0 / 1, tanh ±1. NaN passes through every step (the clamps use
 * pmin/pmax with the argument first), ±0 keeps its sign in tanh, and float32 subnormals are normal
 * float64 numbers. The vector loop takes MAP_UNROLL f32x4s at a time (four float64 chains to
 * overlap), then one; the last 1–3 elements are loaded into lanes of one more vector and stored
 * lane by lane, so any `n` ≥ 0 at any 4-byte address is valid.
 *
 * Float64 maps are not here: float64 kernels compute them in JavaScript.
 */

import { MAP_NAMES, wasmMapParams, type MapName } from "../../src/runtime/abi.js";

/** Terms of the Taylor polynomial of eʳ − 1 (r … r^EXP_DEGREE/EXP_DEGREE!). */
export const EXP_DEGREE = 10;
/** |argument| of exp beyond which every map's float32 result no longer changes (e^±128: f32 ∞ / 0). */
export const EXP_CLAMP = 128;
/** ln 2 in two parts: LN2_HI has 32 significant bits, so k·LN2_HI is exact for |k| < 2^20 (fdlibm). */
const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
/** 1.5·2^52: adding it rounds a number of magnitude < 2^51 to an integer held in the low mantissa bits. */
const ROUND = 1.5 * 2 ** 52;

/** The float64 expression each map computes from `x` (an f64x2 local), built from the steps below. */
type Steps = { name: string; expr: string }[];

const get = (x: string) => `(local.get $${x})`;
const f64x2 = (x: number) => `(v128.const f64x2 ${hex(x)} ${hex(x)})`;
const op = (name: string, ...args: string[]) => `(f64x2.${name} ${args.join(" ")})`;

/** A float64 as an exact hexadecimal literal (what wabt reads without a second rounding). */
export function hex(x: number): string {
  if (x === 0) return Object.is(x, -0) ? "-0x0p+0" : "0x0p+0";
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const exponent = (hi >>> 20) & 0x7ff;
  if (exponent === 0 || exponent === 0x7ff) throw new Error(`internal error: ${x} has no normal hexadecimal form`);
  const mantissa = ((hi & 0xfffff).toString(16).padStart(5, "0") + view.getUint32(4).toString(16).padStart(8, "0")).replace(/0+$/u, "");
  return `${x < 0 ? "-" : ""}0x1${mantissa ? `.${mantissa}` : ""}p${exponent - 1023 >= 0 ? "+" : ""}${exponent - 1023}`;
}

/**
 * exp(y) as 2^k·(1 + p) for `y` (clamped here): sets `k`, `r`, `p` (eʳ − 1) and `scale` (2^k).
 * Callers combine them: exp = scale + scale·p, expm1 = scale·p + (scale − 1).
 */
function expParts(y: string): Steps {
  const c = (j: number) => 1 / factorial(j);
  return [
    { name: "y", expr: op("pmax", op("pmin", y, f64x2(EXP_CLAMP)), f64x2(-EXP_CLAMP)) },
    // t = y/ln2 + 1.5·2^52: k = t − 1.5·2^52 exactly, and the low bits of t hold k.
    { name: "t", expr: op("add", op("mul", get("y"), f64x2(Math.LOG2E)), f64x2(ROUND)) },
    { name: "k", expr: op("sub", get("t"), f64x2(ROUND)) },
    { name: "r", expr: op("sub", op("sub", get("y"), op("mul", get("k"), f64x2(LN2_HI))), op("mul", get("k"), f64x2(LN2_LO))) },
    ...estrin(range(EXP_DEGREE - 1).map((i) => f64x2(c(i + 2)))),
    { name: "p", expr: op("add", get("r"), op("mul", get("r2"), get("q"))) },
    // The exponent field of 2^k is k + 1023; the bits of 1.5·2^52 above it shift out.
    { name: "scale", expr: `(i64x2.shl (i64x2.add ${get("t")} (v128.const i64x2 1023 1023)) (i32.const 52))` },
  ];
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * q = Σ coefficients[i]·rⁱ by Estrin's scheme: pairs a + b·r, then pairs of those with r², r⁴, …
 * (a tree of depth log2 of the terms, where Horner's rule is one chain as long as the polynomial).
 * Sets the powers `r2`, `r4`, … it uses, and `q`.
 */
function estrin(coefficients: readonly string[]): Steps {
  const steps: Steps = [{ name: "r2", expr: op("mul", get("r"), get("r")) }];
  let terms = [...coefficients];
  for (let power = 1; terms.length > 1; power *= 2) {
    const x = power === 1 ? get("r") : get(`r${power}`);
    if (power > 2) steps.push({ name: `r${power}`, expr: op("mul", get(`r${power / 2}`), get(`r${power / 2}`)) });
    terms = range(Math.ceil(terms.length / 2)).map((i) => (2 * i + 1 < terms.length ? op("add", terms[2 * i]!, op("mul", terms[2 * i + 1]!, x)) : terms[2 * i]!));
  }
  return [...steps, { name: "q", expr: terms[0]! }];
}

function factorial(j: number): number {
  return j <= 1 ? 1 : j * factorial(j - 1);
}

const SIGN = "(v128.const i64x2 0x8000000000000000 0x8000000000000000)";

/** Each map: the steps from the argument `x` to the result `out` (float64 lanes). */
export const MAP_STEPS: { readonly [F in MapName]: Steps } = {
  exp: [...expParts(get("x")), { name: "out", expr: op("add", get("scale"), op("mul", get("scale"), get("p"))) }],
  sigmoid: [
    ...expParts(op("neg", get("x"))),
    { name: "out", expr: op("div", f64x2(1), op("add", f64x2(1), op("add", get("scale"), op("mul", get("scale"), get("p"))))) },
  ],
  tanh: [
    ...expParts(op("add", op("abs", get("x")), op("abs", get("x")))),
    { name: "m", expr: op("add", op("mul", get("scale"), get("p")), op("sub", get("scale"), f64x2(1))) },
    { name: "out", expr: `(v128.or ${op("div", get("m"), op("add", get("m"), f64x2(2)))} (v128.and ${get("x")} ${SIGN}))` },
  ],
};

/**
 * The steps for the float64 halves of `vectors` f32x4s, interleaved step by step (independent
 * chains for the processor to overlap): each local `name` becomes `name_lo<i>` and `name_hi<i>`.
 */
function halves(steps: Steps, vectors: number): string[] {
  const parts = range(vectors).flatMap((i) => [`lo${i}`, `hi${i}`]);
  const half = (expr: string, h: string) => expr.replace(/\(local\.get \$(\w+)\)/gu, (_, n: string) => `(local.get $${n}_${h})`);
  return steps.flatMap((s) => parts.map((h) => `(local.set $${s.name}_${h} ${half(s.expr, h)})`));
}

/**
 * The vector constants of `lines`, each set once into a local `$c<i>` before the loops instead of
 * written in their bodies, and the lines reading those locals.
 */
function hoistConstants(lines: string[]): { set: string[]; lines: string[] } {
  const constants = [...new Set(lines.flatMap((l) => l.match(/\(v128\.const [^()]*\)/gu) ?? []))];
  const local = (c: string) => `(local.get $c${constants.indexOf(c)})`;
  return {
    set: constants.map((c, i) => `(local.set $c${i} ${c})`),
    lines: lines.map((l) => l.replace(/\(v128\.const [^()]*\)/gu, local)),
  };
}

/** f32x4s `$v<i>` → `$x_lo<i>`, `$x_hi<i>`; the map (`lines`); `$out_lo<i>`, `$out_hi<i>` → `$v<i>`. */
function vectorBody(lines: string[], vectors: number): string[] {
  const v = (i: number) => get(`v${i}`);
  return [
    ...range(vectors).flatMap((i) => [
      `(local.set $x_lo${i} (f64x2.promote_low_f32x4 ${v(i)}))`,
      `(local.set $x_hi${i} (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${v(i)} ${v(i)})))`,
    ]),
    ...lines,
    ...range(vectors).map((i) => `(local.set $v${i} (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero ${get(`out_lo${i}`)}) (f32x4.demote_f64x2_zero ${get(`out_hi${i}`)})))`),
  ];
}

/** The vectors a map's main loop takes per iteration (then one at a time, then the last 1–3 elements): 2 is faster than 1, 3 or 4. */
export const MAP_UNROLL = 2;

/** Map `name` over float32 runs: the function `<name>_f32` with the parameters `wasmMapParams` gives it. */
export function mapFunction(name: MapName): string {
  const steps = MAP_STEPS[name];
  const params = wasmMapParams(name);
  if (params.join() !== "n,A,Y") throw new Error(`internal error: map ${name} takes ${params.join(", ")}, not n, A, Y`);
  const locals = ["x", ...new Set(steps.map((s) => s.name))].flatMap((n) => range(MAP_UNROLL).flatMap((i) => [`${n}_lo${i}`, `${n}_hi${i}`]));
  const wideLines = halves(steps, MAP_UNROLL);
  const constants = hoistConstants([...wideLines, ...halves(steps, 1)]);
  const wide = constants.lines.slice(0, wideLines.length);
  const lines = constants.lines.slice(wideLines.length);
  // `vectors` f32x4s at a time while they fit before `$end`.
  const loop = (vectors: number, lines: string[], label: string) => [
    `(block $done${label} (loop $next${label}`,
    `(br_if $done${label} (i32.gt_u (i32.add ${get("A")} (i32.const ${16 * vectors})) ${get("end")}))`,
    ...range(vectors).map((i) => `(local.set $v${i} (v128.load offset=${16 * i} align=4 ${get("A")}))`),
    ...vectorBody(lines, vectors),
    ...range(vectors).map((i) => `(v128.store offset=${16 * i} align=4 ${get("Y")} ${get(`v${i}`)})`),
    `(local.set $A (i32.add ${get("A")} (i32.const ${16 * vectors})))`,
    `(local.set $Y (i32.add ${get("Y")} (i32.const ${16 * vectors})))`,
    `(br $next${label})))`,
  ];
  return [
    `(func (export "${name}_f32") ${params.map((p) => `(param $${p} i32)`).join(" ")}`,
    `(local $end i32) (local $rest i32) ${range(MAP_UNROLL).map((i) => `(local $v${i} v128)`).join(" ")} ${locals.map((l) => `(local $${l} v128)`).join(" ")}`,
    constants.set.map((_, i) => `(local $c${i} v128)`).join(" "),
    ...constants.set,
    // The whole vectors: A advances to $end, Y alongside.
    `(local.set $end (i32.add ${get("A")} (i32.shl (i32.and ${get("n")} (i32.const -4)) (i32.const 2))))`,
    ...loop(MAP_UNROLL, wide, "Wide"),
    ...loop(1, lines, "One"),
    ...tail(lines),
    ")",
  ].join("\n");
}

/** The last 1–3 elements (n mod 4, from `$A` to `$Y`), in the low lanes of one more vector. */
function tail(lines: string[]): string[] {
  const lanes = [0, 1, 2];
  const ifLane = (l: number, then: string) => `(if (i32.gt_u ${get("rest")} (i32.const ${l})) (then ${then}))`;
  return [
    `(local.set $rest (i32.and ${get("n")} (i32.const 3)))`,
    `(if (i32.ne ${get("rest")} (i32.const 0)) (then`,
    `(local.set $v0 (v128.const i64x2 0 0))`,
    ...lanes.map((l) => ifLane(l, `(local.set $v0 (f32x4.replace_lane ${l} ${get("v0")} (f32.load offset=${4 * l} ${get("A")})))`)),
    ...vectorBody(lines, 1),
    ...lanes.map((l) => ifLane(l, `(f32.store offset=${4 * l} ${get("Y")} (f32x4.extract_lane ${l} ${get("v0")}))`)),
    `))`,
  ];
}

/** The maps' functions, for the products module (compiler/wasm/products.ts). */
export function mapsWat(): string[] {
  return MAP_NAMES.map((name) => mapFunction(name));
}
