/** Ops that move data between positions: matrix products, transpose, concatenation, reductions. */
import type { Shape } from "../ast.js";
import type { Attrs } from "../ir/graph.js";
import type { ReduceDef, StructuralDef, Tensor } from "./types.js";
import { show } from "./types.js";
import { emitMatvecRows, emitOuterRows } from "./gemm.js";

/** Effective operand shapes of `matmul` after its `ta`/`tb` transposes. */
function matmulDims(a: Shape, b: Shape, ta: boolean, tb: boolean) {
  const [m, k] = ta ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [k2, n] = b.length === 1 ? [b[0]!, 0] : tb ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  return { m, k, k2, n };
}

const flag = (v: unknown): boolean => v === true;

/** `A·B` with A (and B, when `ta`/`tb`) read transposed. */
const matmul: StructuralDef = {
  name: "matmul", arity: 2, kind: "structural", cost: 2,
  attrs: { ta: { type: "boolean", default: false }, tb: { type: "boolean", default: false } },
  shape: ([a, b], attrs) => {
    if (a!.length !== 2) return `the left side of a matrix product must be a matrix, not ${show(a!)}`;
    if (b!.length === 0) return "the right side of a matrix product must be a vector or a matrix, not a scalar";
    const { m, k, k2, n } = matmulDims(a!, b!, flag(attrs["ta"]), flag(attrs["tb"]));
    if (k !== k2) return `inner sizes differ: [${m}, ${k}] times ${b!.length === 1 ? `[${k2}]` : `[${k2}, ${n}]`}`;
    return b!.length === 1 ? [m] : [m, n];
  },
  evaluate: ([a, b], attrs) => {
    const ta = flag(attrs["ta"]), tb = flag(attrs["tb"]);
    const { m, k, n } = matmulDims(a!.shape, b!.shape, ta, tb);
    const cols = Math.max(n, 1);
    const out = new Float64Array(m * cols);
    const A = (r: number, j: number) => (ta ? a!.data[j * m + r]! : a!.data[r * k + j]!);
    const Bv = (j: number, c: number) =>
      b!.shape.length === 1 ? b!.data[j]! : tb ? b!.data[c * k + j]! : b!.data[j * n + c]!;
    for (let r = 0; r < m; r++)
      for (let c = 0; c < cols; c++) {
        let acc = 0;
        for (let j = 0; j < k; j++) acc += A(r, j) * Bv(j, c);
        out[r * cols + c] = acc;
      }
    return out;
  },
  vjp: ({ graph, g, node, args: [a, b] }) => {
    const ta = flag(node.attrs["ta"]), tb = flag(node.attrs["tb"]);
    const A = ta ? graph.transpose(a!) : a!;
    const B = tb ? graph.transpose(b!) : b!;
    const isVec = graph.shape(b!).length === 1;
    const dA = isVec ? graph.outer(g, B) : graph.matmul(g, B, false, true);
    const dB = graph.matmul(A, g, true, false);
    return [ta ? graph.transpose(dA) : dA, tb ? graph.transpose(dB) : dB];
  },
  emit: (w) => {
    const [a, b] = w.argShapes;
    const ta = flag(w.node.attrs["ta"]), tb = flag(w.node.attrs["tb"]);
    const { m, k, n } = matmulDims(a!, b!, ta, tb);
    const cols = Math.max(n, 1);
    const r = w.fresh("r"), c = w.fresh("c"), j = w.fresh("j"), acc = w.fresh("acc");
    const aIdx = ta ? `${j} * ${m} + ${r}` : `${r} * ${k} + ${j}`;
    const bIdx = b!.length === 1 ? j : tb ? `${c} * ${k} + ${j}` : `${j} * ${n} + ${c}`;
    const outIdx = b!.length === 1 ? r : `${r} * ${cols} + ${c}`;
    w.line(`for (let ${r} = 0; ${r} < ${m}; ${r}++) {`);
    if (b!.length !== 1) w.line(`for (let ${c} = 0; ${c} < ${cols}; ${c}++) {`);
    w.line(`let ${acc} = 0;`);
    w.line(`for (let ${j} = 0; ${j} < ${k}; ${j}++) ${acc} += ${w.arg(0, aIdx)} * ${w.arg(1, bIdx)};`);
    w.line(w.store(outIdx, acc));
    if (b!.length !== 1) w.line("}");
    w.line("}");
  },
  emitRows: (w) => {
    const [a] = w.argShapes;
    const ta = flag(w.node.attrs["ta"]);
    return emitMatvecRows(w, ta ? a![1]! : a![0]!, ta ? a![0]! : a![1]!, ta);
  },
};

