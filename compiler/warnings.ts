/**
 * Warnings about cells that compile but almost certainly do not say what their author meant: the
 * mistakes people make when they write a new cell, which would otherwise surface (if ever) as a
 * gradient check where every gradient is zero.
 *
 *   W3002 a state never assigned (it keeps its initial value): `h_new = ...` without `h = h_new`
 *   W3003 a state whose new value nothing reads (no equation, no output, not the next step)
 *   W3004 / W3005 / W3006 a param / input / local never read
 *   W3007 a size never used
 *   W3008 a param read only by values no output depends on: its gradient is always zero
 *
 * What the cell's outputs depend on is found through time: an output reading a state's previous
 * value depends on the equation that assigns that state, one step earlier.
 */
import type { CellAst, CheckedCell, Expr, SizeExpr, TExpr } from "./ast.js";
import type { DiagnosticBag, Note } from "./diagnostics.js";
import { nearest, W } from "./messages.js";
import type { Span } from "./source.js";

type Ref = Extract<TExpr, { kind: "ref" }>;

/** Every name read in `t`, with its binding. */
function refs(t: TExpr, out: Ref[] = []): Ref[] {
  if (t.kind === "ref") out.push(t);
  else if (t.kind === "op") for (const a of t.args) refs(a, out);
  return out;
}

/** What a checked cell reads, and which of its equations the outputs depend on (through time). */
class Reads {
  /** Per equation, the names it reads. */
  readonly byEquation: Ref[][];
  readonly byOutputs: Ref[];
  /** Equations whose value reaches an output (at this step or a later one). */
  readonly live = new Set<number>();
  /** The equation assigning each state, by state index. */
  readonly assigner = new Map<number, number>();

  constructor(readonly cell: CheckedCell) {
    this.byEquation = cell.equations.map((eq) => refs(eq.expr));
    this.byOutputs = cell.outputs.flatMap((o) => refs(o.expr));
    cell.equations.forEach((eq, k) => eq.state !== undefined && this.assigner.set(eq.state, k));
    const work = [...this.byOutputs];
    for (let r = work.pop(); r; r = work.pop()) {
      const k = r.binding.kind === "equation" ? r.binding.equation
        : r.binding.kind === "statePrev" ? this.assigner.get(r.binding.index) : undefined;
      if (k === undefined || this.live.has(k)) continue;
      this.live.add(k);
      work.push(...this.byEquation[k]!);
    }
  }

  /** Whether any equation or output reads a value of this kind and index (or equation). */
  read(kind: "param" | "input" | "equation", index: number, onlyLive = false): boolean {
    const hit = (r: Ref) => r.binding.kind === kind && (r.binding.kind === "equation" ? r.binding.equation : r.binding.index) === index;
    return this.byOutputs.some(hit) || this.byEquation.some((rs, k) => (!onlyLive || this.live.has(k)) && rs.some(hit));
  }

  /** The equations `k` depends on within its step that no output depends on, `k` included. */
  deadCone(k: number): Set<number> {
    const cone = new Set<number>();
    const work = [k];
    for (let e = work.pop(); e !== undefined; e = work.pop()) {
      if (cone.has(e) || this.live.has(e)) continue;
      cone.add(e);
      for (const r of this.byEquation[e]!) if (r.binding.kind === "equation") work.push(r.binding.equation);
    }
    return cone;
  }
}

/** `Wx, Wh and b` */
function names(list: readonly string[]): string {
  const quoted = list.map((n) => `'${n}'`);
  return quoted.length < 2 ? quoted.join("") : `${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)}`;
}

/** A local that looks like the forgotten update of state `name`: same shape, read by nothing, a name like `h_new`. */
function likelyUpdate(reads: Reads, name: string, shape: readonly number[]): number | undefined {
  const cell = reads.cell;
  const candidates = cell.equations.flatMap((eq, k) =>
    eq.state === undefined && !reads.live.has(k) && eq.expr.shape.length === shape.length &&
    eq.expr.shape.every((d, i) => d === shape[i]) ? [k] : []);
  const alike = (target: string) => target.startsWith(name) || target.endsWith(name) || nearest(name, [target]) === target;
  const named = candidates.find((k) => alike(cell.equations[k]!.target));
  if (named !== undefined) return named;
  return candidates.length === 1 && !reads.read("equation", candidates[0]!) ? candidates[0] : undefined;
}

