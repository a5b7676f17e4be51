/** The `rnnc` subcommands: each parses its flags, runs one job, and returns an exit code. */
import { join } from "node:path";
import { CompileError, compileSource, formatModule, type CompiledCell, type CompileOptions } from "../compiler/index.js";
import { dumpIR } from "../compiler/ir/dump.js";
import { drawGraph } from "../compiler/ir/draw.js";
import { InputError, UsageError, parseCount, parseSizes, readSource, readText, sizesRecord, type Io } from "./args.js";
import { collisions } from "./collisions.js";
import { DataError } from "./data.js";
import { MAX_SEED } from "./runtime/random.js";
import { RUNTIME_COPY_SPECIFIER, RUNTIME_DIR, runtimeModules } from "./runtime-copy.js";
import { evaluate } from "./eval.js";
import { exportCommand } from "./export.js";
import { describeNonFinite, gradcheck, type GradcheckResult } from "./gradcheck.js";
import { load } from "./load.js";
import { writeModules } from "./write.js";

type Flags = Record<string, string | boolean | undefined>;
type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

export interface Command {
  readonly options: OptionSpec;
  run(files: string[], flags: Flags, io: Io): Promise<number>;
}

const str = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
};

function dtype(flags: Flags, fallback: "f32" | "f64"): "f32" | "f64" {
  const v = str(flags, "dtype") ?? fallback;
  if (v !== "f32" && v !== "f64") throw new UsageError(`--dtype: expected f32 or f64, got '${v}'`);
  return v;
}

function oneFile(files: string[]): string {
  if (files.length !== 1) throw new UsageError(`expected one .cell file, got ${files.length}`);
  return files[0]!;
}

/** A compiled file, with its text (for locating its cells in messages). */
export interface CompiledFile {
  readonly path: string;
  readonly text: string;
  readonly cells: CompiledCell[];
}

type FileOptions = Omit<CompileOptions, "path" | "sizes" | "onWarnings">;

/** Compiles a file's cells with the `--size` overrides; warnings go to stderr. */
async function compileFile(path: string, sizes: ReadonlyMap<string, number>, options: FileOptions, io: Io): Promise<CompiledFile> {
  const text = await readSource(path);
  const onWarnings = (rendered: string) => io.err(`${rendered}\n`);
  return { path, text, cells: compileSource(text, { ...options, sizes: sizesRecord(sizes), path, onWarnings }) };
}

/** A `--size` name that is not a size of any of the cells is a usage error. */
function checkSizeNames(sizes: ReadonlyMap<string, number>, cells: readonly CompiledCell[]): void {
  for (const name of sizes.keys()) {
    if (cells.some((c) => c.ir.sizes.has(name))) continue;
    const declared = [...new Set(cells.flatMap((c) => [...c.ir.sizes.keys()]))];
    const which = cells.length === 1 ? `cell '${cells[0]!.name}' has no size` : "no cell declares a size";
    throw new UsageError(`--size: ${which} named '${name}' (sizes: ${declared.join(", ") || "none"})`);
  }
}

/** Compiles every file, printing the diagnostics of those with errors. */
async function compileFiles(files: readonly string[], sizes: ReadonlyMap<string, number>, options: FileOptions, io: Io) {
  const compiled: CompiledFile[] = [];
  let failed = false;
  for (const path of files) {
    try {
      compiled.push(await compileFile(path, sizes, options, io));
    } catch (e) {
      if (!(e instanceof CompileError)) throw e;
      io.err(`${e.message}\n`);
      failed = true;
    }
  }
  if (!failed) checkSizeNames(sizes, compiled.flatMap((c) => c.cells));
  return { compiled, failed };
}

/** The cells of `path` to run (`--cell`, or all), the `--size` names checked against them. */
async function chosenCells(path: string, flags: Flags, options: FileOptions, io: Io): Promise<CompiledCell[]> {
  const sizes = parseSizes(str(flags, "size"));
  const cells = pick((await compileFile(path, sizes, options, io)).cells, str(flags, "cell"), path);
  checkSizeNames(sizes, cells);
  return cells;
}

