/**
 * The limits on what a checked cell computes (numbers in `limits.ts`): no chain of operations in
 * a step longer than `MAX_DEPTH`, counted through the locals and states that equations assign, and
 * no tensor, declared or computed, with more than `MAX_ELEMENTS` elements. Every later stage
 * (lowering, autodiff, the passes, code generation and the tools that read emitted code) is
 * tested on cells exactly at these limits; a cell beyond them is reported here, where it is
 * written, instead of failing there.
 */
import type { CheckedCell, Shape, TExpr } from "./ast.js";
import type { DiagnosticBag, Note } from "./diagnostics.js";
import { MAX_DEPTH, MAX_ELEMENTS } from "./limits.js";
import { E } from "./messages.js";
import { show } from "./ops/types.js";

const elements = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

/** Where the longest chain into a value comes from: its length, and the deepest local it reads. */
interface Depth {
  readonly depth: number;
  readonly via?: number;
}

class BoundsChecker {
  /** The depth of each equation's value; null once the limit is reported (nothing is said twice). */
  private readonly depths: (Depth | null)[] = [];
  private reported = false;

  constructor(
    private readonly cell: CheckedCell,
    private readonly bag: DiagnosticBag,
  ) {}

  run(): void {
    for (const t of [...this.cell.inputs, ...this.cell.states, ...this.cell.params]) {
      const n = elements(t.shape);
      if (n > MAX_ELEMENTS) this.tooLarge(`'${t.name}' has ${n} elements ${show(t.shape)}`, t);
    }
    for (const eq of this.cell.equations) this.depths.push(this.measure(eq.expr));
    for (const o of this.cell.outputs) this.measure(o.expr);
  }

  private tooLarge(what: string, at: { readonly span: TExpr["span"] }): void {
    this.bag.error(E.tooLarge, `${what}: at most ${MAX_ELEMENTS} elements are allowed in one tensor`, at.span);
  }

  /** The depth of `e` (0 for a leaf), reporting the first operation past `MAX_DEPTH`. */
  private measure(e: TExpr): Depth | null {
    if (e.kind === "const") return { depth: 0 };
    if (e.kind === "ref") {
      const b = e.binding;
      if (b.kind !== "equation") return { depth: 0 };
      const d = this.depths[b.equation];
      return d ? { depth: d.depth, via: b.equation } : null;
    }
    const args = e.args.map((arg) => this.measure(arg));
    const n = elements(e.shape);
    if (n > MAX_ELEMENTS) this.tooLarge(`this value has ${n} elements ${show(e.shape)}`, e);
    if (args.some((d) => d === null)) return null;
    const deepest = (args as Depth[]).reduce((a, b) => (b.depth > a.depth ? b : a), { depth: 0 });
    if (deepest.depth < MAX_DEPTH) return { depth: deepest.depth + 1, via: deepest.via };
    if (!this.reported) this.tooDeep(e, deepest.via);
    this.reported = true;
    return null;
  }

  private tooDeep(e: TExpr, via: number | undefined): void {
    const local = via === undefined ? undefined : this.cell.equations[via]!;
    const notes: Note[] = local ? [{ message: `the chain comes through '${local.target}', assigned`, span: local.span }] : [];
    this.bag.error(E.stepTooDeep,
      `too deep: this operation ends a chain of ${MAX_DEPTH + 1} operations, one after another, in one step`, e.span, notes,
      `at most ${MAX_DEPTH} are allowed, counted from the inputs, params and previous states through every equation`);
  }
}

/** Reports the limits `cell` passes; `cell` is a cell the checker found no error in. */
export function checkBounds(cell: CheckedCell, bag: DiagnosticBag): void {
  new BoundsChecker(cell, bag).run();
}
