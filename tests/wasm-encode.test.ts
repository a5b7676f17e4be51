/**
 * The compiler's WebAssembly encoder (compiler/wasm/encode.ts): every instruction of its tables,
 * every kind of immediate and the module around them byte for byte against wabt assembling the
 * same text; modules it builds validated and run (a fused float32 a·b + c in float64 lanes against
 * the same arithmetic in JavaScript, constants and locals read back through memory); LEB128 at the
 * edges of each byte count; and the malformed sequences it refuses.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  Code, encodeModule, LANE_OPS, MEMORY_OPS, PLAIN_OPS, signedLeb, unsignedLeb,
  type ValType, type WasmFunction,
} from "../compiler/wasm/encode.js";
import { propertySeed } from "./helpers/seed.js";

type Wabt = Awaited<ReturnType<typeof import("wabt")>>;
let wabt: Wabt;
beforeAll(async () => {
  const { default: init } = await import("wabt");
  wabt = await init();
});

const MEMORY_IMPORT = '(import "env" "memory" (memory 1))';

/**
 * wabt's bytes for a module's text (UTF-8), validated first unless `validate` is false (wabt's
 * validation refuses shared memories whatever the features it is given).
 */
function assemble(wat: string, validate = true): Uint8Array {
  const module = wabt.parseWat("test.wat", new TextEncoder().encode(wat), { simd: true, threads: true });
  try {
    if (validate) module.validate();
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** A function's text: parameters, locals and instructions, exported as `name`. */
function watFunction(name: string, params: readonly ValType[], locals: readonly ValType[], body: string): string {
  const p = params.length > 0 ? ` (param ${params.join(" ")})` : "";
  const l = locals.length > 0 ? ` (local ${locals.join(" ")})` : "";
  return `(func (export "${name}")${p}${l}\n${body})`;
}

const hex = (bytes: ArrayLike<number>): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");

/** The same one-function module through the encoder and through wabt: equal bytes, and valid to the engine. */
function expectSame(params: ValType[], body: Code, text: string, locals: ValType[] = []): Uint8Array {
  const ours = encodeModule([{ name: "f", params, locals, body }]);
  expect(hex(ours), text).toBe(hex(assemble(`(module ${MEMORY_IMPORT}\n${watFunction("f", params, locals, text)})`)));
  expect(WebAssembly.validate(ours), text).toBe(true);
  return ours;
}

/** Operand and result types of a plain instruction, from its name (what the tests feed it). */
function signature(op: string): { params: ValType[]; result?: ValType } {
  if (op === "drop") return { params: ["i32"] };
  if (op === "select") return { params: ["i32", "i32", "i32"], result: "i32" };
  if (["unreachable", "nop", "return"].includes(op)) return { params: [] };
  const [shape, rest] = op.split(".") as [string, string];
  if (/^(v128|i32x4|f32x4|f64x2)$/u.test(shape)) {
    if (rest === "splat") return { params: [shape.slice(0, 3) as ValType], result: "v128" };
    if (rest === "any_true") return { params: ["v128"], result: "i32" };
    if (rest === "bitselect") return { params: ["v128", "v128", "v128"], result: "v128" };
    const unary = /^(not|abs|neg|sqrt|ceil|floor|trunc|nearest)$/u.test(rest) || /_(i32x4|f32x4|f64x2)/u.test(rest);
    return { params: unary ? ["v128"] : ["v128", "v128"], result: "v128" };
  }
  const type = shape as ValType;
  const from = /_(i32|i64|f32|f64)(_[su])?$/u.exec(rest);
  if (from !== null) return { params: [from[1] as ValType], result: type };
  if (rest === "eqz") return { params: [type], result: "i32" };
  if (/^(eq|ne|lt|gt|le|ge)(_[su])?$/u.test(rest)) return { params: [type, type], result: "i32" };
  if (/^(abs|neg|sqrt|ceil|floor|trunc|nearest|clz|ctz|popcnt)$/u.test(rest)) return { params: [type], result: type };
  return { params: [type, type], result: type };
}

/** Local gets of the parameters, in both forms. */
function operands(params: readonly ValType[]): { code: Code; text: string } {
  const code = new Code();
  params.forEach((_, k) => code.localGet(k));
  return { code, text: params.map((_, k) => `local.get ${k}`).join("\n") };
}

describe("instructions against wabt, byte for byte", () => {
  it.each(Object.keys(PLAIN_OPS))("%s", (op) => {
    const { params, result } = signature(op);
    const { code, text } = operands(params);
    code.op(op);
    if (result !== undefined) code.op("drop");
    expectSame(params, code, `${text}\n${op}${result !== undefined ? "\ndrop" : ""}`);
  });

  const valueOf = (op: string): ValType => op.split(".")[0] as ValType;
  const loadedOrStored = (op: string): ValType => (op.startsWith("v128") ? "v128" : valueOf(op));
  it.each(Object.keys(MEMORY_OPS))("%s at offsets 0, 127, 128, 200, 16384 and 2^32 - 1 and each valid alignment", (op) => {
    const natural = MEMORY_OPS[op]![1];
    const isStore = op.includes(".store");
    const params: ValType[] = isStore ? ["i32", loadedOrStored(op)] : ["i32"];
    for (const offset of [0, 127, 128, 200, 16384, 0xffff_ffff]) {
      for (let align = 0; align <= natural; align++) {
        const { code, text } = operands(params);
        if (isStore) code.store(op, offset, align);
        else code.load(op, offset, align).op("drop");
        const instruction = `${op} offset=${offset} align=${2 ** align}`;
        expectSame(params, code, `${text}\n${instruction}${isStore ? "" : "\ndrop"}`);
      }
    }
    const natural0 = isStore ? new Code().localGet(0).localGet(1).store(op) : new Code().localGet(0).load(op).op("drop");
    expectSame(params, natural0, `${operands(params).text}\n${op}${isStore ? "" : "\ndrop"}`);
  });

  it.each(Object.keys(LANE_OPS))("%s, every lane", (op) => {
    const lanes = LANE_OPS[op]![1];
    const replace = op.endsWith("replace_lane");
    const params: ValType[] = replace ? ["v128", op.slice(0, 3) as ValType] : ["v128"];
    for (let lane = 0; lane < lanes; lane++) {
      const { code, text } = operands(params);
      if (replace) code.replaceLane(op, lane);
      else code.extractLane(op, lane);
      expectSame(params, code.op("drop"), `${text}\n${op} ${lane}\ndrop`);
    }
  });

  it("i8x16.shuffle, v128.const and f64x2 constants", () => {
    const lanes = [0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 31, 30, 29, 28];
    expectSame(["v128", "v128"], new Code().localGet(0).localGet(1).shuffle(lanes).op("drop"), `local.get 0\nlocal.get 1\ni8x16.shuffle ${lanes.join(" ")}\ndrop`);
    const bytes = Array.from({ length: 16 }, (_, k) => (k * 37 + 200) % 256);
    expectSame([], new Code().v128Const(bytes).op("drop"), `v128.const i8x16 ${bytes.join(" ")}\ndrop`);
    expectSame([], new Code().f64x2Const(-0, 1.5e-310).op("drop"), "v128.const f64x2 -0 1.5e-310\ndrop");
  });

  it("i32, f32 and f64 constants at the edges of their encodings", () => {
    for (const v of [0, -1, 1, 63, 64, -64, -65, 127, 128, 8191, 8192, -8192, -8193, 2 ** 31 - 1, -(2 ** 31)]) {
      expectSame([], new Code().i32Const(v).op("drop"), `i32.const ${v}\ndrop`);
    }
    const [payloadNaN] = new Float64Array(new BigUint64Array([0xfff8_0000_0000_0001n]).buffer) as unknown as [number];
    for (const [v, text] of [[-0, "-0"], [NaN, "nan"], [payloadNaN, "-nan:0x8000000000001"], [Infinity, "inf"], [-Infinity, "-inf"], [5e-324, "0x0.0000000000001p-1022"], [0.1, "0.1"], [1.7976931348623157e308, "1.7976931348623157e308"]] as const) {
      expectSame([], new Code().f64Const(v).op("drop"), `f64.const ${text}\ndrop`);
    }
    for (const [v, text] of [[-0, "-0"], [NaN, "nan"], [Infinity, "inf"], [2 ** -149, "0x1p-149"], [Math.fround(0.1), "0.1"]] as const) {
      expectSame([], new Code().f32Const(v).op("drop"), `f32.const ${text}\ndrop`);
    }
  });

  it("blocks, loops, if/else and branches; local.set and local.tee", () => {
    const code = new Code()
      .block().loop()
      .localGet(0).i32Const(1).op("i32.sub").localTee(0).op("i32.eqz").brIf(1)
      .localGet(0).i32Const(7).op("i32.and").ifBlock().br(1).else().localGet(0).localSet(1).end()
      .br(0).end().end()
      .localGet(1).op("i32.eqz").brIf(0);
    const text = `block\nloop\nlocal.get 0\ni32.const 1\ni32.sub\nlocal.tee 0\ni32.eqz\nbr_if 1
local.get 0\ni32.const 7\ni32.and\nif\nbr 1\nelse\nlocal.get 0\nlocal.set 1\nend\nbr 0\nend\nend
local.get 1\ni32.eqz\nbr_if 0`;
    expectSame(["i32"], code, text, ["i32"]);
  });

  it("locals as runs of one type, more than 127 of them, indices past 127", () => {
    const locals: ValType[] = [
      ...Array<ValType>(130).fill("f64"), "i32", "i32", ...Array<ValType>(200).fill("v128"), "f32", "f64", ...Array<ValType>(129).fill("f32"),
    ];
    const code = new Code().localGet(131).localSet(0).localGet(300).localSet(140).localGet(462).localSet(333);
    expectSame(["i32"], code, "local.get 131\nlocal.set 0\nlocal.get 300\nlocal.set 140\nlocal.get 462\nlocal.set 333", locals);
  });

  it("a module of several functions: signatures shared once, in order of first use; exports in order", () => {
    const fns: WasmFunction[] = [
      { name: "a", params: ["i32", "f64"], locals: [], body: new Code() },
      { name: "b", params: [], locals: ["f32"], body: new Code().op("nop") },
      { name: "ç_unicode", params: ["i32", "f64"], locals: ["v128"], body: new Code() },
      { name: "d", params: [], locals: [], body: new Code().op("return") },
    ];
    const text = fns.map((f) => watFunction(f.name, f.params, f.locals, f.body.bytes.length === 0 ? "" : f.name === "b" ? "nop" : "return"));
    expect(hex(encodeModule(fns))).toBe(hex(assemble(`(module ${MEMORY_IMPORT}\n${text.join("\n")})`)));
    expect(hex(encodeModule([]))).toBe(hex(assemble(`(module ${MEMORY_IMPORT})`)));
  });

  it("the memory import: pages, a maximum, shared", () => {
    const f: WasmFunction = { name: "f", params: [], locals: [], body: new Code() };
    const wat = (memory: string): string => `(module (import "env" "memory" (memory ${memory}))\n(func (export "f")))`;
    expect(hex(encodeModule([f], { memoryPages: 300 }))).toBe(hex(assemble(wat("300"))));
    expect(hex(encodeModule([f], { memoryPages: 0, maximumPages: 65536 }))).toBe(hex(assemble(wat("0 65536"))));
    const shared = encodeModule([f], { memoryPages: 2, maximumPages: 200, shared: true });
    expect(hex(shared)).toBe(hex(assemble(wat("2 200 shared"), false)));
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 200, shared: true });
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(shared), { env: { memory } })).not.toThrow();
  });
});

