/**
 * One cell's module, described once and rendered twice: `describeModule` gathers the header, the
 * runtime imports, the sizes, the spec (a typed `CellSpec` value), and the three kernels with
 * their parameters (from the ABI) and bodies; `renderJavaScript` writes it as JavaScript by plain
 * string assembly (what `compile()` runs), and `typescript.ts` builds the TypeScript module that
 * `rnnc build` writes from the same description with ts-morph.
 */
import {
  KERNEL_PARAMETER, KERNEL_PARAMETERS, KERNELS, MODULE_DECLARATIONS, RUNTIME_IMPORTS, SCRATCH_GROUP,
  type DType, type ElementLoops, type KernelName, type KernelParameterName, type ProductsMode, type SpecWithoutSizes, type TensorSpec, type WorkspaceSpec,
} from "../../src/runtime/abi.js";
import type { TensorDecl } from "../ast.js";
import type { CellIR } from "../ir/cell.js";
import { sizeOf } from "../ir/graph.js";
import { opDef } from "../ops/index.js";
import { RNNC_VERSION } from "../version.js";
import type { Rows } from "./body.js";
import { emitKernels, type KernelTexts } from "./kernels.js";
import type { Dialect } from "./loops/ir.js";
import { commentText, integer, stringLiteral, typeLiteral, valueLiteral } from "./literal.js";
import { Names } from "./names.js";
import type { KernelPlan } from "./plan.js";
import { show } from "./loops/index-expr.js";
import { compileElementLoop, type CompiledLoop } from "../wasm/loops.js";
import { encodeModule } from "../wasm/encode.js";
import { LOOP_OPERANDS } from "../../src/runtime/loops.js";
import { sha256 } from "./sha256.js";

export type { DType };

export interface EmitOptions {
  readonly dtype: DType;
  /** Module specifier of the runtime the emitted code imports. */
  readonly runtime: string;
  /** Shown in the header; never affects the code. */
  readonly sourcePath: string;
  /** The source text, whose hash the header shows. */
  readonly sourceText: string;
  /**
   * "runtime": matrix products are calls into the runtime's products (WebAssembly SIMD where the
   * engine has it); "inline": register-tiled loops specialized to the sizes, in the module itself.
   */
  readonly products?: ProductsMode;
  /**
   * Whether element loops the runtime's row loops compute (`ROW_LOOPS`) are calls into them, where
   * kernels call the runtime's maps (float32, runtime products): the default. False keeps them as
   * loops in the module (the same arithmetic, for comparing the two).
   */
  readonly rowLoops?: boolean;
  /**
   * Whether element loops whose ops all have a WebAssembly form run as the cell's own WebAssembly
   * where they can (`mm.loop`), with the JavaScript loop kept beside each for where they cannot:
   * the default for float32 kernels with runtime products. False keeps only the JavaScript.
   */
  readonly wasmLoops?: boolean;
}

/** One kernel function: its parameters (the ABI's), the workspace buffers it binds, its body. */
export interface KernelFunction {
  readonly name: KernelName;
  readonly doc: string;
  readonly parameters: readonly KernelParameterName[];
  /** The parameters the body never reads (written `_mm`, so strict TypeScript accepts them). */
  readonly unused: ReadonlySet<KernelParameterName>;
  /** `const name = WS[index]` at the top of the body, in this order. */
  readonly workspace: readonly { readonly name: string; readonly index: number }[];
  /** Plain JavaScript statements. */
  readonly body: string;
  /** The same statements as TypeScript (`!` on element reads, lists unpacked as tuples). */
  readonly typescript: () => string;
}

/** Everything an emitted module says, before it is written in either language. */
export interface CellModule {
  /** The first line's comment text (without `//`): version, source, hash, cell, dtype. */
  readonly header: string;
  readonly runtime: string;
  /** Op helpers the kernels call, imported from the runtime beside `RUNTIME_IMPORTS`. */
  readonly helpers: readonly string[];
  readonly cellName: string;
  readonly sizes: Readonly<Record<string, number>>;
  readonly spec: SpecWithoutSizes;
  readonly kernels: readonly KernelFunction[];
  /** The kernels' element loops as one WebAssembly module (`ElementLoops`), if they have any. */
  readonly loops: ElementLoops | null;
}

/** How many hex digits of the source's SHA-256 a header shows. */
export const HASH_DIGITS = 16;

