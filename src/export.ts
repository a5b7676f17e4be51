/**
 * `rnnc export FILE.cell --format onnx|pytorch`:
 * - onnx: a cell's forward over a batch of sequences as an ONNX model (see
 *   `compiler/export/onnx.ts` for its inputs and outputs), with params taken from a params file as
 *   `saveParams` writes it, or left as inputs of the model;
 * - pytorch: a Python module with the cell as `nn.Module`s (see `compiler/export/pytorch.ts`),
 *   starting from the params of a params file when one is given.
 */
import { writeFile } from "node:fs/promises";
import { checkSource, CompileError, lowerSource, Source, type CellIR } from "../compiler/index.js";
import { E } from "../compiler/messages.js";
import { exportOnnx } from "../compiler/export/onnx.js";
import { exportPytorch } from "../compiler/export/pytorch.js";
import { FileError, InputError, UsageError, describeFileError, parseSizes, readSource, readText, sizesRecord, type Io } from "./args.js";
import type { Command } from "./commands.js";
import { loadParams, saveParams } from "./train/serialize.js";

export interface ExportOptions {
  readonly cell?: string;
  readonly sizes?: Readonly<Record<string, number>>;
  readonly dtype?: "f32" | "f64";
  readonly initialStates?: "optional" | "required";
  /** A params file's text, and which of its groups holds the cell's params. */
  readonly params?: { readonly json: string; readonly group?: string; readonly path: string };
}

/** The ONNX model of one cell of `source`. */
export function exportCell(source: string, path: string, options: ExportOptions = {}): { ir: CellIR; bytes: Uint8Array } {
  const cells = lowerSource(source, { path, sizes: options.sizes ?? {}, layout: "all" });
  for (const name of Object.keys(options.sizes ?? {}))
    if (!cells.some((c) => c.sizes.has(name))) throw new UsageError(`--size: no cell declares a size named '${name}'`);
  const ir = chooseCell(cells, options.cell, path);
  const params = options.params && readParams(ir, options.params);
  try {
    return { ir, bytes: exportOnnx(ir, { dtype: options.dtype ?? "f32", params, sourcePath: path, initialStates: options.initialStates }) };
  } catch (e) {
    throw new InputError(`${path}: ${(e as Error).message}`);
  }
}

/** The Python module of one cell of `source` (params from a params file when given). */
export function exportPytorchCell(source: string, path: string, options: ExportOptions = {}): { name: string; text: string } {
  const cells = checkSource(source, { path, sizes: options.sizes ?? {} });
  for (const name of Object.keys(options.sizes ?? {}))
    if (!cells.some((c) => c.sizes.has(name))) throw new UsageError(`--size: no cell declares a size named '${name}'`);
  const cell = chooseCell(cells, options.cell, path);
  const text = new Source(path, source);
  if (cell.inputs.length === 0) {
    const message = `cell '${cell.name}' has no input: the PyTorch sequence module takes T and B from its inputs`;
    const start = cell.span.start;
    throw new CompileError([{ severity: "error", code: E.exportNoInput, message, span: { start, end: start + "cell".length }, notes: [] }], text);
  }
  const params = options.params && readParams(cell, options.params);
  const shapes = Object.fromEntries(cell.params.map((p) => [p.name, p.shape]));
  const paramsJson = params && saveParams([{ name: cell.name, params, grads: {}, shapes }]);
  try {
    return { name: cell.name, text: exportPytorch(cell, text, { paramsJson, dtype: options.dtype }) };
  } catch (e) {
    throw new InputError(`${path}: ${(e as Error).message}`);
  }
}

function chooseCell<C extends { readonly name: string }>(cells: readonly C[], name: string | undefined, path: string): C {
  const names = cells.map((c) => c.name).join(", ");
  if (name !== undefined) {
    const found = cells.find((c) => c.name === name);
    if (!found) throw new UsageError(`--cell: '${path}' has no cell '${name}' (it has: ${names})`);
    return found;
  }
  if (cells.length !== 1) throw new UsageError(`'${path}' has ${cells.length} cells (${names}); choose one with --cell`);
  return cells[0]!;
}

/**
 * The cell's params from a params file: the group named `group`, else the one named after the
 * cell, else the file's only group. Every name and shape is checked; errors name the field.
 */
