/**
 * A kernel's element loop as a WebAssembly function: the loop's statements for one element (their
 * trees, `codegen/loops/values.ts`) computed over `rows` rows of `size` elements, four elements at
 * a time as two float64x2 halves of a float32x4, then the last 1–3 one at a time.
 *
 * The arithmetic is the JavaScript loop's, operation for operation: every float32 element read is
 * widened to float64, every op is the float64 op JavaScript does (each op's `wasm`, `compiler/ops`),
 * a local keeps its float64 value, and a store rounds to float32 once. The statements run in the
 * same order for each element; four elements run side by side, which gives the same numbers as
 * one after another because no statement reads an element another element's statement writes —
 * the runtime checks that before it runs the function (`src/runtime/loops.ts`), and runs the
 * JavaScript loop otherwise.
 *
 * The function takes `rows`, then for each array operand its byte address (row 0's first element)
 * and row stride in elements, then each scalar the loop reads from the kernel as a float64.
 */
import type { ElementLoopShape } from "../../src/runtime/abi.js";
import { type Ix, show } from "../codegen/loops/index-expr.js";
import type { Stmt } from "../codegen/loops/ir.js";
import type { Val } from "../codegen/loops/values.js";
import { opDef } from "../ops/index.js";
import type { Lanes } from "../ops/types.js";
import { Code, type ValType, type WasmFunction } from "./encode.js";

/** An array the loop reads or writes: where its row 0 starts in the kernel (`base`), its row stride, its width. */
export interface LoopOperand {
  readonly array: string;
  readonly base: Ix;
  readonly stride: number;
  width: number;
  reads: boolean;
  writes: boolean;
}

/** A compiled element loop: its operands and scalars in the order its call passes them, and its function. */
export interface CompiledLoop {
  readonly operands: readonly LoopOperand[];
  readonly scalars: readonly string[];
  readonly shape: ElementLoopShape;
  /** The function, exported under `name`. */
  function(name: string): WasmFunction;
}

type Load = Val & { kind: "load" };
type Statement = (Stmt & { kind: "const" }) | (Stmt & { kind: "store" });

/** The loop as a WebAssembly function, or null when a statement has no tree or an op no `wasm`. */
export function compileElementLoop(size: number, body: readonly Stmt[]): CompiledLoop | null {
  const statements: Statement[] = [];
  for (const s of body) {
    if (s.kind === "comment") continue;
    if ((s.kind !== "const" && s.kind !== "store") || s.tree === undefined) return null;
    statements.push(s);
  }
  if (statements.length === 0 || size < 1) return null;
  const operands: LoopOperand[] = [];
  const operandOf = new Map<string, number>();
  const consts = new Map<string, number>();
  const scalars: string[] = [];
  const use = (l: Load, writes: boolean) => {
    const key = `${l.array}|${show(l.base)}|${l.stride}`;
    let q = operandOf.get(key);
    if (q === undefined) operandOf.set(key, (q = operands.push({ array: l.array, base: l.base, stride: l.stride, width: 0, reads: false, writes: false }) - 1));
    const o = operands[q]!;
    o.width = Math.max(o.width, l.element ? size : 1);
    if (writes) o.writes = true;
    else o.reads = true;
    return q;
  };
  const visit = (v: Val): boolean => {
    if (v.kind === "load") return use(v, false), true;
    if (v.kind === "name") {
      if (!consts.has(v.name) && !scalars.includes(v.name)) scalars.push(v.name);
      return true;
    }
    const def = opDef(v.op);
    return def.kind === "elementwise" && def.wasm !== undefined && v.args.every(visit);
  };
  const trees: Val[] = [];
  for (const s of statements) {
    // `a[k] += v` is `a[k] = a[k] + v`: the element read, then added to.
    const tree = s.kind === "store" && s.mode === "+=" ? ({ kind: "op", op: "add", attrs: {}, args: [s.at!, s.tree!] } as const) : s.tree!;
    if (!visit(tree)) return null;
    trees.push(tree);
    if (s.kind === "const") consts.set(s.name, consts.size);
    else use(s.at!, true);
  }
  const shape: ElementLoopShape = {
    arrays: operands.map(({ stride, width, reads, writes }) => ({ stride, width, reads, writes })),
    scalars: scalars.length,
  };
  return { operands, scalars, shape, function: (name) => new LoopWriter(size, statements, trees, operands, operandOf, consts, scalars).function(name) };
}

/** Where each value of the function lives: parameters, then locals. */
class LoopWriter {
  private readonly code = new Code();
  private readonly locals: ValType[] = [];
  private readonly params: ValType[];
  /** Locals: the row, the byte offset in a row, each scalar in both lanes, each const (two halves, and one lane for the last elements). */
  private readonly m: number;
  private readonly j: number;
  private readonly splat: number[];
  private readonly halves: [number, number][];
  private readonly single: number[];
  /** Temporaries: the f32x4 each load of a statement read. */
  private readonly temps: number[] = [];

  constructor(
    private readonly size: number,
    private readonly statements: readonly Statement[],
    private readonly trees: readonly Val[],
    private readonly operands: readonly LoopOperand[],
    private readonly operandOf: ReadonlyMap<string, number>,
    private readonly consts: ReadonlyMap<string, number>,
    private readonly scalars: readonly string[],
  ) {
    this.params = ["i32", ...operands.flatMap((): ValType[] => ["i32", "i32"]), ...scalars.map((): ValType => "f64")];
    this.m = this.local("i32");
    this.j = this.local("i32");
    this.splat = scalars.map(() => this.local("v128"));
    this.halves = [...consts.keys()].map(() => [this.local("v128"), this.local("v128")]);
    this.single = [...consts.keys()].map(() => this.local("f64"));
  }

