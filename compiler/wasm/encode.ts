/**
 * A small WebAssembly binary encoder: instructions appended to a `Code`, functions gathered by
 * `encodeModule` into module bytes. The compiler emits a cell's WebAssembly with it at build time,
 * where wabt (a devDependency, used by `npm run generate` for the runtime's fixed modules) is not
 * there. It writes exactly what wabt's `toBinary({})` writes for the same text (tests/wasm-encode.test.ts).
 *
 * The format: the bytes "\0asm", the version 1 as four little-endian bytes, then sections, each an
 * id byte, its length in bytes and its contents, in increasing id order: type (1: function
 * signatures, each 0x60, the parameter types, the result types), import (2: module name, field
 * name, kind 2 = memory, its limits), function (3: each function's signature index), export (7:
 * name, kind 0 = function, function index) and code (10: each function's size, its locals as runs
 * of (count, type), its instructions and the end byte 0x0b). A list ("vec") is its length then its
 * elements; a name is a vec of UTF-8 bytes. Integers are LEB128: seven bits a byte, low bits first,
 * the top bit set on every byte but the last; signed LEB128 stops once the remaining bits are all
 * copies of the sign bit held in bit 6 of the last byte. SIMD instructions are the prefix byte
 * 0xfd followed by their opcode as unsigned LEB128.
 */

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

const VALTYPE: Readonly<Record<ValType, number>> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** One function of a module: exported under `name`, parameters then extra locals (indices: params first). */
export interface WasmFunction {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly locals: readonly ValType[];
  /** The instructions, without the function's final `end` (encodeModule adds it). */
  readonly body: Code;
}

/** What V8 accepts in a function (its limits, lower than the format's). */
export const MAX_PARAMS = 1000;
export const MAX_LOCALS = 50_000;
/** Pages of 64 KiB a 32-bit memory can have. */
const MAX_PAGES = 65_536;

/**
 * The opcodes of the instructions without immediates, by text name. A number below 0x100 is the
 * one-byte opcode; `SIMD + n` is the SIMD opcode n (written 0xfd, then n as unsigned LEB128).
 * Taken from the SIMD proposal's opcode table and the core specification; the tests compare each
 * against wabt.
 */