const transpose: StructuralDef = {
  name: "transpose", syntax: ["transpose"], arity: 1, kind: "structural", readsOnce: true, cost: 0,
  shape: ([a]) => (a!.length === 2 ? [a![1]!, a![0]!] : `only a matrix can be transposed, not ${show(a!)}`),
  evaluate: ([a]) => {
    const [rows, cols] = a!.shape as [number, number];
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a!.data[r * cols + c]!;
    return out;
  },
  vjp: ({ graph, g }) => [graph.transpose(g)],
  emit: (w) => {
    const [rows, cols] = w.argShapes[0] as [number, number];
    const r = w.fresh("r"), c = w.fresh("c");
    w.line(`for (let ${r} = 0; ${r} < ${rows}; ${r}++)`);
    w.line(`for (let ${c} = 0; ${c} < ${cols}; ${c}++) ${w.store(`${c} * ${rows} + ${r}`, w.arg(0, `${r} * ${cols} + ${c}`))}`);
  },
};

const outer: StructuralDef = {
  name: "outer", syntax: ["outer"], arity: 2, kind: "structural", cost: 1,
  shape: ([a, b]) =>
    a!.length === 1 && b!.length === 1
      ? [a![0]!, b![0]!]
      : `outer(v, k) takes two vectors, but its ${a!.length === 1 ? "second" : "first"} argument is ${show(a!.length === 1 ? b! : a!)}`,
  evaluate: ([a, b]) => {
    const n = b!.data.length;
    const out = new Float64Array(a!.data.length * n);
    a!.data.forEach((x, r) => b!.data.forEach((y, c) => (out[r * n + c] = x * y)));
    return out;
  },
  vjp: ({ graph, g, args: [a, b] }) => [graph.matmul(g, b!), graph.matmul(g, a!, true)],
  emit: (w) => {
    const [[m], [n]] = w.argShapes as [[number], [number]];
    const r = w.fresh("r"), c = w.fresh("c");
    w.line(`for (let ${r} = 0; ${r} < ${m}; ${r}++)`);
    w.line(`for (let ${c} = 0; ${c} < ${n}; ${c}++) ${w.store(`${r} * ${n} + ${c}`, `${w.arg(0, r)} * ${w.arg(1, c)}`)}`);
  },
  emitRows: (w) => emitOuterRows(w, w.argShapes[0]![0]!, w.argShapes[1]![0]!),
};

/** Rows along the first axis (a scalar is one), and elements per row (1 for vectors). */
const rowsOf = (s: Shape): number => (s.length === 0 ? 1 : s[0]!);
const rowSize = (s: Shape): number => (s.length === 2 ? s[1]! : 1);
const rowShape = (s: Shape, rows: number): Shape => (s.length === 2 ? [rows, s[1]!] : [rows]);

/** `start + at` as an index expression. */
const plusIndex = (start: string, at: number) => (at === 0 ? start : start === "0" ? String(at) : `${start} + ${at}`);

/** `[a; b; ...]`: vectors end to end, or matrices with equal column counts stacked by rows. */
const concat: StructuralDef = {
  name: "concat", arity: "variadic", kind: "structural", readsOnce: true, cost: 0,
  shape: (args) => {
    const rows = args.reduce((n, s) => n + rowsOf(s), 0);
    if (args.every((s) => s.length <= 1)) return [rows];
    const cols = args[0]!.length === 2 ? args[0]![1]! : -1;
    const bad = args.find((s) => s.length !== 2 || s[1] !== cols);
    if (bad) return `only vectors, or matrices with the same number of columns, can be concatenated, not ${show(bad)}`;
    return [rows, cols];
  },
  evaluate: (args) => {
    const out = new Float64Array(args.reduce((n, t) => n + t.data.length, 0));
    let at = 0;
    for (const t of args) (out.set(t.data, at), (at += t.data.length));
    return out;
  },
  vjp: ({ graph, g, args }) => {
    let at = 0;
    return args.map((a) => {
      const n = rowsOf(graph.shape(a));
      const piece = graph.slice(g, at, n);
      at += n;
      return graph.shape(a).length === 0 ? graph.sum(piece) : piece;
    });
  },
  emit: (w) => {
    let at = 0;
    // The parts' loops follow each other: one index serves them all.
    const i = w.fresh("i");
    w.argShapes.forEach((s, k) => {
      const n = rowsOf(s) * rowSize(s);
      const [whole, target] = [w.whole(k), w.target];
      // A whole array (a param stacked with others) is one block copy.
      if (whole !== null && target !== null && n > 1) w.line(`${target.array}.set(${whole}, ${plusIndex(target.start, at)});`);
      else w.line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) ${w.store(at ? `${at} + ${i}` : i, w.arg(k, i))}`);
      at += n;
    });
  },
};

/** Rows `start` to `start + length` of a vector or matrix (contiguous in memory). */
const slice: StructuralDef = {
  name: "slice", arity: 1, kind: "structural", readsOnce: true, cost: 0,
  attrs: { start: { type: "integer" }, length: { type: "integer", min: 1 } },
  shape: ([a], attrs) => {
    const start = Number(attrs["start"]), len = Number(attrs["length"]);
    return a!.length >= 1 && start + len <= a![0]! ? rowShape(a!, len) : `slice ${start}+${len} of ${show(a!)}`;
  },
  evaluate: ([a], attrs) => {
    const rs = rowSize(a!.shape);
    return a!.data.slice(Number(attrs["start"]) * rs, (Number(attrs["start"]) + Number(attrs["length"])) * rs);
  },
  vjp: ({ graph, g, node, args: [a] }) => [graph.pad(g, Number(node.attrs["start"]), graph.shape(a!)[0]!)],
  viewOffset: (attrs, argShape) => Number(attrs["start"]) * rowSize(argShape),
  emit: (w) => {
    const i = w.fresh("i");
    const rs = rowSize(w.argShapes[0]!);
    const start = Number(w.node.attrs["start"]) * rs;
    const n = Number(w.node.attrs["length"]) * rs;
    w.line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) ${w.store(i, w.arg(0, start ? `${start} + ${i}` : i))}`);
  },
};

