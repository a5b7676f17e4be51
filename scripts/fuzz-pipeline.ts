/**
 * One fuzz case through the whole pipeline: check, compile (passes on and off, float64 and
 * float32), format, load, run forward and backward, and compare every pair of runs that must
 * agree. Everything that goes wrong becomes a `Failure` with a class key, so a report can group
 * thousands of cases into a few distinct faults.
 */
import { buildModule } from "../compiler/build.js";
import { CompileError, checkSource, compileSource, type CompiledCell } from "../compiler/index.js";
import { drawGraph } from "../compiler/ir/draw.js";
import { dumpIR } from "../compiler/ir/dump.js";
import { gradcheck } from "../src/gradcheck.js";
import { load } from "../src/load.js";
import type { Cell } from "../src/runtime/types.js";
import type { Plan } from "./fuzz-cases.js";
import {
  allFinite, isForward, worstDifference, randomData, runCell, runElements, runReferenceOf, runSteps, type Data, type Run, type Tolerance,
} from "./fuzz-compare.js";
import { hostileNames } from "./fuzz-names.js";

export type FailureKind = "throw" | "diagnostic" | "mismatch" | "code-ran" | "hang" | "crash" | "limit";

export interface Failure {
  readonly kind: FailureKind;
  /** Groups failures of one cause: kind, stage and a normalised message. */
  readonly key: string;
  readonly detail: string;
}

export interface Outcome {
  checked: boolean;
  compiled: boolean;
  compared: boolean;
  /** Checked and compiled, but too large to run at fuzz speed. */
  large: boolean;
  readonly failures: Failure[];
}

export const PATH = "fuzz.cell";
/** Cells whose run would touch more numbers than this are compiled but not run. */
const MAX_RUN_ELEMENTS = 200_000;
/** No typed array holds more elements than this: a tensor beyond it must not pass the checker. */
const MAX_TENSOR_ELEMENTS = 2 ** 32;

/** Message with numbers, quoted text and names reduced, so one cause gives one key. */
export function normalise(message: string): string {
  return message
    .split("\n")[0]!
    .replace(/'[^']*'|"[^"]*"|`[^`]*`/g, "'…'")
    .replace(/\d+(\.\d+)?(e[-+]?\d+)?/gi, "N")
    .slice(0, 120);
}

class Case {
  readonly outcome: Outcome = { checked: false, compiled: false, compared: false, large: false, failures: [] };

  constructor(readonly text: string, readonly plan: Plan) {}

  fail(kind: FailureKind, stage: string, what: string, detail: string): void {
    this.outcome.failures.push({ kind, key: `${kind} in ${stage}: ${what}`, detail });
  }

  /** Runs `fn`; a throw is a failure of `stage`, and the result is then undefined. */
  stage<R>(stage: string, fn: () => R): R | undefined {
    try {
      return fn();
    } catch (e) {
      const err = e as Error;
      this.fail("throw", stage, `${err?.name ?? typeof e}: ${normalise(String(err?.message ?? e))}`, String(err?.stack ?? e).slice(0, 4000));
      return undefined;
    }
  }

  async stageAsync<R>(stage: string, fn: () => Promise<R>): Promise<R | undefined> {
    try {
      return await fn();
    } catch (e) {
      const err = e as Error;
      this.fail("throw", stage, `${err?.name ?? typeof e}: ${normalise(String(err?.message ?? e))}`, String(err?.stack ?? e).slice(0, 4000));
      return undefined;
    }
  }

  /** Forward values and gradients are compared apart, so a fault in one cannot hide one in the other. */
  compare(what: string, a: Run | undefined, b: Run | undefined, tol: Tolerance): void {
    if (!a || !b) return;
    for (const forward of [true, false]) {
      const part = (r: Run) => r.filter(([label]) => isForward(label) === forward);
      const diff = worstDifference(part(a), part(b), tol);
      if (!diff) continue;
      const bits = diff.size <= (what.startsWith("f32") ? 1e-6 : 1e-12) ? ", last bits only" : "";
      this.fail("mismatch", what, `${forward ? "forward" : "gradients"}${bits}`, `${diff.detail} (relative difference ${diff.size.toExponential(1)})`);
    }
  }
}