describe("LEB128", () => {
  it("unsigned and signed at the edges of each byte count", () => {
    expect(unsignedLeb(0)).toEqual([0]);
    expect(unsignedLeb(127)).toEqual([0x7f]);
    expect(unsignedLeb(128)).toEqual([0x80, 0x01]);
    expect(unsignedLeb(16384)).toEqual([0x80, 0x80, 0x01]);
    expect(unsignedLeb(0xffff_ffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(signedLeb(0)).toEqual([0]);
    expect(signedLeb(-1)).toEqual([0x7f]);
    expect(signedLeb(63)).toEqual([0x3f]);
    expect(signedLeb(64)).toEqual([0xc0, 0x00]);
    expect(signedLeb(-64)).toEqual([0x40]);
    expect(signedLeb(-65)).toEqual([0xbf, 0x7f]);
    expect(signedLeb(2 ** 31 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x07]);
    expect(signedLeb(-(2 ** 31))).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });

  it("decodes back to the value for random integers", () => {
    const decode = (bytes: number[], signed: boolean): number => {
      let value = 0;
      bytes.forEach((b, k) => (value += (b & 0x7f) * 2 ** (7 * k)));
      const bits = 7 * bytes.length;
      return signed && (bytes[bytes.length - 1]! & 0x40) !== 0 ? value - 2 ** bits : value;
    };
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.nat({ max: 0xffff_ffff }), (s, u) => {
        const sb = signedLeb(s), ub = unsignedLeb(u);
        const last = (b: number[]): boolean => b.slice(0, -1).every((x) => x >= 0x80) && b[b.length - 1]! < 0x80;
        return decode(sb, true) === s && decode(ub, false) === u && last(sb) && last(ub) && sb.length <= 5 && ub.length <= 5;
      }),
      { seed: propertySeed(1, "wasm encode: LEB128"), numRuns: 2000 },
    );
  });
});

