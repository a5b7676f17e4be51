/**
 * A cell's element loops as its own WebAssembly (`compiler/wasm/loops.ts`, run by `mm.loop`,
 * `src/runtime/loops.ts`): each op's lanes against the op's JavaScript semantics bit for bit,
 * special values and the 1–3 elements after the last four included; whole cells (the examples and
 * random elementwise ones) against the same kernels with their loops kept as JavaScript, with the
 * calls that ran as WebAssembly counted; and the runner's refusals, staging and chunks.
 */
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { describeModule, renderJavaScript, type CellModule } from "../compiler/codegen/module.js";
import { num, plus, times, ix } from "../compiler/codegen/loops/index-expr.js";
import type { Mode, Stmt } from "../compiler/codegen/loops/ir.js";
import type { Val } from "../compiler/codegen/loops/values.js";
import { planKernels } from "../compiler/codegen/plan.js";
import { OPS, type ElementwiseDef } from "../compiler/ops/index.js";
import { encodeModule } from "../compiler/wasm/encode.js";
import { compileElementLoop } from "../compiler/wasm/loops.js";
import { KERNEL_PARAMETERS, LOADER_BINDINGS, type KernelName, type Kernels, type Products, type Real } from "../src/runtime/abi.js";
import * as runtime from "../src/runtime/index.js";
import { LOOP_MIN_ELEMENTS } from "../src/runtime/loops.js";
import { compileLoops, createArena, simdAvailable } from "../src/runtime/products.js";
import { mulberry32 } from "../src/runtime/random.js";
import type { Cell } from "../src/runtime/types.js";
import { everything, firstDifference, sameBits } from "./helpers/bitwise.js";
import { propertySeed } from "./helpers/seed.js";

type Load = Val & { kind: "load" };
const load = (array: string, stride: number, element = true): Load => ({ kind: "load", array, base: num(0), stride, element });
const op = (name: string, args: readonly Val[], attrs: Record<string, number> = {}): Val => ({ kind: "op", op: name, attrs, args });
const named = (name: string): Val => ({ kind: "name", name });
const store = (at: Load, tree: Val, mode: Mode = "="): Stmt =>
  ({ kind: "store", array: at.array, index: plus(times(ix("m"), num(at.stride)), ix("i")), mode, value: "", at, tree });

/** The elementwise ops that say how they compute in lanes. */
const LANE_OPS = [...OPS.values()].filter((d): d is ElementwiseDef => d.kind === "elementwise" && d.wasm !== undefined);
const BINARY = LANE_OPS.filter((d) => d.arity === 2).map((d) => d.name);

const MAX32 = 3.4028234663852886e38;
const SPECIAL = [0, -0, Infinity, -Infinity, NaN, 1, -1, 2 ** -149, -(2 ** -149), 2 ** -126, -3 * 2 ** -140, MAX32, -MAX32, 1e-30, -1e30, 0.5, 3, 1e-45 * 7];
/** A float32: a special value (±0, ±∞, NaN, subnormals, ±1, tiny, huge) a third of the time, else of any exponent in [-40, 40]. */
function value(random: () => number): number {
  if (random() < 0.35) return Math.fround(SPECIAL[Math.floor(random() * SPECIAL.length)]!);
  return Math.fround((random() < 0.5 ? -1 : 1) * (1 + random()) * 2 ** Math.floor(random() * 81 - 40));
}

/**
 * Runs `body` (element loop of `size`) compiled and encoded over `rows` rows of a fresh memory whose
 * arrays start at `at` (elements); returns the memory after, the memory before, and what the
 * statements compute in JavaScript (each op's `scalar`, each store rounded to float32).
 */