/** The inverse of `slice`: rows placed at `start` among `total` rows of zeros. */
const pad: StructuralDef = {
  name: "pad", arity: 1, kind: "structural", readsOnce: true, cost: 0,
  attrs: { start: { type: "integer" }, total: { type: "integer", min: 1 } },
  shape: ([a], attrs) => {
    const start = Number(attrs["start"]), total = Number(attrs["total"]);
    return a!.length >= 1 && start + a![0]! <= total ? rowShape(a!, total) : `pad ${show(a!)} at ${start} to ${total}`;
  },
  evaluate: ([a], attrs, shape) => {
    const out = new Float64Array(shape.reduce((x, y) => x * y, 1));
    out.set(a!.data, Number(attrs["start"]) * rowSize(a!.shape));
    return out;
  },
  vjp: ({ graph, g, node, args: [a] }) => [graph.slice(g, Number(node.attrs["start"]), graph.shape(a!)[0]!)],
  emit: (w) => {
    const rs = rowSize(w.argShapes[0]!);
    const start = Number(w.node.attrs["start"]) * rs;
    const n = rowsOf(w.argShapes[0]!) * rs;
    const total = Number(w.node.attrs["total"]) * rs;
    const i = w.fresh("i");
    if (start > 0) w.line(`for (let ${i} = 0; ${i} < ${start}; ${i}++) ${w.store(i, "0")}`);
    w.line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) ${w.store(start ? `${start} + ${i}` : i, w.arg(0, i))}`);
    if (start + n < total) w.line(`for (let ${i} = ${start + n}; ${i} < ${total}; ${i}++) ${w.store(i, "0")}`);
  },
};

/**
 * A reduction: the sum of the elements from 0 in order, then `result(sum, n)`, which the reference
 * evaluator computes and `finish` emits, the same operations in both.
 */
function reduction(name: string, finish: (acc: string, n: number) => string, result: (sum: number, n: number) => number, scale: (n: number) => number): ReduceDef {
  return {
    name, syntax: [name], arity: 1, kind: "reduce", cost: 1,
    shape: ([a]) => (a!.length >= 1 ? [] : `${name} takes a vector or a matrix, not a scalar`),
    evaluate: ([a]: readonly Tensor[]) => Float64Array.of(result(a!.data.reduce((s, x) => s + x, 0), a!.data.length)),
    finish,
    vjp: ({ graph, g, args: [a] }) => {
      const n = graph.shape(a!).reduce((x, y) => x * y, 1);
      const gs = scale(n) === 1 ? g : graph.mul(g, graph.const(scale(n)));
      return [graph.broadcast(gs, graph.shape(a!))];
    },
  };
}

const axisOf = (attrs: Attrs): 0 | 1 => (Number(attrs["axis"]) === 0 ? 0 : 1);

/**
 * A vector repeated into a matrix: along axis 1 `[n] → [n, count]` (row r is v[r] everywhere:
 * `v ⊙ M` scales M's rows), along axis 0 `[m] → [count, m]` (every row is v). The adjoint of
 * `sum_axis` over the same axis, and the other way round.
 */
const expand: StructuralDef = {
  name: "expand", arity: 1, kind: "structural", cost: 0,
  attrs: { axis: { type: "integer" }, count: { type: "integer", min: 1 } },
  shape: ([a], attrs) => {
    const axis = Number(attrs["axis"]), count = Number(attrs["count"]);
    if (a!.length !== 1) return `only a vector expands into a matrix, not ${show(a!)}`;
    if (axis !== 0 && axis !== 1) return `axis ${axis}: a matrix has axes 0 (rows) and 1 (columns)`;
    return axis === 1 ? [a![0]!, count] : [count, a![0]!];
  },
  evaluate: ([a], attrs, shape) => {
    const [rows, cols] = shape as [number, number];
    const out = new Float64Array(rows * cols);
    const along = axisOf(attrs);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = a!.data[along === 1 ? r : c]!;
    return out;
  },
  vjp: ({ graph, g, node }) => [graph.apply("sum_axis", [g], { axis: axisOf(node.attrs) })],
  emit: (w) => {
    const [n] = w.argShapes[0] as [number];
    const count = Number(w.node.attrs["count"]);
    const r = w.fresh("r"), c = w.fresh("c");
    if (axisOf(w.node.attrs) === 1) {
      w.line(`for (let ${r} = 0; ${r} < ${n}; ${r}++)`);
      w.line(`for (let ${c} = 0; ${c} < ${count}; ${c}++) ${w.store(`${r} * ${count} + ${c}`, w.arg(0, r))}`);
    } else {
      w.line(`for (let ${r} = 0; ${r} < ${count}; ${r}++)`);
      w.line(`for (let ${c} = 0; ${c} < ${n}; ${c}++) ${w.store(`${r} * ${n} + ${c}`, w.arg(0, c))}`);
    }
  },
};

/**
 * `sum(M, 0)` / `mean(M, 0)`: over the rows of a matrix `[n, m] → [m]`; over axis 1, over the
 * columns `[n, m] → [n]`. Each sum runs from index 0 up, then `mean` divides, in the reference
 * evaluator and the emitted loop alike.
 */
function axisReduction(name: "sum_axis" | "mean_axis"): StructuralDef {
  const mean = name === "mean_axis";
  return {
    name, arity: 1, kind: "structural", readsOnce: true, cost: 1,
    attrs: { axis: { type: "integer" } },
    shape: ([a], attrs) => {
      const axis = Number(attrs["axis"]);
      if (a!.length !== 2) return `a reduction over an axis takes a matrix, not ${show(a!)}`;
      if (axis !== 0 && axis !== 1) return `axis ${axis}: a matrix has axes 0 (rows) and 1 (columns)`;
      return [a![1 - axis]!];
    },
    evaluate: ([a], attrs) => {
      const [rows, cols] = a!.shape as [number, number];
      const along = axisOf(attrs);
      const [outer, inner] = along === 1 ? [rows, cols] : [cols, rows];
      const out = new Float64Array(outer);
      for (let o = 0; o < outer; o++) {
        let acc = 0;
        for (let k = 0; k < inner; k++) acc += a!.data[along === 1 ? o * cols + k : k * cols + o]!;
        out[o] = mean ? acc / inner : acc;
      }
      return out;
    },
    vjp: ({ graph, g, node, args: [a] }) => {
      const axis = axisOf(node.attrs);
      const count = graph.shape(a!)[axis]!;
      const scaled = mean ? graph.mul(g, graph.const(1 / count)) : g;
      return [graph.apply("expand", [scaled], { axis, count })];
    },
    emit: (w) => {
      const [rows, cols] = w.argShapes[0] as [number, number];
      const along = axisOf(w.node.attrs);
      const [outer, inner] = along === 1 ? [rows, cols] : [cols, rows];
      const o = w.fresh("o"), k = w.fresh("k"), acc = w.fresh("acc");
      w.line(`for (let ${o} = 0; ${o} < ${outer}; ${o}++) {`);
      w.line(`let ${acc} = 0;`);
      w.line(`for (let ${k} = 0; ${k} < ${inner}; ${k}++) ${acc} += ${w.arg(0, along === 1 ? `${o} * ${cols} + ${k}` : `${k} * ${cols} + ${o}`)};`);
      w.line(w.store(o, mean ? `${acc} / ${inner}` : acc));
      w.line("}");
    },
  };
}

export const structuralOps: readonly (StructuralDef | ReduceDef)[] = [
  matmul, transpose, outer, concat, slice, pad, expand, axisReduction("sum_axis"), axisReduction("mean_axis"),
  reduction("sum", (acc) => acc, (sum) => sum, () => 1),
  reduction("mean", (acc, n) => `${acc} / ${n}`, (sum, n) => sum / n, (n) => 1 / n),
];
