/**
 * The WebAssembly text of the runtime's elementwise maps in float32: sigmoid, tanh and exp over a
 * run of `n` contiguous elements, `Y[k] = f(A[k])` (the ABI's `MAPS`; A and Y the same run or apart).
 *
 * Each f32x4 is computed in float32 lanes, four elements per vector:
 *
 *   exp(y) = 2^k · (1 + p(r)),  y = k·ln2 + r, |r| ≤ ln2/2 (Cody–Waite: ln2 in two parts, k·LN2_HI exact)
 *   p(r)   = eʳ − 1 = r + r²·(1/2! + r/3! + … + r^(EXP_DEGREE−2)/EXP_DEGREE!)   (truncation < 6e-9 · eʳ;
 *            the sum in brackets by Estrin's scheme, a tree instead of a chain)
 *   sigmoid(x) = 1 − s for x ≥ 0, s for −1 ≤ x < 0, e − e·s for x < −1,  s = e/(1 + e),  e = exp(−|x|) ≤ 1
 *                (e never overflows, sigmoid of large negative x is e's small or subnormal value, and
 *                the rounding errors of s count at the result's scale only once they are small)
 *   tanh(x)    = ±m / (m + 2),  m = expm1(2|x|) = 2^k·p(r) + (2^k − 1)   (no cancellation at small |x|),
 *                or x + x³·S(x²) for |x| < TANH_SERIES
 *
 * k comes from y/ln2 + 1.5·2^23, which rounds y/ln2 to the integer k in the low mantissa bits; 2^k is
 * built in the exponent bits. exp (and sigmoid's e) multiplies by 2^k as 2^⌊k/2⌋ · 2^(k−⌊k/2⌋),
 * two normal float32 powers, so a result near overflow or in the subnormal range is rounded once
 * more at the last product rather than wrongly ∞ or 0. Arguments are clamped first to where every
 * map's float32 result is already 0, 1 or ∞ (exp's to [EXP_LOW, EXP_HIGH], tanh's 2|x| to
 * TANH_HIGH, where m + 2 is still finite). NaN passes through every step (the clamps use pmin/pmax
 * with the argument first, and NaN < 0 is false), ±0 keeps its sign in tanh, and subnormal
 * arguments are computed as they are (WebAssembly does not flush them). Against `Math` in float64
 * rounded to float32 (`plainMaps`), over all 2^32 float32 inputs, exp is within 1 ulp, sigmoid
 * and tanh within 2, and most results are equal to it (tests/maps.test.ts counts them).
 *
 * The vector loop takes MAP_UNROLL f32x4s at a time (independent chains to overlap), then one;
 * the last 1–3 elements are loaded into lanes of one more vector and stored lane by lane, so any
 * `n` ≥ 0 at any 4-byte address is valid.
 *
 * Float64 maps are not here: float64 kernels compute them in JavaScript.
 */

import { MAP_NAMES, wasmMapParams, type MapName } from "../../src/runtime/abi.js";

/** Terms of the Taylor polynomial of eʳ − 1 (r … r^EXP_DEGREE/EXP_DEGREE!). */
export const EXP_DEGREE = 7;
/** exp's argument range: below EXP_LOW the float32 result is 0 (< 2^−150), above EXP_HIGH ∞ (> 2^128). */
export const EXP_LOW = -110;
export const EXP_HIGH = 90;
/** tanh's 2|x| at most this: tanh(20) rounds to 1 in float32, and m = e^40 keeps m + 2 finite. */
export const TANH_HIGH = 40;
/**
 * tanh(x) = x + x·z·S(z), z = x², for |x| < TANH_SERIES: where m/(m + 2) can err by 3 ulp (its
 * roundings of m and m + 2 add up just above |x| = 1/8), the series errs by little more than its
 * last rounding. S(z) = −1/3 + 2z/15 − 17z²/315: the next term is < 2e-9 of tanh(x).
 */
export const TANH_SERIES = 0.13;
const TANH_SERIES_TERMS = [-1 / 3, 2 / 15, -17 / 315];
/** ln 2 in two parts: LN2_HI has 9 significant bits, so k·LN2_HI is exact for |k| < 2^15 (Cephes). */
const LN2_HI = 0.693359375;
const LN2_LO = Math.fround(Math.LN2 - LN2_HI);
/** 1.5·2^23: adding it rounds a number of magnitude < 2^22 to an integer held in the low mantissa bits. */
const ROUND = 1.5 * 2 ** 23;
/** The bits of ROUND as a float32 (k = these bits subtracted from those of y/ln2 + ROUND). */
const ROUND_BITS = 0x4b400000;

/** The float32 expression each map computes from `x` (an f32x4 local), built from the steps below. */
type Steps = { name: string; expr: string }[];