function runLoop(size: number, rows: number, body: Stmt[], at: Record<string, number>, scalars: Record<string, number>, seed: number) {
  const compiled = compileElementLoop(size, body);
  if (compiled === null) throw new Error("the loop did not compile");
  const memory = new WebAssembly.Memory({ initial: 1 });
  const heap = new Float32Array(memory.buffer);
  const random = mulberry32(seed);
  for (let e = 0; e < 4096; e++) heap[e] = value(random);
  const before = heap.slice(0, 4096);
  const expected = heap.slice(0, 4096);
  const fn = new WebAssembly.Instance(new WebAssembly.Module(encodeModule([compiled.function("loop0")])), { env: { memory } }).exports["loop0"] as (...a: number[]) => void;
  fn(rows, ...compiled.operands.flatMap((o) => [at[o.array]! * 4, o.stride]), ...compiled.scalars.map((s) => scalars[s]!));
  for (let m = 0; m < rows; m++) {
    for (let i = 0; i < size; i++) {
      const locals = new Map<string, number>();
      const evaluate = (v: Val): number => {
        if (v.kind === "load") return expected[at[v.array]! + m * v.stride + (v.element ? i : 0)]!;
        if (v.kind === "name") return locals.get(v.name) ?? scalars[v.name]!;
        return (OPS.get(v.op) as ElementwiseDef).scalar(v.args.map(evaluate), v.attrs);
      };
      for (const s of body) {
        if (s.kind === "const") locals.set(s.name, evaluate(s.tree!));
        if (s.kind !== "store") continue;
        const e = at[s.at!.array]! + m * s.at!.stride + i;
        const v = evaluate(s.tree!);
        expected[e] = Math.fround(s.mode === "+=" ? expected[e]! + v : v);
      }
    }
  }
  return { heap: heap.subarray(0, 4096), before, expected };
}

const show = (v: number | undefined) => (Object.is(v, -0) ? "-0" : String(v));
const differs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) return k;
  return -1;
};

/** Attributes of `op` drawn from `raw` (clip's bounds in order). */
function attrsOf(name: string, [p, q]: readonly number[]): Record<string, number> {
  if (name === "clip") return { lo: Math.min(p!, q!), hi: Math.max(p!, q!) };
  if (name === "leaky_relu") return { slope: p! };
  if (name === "const") return { value: p! };
  return {};
}

const attrValue = fc.oneof(fc.constantFrom(0, -0, 1, -1, 0.01, 0.5, 2 ** -130), fc.double({ min: -1e6, max: 1e6, noNaN: true }));

describe.runIf(simdAvailable())("an element loop's lanes", () => {
  it("every op with `wasm` stores, for every element of the four-wide part and of the last 1–3, Math.fround of its `scalar`, bit for bit", () => {
    expect(LANE_OPS.map((d) => d.name)).toEqual(expect.arrayContaining(["add", "sub", "mul", "div", "neg", "relu", "sqrt", "abs", "step", "maximum", "minimum", "clip", "leaky_relu", "const", "square", "rsqrt"]));
    fc.assert(
      fc.property(
        fc.constantFrom(...LANE_OPS.map((d) => d.name)), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 3 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }),
        fc.array(attrValue, { minLength: 2, maxLength: 2 }), fc.constantFrom("two", "same", "row"), fc.integer({ min: 1, max: 1_000_000 }),
        (name, size, rows, pads, offsets, raw, second, seed) => {
          const def = OPS.get(name) as ElementwiseDef;
          const [A, B, Y] = [0, 1, 2].map((k) => load("ABY"[k]!, size + pads[k]!));
          // The second argument: another array, the same load again, or one value a row.
          const b = second === "two" ? B! : second === "same" ? A! : load("B", pads[1]!, false);
          const args = [A!, b].slice(0, def.arity as number);
          const body = [store(Y!, op(name, args, attrsOf(name, raw)))];
          const r = runLoop(size, rows, body, { A: 16 + offsets[0]!, B: 1024 + offsets[1]!, Y: 2048 + offsets[2]! }, {}, seed);
          const at = differs(r.heap, r.expected);
          if (at >= 0) throw new Error(`${name} ${JSON.stringify(attrsOf(name, raw))} size ${size} rows ${rows}: element ${at} is ${show(r.heap[at])}, expected ${show(r.expected[at])} (was ${show(r.before[at])})`);
        },
      ),
      { seed: propertySeed(71, "element loops: op lanes"), numRuns: 4000 },
    );
  });

  it("a const read by name (its float64 value, not rounded), a kernel scalar (a float64 parameter), a row's one value, and `+=`", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...BINARY), fc.constantFrom(...BINARY), fc.constantFrom<Mode>("=", "+="), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 3 }),
        fc.double({ noNaN: false }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 1_000_000 }),
        (first, then, mode, size, rows, s, pad, seed) => {
          const [A, B, Y] = [load("A", size + pad), load("B", size, true), load("Y", size + 2 * pad)];
          const body: Stmt[] = [
            { kind: "const", name: "t", value: "", tree: op(first, [A, B]) },
            { kind: "comment", text: "between" },
            { kind: "const", name: "u", value: "", tree: op(then, [named("t"), load("C", 1, false)]) },
            store(Y, op("add", [op(then, [named("u"), named("s")]), named("t")]), mode),
          ];
          const r = runLoop(size, rows, body, { A: 8, B: 512 + pad, C: 1500, Y: 2048 + pad }, { s }, seed);
          const at = differs(r.heap, r.expected);
          if (at >= 0) throw new Error(`${first}, ${then}, ${mode}, s = ${s}, size ${size} rows ${rows}: element ${at} is ${show(r.heap[at])}, expected ${show(r.expected[at])}`);
        },
      ),
      { seed: propertySeed(72, "element loops: two statements"), numRuns: 1500 },
    );
  });

  it("a statement or op without lanes keeps the loop JavaScript", () => {
    expect(compileElementLoop(4, [store(load("Y", 4), op("tanh", [load("A", 4)]))])).toBeNull();
    expect(compileElementLoop(4, [{ kind: "code", text: "x();" }])).toBeNull();
    expect(compileElementLoop(0, [store(load("Y", 4), load("A", 4))])).toBeNull();
  });
});