const SIMD = 0x1_0000;
export const PLAIN_OPS: Readonly<Record<string, number>> = {
  unreachable: 0x00, nop: 0x01, return: 0x0f, drop: 0x1a, select: 0x1b,
  "i32.eqz": 0x45, "i32.eq": 0x46, "i32.ne": 0x47, "i32.lt_s": 0x48, "i32.lt_u": 0x49, "i32.gt_s": 0x4a,
  "i32.gt_u": 0x4b, "i32.le_s": 0x4c, "i32.le_u": 0x4d, "i32.ge_s": 0x4e, "i32.ge_u": 0x4f,
  "f32.eq": 0x5b, "f32.ne": 0x5c, "f32.lt": 0x5d, "f32.gt": 0x5e, "f32.le": 0x5f, "f32.ge": 0x60,
  "f64.eq": 0x61, "f64.ne": 0x62, "f64.lt": 0x63, "f64.gt": 0x64, "f64.le": 0x65, "f64.ge": 0x66,
  "i32.clz": 0x67, "i32.ctz": 0x68, "i32.popcnt": 0x69, "i32.add": 0x6a, "i32.sub": 0x6b, "i32.mul": 0x6c,
  "i32.div_s": 0x6d, "i32.div_u": 0x6e, "i32.rem_s": 0x6f, "i32.rem_u": 0x70, "i32.and": 0x71, "i32.or": 0x72,
  "i32.xor": 0x73, "i32.shl": 0x74, "i32.shr_s": 0x75, "i32.shr_u": 0x76, "i32.rotl": 0x77, "i32.rotr": 0x78,
  "f32.abs": 0x8b, "f32.neg": 0x8c, "f32.ceil": 0x8d, "f32.floor": 0x8e, "f32.trunc": 0x8f, "f32.nearest": 0x90,
  "f32.sqrt": 0x91, "f32.add": 0x92, "f32.sub": 0x93, "f32.mul": 0x94, "f32.div": 0x95, "f32.min": 0x96,
  "f32.max": 0x97, "f32.copysign": 0x98,
  "f64.abs": 0x99, "f64.neg": 0x9a, "f64.ceil": 0x9b, "f64.floor": 0x9c, "f64.trunc": 0x9d, "f64.nearest": 0x9e,
  "f64.sqrt": 0x9f, "f64.add": 0xa0, "f64.sub": 0xa1, "f64.mul": 0xa2, "f64.div": 0xa3, "f64.min": 0xa4,
  "f64.max": 0xa5, "f64.copysign": 0xa6,
  "i32.trunc_f32_s": 0xa8, "i32.trunc_f32_u": 0xa9, "i32.trunc_f64_s": 0xaa, "i32.trunc_f64_u": 0xab,
  "f32.convert_i32_s": 0xb2, "f32.convert_i32_u": 0xb3, "f32.demote_f64": 0xb6,
  "f64.convert_i32_s": 0xb7, "f64.convert_i32_u": 0xb8, "f64.promote_f32": 0xbb,
  "i32.reinterpret_f32": 0xbc, "f32.reinterpret_i32": 0xbe,
  "i32x4.splat": SIMD + 0x11, "f32x4.splat": SIMD + 0x13, "f64x2.splat": SIMD + 0x14,
  "i32x4.eq": SIMD + 0x37, "i32x4.ne": SIMD + 0x38, "i32x4.lt_s": SIMD + 0x39, "i32x4.gt_s": SIMD + 0x3b,
  "f32x4.eq": SIMD + 0x41, "f32x4.ne": SIMD + 0x42, "f32x4.lt": SIMD + 0x43, "f32x4.gt": SIMD + 0x44,
  "f32x4.le": SIMD + 0x45, "f32x4.ge": SIMD + 0x46,
  "f64x2.eq": SIMD + 0x47, "f64x2.ne": SIMD + 0x48, "f64x2.lt": SIMD + 0x49, "f64x2.gt": SIMD + 0x4a,
  "f64x2.le": SIMD + 0x4b, "f64x2.ge": SIMD + 0x4c,
  "v128.not": SIMD + 0x4d, "v128.and": SIMD + 0x4e, "v128.andnot": SIMD + 0x4f, "v128.or": SIMD + 0x50,
  "v128.xor": SIMD + 0x51, "v128.bitselect": SIMD + 0x52, "v128.any_true": SIMD + 0x53,
  "f32x4.demote_f64x2_zero": SIMD + 0x5e, "f64x2.promote_low_f32x4": SIMD + 0x5f,
  "f32x4.ceil": SIMD + 0x67, "f32x4.floor": SIMD + 0x68, "f32x4.trunc": SIMD + 0x69, "f32x4.nearest": SIMD + 0x6a,
  "f64x2.ceil": SIMD + 0x74, "f64x2.floor": SIMD + 0x75, "f64x2.trunc": SIMD + 0x7a, "f64x2.nearest": SIMD + 0x94,
  "i32x4.add": SIMD + 0xae, "i32x4.sub": SIMD + 0xb1, "i32x4.mul": SIMD + 0xb5,
  "f32x4.abs": SIMD + 0xe0, "f32x4.neg": SIMD + 0xe1, "f32x4.sqrt": SIMD + 0xe3, "f32x4.add": SIMD + 0xe4,
  "f32x4.sub": SIMD + 0xe5, "f32x4.mul": SIMD + 0xe6, "f32x4.div": SIMD + 0xe7, "f32x4.min": SIMD + 0xe8,
  "f32x4.max": SIMD + 0xe9, "f32x4.pmin": SIMD + 0xea, "f32x4.pmax": SIMD + 0xeb,
  "f64x2.abs": SIMD + 0xec, "f64x2.neg": SIMD + 0xed, "f64x2.sqrt": SIMD + 0xef, "f64x2.add": SIMD + 0xf0,
  "f64x2.sub": SIMD + 0xf1, "f64x2.mul": SIMD + 0xf2, "f64x2.div": SIMD + 0xf3, "f64x2.min": SIMD + 0xf4,
  "f64x2.max": SIMD + 0xf5, "f64x2.pmin": SIMD + 0xf6, "f64x2.pmax": SIMD + 0xf7,
  "i32x4.trunc_sat_f32x4_s": SIMD + 0xf8, "f32x4.convert_i32x4_s": SIMD + 0xfa,
  "i32x4.trunc_sat_f64x2_s_zero": SIMD + 0xfc, "f64x2.convert_low_i32x4_s": SIMD + 0xfe,
};