const get = (x: string) => `(local.get $${x})`;
/** A float32 constant in every lane (`x` must be a float32 value). */
const f32x4 = (x: number) => {
  if (Math.fround(x) !== x) throw new Error(`internal error: ${x} is not a float32`);
  return `(v128.const f32x4 ${hex(x)} ${hex(x)} ${hex(x)} ${hex(x)})`;
};
const i32x4 = (x: number) => `(v128.const i32x4 ${x} ${x} ${x} ${x})`;
const op = (name: string, ...args: string[]) => `(f32x4.${name} ${args.join(" ")})`;
const int = (name: string, ...args: string[]) => `(i32x4.${name} ${args.join(" ")})`;

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
 * exp(y) in parts for `y`, clamped to [low, high] (either left out where `y` cannot pass it): sets
 * `t` (whose low bits hold k), `k`, `r` and `p` (eʳ − 1). Callers scale by 2^k (`power`, `exp`).
 */
function expParts(y: string, low?: number, high?: number): Steps {
  const c = (j: number) => Math.fround(1 / factorial(j));
  let clamped = y;
  if (high !== undefined) clamped = op("pmin", clamped, f32x4(high));
  if (low !== undefined) clamped = op("pmax", clamped, f32x4(low));
  return [
    { name: "y", expr: clamped },
    // t = y/ln2 + 1.5·2^23: k = t − 1.5·2^23 exactly, and the low bits of t hold k.
    { name: "t", expr: op("add", op("mul", get("y"), f32x4(Math.fround(Math.LOG2E))), f32x4(ROUND)) },
    { name: "k", expr: op("sub", get("t"), f32x4(ROUND)) },
    // y − k·LN2_HI is exact (Sterbenz), k·LN2_LO rounds to ~1e-9 of r.
    { name: "r", expr: op("sub", op("sub", get("y"), op("mul", get("k"), f32x4(LN2_HI))), op("mul", get("k"), f32x4(LN2_LO))) },
    ...estrin(range(EXP_DEGREE - 1).map((i) => f32x4(c(i + 2)))),
    { name: "p", expr: op("add", get("r"), op("mul", get("r2"), get("q"))) },
  ];
}

/** 2^(the integer in the low bits of `t` + j), for an exponent in float32's normal range: its exponent field. */
const power = (t: string, j = 0) => int("shl", int("add", t, i32x4(127 + j)), "(i32.const 23)");

/**
 * exp from `expParts`: (2^h + 2^h·p)·2^(k−h), h = ⌊k/2⌋, both powers normal for every clamped k,
 * so only the last product rounds into the subnormals or overflows.
 */