/** An instance of the module over a fresh memory of `pages` pages. */
function instantiate(bytes: Uint8Array<ArrayBuffer>, pages = 1): { exports: Record<string, (...args: number[]) => void>; memory: WebAssembly.Memory } {
  expect(WebAssembly.validate(bytes)).toBe(true);
  const memory = new WebAssembly.Memory({ initial: pages });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return { exports: instance.exports as Record<string, (...args: number[]) => void>, memory };
}

/** Adds `step` to each of the locals. */
function advance(code: Code, locals: readonly number[], step: number): Code {
  for (const l of locals) code.localGet(l).i32Const(step).op("i32.add").localSet(l);
  return code;
}

/**
 * y[k] = float32(a[k]·b[k] + c[k]) over float32 rows at byte addresses a, b, c, y: four at a time
 * in two f64x2 halves (the low half promoted from a v128.load, the high half from a 64-bit load at
 * offset 8 or from a shuffle), demoted and joined by a shuffle; then one at a time in f64.
 */
function fusedMultiplyAdd(): WasmFunction {
  const [a, b, c, y, n, tmp] = [0, 1, 2, 3, 4, 5];
  const promoted = (p: number, high: boolean): Code => {
    const code = new Code().localGet(p);
    if (!high) return code.load("v128.load", 0, 2).op("f64x2.promote_low_f32x4");
    if (p !== c) return code.load("v128.load64_zero", 8, 2).op("f64x2.promote_low_f32x4");
    const highDown = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
    return code.load("v128.load", 0, 2).localTee(tmp).localGet(tmp).shuffle(highDown).op("f64x2.promote_low_f32x4");
  };
  const half = (high: boolean): Code =>
    new Code().append(promoted(a, high)).append(promoted(b, high)).op("f64x2.mul").append(promoted(c, high)).op("f64x2.add").op("f32x4.demote_f64x2_zero");
  const scalar = (p: number): Code => new Code().localGet(p).load("f32.load").op("f64.promote_f32");
  const body = new Code()
    .block().loop()
    .localGet(n).i32Const(4).op("i32.lt_u").brIf(1)
    .localGet(y).append(half(false)).append(half(true))
    .shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).store("v128.store", 0, 2);
  advance(body, [a, b, c, y], 16).localGet(n).i32Const(-4).op("i32.add").localSet(n).br(0).end().end();
  body.block().loop().localGet(n).op("i32.eqz").brIf(1)
    .localGet(y).append(scalar(a)).append(scalar(b)).op("f64.mul").append(scalar(c)).op("f64.add").op("f32.demote_f64").store("f32.store");
  advance(body, [a, b, c, y], 4).localGet(n).i32Const(1).op("i32.sub").localSet(n).br(0).end().end();
  return { name: "fma", params: ["i32", "i32", "i32", "i32", "i32"], locals: ["v128"], body };
}