/** The `size` names a cell declares, each given one of `values` in turn. */
function sizesOf(text: string, values: Record<string, number>): Record<string, number> {
  const names = [...text.matchAll(/^\s*size\s+([^#\n]*)/gmu)].flatMap((m) => m[1]!.split(",").map((p) => p.split("=")[0]!.trim()));
  return Object.fromEntries(names.map((n) => [n, values[n] ?? values["H"]!]));
}

function moduleOf(text: string, sizes: Record<string, number>, wasmLoops: boolean, dtype: "f32" | "f64" = "f32", products: "runtime" | "inline" = "runtime"): CellModule {
  const [compiled] = compileSource(text, { dtype, sizes, path: "cell.cell" });
  const ir = compiled!.ir;
  const plan = planKernels(ir, true);
  const options = { dtype, products, runtime: "rnnc/runtime", sourcePath: "cell.cell", sourceText: text, wasmLoops } as const;
  return describeModule(ir, plan, options, { ir, plan });
}

/** How many `mm.loop` calls ran as WebAssembly (true) and how many left the loop to JavaScript (false). */
interface Calls { wasm: number; js: number }

/** `instantiate` with each kernel's `mm` counting what its `loop` returns. */
function built(text: string, sizes: Record<string, number>, wasmLoops: boolean): { cell: Cell; calls: Calls } {
  const calls: Calls = { wasm: 0, js: 0 };
  const counting = new WeakMap<Products, Products>();
  const wrap = (mm: Products): Products => {
    let c = counting.get(mm);
    if (c === undefined) {
      const loop: Products["loop"] = (...args) => {
        const ran = mm.loop(...args);
        calls[ran ? "wasm" : "js"]++;
        return ran;
      };
      counting.set(mm, (c = Object.create(mm, { loop: { value: loop } }) as Products));
    }
    return c;
  };
  const defineCell = (spec: Parameters<typeof runtime.defineCell>[0], kernels: Kernels) => {
    const names = Object.keys(KERNEL_PARAMETERS) as KernelName[];
    const wrapped = Object.fromEntries(names.map((name) => {
      const k = KERNEL_PARAMETERS[name].indexOf("mm" as never);
      return [name, (...args: unknown[]) => {
        args[k] = wrap(args[k] as Products);
        return (kernels[name] as (...a: unknown[]) => void)(...args);
      }];
    }));
    return runtime.defineCell(spec, { ...kernels, ...wrapped } as Kernels);
  };
  const module = moduleOf(text, sizes, wasmLoops);
  const cell = new Function(LOADER_BINDINGS[0], renderJavaScript(module, "function"))({ ...runtime, defineCell }) as Cell;
  return { cell, calls };
}

const EXAMPLES = readdirSync("examples/cells").filter((f) => f.endsWith(".cell")).map((f) => f.slice(0, -5)).sort();
const source = (name: string) => readFileSync(`examples/cells/${name}.cell`, "utf8");

describe.runIf(simdAvailable())("cells whose element loops run as WebAssembly", () => {
  it("a loop of B = 1 at a small H stays JavaScript (the call returns false), and at B = 40 every one runs as WebAssembly, with the same bits", () => {
    const small = built(source("lstm"), { I: 3, H: 8 }, true);
    everything(small.cell, 2, 1, 3, false);
    expect(small.calls.js).toBeGreaterThan(0);
    expect(small.calls.wasm).toBe(0);
    const large = built(source("lstm"), { I: 3, H: 24 }, true);
    const ran = everything(large.cell, 3, 40, 3, true);
    // Every call: the backward's gate gradients, written side by side in one buffer's rows, included.
    expect(large.calls.wasm).toBeGreaterThan(0);
    expect(large.calls.js).toBe(0);
    expect(firstDifference(ran, everything(built(source("lstm"), { I: 3, H: 24 }, false).cell, 3, 40, 3, true), sameBits)).toBeNull();
  });

  it.each(EXAMPLES)("%s computes every bit as with its loops kept as JavaScript: forward, infer, backward, step, masks, odd sizes", (name) => {
    const total: Calls = { wasm: 0, js: 0 };
    let hasLoops = false;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }), fc.integer({ min: 5, max: 40 }), fc.constantFrom(1, 17, 40, 70, 70), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.integer({ min: 1, max: 1_000_000 }),
        (I, H, B, T, mask, seed) => {
          const sizes = sizesOf(source(name), { I, H, D: Math.min(H, 16), N: 3, O: 3 });
          const wasm = built(source(name), sizes, true);
          hasLoops ||= moduleOf(source(name), sizes, true).loops != null;
          const difference = firstDifference(everything(wasm.cell, T, B, seed, mask), everything(built(source(name), sizes, false).cell, T, B, seed, mask), sameBits);
          if (difference) throw new Error(`${name} ${JSON.stringify(sizes)} B ${B} T ${T}${mask ? " masked" : ""} seed ${seed}: ${difference}`);
          total.wasm += wasm.calls.wasm;
          total.js += wasm.calls.js;
        },
      ),
      // The first case is large enough for every loop of every example to run as WebAssembly.
      { seed: propertySeed(73 + EXAMPLES.indexOf(name), `element loops: ${name}`), numRuns: 12, endOnFailure: true, examples: [[3, 24, 70, 2, true, 1]] },
    );
    // Calls ran as WebAssembly: the property compares the two paths, not JavaScript with itself.
    if (hasLoops) expect(total.wasm).toBeGreaterThan(0);
    else expect(total).toEqual({ wasm: 0, js: 0 });
  }, 120_000);

  it("random elementwise cells (+ − ⊙ /, relu, abs, sqrt, max, min, clip, leaky_relu, square, constants, σ, tanh) compute every bit as with their loops kept as JavaScript", () => {
    const leaves = ["h", "c", "a", "b", "u", "0.5", "2"];
    const forms: ((e: () => string) => string)[] = [
      (e) => `(${e()} + ${e()})`, (e) => `(${e()} - ${e()})`, (e) => `(${e()} ⊙ ${e()})`, (e) => `(${e()} / ${e()})`,
      (e) => `relu(${e()})`, (e) => `abs(${e()})`, (e) => `sqrt(abs(${e()}) + 1)`, (e) => `max(${e()}, ${e()})`, (e) => `min(${e()}, ${e()})`,
      (e) => `clip(${e()}, -0.5, 2)`, (e) => `leaky_relu(${e()}, 0.1)`, (e) => `square(${e()})`, (e) => `σ(${e()})`, (e) => `tanh(${e()})`, (e) => `(-${e()})`,
    ];
    const expression = (random: () => number, depth: number): string => {
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
      return depth === 0 || random() < 0.2 ? pick(leaves) : pick(forms)(() => expression(random, depth - 1));
    };
    const total: Calls = { wasm: 0, js: 0 };
    let calling = 0;
    let runs = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 40 }), fc.constantFrom(1, 17, 40, 70), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.integer({ min: 1, max: 1000 }),
        (shape, I, H, B, T, mask, seed) => {
          const random = mulberry32(shape);
          // Every state reads a state, so each stays in the recurrence.
          const [c, h] = [`(${expression(random, 3)} + c)`, `(${expression(random, 3)} ⊙ h)`];
          const text = ["cell random {", "  size I = 2, H = 2", "  input x[I]", "  state h[H], c[H]", "  param W[H, I], a[H], b[H]", "  u = W·x", `  c = ${c}`, `  h = ${h}`, "}"].join("\n");
          const sizes = { I, H };
          const wasm = built(text, sizes, true);
          const difference = firstDifference(everything(wasm.cell, T, B, seed, mask), everything(built(text, sizes, false).cell, T, B, seed, mask), sameBits);
          if (difference) throw new Error(`I ${I} H ${H} B ${B} T ${T}${mask ? " masked" : ""} seed ${seed}: ${difference}\n${text}`);
          runs++;
          if (wasm.calls.wasm > 0) calling++;
          total.wasm += wasm.calls.wasm;
          total.js += wasm.calls.js;
        }),
      { seed: propertySeed(90, "element loops: random cells"), numRuns: 150, endOnFailure: true },
    );
    expect(calling).toBeGreaterThan(runs / 3);
    expect(total.wasm).toBeGreaterThan(total.js / 2);
  }, 300_000);
});