function pick(cells: CompiledCell[], name: string | undefined, path: string): CompiledCell[] {
  if (name === undefined) return cells;
  const found = cells.filter((c) => c.name === name);
  if (found.length === 0) throw new UsageError(`--cell: '${path}' has no cell '${name}' (it has: ${cells.map((c) => c.name).join(", ")})`);
  return found;
}

function products(flags: Flags): "runtime" | "inline" {
  const v = str(flags, "products") ?? "runtime";
  if (v !== "runtime" && v !== "inline") throw new UsageError(`--products: expected runtime or inline, got '${v}'`);
  return v;
}

const sizeFlag = { size: { type: "string" } } as const;
const cellFlag = { cell: { type: "string" } } as const;

const build: Command = {
  options: {
    out: { type: "string", short: "o" }, ...sizeFlag, dtype: { type: "string" }, runtime: { type: "string" }, "runtime-copy": { type: "boolean" },
    products: { type: "string" }, "dump-ir": { type: "boolean" }, "no-opt": { type: "boolean" },
  },
  /** Everything is compiled and formatted before anything is written: a build with an error writes nothing. */
  async run(files, flags, io) {
    if (files.length === 0) throw new UsageError("expected at least one .cell file");
    const out = str(flags, "out") ?? "generated";
    const sizes = parseSizes(str(flags, "size"));
    const copy = flags["runtime-copy"] === true;
    if (copy && str(flags, "runtime") !== undefined) throw new UsageError("--runtime and --runtime-copy: give one of them");
    const options = {
      dtype: dtype(flags, "f32"),
      runtime: copy ? RUNTIME_COPY_SPECIFIER : (str(flags, "runtime") ?? "rnnc/runtime"),
      optimize: flags["no-opt"] !== true,
      products: products(flags),
      onPass: flags["dump-ir"] ? (label: string, ir: Parameters<typeof dumpIR>[0]) => io.out(dumpIR(ir, label)) : undefined,
    };
    const { compiled, failed } = await compileFiles(files, sizes, options, io);
    if (failed) return 1;
    const modules = compiled.flatMap((file) => file.cells.map((cell) => ({ file, cell, path: join(out, `${cell.name}.ts`) })));
    const clashes = collisions(modules);
    if (clashes.length > 0) {
      io.err(`${clashes.join("\n\n")}\n`);
      return 1;
    }
    const texts = await Promise.all(modules.map((m) => formatModule(m.cell.code)));
    // The runtime first, so that no module is ever there without what it imports.
    if (copy) await writeModules(join(out, RUNTIME_DIR), await runtimeModules(out));
    await writeModules(out, modules.map((m, k) => ({ path: m.path, text: texts[k]! })));
    if (copy) io.out(`wrote ${join(out, RUNTIME_DIR)}/`);
    for (const m of modules) io.out(`wrote ${m.path}`);
    return 0;
  },
};

const check: Command = {
  options: { ...sizeFlag },
  async run(files, flags, io) {
    if (files.length === 0) throw new UsageError("expected at least one .cell file");
    const { compiled, failed } = await compileFiles(files, parseSizes(str(flags, "size")), {}, io);
    for (const { path, cells } of compiled) io.out(`${path}: ok (${cells.map((c) => c.name).join(", ")})`);
    return failed ? 1 : 0;
  },
};