const bitsOf32 = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!;

describe("modules built with the encoder, run", () => {
  it("a fused float32 a·b + c in f64x2 lanes is Math.fround(a·b + c) in float64, bit for bit, over unaligned rows of any length", () => {
    const { exports, memory } = instantiate(encodeModule([fusedMultiplyAdd()]));
    const f32 = fc.float();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 23 }).chain((n) => fc.tuple(fc.constant(n), fc.array(fc.tuple(f32, f32, f32), { minLength: n, maxLength: n }))), fc.integer({ min: 0, max: 3 }), ([n, rows], shift) => {
        const view = new Float32Array(memory.buffer);
        const [a, b, c, y] = [1 + shift, 40 + shift, 80, 121 + shift]; // float32 indices: byte addresses 4·k, mostly not 16-byte aligned
        view.fill(7, 0, 200);
        rows.forEach(([x, w, z], k) => ((view[a + k] = x), (view[b + k] = w), (view[c + k] = z)));
        exports["fma"]!(4 * a, 4 * b, 4 * c, 4 * y, n);
        rows.forEach(([x, w, z], k) => {
          const expected = Math.fround(x * w + z), got = view[y + k]!;
          if (Number.isNaN(expected) ? !Number.isNaN(got) : bitsOf32(got) !== bitsOf32(expected)) throw new Error(`${x}·${w} + ${z}: ${got}, expected ${expected}`);
        });
        if (view[y + n] !== 7 || view[y - 1] !== 7) throw new Error("wrote outside y");
      }),
      { seed: propertySeed(11, "wasm encode: fused a·b + c"), numRuns: 300 },
    );
  });

  it("constants come back with their exact bits (−0, quiet NaNs with a payload and a sign, infinities, subnormals, 32-bit integers), stored at offsets past 127", () => {
    // A quiet NaN: V8 sets the quiet bit of a signalling NaN read from memory into a number.
    const [payloadNaN, negativeNaN] = new Float64Array(new BigUint64Array([0x7ff8_0000_0000_0001n, 0xfff8_0000_0000_0123n]).buffer) as unknown as [number, number];
    const doubles = [-0, NaN, payloadNaN, negativeNaN, Infinity, -Infinity, 5e-324, -2.2250738585072e-308, 0.1, 1.7976931348623157e308];
    const ints = [0, -1, 63, 64, -64, -65, 2 ** 31 - 1, -(2 ** 31), 123456789];
    const body = new Code();
    doubles.forEach((v, k) => body.localGet(0).f64Const(v).store("f64.store", 200 + 8 * k));
    ints.forEach((v, k) => body.localGet(0).i32Const(v).store("i32.store", 20000 + 4 * k));
    body.localGet(0).f32Const(2 ** -149).store("f32.store", 300).localGet(0).f32Const(-0).store("f32.store", 304);
    const { exports, memory } = instantiate(encodeModule([{ name: "k", params: ["i32"], locals: [], body }]));
    exports["k"]!(16);
    const view = new DataView(memory.buffer);
    const bits = (v: number): bigint => new BigUint64Array(new Float64Array([v]).buffer)[0]!;
    doubles.forEach((v, k) => expect(view.getBigUint64(16 + 200 + 8 * k, true), String(v)).toBe(bits(v)));
    expect(view.getBigUint64(16 + 200 + 16, true)).toBe(0x7ff8_0000_0000_0001n);
    expect(view.getBigUint64(16 + 200 + 24, true)).toBe(0xfff8_0000_0000_0123n);
    ints.forEach((v, k) => expect(view.getInt32(16 + 20000 + 4 * k, true)).toBe(v));
    expect(view.getUint32(16 + 300, true)).toBe(1);
    expect(view.getUint32(16 + 304, true)).toBe(0x8000_0000);
  });

  it("a function of more than 127 locals of several types reads and writes the far ones", () => {
    const locals: ValType[] = [...Array<ValType>(200).fill("f64"), ...Array<ValType>(100).fill("i32"), ...Array<ValType>(150).fill("f64")];
    const body = new Code()
      .f64Const(2.5).localSet(200).localGet(200).localGet(200).op("f64.add").localSet(450)
      .i32Const(-200).localTee(300).localSet(201)
      .localGet(0).localGet(450).store("f64.store", 128).localGet(0).localGet(201).store("i32.store", 136);
    const { exports, memory } = instantiate(encodeModule([{ name: "far", params: ["i32"], locals, body }]));
    exports["far"]!(8);
    const view = new DataView(memory.buffer);
    expect(view.getFloat64(136, true)).toBe(5);
    expect(view.getInt32(144, true)).toBe(-200);
  });
});