describe("kernels with no element loops as WebAssembly", () => {
  it.each([
    ["float64", "f64", "runtime", true],
    ["float32 with products inline", "f32", "inline", true],
    ["float32 with wasmLoops false", "f32", "runtime", false],
  ] as const)("%s call no mm.loop and carry no loops module", (_, dtype, products, wasmLoops) => {
    for (const name of EXAMPLES) {
      const module = moduleOf(source(name), sizesOf(source(name), { I: 3, H: 5, N: 3, O: 3 }), wasmLoops, dtype, products);
      const code = renderJavaScript(module, "module");
      expect(code, name).not.toMatch(/mm\.loop\(/u);
      expect(module.loops ?? null, name).toBeNull();
    }
  });

  it("the LSTM's forward calls mm.loop for its c and its h loops in the recurrence, each before its JavaScript loop", () => {
    const [lstm] = compileSource(source("lstm"), { dtype: "f32", path: "lstm.cell" });
    const start = lstm!.code.indexOf("function forward(");
    const body = lstm!.code.slice(start, lstm!.code.indexOf("\n}\n", start));
    expect(body.match(/!mm\.loop\(/gu)).toHaveLength(2);
    const recurrence = body.indexOf("for (let t = ");
    expect(recurrence).toBeGreaterThan(0);
    for (const k of [0, 1]) expect(body.indexOf(`!mm.loop(${k}, B, `)).toBeGreaterThan(recurrence);
    expect(body).toMatch(/!mm\.loop\(0, B, [^\n]*c_seq, \(t \+ 1\) \* B \* 16/u);
  });
});

describe.runIf(simdAvailable())("the runner (mm.loop over a float32 arena)", () => {
  // Y = A ⊙ B + s, over rows of `size`; A's rows `sa` apart, B one row for all, Y compact.
  const size = 9;
  const compiled = compileElementLoop(size, [store(load("Y", size), op("add", [op("mul", [load("A", 11), load("B", 0)]), named("s")]))])!;
  const loops = compileLoops({ wasm: Buffer.from(encodeModule([compiled.function("loop0")])).toString("base64"), shapes: [compiled.shape] })!;
  const expect3 = (rows: number, A: Real, B: Real, Y: Real, s: number, a0 = 0, y0 = 0) => {
    const out = Float32Array.from(Y);
    for (let m = 0; m < rows; m++) for (let i = 0; i < size; i++) out[y0 + m * size + i] = Math.fround(A[a0 + m * 11 + i]! * B[i]! + s);
    return out;
  };
  const filled = (a: Real, seed: number) => {
    const random = mulberry32(seed);
    for (let e = 0; e < a.length; e++) a[e] = value(random);
    return a;
  };

  it("passes its operands in the order the shape gives them", () => {
    expect(compiled.operands.map((o) => o.array)).toEqual(["A", "B", "Y"]);
    expect(compiled.shape).toEqual({ arrays: [{ stride: 11, width: 9, reads: true, writes: false }, { stride: 0, width: 9, reads: true, writes: false }, { stride: 9, width: 9, reads: false, writes: true }], scalars: 1 });
  });

  it("runs operands in the arena in place and plain arrays staged, with the JavaScript loop's bits", () => {
    for (const inArena of [true, false]) {
      const rows = 70;
      const arena = createArena("f32", { loops });
      const lengths = [rows * 11 + 2, size, rows * size + 1];
      const inside = arena.layout(lengths.map((length) => ({ length })), 0);
      const [A, B, Y] = lengths.map((n, k) => filled(inArena ? inside[k]! : new Float32Array(n), k + 1));
      const want = expect3(rows, A!, B!, Y!, 0.1, 2, 1);
      expect(arena.products.loop(0, rows, A!, 2, B!, 0, Y!, 1, 0.1)).toBe(true);
      expect(differs(Y!, want)).toBe(-1);
    }
  });

  it("returns false and writes nothing when the written array overlaps another operand shifted by one element, or below LOOP_MIN_ELEMENTS; rows = 0 is done", () => {
    const arena = createArena("f32", { loops });
    const [buffer, B] = arena.layout([{ length: 100 * 11 + 20 }, { length: size }], 0).map((a, k) => filled(a, k + 5));
    const before = Float32Array.from(buffer!);
    // Y is A one element on: row m of Y is read as part of A's rows after it is written.
    expect(arena.products.loop(0, 100, buffer!, 0, B!, 0, buffer!, 1, 0.5)).toBe(false);
    expect(arena.products.loop(0, 100, buffer!, 1, B!, 0, buffer!, 0, 0.5)).toBe(false);
    const rows = Math.ceil(LOOP_MIN_ELEMENTS / size) - 1;
    const Y = new Float32Array(rows * size);
    expect(arena.products.loop(0, rows, buffer!, 0, B!, 0, Y, 0, 0.5)).toBe(false);
    expect(arena.products.loop(0, 0, buffer!, 0, B!, 0, buffer!, 1, 0.5)).toBe(true);
    expect(differs(buffer!, before)).toBe(-1);
    expect(Y.every((v) => Object.is(v, 0))).toBe(true);
    // One row more is enough elements, and runs.
    const Z = new Float32Array((rows + 1) * size);
    expect(arena.products.loop(0, rows + 1, buffer!, 0, B!, 0, Z, 0, 0.5)).toBe(true);
    expect(differs(Z, expect3(rows + 1, buffer!, B!, new Float32Array(Z.length), 0.5))).toBe(-1);
  });

  it("stages rows that do not fit the staging room at once in chunks, with the same bits as at once", () => {
    const rows = 6000;
    const A = filled(new Float32Array(rows * 11), 11);
    const B = filled(new Float32Array(size), 12);
    const want = expect3(rows, A, B, new Float32Array(rows * size), -0.25);
    const outputs = [16, 2 * rows * (11 + size) + 64].map((staging) => {
      const arena = createArena("f32", { loops });
      const [small] = arena.layout([{ length: 16 }], staging);
      const bytes = small!.buffer.byteLength;
      const Y = new Float32Array(rows * size);
      expect(arena.products.loop(0, rows, A, 0, B, 0, Y, 0, -0.25)).toBe(true);
      // The memory did not grow: with a small staging area the rows went through it in chunks.
      expect(small!.buffer.byteLength).toBe(bytes);
      if (staging === 16) expect(bytes / 4).toBeLessThan(rows * (11 + size) + size);
      return Y;
    });
    expect(differs(outputs[0]!, want)).toBe(-1);
    expect(differs(outputs[1]!, want)).toBe(-1);
  });

  it("leaves the buffer as the JavaScript loop would wherever its operands lie in one buffer: overlapping, interleaved column blocks of the same rows, the same elements, apart", () => {
    let ran = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(5, 8, 12), fc.constantFrom(1, 2, 3), fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 40 })), { minLength: 4, maxLength: 4 }), fc.boolean(), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 1_000_000 }),
        (width, blocks, starts, inArena, extra, seed) => {
          const s = width * blocks;
          // P = A + B and Q = A ⊙ B, for element i of each row, in that order.
          const [A, B, P, Q] = ["A", "B", "P", "Q"].map((name) => load(name, s));
          const body = [store(P!, op("add", [A!, B!])), store(Q!, op("mul", [A!, B!]))];
          const fn = compileElementLoop(width, body)!;
          const loops = compileLoops({ wasm: Buffer.from(encodeModule([fn.function("loop0")])).toString("base64"), shapes: [fn.shape] })!;
          const rows = Math.ceil(LOOP_MIN_ELEMENTS / width) + extra;
          const region = rows * s + 48;
          const length = 4 * region;
          const arena = createArena("f32", { loops });
          const buffer = filled(inArena ? arena.layout([{ length }], 0)[0]! : new Float32Array(length), seed);
          // Each operand in one of four regions, at a whole block or anywhere: in one region the same elements, the next block of the same rows, or overlapping.
          const at = starts.map(([r, x]) => r * region + (x % 3 === 0 ? ((x % 9) / 3) * width : x));
          const want = Float32Array.from(buffer);
          for (let m = 0; m < rows; m++) {
            for (let i = 0; i < width; i++) {
              // Each statement reads the elements as they are then (P may be A or B).
              const [a, b] = [(): number => want[at[0]! + m * s + i]!, (): number => want[at[1]! + m * s + i]!];
              want[at[2]! + m * s + i] = Math.fround(a() + b());
              want[at[3]! + m * s + i] = Math.fround(a() * b());
            }
          }
          runs++;
          const before = Float32Array.from(buffer);
          const done = arena.products.loop(0, rows, buffer, at[0]!, buffer, at[1]!, buffer, at[2]!, buffer, at[3]!);
          if (done) ran++;
          // Refused, it wrote nothing (the JavaScript loop runs next); run, it wrote what that loop would.
          const k = differs(buffer, done ? want : before);
          if (k >= 0) throw new Error(`width ${width}, stride ${s}, rows ${rows}, offsets ${at.join(", ")}${inArena ? " in the arena" : ""}: element ${k} is ${show(buffer[k])}, expected ${show(want[k])}`);
        },
      ),
      { seed: propertySeed(91, "element loops: placements"), numRuns: 400 },
    );
    // Some placements run (those whose written elements no other operand touches), so the comparison is made.
    expect(ran).toBeGreaterThan(runs / 8);
  });

  it("runs a loop whose written array is, in the arena, the very elements another operand reads in place, and leaves it to JavaScript for plain arrays", () => {
    // Y = X ⊙ A, called with Y the same elements as X.
    const xy = compileElementLoop(8, [store(load("Y", 8), op("mul", [load("X", 8), load("A", 8)]))])!;
    const own = compileLoops({ wasm: Buffer.from(encodeModule([xy.function("loop0")])).toString("base64"), shapes: [xy.shape] })!;
    expect(xy.operands.map((o) => o.array)).toEqual(["X", "A", "Y"]);
    const arena = createArena("f32", { loops: own });
    const [Y, A] = arena.layout([{ length: 800 }, { length: 800 }], 0).map((a, k) => filled(a, k + 20));
    const want = Y!.map((y, e) => Math.fround(y * A![e]!));
    expect(arena.products.loop(0, 100, Y!, 0, A!, 0, Y!, 0)).toBe(true);
    expect(differs(Y!, want)).toBe(-1);
    const plain = Float32Array.from(Y!);
    expect(arena.products.loop(0, 100, plain, 0, A!, 0, plain, 0)).toBe(false);
    expect(differs(plain, Y!)).toBe(-1);
  });
});