/** Reports the warnings of one cell that checked without errors. */
export function warnUnused(ast: CellAst, cell: CheckedCell, bag: DiagnosticBag): void {
  const reads = new Reads(cell);
  const declSpan = (name: string): Span => ast.decls.find((d) => d.name === name)?.nameSpan ?? cell.span;
  const targetSpan = (name: string): Span => ast.equations.find((e) => e.target === name)?.targetSpan ?? cell.span;
  const explained = new Set<string>();
  const quietLocals = new Set<number>();

  cell.states.forEach((s, index) => {
    const k = reads.assigner.get(index);
    if (k === undefined) return warnNeverAssigned(s.name, s.shape, declSpan(s.name));
    if (!reads.live.has(k)) {
      bag.warning(W.stateNeverRead, `state '${s.name}' is assigned but its new value is never read`,
        targetSpan(cell.equations[k]!.target), [], `read it in an equation, or output it: output ${s.name}`);
    }
  });

  function warnNeverAssigned(name: string, shape: readonly number[], at: Span): void {
    const update = likelyUpdate(reads, name, shape);
    const message = `state '${name}' is never assigned, so it keeps its initial value at every step`;
    if (update === undefined) {
      bag.warning(W.stateNeverAssigned, message, at, [], `assign its new value in an equation: ${name} = ...`);
      return;
    }
    const eq = cell.equations[update]!;
    const cone = reads.deadCone(update);
    cone.forEach((k) => quietLocals.add(k));
    const starved = cell.params.filter((_, i) => [...cone].some((k) => reads.byEquation[k]!.some((r) => r.binding.kind === "param" && r.binding.index === i)))
      .map((p) => p.name).filter((p) => !reads.read("param", cell.params.findIndex((q) => q.name === p), true));
    starved.forEach((p) => explained.add(p));
    const notes: Note[] = [{ message: `'${eq.target}' has the shape of '${name}' but nothing reads it; it is assigned`, span: eq.span }];
    if (starved.length > 0) notes.push({ message: `so the gradients of ${names(starved)} are zero` });
    bag.warning(W.stateNeverAssigned, message, at, notes, `did you mean '${name} = ...' instead of '${eq.target} = ...'?`);
  }

  cell.params.forEach((p, i) => {
    if (!reads.read("param", i)) bag.warning(W.unusedParam, `param '${p.name}' is never used`, declSpan(p.name), [],
      "use it in an equation, or remove it");
    else if (!reads.read("param", i, true) && !explained.has(p.name)) {
      bag.warning(W.zeroGradient, `param '${p.name}' does not affect any output, so its gradient is always zero`, declSpan(p.name), [],
        "the values that read it reach no output and no state that does");
    }
  });
  cell.inputs.forEach((x, i) => {
    if (!reads.read("input", i)) bag.warning(W.unusedInput, `input '${x.name}' is never used`, declSpan(x.name), [],
      "use it in an equation, or remove it");
  });
  cell.equations.forEach((eq, k) => {
    if (eq.state !== undefined || quietLocals.has(k) || reads.read("equation", k)) return;
    bag.warning(W.unusedLocal, `local '${eq.target}' is assigned but never used`, targetSpan(eq.target), [], "use it in an equation or an output, or remove it");
  });
  warnUnusedSizes(ast, bag);
}

function warnUnusedSizes(ast: CellAst, bag: DiagnosticBag): void {
  const used = new Set<string>();
  const size = (e: SizeExpr): void => {
    if (e.kind === "name") used.add(e.name);
    else if (e.kind === "bin") (size(e.left), size(e.right));
  };
  const expr = (e: Expr): void => {
    switch (e.kind) {
      case "ref": return void used.add(e.name);
      case "neg": case "transpose": return expr(e.operand);
      case "binary": return (expr(e.left), expr(e.right));
      case "call": return e.args.forEach(expr);
      case "concat": return e.items.forEach(expr);
      case "slice": return (expr(e.operand), size(e.from), size(e.to));
      case "num": return;
    }
  };
  ast.sizes.forEach((s) => size(s.value));
  ast.decls.forEach((d) => d.dims.forEach(size));
  ast.equations.forEach((eq) => expr(eq.expr));
  ast.outputs.forEach((o) => o.expr && expr(o.expr));
  for (const s of ast.sizes) {
    if (!used.has(s.name)) bag.warning(W.unusedSize, `size '${s.name}' is never used`, s.nameSpan, [], "use it in a shape, or remove it");
  }
}