const DOCS: Readonly<Record<KernelName, string>> = {
  forward: "Runs T steps over B sequences: inputs X `[T][B][n]`, state history S `[T+1][B][n]`, outputs Y, tape R.",
  backward: "Backprop through time: output gradients GY (GYrows rows a step: B, or 0 for zeros), state gradients carried in GS, param gradients accumulated in GP, input gradients GX.",
  step: "One step for B sequences: inputs X `[B][n]`, states S `[B][n]` updated in place, outputs Y `[B][n]`.",
  infer: "Runs T steps over B sequences without a record for the backward: states S `[B][n]` updated in place, outputs Y `[T][B][n]`.",
};
export const SIZES_DOC = (cell: string) => `Sizes of cell ${commentText(cell)}, fixed when it was compiled.`;
export const SPEC_DOC = "Names and shapes of params, inputs, states, outputs, and the values taped per step.";

const specOf = (d: TensorDecl): TensorSpec => ({ name: d.name, shape: [...d.shape], size: sizeOf(d.shape), ...(d.init ? { init: d.init } : {}) });

/**
 * Every number the kernels are built from is a size, a shape dimension or derived from them:
 * checked once here to be a non-negative integer, so none of them can be anything but digits.
 */
function checkNumbers(ir: CellIR): void {
  for (const [, n] of ir.sizes) integer(n);
  for (const d of [...ir.params, ...ir.inputs, ...ir.states, ...ir.outputs]) d.shape.forEach(integer);
  for (const node of ir.graph.nodes) node.shape.forEach(integer);
}

/** The header: who wrote the module, from what (path and hash of the text), and for what. */
export function headerText(options: Pick<EmitOptions, "sourcePath" | "sourceText" | "dtype">, cell: string): string {
  const hash = sha256(options.sourceText).slice(0, HASH_DIGITS);
  return `Generated by rnnc ${RNNC_VERSION} from ${commentText(options.sourcePath)} (sha-256 ${hash}; cell ${commentText(cell)}, ${options.dtype}). Do not edit.`;
}

export function describeModule(ir: CellIR, plan: KernelPlan, options: EmitOptions, step = { ir, plan }): CellModule {
  if (options.dtype !== "f32" && options.dtype !== "f64") throw new Error(`internal error: dtype must be f32 or f64, not ${stringLiteral(String(options.dtype))}`);
  for (const cell of new Set([ir, step.ir])) checkNumbers(cell);
  // Emission names the values it gives buffers in the graph; the TypeScript is emitted again from
  // the names the graphs had before, so that it is the same emission.
  const graphs = [...new Set([ir.graph, step.ir.graph])];
  const given = graphs.map((g) => new Map(g.names));
  const { kernels, workspace, staging, loops } = emitIn("js", ir, plan, options, step);
  let typescript: KernelTexts | undefined;
  /** The kernels again in TypeScript: the same emission (so the same names and buffers), other reads. */
  const typed = (name: KernelName) => {
    if (!typescript) {
      graphs.forEach((g, k) => {
        g.names.clear();
        for (const [id, n] of given[k]!) g.names.set(id, n);
      });
      const again = emitIn("ts", ir, plan, options, step);
      if (JSON.stringify([again.workspace, again.kernels.uses, again.loops.map((l) => l.shape)]) !== JSON.stringify([workspace, kernels.uses, loops.map((l) => l.shape)])) {
        throw new Error("internal error: the TypeScript kernels were emitted with other buffers or loops");
      }
      typescript = again.kernels;
    }
    return typescript[name].body;
  };
  // The op helpers the kernels call (a float32 kernel's σ may be the runtime's map instead).
  const helpers = new Set<string>();
  const called = (h: string) => KERNELS.some((k) => kernels[k].reads.has(h));
  for (const node of ir.graph.nodes) for (const h of opDef(node.op).helpers ?? []) if (called(h)) helpers.add(h);
  const spec: SpecWithoutSizes = {
    name: ir.name,
    dtype: options.dtype,
    params: ir.params.map(specOf),
    inputs: ir.inputs.map(specOf),
    states: ir.states.map(specOf),
    outputs: ir.outputs.map(specOf),
    // A buffer only one kernel uses may share memory with the other kernels' own buffers; one of
    // values derived from params alone ("one" row: only params-only values have one) is kept.
    workspace: workspace.map(({ size, rows }, index): WorkspaceSpec => {
      const users = KERNELS.filter((k) => kernels.uses[k].some((u) => u.index === index));
      if (rows === "one") return { size, rows, derived: users };
      const groups = new Set(users.map((k) => SCRATCH_GROUP[k]));
      return groups.size === 1 ? { size, rows, kernel: [...groups][0]! } : { size, rows };
    }),
    staging,
    tape: kernels.tape.map((a) => ({ name: a.name, shape: [...a.shape], size: a.width })),
  };
  return {
    header: headerText(options, ir.name),
    runtime: options.runtime,
    helpers: [...helpers].sort(),
    cellName: ir.name,
    sizes: Object.fromEntries(ir.sizes),
    spec,
    kernels: KERNELS.map((name) => ({
      name,
      doc: DOCS[name],
      parameters: KERNEL_PARAMETERS[name],
      unused: new Set(KERNEL_PARAMETERS[name].filter((p) => !kernels[name].reads.has(p) && !(p === KERNEL_PARAMETER.workspace && kernels.uses[name].length > 0))),
      workspace: kernels.uses[name],
      body: kernels[name].body,
      typescript: () => typed(name),
    })),
    loops: loops.length === 0 ? null : {
      wasm: base64(encodeModule(loops.map((l, k) => l.function(`loop${k}`)))),
      shapes: loops.map((l) => l.shape),
    },
  };
}