/** Loads and stores: opcode and the log2 of the bytes accessed (the natural, and largest valid, alignment). */
export const MEMORY_OPS: Readonly<Record<string, readonly [opcode: number, naturalAlignLog2: number]>> = {
  "i32.load": [0x28, 2], "f32.load": [0x2a, 2], "f64.load": [0x2b, 3],
  "i32.store": [0x36, 2], "f32.store": [0x38, 2], "f64.store": [0x39, 3],
  "v128.load": [SIMD + 0x00, 4], "v128.load32_splat": [SIMD + 0x09, 2], "v128.load64_splat": [SIMD + 0x0a, 3],
  "v128.store": [SIMD + 0x0b, 4], "v128.load32_zero": [SIMD + 0x5c, 2], "v128.load64_zero": [SIMD + 0x5d, 3],
};

/** Lane instructions: opcode and the number of lanes. */
export const LANE_OPS: Readonly<Record<string, readonly [opcode: number, lanes: number]>> = {
  "i32x4.extract_lane": [SIMD + 0x1b, 4], "i32x4.replace_lane": [SIMD + 0x1c, 4],
  "f32x4.extract_lane": [SIMD + 0x1f, 4], "f32x4.replace_lane": [SIMD + 0x20, 4],
  "f64x2.extract_lane": [SIMD + 0x21, 2], "f64x2.replace_lane": [SIMD + 0x22, 2],
};

const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, END = 0x0b, BR = 0x0c, BR_IF = 0x0d;
const LOCAL_GET = 0x20, LOCAL_SET = 0x21, LOCAL_TEE = 0x22;
const I32_CONST = 0x41, F32_CONST = 0x43, F64_CONST = 0x44, V128_CONST = SIMD + 0x0c, SHUFFLE = SIMD + 0x0d;
const EMPTY_BLOCK_TYPE = 0x40;

function fail(what: string): never {
  throw new Error(`internal error: ${what}`);
}

/** Unsigned LEB128 of an integer in [0, 2^32). */
export function unsignedLeb(value: number, out: number[] = []): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) fail(`${value} is not an unsigned 32-bit integer`);
  let rest = value;
  do {
    const low = rest % 128;
    rest = Math.floor(rest / 128);
    out.push(rest === 0 ? low : low | 0x80);
  } while (rest !== 0);
  return out;
}

/** Signed LEB128 of an integer in [-2^31, 2^31). */
export function signedLeb(value: number, out: number[] = []): number[] {
  if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff) fail(`${value} is not a signed 32-bit integer`);
  let rest = value;
  for (;;) {
    const low = rest & 0x7f;
    rest >>= 7; // arithmetic shift: the sign stays
    const done = (rest === 0 && (low & 0x40) === 0) || (rest === -1 && (low & 0x40) !== 0);
    out.push(done ? low : low | 0x80);
    if (done) return out;
  }
}

/** A table's own entry (not one of Object.prototype's names, such as "constructor"). */
function entry<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

function opcode(code: number, out: number[]): void {
  if (code < SIMD) {
    out.push(code);
  } else {
    out.push(0xfd);
    unsignedLeb(code - SIMD, out);
  }
}

type Open = "block" | "loop" | "if" | "else";

/** An instruction sequence being built; every method appends and returns `this` (chainable). */
export class Code {
  private readonly out: number[] = [];
  /** The blocks opened and not yet ended, innermost last. */
  private readonly open: Open[] = [];

  /** What has been appended. */
  get bytes(): readonly number[] {
    return this.out;
  }

  /** Blocks opened and not yet ended. */
  get depth(): number {
    return this.open.length;
  }

  /** A plain instruction with no immediates, by its text-format name ("f64x2.add", "drop", ...). */
  op(name: string): this {
    const code = entry(PLAIN_OPS, name);
    if (code === undefined) fail(`unknown WebAssembly instruction "${name}"`);
    opcode(code, this.out);
    return this;
  }

  i32Const(value: number): this {
    opcode(I32_CONST, this.out);
    signedLeb(value, this.out);
    return this;
  }

