/**
 * The whole pipeline, one call per stage:
 * source → tokens → AST → checked cells → step IR → + backward IR → optimized IR → module.
 *
 * The module comes out as a description and its JavaScript; `build.ts` makes the TypeScript that
 * `rnnc build` writes. Nothing this file imports loads TypeScript, ts-morph or prettier.
 */
import type { DType, ProductsMode } from "../src/runtime/abi.js";
import type { CheckedCell } from "./ast.js";
import { differentiate } from "./autodiff.js";
import { describeModule, renderJavaScript, type CellModule } from "./codegen/module.js";
import { planKernels, type TapeReport } from "./codegen/plan.js";
import { CompileError, DiagnosticBag, renderDiagnostics, type Diagnostic } from "./diagnostics.js";
import { checkText, type CheckedFile } from "./front.js";
import type { CellIR } from "./ir/cell.js";
import { lowerCell } from "./lower.js";
import { optimize } from "./passes/index.js";
import type { Layout } from "./passes/simplify.js";
import { Source } from "./source.js";

export interface CompileOptions {
  /** Shown in diagnostics and the emitted header (default `<input>`). */
  readonly path?: string;
  /** Overrides of the cells' default sizes. */
  readonly sizes?: Readonly<Record<string, number>>;
  readonly dtype?: DType;
  /** Run the optimizing passes (default true). */
  readonly optimize?: boolean;
  /** The runtime module emitted code imports (default `rnnc/runtime`). */
  readonly runtime?: string;
  /**
   * Matrix products as calls into the runtime ("runtime", the default: WebAssembly SIMD where the
   * engine has it, plain loops elsewhere) or as tiled loops in the emitted module ("inline").
   */
  readonly products?: ProductsMode;
  /** Where transposes are folded into products (default "backward": the forward keeps every bit). */
  readonly layout?: Layout;
  /**
   * Numbers per sample-step the tape may hold before values are recomputed in the backward
   * instead (default `DEFAULT_TAPE_BUDGET`, 65,536; see `TapeReport`).
   */
  readonly tapeBudget?: number;
  /** Called with the IR after each stage and pass (for `--dump-ir`). */
  readonly onPass?: (label: string, ir: CellIR) => void;
  /** Called with the rendered warnings of a source without errors (with errors, they are in the `CompileError`). */
  readonly onWarnings?: (rendered: string, warnings: readonly Diagnostic[]) => void;
}

export interface CompiledCell {
  readonly name: string;
  readonly ir: CellIR;
  /** The emitted module, described once (`renderJavaScript`; `build.ts` for TypeScript). */
  readonly module: CellModule;
  /** The emitted module as a JavaScript ES module. */
  readonly code: string;
  /** The forward's tape per sample-step, and what its budget made the backward recompute. */
  readonly tape: TapeReport;
}

/** Parses and checks; throws `CompileError` (with every diagnostic of the file) on errors. */
export function checkSource(text: string, options: CompileOptions = {}): CheckedCell[] {
  const checked = checkText(options.path ?? "<input>", text, new Map(Object.entries(options.sizes ?? {})));
  if (!checked.ok) throw new CompileError(checked.diagnostics, checked.source);
  const warnings = checked.diagnostics.filter((d) => d.severity === "warning");
  if (warnings.length > 0) options.onWarnings?.(renderDiagnostics(warnings, checked.source), warnings);
  return [...checked.cells];
}

/** Each cell's IR after autodiff, before the optimizing passes. */
function differentiated(text: string, options: CompileOptions): CellIR[] {
  const seen = (label: string, ir: CellIR): CellIR => (options.onPass?.(label, ir), ir);
  const source = new Source(options.path ?? "<input>", text);
  return checkSource(text, options).map((cell) => seen("autodiff", differentiate(seen("lower", lowerCell(cell, source)))));
}

export function lowerSource(text: string, options: CompileOptions = {}): CellIR[] {
  return differentiated(text, options).map((ir) => optimize(ir, options));
}

export function compileSource(text: string, options: CompileOptions = {}): CompiledCell[] {
  const on = options.optimize !== false;
  return differentiated(text, options).map((base) => {
    const ir = optimize(base, options);
    // `step` runs one step per call, so stacked params are rebuilt at every call. With products
    // in the runtime that is one block copy per param and pays for itself (fewer, larger calls);
    // with products inline it does not, so `step` is then built from the IR without stacking.
    const inline = options.products === "inline";
    const stepIR = on && inline ? optimize(base, { optimize: true, stack: false, layout: options.layout }) : ir;
    const plan = planKernels(ir, on, options.tapeBudget);
    const module = describeModule(ir, plan, {
      dtype: options.dtype ?? "f32",
      runtime: options.runtime ?? "rnnc/runtime",
      sourcePath: options.path ?? "<input>",
      sourceText: text,
      products: options.products ?? "runtime",
    }, { ir: stepIR, plan: planKernels(stepIR, on, options.tapeBudget) });
    let code: string | undefined;
    // The text is written when first asked for: `compile()` runs the module without it.
    return { name: ir.name, ir, module, tape: plan.tape, get code() { return (code ??= renderJavaScript(module, "module")); } };
  });
}

export { CompileError, Source, checkText, type CheckedFile };
export type { DType, CellIR, CellModule };