describe("malformed code is refused", () => {
  const refuse = (what: () => unknown): void => expect(what).toThrow(/^internal error: /u);

  it("unknown instructions, and instructions of one kind through another's method", () => {
    refuse(() => new Code().op("f64x2.fma"));
    refuse(() => new Code().op("i32.const"));
    refuse(() => new Code().op("constructor"));
    refuse(() => new Code().op("f64.load"));
    refuse(() => new Code().load("f64.store"));
    refuse(() => new Code().store("f64.load"));
    refuse(() => new Code().load("f64x2.load"));
    refuse(() => new Code().extractLane("f64x2.replace_lane", 0));
    refuse(() => new Code().extractLane("i8x16.extract_lane", 0));
  });

  it("unbalanced blocks, else outside an if, branches past the function", () => {
    refuse(() => new Code().end());
    refuse(() => new Code().block().end().end());
    refuse(() => new Code().block().else());
    refuse(() => new Code().ifBlock().else().else());
    refuse(() => encodeModule([{ name: "f", params: [], locals: [], body: new Code().block() }]));
    refuse(() => new Code().append(new Code().loop()));
    refuse(() => new Code().block().br(2));
    refuse(() => new Code().brIf(1));
    refuse(() => new Code().br(-1));
  });

  it("lanes, shuffle lanes and vector constants out of range", () => {
    refuse(() => new Code().extractLane("f64x2.extract_lane", 2));
    refuse(() => new Code().replaceLane("f32x4.replace_lane", 4));
    refuse(() => new Code().extractLane("f32x4.extract_lane", -1));
    refuse(() => new Code().extractLane("i32x4.extract_lane", 1.5));
    refuse(() => new Code().shuffle([...Array(15).fill(0), 32]));
    refuse(() => new Code().shuffle(Array(15).fill(0)));
    refuse(() => new Code().v128Const(Array(15).fill(0)));
    refuse(() => new Code().v128Const([...Array(15).fill(0), 256]));
  });

  it("integers outside their encodings, alignments above natural, too many locals, bad memories", () => {
    refuse(() => new Code().i32Const(2 ** 31));
    refuse(() => new Code().i32Const(-(2 ** 31) - 1));
    refuse(() => new Code().i32Const(0.5));
    refuse(() => new Code().load("v128.load", 2 ** 32));
    refuse(() => new Code().load("v128.load", -1));
    refuse(() => new Code().load("v128.load", 0, 5));
    refuse(() => new Code().store("f32.store", 0, 3));
    refuse(() => new Code().localGet(-1));
    const body = new Code();
    refuse(() => encodeModule([{ name: "f", params: Array<ValType>(1001).fill("i32"), locals: [], body }]));
    refuse(() => encodeModule([{ name: "f", params: ["i32"], locals: Array<ValType>(50_000).fill("f64"), body }]));
    refuse(() => encodeModule([{ name: "f", params: [], locals: [], body }, { name: "f", params: [], locals: [], body }]));
    refuse(() => encodeModule([], { shared: true }));
    refuse(() => encodeModule([], { memoryPages: 3, maximumPages: 2 }));
    refuse(() => encodeModule([], { memoryPages: -1 }));
    refuse(() => encodeModule([], { memoryPages: 1, maximumPages: 65_537 }));
  });
});