  /** The float64's exact bits, little endian (-0 and a NaN's sign and payload kept; a number holds only quiet NaNs). */
  f64Const(value: number): this {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, true);
    opcode(F64_CONST, this.out);
    this.out.push(...bytes);
    return this;
  }

  /** The value rounded to float32 (exact for a value Math.fround returns unchanged), little endian. */
  f32Const(value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    opcode(F32_CONST, this.out);
    this.out.push(...bytes);
    return this;
  }

  v128Const(bytes: readonly number[]): this {
    if (bytes.length !== 16 || !bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) fail(`v128.const takes 16 bytes, not [${bytes.join(", ")}]`);
    opcode(V128_CONST, this.out);
    this.out.push(...bytes);
    return this;
  }

  /** v128.const with two float64 lanes (lane 0 first). */
  f64x2Const(a: number, b: number): this {
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, a, true);
    view.setFloat64(8, b, true);
    return this.v128Const([...bytes]);
  }

  localGet(index: number): this {
    return this.indexed(LOCAL_GET, index);
  }

  localSet(index: number): this {
    return this.indexed(LOCAL_SET, index);
  }

  localTee(index: number): this {
    return this.indexed(LOCAL_TEE, index);
  }

  /** A load by text name, with `offset` in bytes and the alignment as log2 (default: natural). */
  load(name: string, offset = 0, alignLog2?: number): this {
    if (!name.includes(".load")) fail(`"${name}" is not a load`);
    return this.memory(name, offset, alignLog2);
  }

  store(name: string, offset = 0, alignLog2?: number): this {
    if (!name.includes(".store")) fail(`"${name}" is not a store`);
    return this.memory(name, offset, alignLog2);
  }

  /** i8x16.shuffle: byte k of the result is byte lanes[k] of the two operands side by side. */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16 || !lanes.every((l) => Number.isInteger(l) && l >= 0 && l < 32)) fail(`i8x16.shuffle takes 16 lanes in 0..31, not [${lanes.join(", ")}]`);
    opcode(SHUFFLE, this.out);
    this.out.push(...lanes);
    return this;
  }

  extractLane(name: string, lane: number): this {
    if (!name.endsWith(".extract_lane")) fail(`"${name}" is not an extract_lane`);
    return this.lane(name, lane);
  }

  replaceLane(name: string, lane: number): this {
    if (!name.endsWith(".replace_lane")) fail(`"${name}" is not a replace_lane`);
    return this.lane(name, lane);
  }

  /** Blocks take no operands and leave no results (block type 0x40). */
  block(): this {
    return this.opening("block", BLOCK);
  }

  loop(): this {
    return this.opening("loop", LOOP);
  }

  ifBlock(): this {
    return this.opening("if", IF);
  }

  else(): this {
    if (this.open[this.open.length - 1] !== "if") fail("else outside an if");
    this.open[this.open.length - 1] = "else";
    opcode(ELSE, this.out);
    return this;
  }

  end(): this {
    if (this.open.pop() === undefined) fail("end without a block to end");
    opcode(END, this.out);
    return this;
  }

  /** Branch to the label `depth` blocks out (0: the innermost; the depth of all open blocks: the function's end). */
  br(depth: number): this {
    return this.branch(BR, depth);
  }

  brIf(depth: number): this {
    return this.branch(BR_IF, depth);
  }

  /** Appends another sequence, whose blocks must be balanced. */
  append(code: Code): this {
    if (code.depth !== 0) fail("appending code with unbalanced blocks");
    for (const b of code.bytes) this.out.push(b);
    return this;
  }

  private indexed(code: number, index: number): this {
    if (!Number.isInteger(index) || index < 0 || index >= MAX_LOCALS) fail(`local index ${index}`);
    opcode(code, this.out);
    unsignedLeb(index, this.out);
    return this;
  }

  private memory(name: string, offset: number, alignLog2: number | undefined): this {
    const memoryOp = entry(MEMORY_OPS, name);
    if (memoryOp === undefined) fail(`unknown WebAssembly memory instruction "${name}"`);
    const [code, natural] = memoryOp;
    const align = alignLog2 ?? natural;
    if (!Number.isInteger(align) || align < 0 || align > natural) fail(`${name}: alignment 2^${align} above its natural 2^${natural}`);
    opcode(code, this.out);
    unsignedLeb(align, this.out);
    unsignedLeb(offset, this.out);
    return this;
  }

  private lane(name: string, lane: number): this {
    const laneOp = entry(LANE_OPS, name);
    if (laneOp === undefined) fail(`unknown WebAssembly lane instruction "${name}"`);
    const [code, lanes] = laneOp;
    if (!Number.isInteger(lane) || lane < 0 || lane >= lanes) fail(`${name}: lane ${lane} out of 0..${lanes - 1}`);
    opcode(code, this.out);
    this.out.push(lane);
    return this;
  }

  private opening(kind: Open, code: number): this {
    this.open.push(kind);
    opcode(code, this.out);
    this.out.push(EMPTY_BLOCK_TYPE);
    return this;
  }

  private branch(code: number, depth: number): this {
    if (!Number.isInteger(depth) || depth < 0 || depth > this.open.length) fail(`branch depth ${depth} with ${this.open.length} blocks open`);
    opcode(code, this.out);
    unsignedLeb(depth, this.out);
    return this;
  }
}