/** A rendered diagnostic starts `file:line:col: error[Ennnn]: ` and has no stack trace. */
export function diagnosticProblem(message: string, path: string): string | undefined {
  if (!message.startsWith(`${path}:`)) return "does not start with the file name";
  const head = message.slice(path.length + 1).split("\n")[0]!;
  if (!/^\d+:\d+: (error|warning)\[E\d{4}\]: \S/.test(head)) return "not 'file:line:col: error[Ennnn]: …'";
  if (/\n\s+at .+:\d+:\d+\)?$/m.test(message)) return "contains a stack trace";
  return undefined;
}

/** Checks `text`; true when it checks. A `CompileError` must be a well-formed diagnostic. */
function check(c: Case): boolean {
  try {
    checkSource(c.text, { path: PATH });
    return true;
  } catch (e) {
    if (!(e instanceof CompileError)) {
      c.stage("check", () => { throw e; });
      return false;
    }
    const problem = diagnosticProblem(e.message, PATH);
    if (problem) c.fail("diagnostic", "check", problem, e.message.slice(0, 2000));
    return false;
  }
}

interface Build {
  readonly compiled: CompiledCell;
  readonly cell: Cell;
}

/** Compiles and loads; a located `CompileError` past the checker (a limit of a later stage) is a rejection, not a failure. */
function build(c: Case, dtype: "f64" | "f32", optimize: boolean): Build[] | undefined {
  const label = `${dtype} ${optimize ? "opt" : "no-opt"}`;
  const compiled = c.stage(`compile ${label}`, () => {
    try {
      return compileSource(c.text, { path: PATH, dtype, optimize, products: c.plan.products });
    } catch (e) {
      if (!(e instanceof CompileError) || diagnosticProblem(e.message, PATH)) throw e;
      c.outcome.checked = false;
      return undefined;
    }
  });
  if (!compiled) return undefined;
  return c.stage(`load ${label}`, () => compiled.map((cc) => ({ compiled: cc, cell: load(cc.code) })));
}

/** The whole pipeline for one case. */
export async function runPipeline(text: string, plan: Plan): Promise<Outcome> {
  const c = new Case(text, plan);
  c.outcome.checked = check(c);
  if (!c.outcome.checked) return c.outcome;
  const [plain, opt] = [build(c, "f64", false), build(c, "f64", true)];
  if (!plain || !opt) return c.outcome;
  c.outcome.compiled = true;
  if (plain.some((b) => runElements(b.compiled.ir) > MAX_RUN_ELEMENTS)) {
    c.outcome.large = true;
    const huge = plain.flatMap((b) => largest(b.compiled.ir)).find((t) => t.elements > MAX_TENSOR_ELEMENTS);
    if (huge) c.fail("limit", "check", "a tensor larger than any array passes check and compile", `${huge.name}: ${huge.elements} elements`);
    return c.outcome;
  }
  const [plain32, opt32] = plan.f32 ? [build(c, "f32", false), build(c, "f32", true)] : [];
  for (let k = 0; k < plain.length; k++) await compareCell(c, plain[k]!, opt[k]!, plain32?.[k], opt32?.[k]);
  if (plan.graph) c.stage("graph", () => drawGraphs(plain, opt));
  if (plan.hostileNames) await hostileNames(text, plan.seed, (stage, what, detail, kind) => c.fail(kind ?? "throw", stage, what, detail));
  c.outcome.compared = true;
  return c.outcome;
}

function largest(ir: CompiledCell["ir"]): { name: string; elements: number }[] {
  return [...ir.params, ...ir.inputs, ...ir.states, ...ir.outputs].map((d) => ({ name: d.name, elements: d.shape.reduce((a, b) => a * b, 1) }));
}

