/**
 * Assembles one cell's TypeScript module with ts-morph: the runtime import, typed constants for
 * sizes and shapes, module-level scratch buffers, the three kernels, and the exported `cell`.
 */
import { Project, StructureKind, VariableDeclarationKind, type SourceFile, type StatementStructures } from "ts-morph";
import type { TensorDecl } from "../ast.js";
import type { CellIR } from "../ir/cell.js";
import { sizeOf } from "../ir/graph.js";
import { opDef } from "../ops/index.js";
import { emitKernels } from "./kernels.js";
import { commentText, integer, stringLiteral, valueLiteral } from "./literal.js";
import { Names } from "./names.js";
import type { KernelPlan } from "./plan.js";
import type { Rows } from "./body.js";

export type DType = "f32" | "f64";

export interface EmitOptions {
  readonly dtype: DType;
  /** Module specifier of the runtime the emitted code imports. */
  readonly runtime: string;
  /** Shown in the header; never affects the code. */
  readonly sourcePath: string;
  /**
   * "runtime": matrix products are calls into the runtime's products (WebAssembly SIMD where the
   * engine has it); "inline": register-tiled loops specialized to the sizes, in the module itself.
   */
  readonly products?: "runtime" | "inline";
}

let project: Project | undefined;

function newFile(statements: StatementStructures[]): SourceFile {
  project ??= new Project({ useInMemoryFileSystem: true });
  return project.createSourceFile("cell.ts", { statements }, { overwrite: true });
}

const specOf = (d: TensorDecl) => ({ name: d.name, shape: [...d.shape], size: sizeOf(d.shape) });

const real = (name: string) => ({ name, type: "readonly Real[]" });
const count = (name: string) => ({ name, type: "number" });
const sequence = [real("P"), real("X"), real("S"), real("Y"), real("R"), { name: "M", type: "Uint8Array | undefined" }];
const workArgs = [real("WS"), { name: "mm", type: "Products" }];

/** The kernels' parameters. */
const PARAMETERS = {
  forward: [count("T"), count("B"), ...sequence, ...workArgs],
  backward: [count("T"), count("B"), ...sequence, real("GY"), real("GS"), real("GP"), real("GX"), ...workArgs],
  step: [count("B"), real("P"), real("X"), real("S"), real("Y"), ...workArgs],
};

/** What the module imports besides the op helpers, and what it declares at top level. */
const IMPORTS = ["defineCell", "Products", "Real"];
const DECLARED = ["sizes", "spec", "forward", "backward", "step", "cell"];

/** Names the allocator never gives out: the module's own, and the kernels' parameters. */
const MODULE_NAMES = [...IMPORTS, ...DECLARED, ...Object.values(PARAMETERS).flat().map((p) => p.name)];

/**
 * Every number the kernels are built from is a size, a shape dimension or derived from them:
 * checked once here to be a non-negative integer, so none of them can be anything but digits.
 */
function checkNumbers(ir: CellIR): void {
  for (const [, n] of ir.sizes) integer(n);
  for (const d of [...ir.params, ...ir.inputs, ...ir.states, ...ir.outputs]) d.shape.forEach(integer);
  for (const node of ir.graph.nodes) node.shape.forEach(integer);
}