function encodeName(text: string, out: number[]): void {
  const bytes = new TextEncoder().encode(text);
  unsignedLeb(bytes.length, out);
  out.push(...bytes);
}

function vec<T>(items: readonly T[], each: (item: T, out: number[]) => void, out: number[] = []): number[] {
  unsignedLeb(items.length, out);
  for (const item of items) each(item, out);
  return out;
}

function section(id: number, contents: readonly number[], out: number[]): void {
  out.push(id);
  unsignedLeb(contents.length, out);
  for (const b of contents) out.push(b);
}

/** The signatures' bytes, the distinct ones in order of first use, and each function's index among them. */
function signatures(functions: readonly WasmFunction[]): { types: number[][]; index: number[] } {
  const keys = new Map<string, number>();
  const types: number[][] = [];
  const index = functions.map((f) => {
    const bytes = [0x60, ...vec(f.params, (t, out) => out.push(VALTYPE[t])), 0];
    const key = bytes.join(",");
    if (!keys.has(key)) keys.set(key, types.push(bytes) - 1);
    return keys.get(key)!;
  });
  return { types, index };
}

/** A function's code entry: its size, its locals as runs of one type, its body and the final end. */
function functionCode(f: WasmFunction, out: number[]): void {
  if (f.params.length > MAX_PARAMS) fail(`function "${f.name}" has ${f.params.length} parameters (at most ${MAX_PARAMS})`);
  if (f.params.length + f.locals.length > MAX_LOCALS) fail(`function "${f.name}" has ${f.params.length + f.locals.length} locals (at most ${MAX_LOCALS})`);
  if (f.body.depth !== 0) fail(`function "${f.name}" has ${f.body.depth} blocks without an end`);
  const runs: [number, ValType][] = [];
  for (const t of f.locals) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === t) last[0]++;
    else runs.push([1, t]);
  }
  const code = vec(runs, ([count, t], o) => (unsignedLeb(count, o), o.push(VALTYPE[t])));
  for (const b of f.body.bytes) code.push(b);
  code.push(END);
  unsignedLeb(code.length, out);
  for (const b of code) out.push(b);
}

/** The memory import's limits: flags (bit 0: a maximum follows; bit 1: shared), minimum, maximum. */
function limits(memory: { memoryPages?: number; shared?: boolean; maximumPages?: number }, out: number[]): void {
  const { memoryPages = 1, shared = false, maximumPages } = memory;
  if (shared && maximumPages === undefined) fail("a shared memory needs a maximum");
  if (Math.max(memoryPages, maximumPages ?? 0) > MAX_PAGES) fail(`memory of more than ${MAX_PAGES} pages`);
  if (maximumPages !== undefined && maximumPages < memoryPages) fail(`memory maximum ${maximumPages} below its minimum ${memoryPages}`);
  out.push((maximumPages === undefined ? 0 : 1) | (shared ? 2 : 0));
  unsignedLeb(memoryPages, out);
  if (maximumPages !== undefined) unsignedLeb(maximumPages, out);
}

/**
 * A module that imports one memory ("env" "memory", minimum `memoryPages` pages (default 1), no
 * maximum, not shared unless `shared` is set, in which case a maximum is required) and exports
 * `functions`. No function returns a value.
 */
export function encodeModule(
  functions: readonly WasmFunction[],
  memory: { memoryPages?: number; shared?: boolean; maximumPages?: number } = {},
): Uint8Array<ArrayBuffer> {
  const names = new Set(functions.map((f) => f.name));
  if (names.size !== functions.length) fail("two functions exported under one name");
  const { types, index } = signatures(functions);
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (types.length > 0) section(1, vec(types, (t, o) => o.push(...t)), out);
  const memoryImport: number[] = [1];
  encodeName("env", memoryImport);
  encodeName("memory", memoryImport);
  memoryImport.push(0x02);
  limits(memory, memoryImport);
  section(2, memoryImport, out);
  if (functions.length > 0) {
    section(3, vec(index, (i, o) => unsignedLeb(i, o)), out);
    section(7, vec(functions.map((f, i) => [f.name, i] as const), ([n, i], o) => (encodeName(n, o), o.push(0x00), unsignedLeb(i, o))), out);
    section(10, vec(functions, functionCode), out);
  }
  return Uint8Array.from(out);
}