function printGradcheck(r: GradcheckResult, io: Io): void {
  if (r.nonFinite) {
    io.err(`rnnc: error: gradcheck ${r.cell}: the forward pass is not finite: ${describeNonFinite(r.nonFinite)} ` +
      `(seed ${r.seed}, T=${r.T}, B=${r.B}); no gradient can be checked`);
    return;
  }
  io.out(`gradcheck ${r.cell}: T=${r.T} B=${r.B} seed=${r.seed} eps=${r.eps.toExponential(1)}, float64 central differences`);
  const head = ["tensor", "size", "checked", "max abs err", "max rel err", "step", ""];
  const rows = r.rows.map((row) => [
    `${row.kind} ${row.name}`, String(row.size), String(row.checked),
    row.maxAbsError.toExponential(2), row.maxRelError.toExponential(2), row.step.toExponential(1), status(row),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  io.out([line(head), ...rows.map(line)].join("\n"));
  const bad = r.rows.filter((row) => !row.ok).length;
  io.out(bad === 0 ? `all ${r.rows.length} gradients match\n` : `${bad} of ${r.rows.length} gradients are WRONG\n`);
}

/** "ok", "ok (2 at a kink, not judged)", "WRONG". */
function status(row: GradcheckResult["rows"][number]): string {
  if (!row.ok) return "WRONG";
  const notes = [
    row.atKink ? `${row.atKink} at a kink` : "",
    row.unsettled ? `${row.unsettled} did not settle` : "",
  ].filter(Boolean);
  return notes.length ? `ok (${notes.join(", ")}, not judged)` : "ok";
}

const gradcheckCommand: Command = {
  options: { ...cellFlag, ...sizeFlag, steps: { type: "string" }, batch: { type: "string" }, seed: { type: "string" }, json: { type: "boolean" } },
  async run(files, flags, io) {
    if (files.length === 0) throw new UsageError("expected a .cell file");
    const options = {
      steps: parseCount("--steps", str(flags, "steps"), 4),
      batch: parseCount("--batch", str(flags, "batch"), 2),
      seed: parseCount("--seed", str(flags, "seed"), 0, 0, MAX_SEED),
    };
    const results: GradcheckResult[] = [];
    for (const path of files)
      for (const c of await chosenCells(path, flags, { dtype: "f64" }, io)) results.push(gradcheck(c.ir, load(c.code), options));
    if (flags["json"]) {
      io.out(JSON.stringify(results, null, 2));
      for (const r of results) if (r.nonFinite) io.err(`rnnc: error: gradcheck ${r.cell}: the forward pass is not finite: ${describeNonFinite(r.nonFinite)}`);
    } else results.forEach((r) => printGradcheck(r, io));
    return results.every((r) => r.ok) ? 0 : 1;
  },
};

const evalCommand: Command = {
  options: { data: { type: "string" }, ...cellFlag, ...sizeFlag, dtype: { type: "string" } },
  async run(files, flags, io) {
    const path = oneFile(files);
    const dataPath = str(flags, "data");
    if (dataPath === undefined) throw new UsageError("--data IN.json is required");
    const cells = await chosenCells(path, flags, { dtype: dtype(flags, "f64") }, io);
    if (cells.length !== 1) throw new UsageError(`'${path}' has ${cells.length} cells; choose one with --cell`);
    const text = await readText(dataPath);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new InputError(`${dataPath}: malformed JSON: ${(e as Error).message}`);
    }
    try {
      io.out(JSON.stringify(evaluate(load(cells[0]!.code), data)));
    } catch (e) {
      if (e instanceof DataError)
        throw new InputError(`${dataPath}: ${e.message}`);
      throw e;
    }
    return 0;
  },
};

const graph: Command = {
  options: { ...cellFlag, ...sizeFlag, backward: { type: "boolean" }, format: { type: "string" } },
  async run(files, flags, io) {
    const path = oneFile(files);
    const format = str(flags, "format") ?? "dot";
    if (format !== "dot" && format !== "svg" && format !== "mermaid") throw new UsageError(`--format: expected dot, svg or mermaid, got '${format}'`);
    for (const c of await chosenCells(path, flags, { optimize: false }, io)) {
      const text = drawGraph(c.ir, format === "mermaid" ? "mermaid" : "dot", flags["backward"] === true);
      io.out(format === "svg" ? await toSvg(text) : text);
    }
    return 0;
  },
};

async function toSvg(dot: string): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  return (await instance()).renderString(dot, { format: "svg", engine: "dot" });
}

export const commands: Record<string, Command> = { build, check, gradcheck: gradcheckCommand, eval: evalCommand, graph, export: exportCommand };