export function emitModule(ir: CellIR, plan: KernelPlan, options: EmitOptions, step = { ir, plan }): string {
  if (options.dtype !== "f32" && options.dtype !== "f64") throw new Error(`internal error: dtype must be f32 or f64, not ${stringLiteral(String(options.dtype))}`);
  for (const cell of new Set([ir, step.ir])) checkNumbers(cell);
  const names = new Names(MODULE_NAMES);
  const scratch = new Map<string, { name: string; size: number }>();
  const workspace: { name: string; size: number; rows: Rows }[] = [];
  const staging = { fixed: 0, B: 0, TB: 0 };
  const graphs = [ir.graph, step.ir.graph];
  const products = (options.products ?? "runtime") === "runtime";
  const kernels = emitKernels(ir, plan, names, {
    products,
    stage(rows, perRow, fixed) {
      staging[rows] = Math.max(staging[rows], perRow);
      staging.fixed = Math.max(staging.fixed, fixed);
    },
    buffer(graph, node, size, scope, rows) {
      const key = `${graphs.indexOf(graph)}:${node}:${rows}`;
      let entry = scratch.get(key);
      if (!entry) {
        const base = typeof node === "string" ? node : (graph.names.get(node) ?? `t${node}`);
        entry = { name: scope.freshShared(base), size };
        scratch.set(key, entry);
        workspace.push({ name: entry.name, size, rows });
      }
      return entry.name;
    },
    workspaceIndex: (name) => {
      const k = workspace.findIndex((w) => w.name === name);
      return k < 0 ? undefined : k;
    },
  }, step);
  const helpers = new Set<string>();
  for (const node of ir.graph.nodes) for (const h of opDef(node.op).helpers ?? []) helpers.add(h);
  const imported = ["defineCell", ...[...helpers].sort(), "type Products", "type Real"];
  const spec = {
    name: ir.name,
    dtype: options.dtype,
    sizes: Object.fromEntries(ir.sizes),
    params: ir.params.map(specOf),
    inputs: ir.inputs.map(specOf),
    states: ir.states.map(specOf),
    outputs: ir.outputs.map(specOf),
    // A buffer only one kernel uses may share memory with the other kernels' own buffers.
    workspace: workspace.map(({ name, size, rows }) => {
      const users = (["forward", "backward", "step"] as const).filter((k) => kernels.uses[k].includes(name));
      return users.length === 1 ? { size, rows, kernel: users[0] } : { size, rows };
    }),
    staging,
    tape: plan.taped.map((id) => ({
      name: ir.graph.names.get(id) ?? `v${id}`,
      shape: [...ir.graph.shape(id)],
      size: sizeOf(ir.graph.shape(id)),
    })),
  };
  // The whole module is one structure, printed and parsed once (each separate insertion would
  // parse the file again).
  const statements: StatementStructures[] = [];
  statements.push({
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [`Sizes of cell ${commentText(ir.name)}, fixed when it was compiled.`],
    declarations: [{ name: "sizes", initializer: `${valueLiteral(spec.sizes)} as const` }],
  });
  statements.push({
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ["Names and shapes of params, inputs, states, outputs, and the values taped per step."],
    declarations: [{ name: "spec", initializer: `${valueLiteral({ ...spec, sizes: undefined })} as const` }],
  });
  statements.push({
    kind: StructureKind.Function,
    name: "forward",
    docs: ["Runs T steps over B sequences: inputs X `[T][B][n]`, state history S `[T+1][B][n]`, outputs Y, tape R."],
    parameters: PARAMETERS.forward,
    returnType: "void",
    statements: kernels.forward,
  });
  statements.push({
    kind: StructureKind.Function,
    name: "backward",
    docs: ["Backprop through time: output gradients GY, state gradients carried in GS, param gradients accumulated in GP, input gradients GX."],
    parameters: PARAMETERS.backward,
    returnType: "void",
    statements: kernels.backward,
  });
  statements.push({
    kind: StructureKind.Function,
    name: "step",
    docs: ["One step for B sequences: inputs X `[B][n]`, states S `[B][n]` updated in place, outputs Y `[B][n]`."],
    parameters: PARAMETERS.step,
    returnType: "void",
    statements: kernels.step,
  });
  statements.push({
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    declarations: [{ name: "cell", initializer: `defineCell({ ...spec, sizes }, { forward, backward, step })` }],
  });
  statements.push({ kind: StructureKind.ExportAssignment, isExportEquals: false, expression: "cell" });
  const file = newFile(statements);
  const header = `// Generated by rnnc from ${commentText(options.sourcePath)} (cell ${commentText(ir.name)}, ${options.dtype}). Do not edit.\n`;
  return `${header}import { ${imported.join(", ")} } from ${stringLiteral(options.runtime)};\n\n${file.getFullText()}`;
}