const BITS: Tolerance = () => "bits";
/** Optimized vs unoptimized: forward bit for bit; gradients 1e-12 (sums are reassociated). */
const OPT: Tolerance = (label) => (isForward(label) ? "bits" : 1e-12);
const REF: Tolerance = () => 1e-9;
const F32: Tolerance = () => 1e-3;
const FLOAT32_MAX = 3.4028234663852886e38;
/** Whether every number written in the cell is within float32's range (a square of one, too). */
const fitsFloat32 = (text: string): boolean =>
  (text.match(/\d+(\.\d*)?([eE][+-]?\d+)?/gu) ?? []).every((n) => Number(n) ** 2 <= FLOAT32_MAX);

async function compareCell(c: Case, plain: Build, opt: Build, plain32?: Build, opt32?: Build): Promise<void> {
  const data = randomData(plain.compiled.ir, c.plan.seed);
  const a = c.stage("run f64 no-opt", () => runCell(plain.cell, data));
  const b = c.stage("run f64 opt", () => runCell(opt.cell, data));
  const ref = c.stage("reference evaluator", () => runReferenceOf(plain.compiled.ir, data));
  c.compare("f64 opt vs no-opt", b, a, OPT);
  c.compare("f64 no-opt vs reference", a, ref, REF);
  c.compare("f64 opt vs reference", b, ref, REF);
  c.compare("step vs forward (f64 opt)", c.stage("step f64 opt", () => runSteps(opt.cell, data)), b, () => 1e-12);
  if (plain32 && opt32) {
    const a32 = c.stage("run f32 no-opt", () => runCell(plain32.cell, data));
    const b32 = c.stage("run f32 opt", () => runCell(opt32.cell, data));
    // Float32 builds agree to 1e-5, not bit for bit: the optimized kernel stores values hoisted
    // out of the recurrence in float32, where the unoptimized one keeps them in a float64 local
    // (tests/exact-optimized-f32.test.ts). Float64 forwards agree bit for bit (OPT).
    c.compare("f32 opt vs no-opt", b32, a32, () => 1e-5);
    // Float32 and float64 are compared only where the cell's numbers fit in float32: a literal such
    // as 1e308 is a different cell in float32 (its values overflow once stored).
    if (a && allFinite(a) && fitsFloat32(c.text)) c.compare("f32 vs f64 (no-opt)", a32, a, F32);
  }
  if (c.plan.format) await formatted(c, opt, data, b);
  if (c.plan.gradcheck && b && allFinite(b)) gradchecked(c, opt);
}

/** The prettier-formatted module loads and computes exactly what the unformatted one does. */
async function formatted(c: Case, opt: Build, data: Data, expected: Run | undefined): Promise<void> {
  const code = await c.stageAsync("format", () => buildModule(opt.compiled));
  if (code === undefined) return;
  const cell = c.stage("load formatted", () => load(code));
  if (cell) c.compare("formatted vs unformatted", c.stage("run formatted", () => runCell(cell, data)), expected, BITS);
}

function gradchecked(c: Case, opt: Build): void {
  const result = c.stage("gradcheck", () => gradcheck(opt.compiled.ir, opt.cell, { steps: 3, batch: 2, seed: c.plan.seed % 1000 }));
  // gradcheck draws its own data; a row whose error is NaN saw a non-finite loss there, not a wrong gradient.
  const bad = result?.rows.filter((r) => !r.ok && !Number.isNaN(r.maxRelError)) ?? [];
  if (bad.length) c.fail("mismatch", "gradcheck", "gradient vs finite differences", bad.map((r) => `${r.kind} ${r.name}: rel ${r.maxRelError.toExponential(2)}`).join(", "));
}

function drawGraphs(plain: readonly Build[], opt: readonly Build[]): void {
  for (const b of plain) for (const format of ["dot", "mermaid"] as const) for (const back of [false, true]) drawGraph(b.compiled.ir, format, back);
  for (const b of opt) dumpIR(b.compiled.ir, "optimized");
}