  private local(type: ValType): number {
    return this.params.length + this.locals.push(type) - 1;
  }

  private temp(k: number): number {
    while (this.temps.length <= k) this.temps.push(this.local("v128"));
    return this.temps[k]!;
  }

  private address(q: number): number {
    return 1 + 2 * q;
  }

  private stride(q: number): number {
    return 2 + 2 * q;
  }

  private scalar(s: number): number {
    return 1 + 2 * this.operands.length + s;
  }

  private operand(l: Load): number {
    return this.operandOf.get(`${l.array}|${show(l.base)}|${l.stride}`)!;
  }

  function(name: string): WasmFunction {
    const c = this.code;
    const whole = (this.size & ~3) * 4;
    // Strides in bytes; each scalar in both lanes.
    this.operands.forEach((_, q) => c.localGet(this.stride(q)).i32Const(2).op("i32.shl").localSet(this.stride(q)));
    this.scalars.forEach((_, s) => c.localGet(this.scalar(s)).op("f64x2.splat").localSet(this.splat[s]!));
    c.block().loop();
    c.localGet(this.m).localGet(0).op("i32.ge_s").brIf(1);
    if (whole > 0) {
      c.i32Const(0).localSet(this.j);
      c.block().loop();
      c.localGet(this.j).i32Const(whole).op("i32.ge_u").brIf(1);
      this.statements.forEach((s, k) => this.vector(s, this.trees[k]!));
      c.localGet(this.j).i32Const(16).op("i32.add").localSet(this.j);
      c.br(0).end().end();
    }
    for (let offset = whole; offset < this.size * 4; offset += 4) this.statements.forEach((s, k) => this.one(s, this.trees[k]!, offset));
    // The next row of every operand (a stride of 0 stays on its row).
    this.operands.forEach((_, q) => c.localGet(this.address(q)).localGet(this.stride(q)).op("i32.add").localSet(this.address(q)));
    c.localGet(this.m).i32Const(1).op("i32.add").localSet(this.m);
    c.br(0).end().end();
    return { name, params: this.params, locals: this.locals, body: c };
  }

  /** Statement `s` for the four elements at byte `j` of the row: its loads first (in order), then its value in two halves. */
  private vector(s: Statement, tree: Val): void {
    const c = this.code;
    const loads: Load[] = [];
    const gather = (v: Val): void => void (v.kind === "load" ? loads.push(v) : v.kind === "op" && v.args.forEach(gather));
    gather(tree);
    const temps = new Map<Load, number>();
    loads.forEach((l, k) => {
      const t = this.temp(k);
      temps.set(l, t);
      const q = this.operand(l);
      // An element: the row's four at j. A row's one value: widened and in both lanes.
      if (l.element) c.localGet(this.address(q)).localGet(this.j).op("i32.add").load("v128.load", 0, 2);
      else c.localGet(this.address(q)).load("f32.load").op("f64.promote_f32").op("f64x2.splat");
      c.localSet(t);
    });
    const half = (high: boolean) => (v: Val) => {
      const t = temps.get(v as Load)!;
      if (!(v as Load).element) return void c.localGet(t);
      if (high) c.localGet(t).localGet(t).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]);
      else c.localGet(t);
      c.op("f64x2.promote_low_f32x4");
    };
    const value = (high: boolean) => this.lanes("f64x2", tree, half(high), (name) => {
      const k = this.consts.get(name);
      c.localGet(k === undefined ? this.splat[this.scalars.indexOf(name)]! : this.halves[k]![high ? 1 : 0]);
    });
    if (s.kind === "const") {
      const [lo, hi] = this.halves[this.consts.get(s.name)!]!;
      value(false);
      c.localSet(lo);
      value(true);
      c.localSet(hi);
      return;
    }
    c.localGet(this.address(this.operand(s.at!))).localGet(this.j).op("i32.add");
    value(false);
    c.op("f32x4.demote_f64x2_zero");
    value(true);
    c.op("f32x4.demote_f64x2_zero");
    c.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).store("v128.store", 0, 2);
  }

  /** Statement `s` for the one element at byte `offset` of the row (one of the last 1–3). */
  private one(s: Statement, tree: Val, offset: number): void {
    const c = this.code;
    const read = (v: Val) => {
      const l = v as Load;
      c.localGet(this.address(this.operand(l))).load("f32.load", l.element ? offset : 0).op("f64.promote_f32");
    };
    const value = () => this.lanes("f64", tree, read, (name) => {
      const k = this.consts.get(name);
      c.localGet(k === undefined ? this.scalar(this.scalars.indexOf(name)) : this.single[k]!);
    });
    if (s.kind === "const") {
      value();
      c.localSet(this.single[this.consts.get(s.name)!]!);
      return;
    }
    c.localGet(this.address(this.operand(s.at!)));
    value();
    c.op("f32.demote_f64").store("f32.store", offset);
  }

  /** `tree`'s value in `shape` lanes: loads and names as the callers push them, ops as their `wasm` says. */
  private lanes(shape: Lanes["shape"], tree: Val, load: (v: Val) => void, name: (n: string) => void): void {
    const c = this.code;
    const emit = (v: Val): void => {
      if (v.kind === "load") return load(v);
      if (v.kind === "name") return name(v.name);
      const def = opDef(v.op, "elementwise");
      const lanes: Lanes = {
        shape,
        arg: (k) => emit(v.args[k]!),
        constant: (x) => void (shape === "f64" ? c.f64Const(x) : c.f64x2Const(x, x)),
        op: (n) => void c.op(n),
      };
      def.wasm!(lanes, v.attrs);
    };
    emit(tree);
  }
}