const exp: Steps = [
  { name: "h", expr: int("shr_s", int("sub", get("t"), i32x4(ROUND_BITS)), "(i32.const 1)") },
  { name: "s", expr: int("shl", int("add", get("h"), i32x4(127)), "(i32.const 23)") },
  { name: "e", expr: op("mul", op("add", get("s"), op("mul", get("s"), get("p"))), power(int("sub", get("t"), get("h")))) },
];

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * q = Σ coefficients[i]·rⁱ by Estrin's scheme: pairs a + b·r, then pairs of those with r², r⁴, …
 * (a tree of depth log2 of the terms, where Horner's rule is one chain as long as the polynomial).
 * Sets the powers `r2`, `r4`, … it uses, and `q` (or those of another variable and result).
 */
function estrin(coefficients: readonly string[], r = "r", q = "q"): Steps {
  const steps: Steps = [{ name: `${r}2`, expr: op("mul", get(r), get(r)) }];
  let terms = [...coefficients];
  for (let power = 1; terms.length > 1; power *= 2) {
    const x = power === 1 ? get(r) : get(`${r}${power}`);
    if (power > 2) steps.push({ name: `${r}${power}`, expr: op("mul", get(`${r}${power / 2}`), get(`${r}${power / 2}`)) });
    terms = range(Math.ceil(terms.length / 2)).map((i) => (2 * i + 1 < terms.length ? op("add", terms[2 * i]!, op("mul", terms[2 * i + 1]!, x)) : terms[2 * i]!));
  }
  return [...steps, { name: q, expr: terms[0]! }];
}

function factorial(j: number): number {
  return j <= 1 ? 1 : j * factorial(j - 1);
}

const SIGN = i32x4(-0x80000000);

/** Each map: the steps from the argument `x` to the result `out` (float32 lanes). */
export const MAP_STEPS: { readonly [F in MapName]: Steps } = {
  exp: [...expParts(get("x"), EXP_LOW, EXP_HIGH), ...exp, { name: "out", expr: get("e") }],
  sigmoid: [
    ...expParts(op("neg", op("abs", get("x"))), EXP_LOW),
    ...exp,
    // s = e/(1 + e) = sigmoid(−|x|); below −1, e − e·s (s's rounding errors scaled by e); where x ≥ 0 or NaN, 1 − s.
    { name: "s", expr: op("div", get("e"), op("add", f32x4(1), get("e"))) },
    { name: "low", expr: `(v128.bitselect ${op("sub", get("e"), op("mul", get("e"), get("s")))} ${get("s")} ${op("lt", get("x"), f32x4(-1))})` },
    { name: "out", expr: `(v128.bitselect ${get("low")} ${op("sub", f32x4(1), get("s"))} ${op("lt", get("x"), f32x4(0))})` },
  ],
  tanh: [
    ...expParts(op("add", op("abs", get("x")), op("abs", get("x"))), undefined, TANH_HIGH),
    { name: "scale", expr: power(get("t")) },
    { name: "m", expr: op("add", op("mul", get("scale"), get("p")), op("sub", get("scale"), f32x4(1))) },
    // Where |x| < TANH_SERIES, the series instead: x + x·z·S(z), z = x².
    { name: "z", expr: op("mul", get("x"), get("x")) },
    ...estrin(TANH_SERIES_TERMS.map((c) => f32x4(Math.fround(c))), "z", "w"),
    { name: "series", expr: op("add", get("x"), op("mul", op("mul", get("x"), get("z")), get("w"))) },
    { name: "big", expr: op("div", get("m"), op("add", get("m"), f32x4(2))) },
    { name: "out", expr: `(v128.or (v128.bitselect ${get("series")} ${get("big")} ${op("lt", op("abs", get("x")), f32x4(Math.fround(TANH_SERIES)))}) (v128.and ${get("x")} ${SIGN}))` },
  ],
};

/**
 * The steps for `vectors` f32x4s, interleaved step by step (independent chains for the processor
 * to overlap): each local `name` becomes `name_<i>`.
 */
function vectorSteps(steps: Steps, vectors: number): string[] {
  const rename = (expr: string, i: number) => expr.replace(/\(local\.get \$(\w+)\)/gu, (_, n: string) => `(local.get $${n}_${i})`);
  return steps.flatMap((s) => range(vectors).map((i) => `(local.set $${s.name}_${i} ${rename(s.expr, i)})`));
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

/** The vectors a map's main loop takes per iteration (then one at a time, then the last 1–3 elements): 4 is ~20 % faster than 2, 6 and 8 slower. */
export const MAP_UNROLL = 4;

/** Map `name` over float32 runs: the function `<name>_f32` with the parameters `wasmMapParams` gives it. */
export function mapFunction(name: MapName): string {
  const steps = MAP_STEPS[name];
  const params = wasmMapParams(name);
  if (params.join() !== "n,A,Y") throw new Error(`internal error: map ${name} takes ${params.join(", ")}, not n, A, Y`);
  const locals = ["x", ...new Set(steps.map((s) => s.name))].flatMap((n) => range(MAP_UNROLL).map((i) => `${n}_${i}`));
  const wideLines = vectorSteps(steps, MAP_UNROLL);
  const constants = hoistConstants([...wideLines, ...vectorSteps(steps, 1)]);
  const wide = constants.lines.slice(0, wideLines.length);
  const lines = constants.lines.slice(wideLines.length);
  // `vectors` f32x4s at a time while they fit before `$end`.
  const loop = (vectors: number, lines: string[], label: string) => [
    `(block $done${label} (loop $next${label}`,
    `(br_if $done${label} (i32.gt_u (i32.add ${get("A")} (i32.const ${16 * vectors})) ${get("end")}))`,
    ...range(vectors).map((i) => `(local.set $x_${i} (v128.load offset=${16 * i} align=4 ${get("A")}))`),
    ...lines,
    ...range(vectors).map((i) => `(v128.store offset=${16 * i} align=4 ${get("Y")} ${get(`out_${i}`)})`),
    `(local.set $A (i32.add ${get("A")} (i32.const ${16 * vectors})))`,
    `(local.set $Y (i32.add ${get("Y")} (i32.const ${16 * vectors})))`,
    `(br $next${label})))`,
  ];
  return [
    `(func (export "${name}_f32") ${params.map((p) => `(param $${p} i32)`).join(" ")}`,
    `(local $end i32) (local $rest i32) ${locals.map((l) => `(local $${l} v128)`).join(" ")}`,
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
    `(local.set $x_0 (v128.const i64x2 0 0))`,
    ...lanes.map((l) => ifLane(l, `(local.set $x_0 (f32x4.replace_lane ${l} ${get("x_0")} (f32.load offset=${4 * l} ${get("A")})))`)),
    ...lines,
    ...lanes.map((l) => ifLane(l, `(f32.store offset=${4 * l} ${get("Y")} (f32x4.extract_lane ${l} ${get("out_0")}))`)),
    `))`,
  ];
}

/** The maps' functions, for the products module (compiler/wasm/products.ts). */
export function mapsWat(): string[] {
  return MAP_NAMES.map((name) => mapFunction(name));
}