function readParams(ir: Pick<CellIR, "name" | "params">, file: NonNullable<ExportOptions["params"]>): Record<string, Float64Array> {
  const fail = (message: string): never => {
    throw new InputError(`${file.path}: ${message}`);
  };
  let document: unknown;
  try {
    document = JSON.parse(file.json);
  } catch (e) {
    return fail(`malformed JSON: ${(e as Error).message}`);
  }
  const groups = (document as { groups?: unknown } | null)?.groups;
  const names = typeof groups === "object" && groups !== null && !Array.isArray(groups) ? Object.keys(groups) : [];
  const group = file.group ?? (names.includes(ir.name) ? ir.name : names.length === 1 ? names[0]! : undefined);
  if (group === undefined) return fail(`choose the group holding cell '${ir.name}' with --group (groups: ${names.join(", ") || "none"})`);
  if (!names.includes(group)) return fail(`no group '${group}' (groups: ${names.join(", ") || "none"})`);
  const params = Object.fromEntries(ir.params.map((p) => [p.name, new Float64Array(p.shape.reduce((a, b) => a * b, 1))]));
  const shapes = Object.fromEntries(ir.params.map((p) => [p.name, p.shape]));
  const one = { ...(document as object), groups: { [group]: (groups as Record<string, unknown>)[group] } };
  try {
    loadParams(JSON.stringify(one), [{ name: group, params, grads: {}, shapes }]);
  } catch (e) {
    return fail((e as Error).message);
  }
  return params;
}

type Flags = Record<string, string | boolean | undefined>;
const str = (flags: Flags, name: string): string | undefined => (typeof flags[name] === "string" ? (flags[name] as string) : undefined);

export const exportCommand: Command = {
  options: {
    format: { type: "string" }, cell: { type: "string" }, size: { type: "string" }, dtype: { type: "string" },
    params: { type: "string" }, group: { type: "string" }, "initial-states": { type: "string" }, out: { type: "string", short: "o" },
  },
  async run(files: string[], flags: Flags, io: Io): Promise<number> {
    if (files.length !== 1) throw new UsageError(`expected one .cell file, got ${files.length}`);
    const path = files[0]!;
    const format = str(flags, "format");
    if (format !== "onnx" && format !== "pytorch")
      throw new UsageError(format === undefined ? "--format is required (onnx or pytorch)" : `--format: expected onnx or pytorch, got '${format}'`);
    const dtype = str(flags, "dtype") ?? "f32";
    if (dtype !== "f32" && dtype !== "f64") throw new UsageError(`--dtype: expected f32 or f64, got '${dtype}'`);
    const initialStates = str(flags, "initial-states") ?? "optional";
    if (initialStates !== "optional" && initialStates !== "required")
      throw new UsageError(`--initial-states: expected optional or required, got '${initialStates}'`);
    const paramsPath = str(flags, "params");
    const params = paramsPath === undefined ? undefined : { json: await readText(paramsPath), group: str(flags, "group"), path: paramsPath };
    if (params === undefined && str(flags, "group") !== undefined) throw new UsageError("--group needs --params");
    const source = await readSource(path);
    const options = { cell: str(flags, "cell"), sizes: sizesRecord(parseSizes(str(flags, "size"))), dtype, params, initialStates } as const;
    if (format === "pytorch") {
      if (flags["initial-states"] !== undefined) throw new UsageError("--initial-states is for --format onnx");
      const { name, text } = exportPytorchCell(source, path, options);
      const out = str(flags, "out") ?? `${name}.py`;
      await write(out, text);
      io.out(`wrote ${out} (cell ${name}, ${dtype}, params ${params ? `from ${params.path}` : "initialized in Python"})`);
      return 0;
    }
    const { ir, bytes } = exportCell(source, path, options);
    const out = str(flags, "out") ?? `${ir.name}.onnx`;
    await write(out, bytes);
    io.out(`wrote ${out} (cell ${ir.name}, ${dtype}, params ${params ? `from ${params.path}` : "as inputs"})`);
    return 0;
  },
};

async function write(out: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFile(out, data);
  } catch (e) {
    const described = describeFileError(e, "write", out);
    if (described === undefined) throw e;
    throw new FileError(described);
  }
}