/** Bytes as base64 (the emitted module's literal of its WebAssembly). */
function base64(bytes: Uint8Array): string {
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let out = "";
  for (let k = 0; k < bytes.length; k += 3) {
    const [a, b, c] = [bytes[k]!, bytes[k + 1], bytes[k + 2]];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + (b === undefined ? "=" : ALPHABET[(n >> 6) & 63]!) + (c === undefined ? "=" : ALPHABET[n & 63]!);
  }
  return out;
}

/** The kernels in `dialect`, with the workspace and staging they need. Emission is deterministic: the same inputs give the same names. */
function emitIn(dialect: Dialect, ir: CellIR, plan: KernelPlan, options: EmitOptions, step: { ir: CellIR; plan: KernelPlan }) {
  const names = new Names();
  const scratch = new Map<string, number>();
  const workspace: { size: number; rows: Rows }[] = [];
  const staging = { fixed: 0, B: 0, TB: 0 };
  const graphs = [ir.graph, step.ir.graph];
  const products = (options.products ?? "runtime") === "runtime";
  const loops: CompiledLoop[] = [];
  const wasmLoops = products && options.dtype === "f32" && options.wasmLoops !== false;
  const stage = (rows: "B" | "TB", perRow: number, fixed: number) => {
    staging[rows] = Math.max(staging[rows], perRow);
    staging.fixed = Math.max(staging.fixed, fixed);
  };
  const kernels = emitKernels(ir, plan, names, {
    products,
    // The runtime's maps round each value to float32 as a store does; float64 kernels keep `Math`.
    maps: products && options.dtype === "f32",
    rowLoops: products && options.dtype === "f32" && options.rowLoops !== false,
    stage,
    // A loop's operands outside the arena are staged: every row of those that advance by row, and
    // the others once, each run aligned (four elements).
    elementLoop: wasmLoops ? (phase, rows, size, body) => {
      const compiled = compileElementLoop(size, body);
      if (compiled === null || 2 * compiled.operands.length + compiled.scalars.length > LOOP_OPERANDS) return null;
      const k = loops.push(compiled) - 1;
      const perRow = compiled.operands.reduce((n, o) => n + (o.stride === 0 ? 0 : o.width), 0);
      const fixed = compiled.operands.reduce((n, o) => n + (o.stride === 0 ? o.width : 0) + 4, 0);
      stage(phase, perRow, fixed);
      const operands = [...compiled.operands.flatMap((o) => [o.array, show(o.base)]), ...compiled.scalars];
      return `${KERNEL_PARAMETER.products}.loop(${[k, rows, ...operands].join(", ")})`;
    } : undefined,
    buffer(graph, node, size, rows) {
      const key = `${graphs.indexOf(graph)}:${node}:${rows}:${size}`;
      let index = scratch.get(key);
      if (index === undefined) {
        index = workspace.push({ size, rows }) - 1;
        scratch.set(key, index);
      }
      return index;
    },
  }, dialect, step);
  return { kernels, workspace, staging, loops };
}

/** A kernel's parameter as its function declares it: `_mm` when the body never reads it. */
export const parameterName = (k: KernelFunction, p: KernelParameterName): string => (k.unused.has(p) ? `_${p}` : p);

/** `const name = WS[k]` for each workspace buffer a kernel uses; TypeScript adds `!`. */
export function workspaceBindings(kernel: KernelFunction, typescript: boolean): string[] {
  return kernel.workspace.map(({ name, index }) => `const ${name} = ${KERNEL_PARAMETER.workspace}[${integer(index)}]${typescript ? "!" : ""};`);
}

/** The values an emitted module imports from the runtime: `defineCell` and the op helpers. */
export const importedValues = (m: CellModule): string[] => [...RUNTIME_IMPORTS.values, ...m.helpers];

/** The statement that makes the cell: the spec with its sizes, and the kernels. */
export const cellInitializer = (m: CellModule) => `defineCell({ ...spec, sizes }, { ${[...KERNELS, ...(m.loops ? [LOOPS] : [])].join(", ")} })`;

/** The name of the module's element loops (`ElementLoops`), when it has any. */
export const LOOPS = MODULE_DECLARATIONS[MODULE_DECLARATIONS.length - 2]!;
export const LOOPS_DOC = "The kernels' element loops as WebAssembly (base64), which `mm.loop` runs where it can; each is the JavaScript loop after its call.";

/** The element loops' literal: the bytes in lines of 96 characters, and the shapes. */
export function loopsLiteral(loops: ElementLoops): string {
  const lines = loops.wasm.match(/.{1,96}/gu) ?? [];
  return `{\n  wasm:\n    ${lines.map((l) => stringLiteral(l)).join(" +\n    ")},\n  shapes: ${valueLiteral(loops.shapes)},\n}`;
}

/**
 * Lines of a kernel indented two spaces per open brace (only leading whitespace changes, so the
 * code means what it meant; a brace inside a comment at worst misindents a line).
 */
function indented(lines: readonly string[], depth: number): string[] {
  const out: string[] = [];
  for (const text of lines) {
    for (const line of text.split("\n")) {
      const code = line.trim();
      let balance = 0;
      for (let k = 0; k < code.length; k++) {
        const ch = code.charCodeAt(k);
        if (ch === 0x2f && code.charCodeAt(k + 1) === 0x2f) break; // a line comment
        if (ch === 0x7b) balance++;
        else if (ch === 0x7d) balance--;
      }
      const at = code.startsWith("}") ? depth - 1 : depth;
      depth = Math.max(0, depth + balance);
      out.push(code === "" ? "" : "  ".repeat(Math.max(0, at)) + code);
    }
  }
  return out;
}

/**
 * The declarations of the JavaScript module (`rnnc build --emit js` writes them as `.d.ts`): the
 * same exports with the types the TypeScript module infers, so a project type-checks its use of
 * the cell (names and dtype) whatever its compiler settings, without compiling the kernels.
 */
export function renderDeclarations(m: CellModule): string {
  const [sizes, spec] = MODULE_DECLARATIONS;
  const cell = MODULE_DECLARATIONS[MODULE_DECLARATIONS.length - 1]!;
  return [
    `// ${m.header}`,
    `import type { Cell, TypesOf } from ${stringLiteral(m.runtime)};`,
    "",
    `/** ${SIZES_DOC(m.cellName)} */`,
    `export declare const ${sizes}: ${typeLiteral(m.sizes)};`,
    `/** ${SPEC_DOC} */`,
    `export declare const ${spec}: ${typeLiteral(m.spec)};`,
    `export declare const ${cell}: Cell<TypesOf<typeof ${spec}>>;`,
    `export default ${cell};`,
    "",
  ].join("\n");
}

/**
 * The module as JavaScript: an ES module importing the runtime (`"module"`), or the body of a
 * function that receives the runtime as `runtime` and returns the cell (`"function"`, what
 * `compile()` runs).
 */
export function renderJavaScript(m: CellModule, form: "module" | "function"): string {
  const asModule = form === "module";
  const exported = asModule ? "export " : "";
  const values = importedValues(m).join(", ");
  const [sizes, spec] = MODULE_DECLARATIONS;
  const cell = MODULE_DECLARATIONS[MODULE_DECLARATIONS.length - 1]!;
  const lines = [
    `// ${m.header}`,
    asModule ? `import { ${values} } from ${stringLiteral(m.runtime)};` : `"use strict";\nconst { ${values} } = runtime;`,
    "",
    `/** ${SIZES_DOC(m.cellName)} */`,
    `${exported}const ${sizes} = ${valueLiteral(m.sizes)};`,
    `/** ${SPEC_DOC} */`,
    `${exported}const ${spec} = ${valueLiteral(m.spec)};`,
  ];
  for (const k of m.kernels) {
    lines.push("", `/** ${k.doc} */`, `function ${k.name}(${k.parameters.map((p) => parameterName(k, p)).join(", ")}) {`, ...indented([...workspaceBindings(k, false), k.body], 1), "}");
  }
  if (m.loops) lines.push("", `/** ${LOOPS_DOC} */`, `const ${LOOPS} = ${loopsLiteral(m.loops)};`);
  lines.push("", `${exported}const ${cell} = ${cellInitializer(m)};`, asModule ? `export default ${cell};` : `return ${cell};`, "");
  return lines.join("\n");
}

/** The module as an ES module in JavaScript (see `renderJavaScript`). */
export function emitModule(ir: CellIR, plan: KernelPlan, options: EmitOptions, step = { ir, plan }): string {
  return renderJavaScript(describeModule(ir, plan, options, step), "module");
}
