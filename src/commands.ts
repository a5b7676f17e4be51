/**
 * The `rnnc` subcommands: each is one definition of its arguments and options (which generates
 * its `--help`) and a `run` that does one job and returns an exit code. Commands that emit or run
 * code (build, gradcheck, eval, export) import the back end lazily, so `check`, `graph` and
 * `explain` never load TypeScript, ts-morph or prettier.
 */
import type { CheckedCell } from "../compiler/ast.js";
import { UsageError, parseSizes, readSource, type Io } from "./args.js";
import { checkText, type CheckedFile } from "../compiler/front.js";
import type { CommandSpec, Flags, OptionDef } from "./options.js";
import type { Context } from "./report.js";

export type { Flags };

/** A command as its module defines it (the parser's option table and its job). */
export interface Command {
  readonly options: Readonly<Record<string, { type: "string" | "boolean"; short?: string }>>;
  run(files: string[], flags: Flags, io: Io): Promise<number>;
}

/** A command of the CLI: its definition (help included) and its job. */
export interface CommandEntry extends CommandSpec {
  /** Whether `--json` turns the command's diagnostics into one JSON document (check, build). */
  readonly jsonDiagnostics?: boolean;
  run(files: string[], flags: Flags, ctx: Context): Promise<number>;
}

export const str = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
};

export function dtype(flags: Flags, fallback: "f32" | "f64"): "f32" | "f64" {
  const v = str(flags, "dtype") ?? fallback;
  if (v !== "f32" && v !== "f64") throw new UsageError(`--dtype: expected f32 or f64, got '${v}'`);
  return v;
}

export function oneFile(files: string[]): string {
  if (files.length !== 1) throw new UsageError(`expected one .cell file, got ${files.length}`);
  return files[0]!;
}

export function someFiles(files: string[]): string[] {
  if (files.length === 0) throw new UsageError("expected at least one .cell file");
  return files;
}

// ------------------------------------------------------------ options several commands share

export const OPT = {
  size: { type: "string", value: "H=64,I=32", help: "override the cells' default sizes" },
  cell: { type: "string", value: "NAME", help: "only the cell named NAME (of a file with several)" },
  dtype: { type: "string", value: "f32|f64", help: "the numbers' type" },
  json: { type: "boolean", help: "print JSON instead of text" },
  denyWarnings: { type: "boolean", help: "exit 1 when there is a warning" },
} as const satisfies Record<string, OptionDef>;

// ------------------------------------------------------------ the front end, reported

/** A file read and checked, its diagnostics reported; the text kept for the back end. */
export interface FrontFile extends CheckedFile {
  readonly text: string;
}

export async function frontFile(path: string, sizes: ReadonlyMap<string, number>, ctx: Context): Promise<FrontFile> {
  const text = await readSource(path);
  const file = checkText(path, text, sizes);
  ctx.report.report(file.source, file.diagnostics);
  return { ...file, text };
}

/** A `--size` name that is not a size of any of the cells is a usage error. */
export function checkSizeNames(sizes: ReadonlyMap<string, number>, cells: readonly CheckedCell[]): void {
  for (const name of sizes.keys()) {
    if (cells.some((c) => c.sizes.has(name))) continue;
    const declared = [...new Set(cells.flatMap((c) => [...c.sizes.keys()]))];
    const which = cells.length === 1 ? `cell '${cells[0]!.name}' has no size` : "no cell declares a size";
    throw new UsageError(`--size: ${which} named '${name}' (sizes: ${declared.join(", ") || "none"})`);
  }
}

/** The cells `--cell` chooses (all without it). */
export function pick<T extends { readonly name: string }>(cells: readonly T[], name: string | undefined, path: string): T[] {
  if (name === undefined) return [...cells];
  const found = cells.filter((c) => c.name === name);
  if (found.length === 0) throw new UsageError(`--cell: '${path}' has no cell '${name}' (it has: ${cells.map((c) => c.name).join(", ")})`);
  return found;
}

/** The checked cells of `path` that `--cell` chooses, `--size` checked against them; undefined when the file has errors. */
export async function chosenCells(path: string, flags: Flags, ctx: Context): Promise<{ file: FrontFile; cells: CheckedCell[] } | undefined> {
  const sizes = parseSizes(str(flags, "size"));
  const file = await frontFile(path, sizes, ctx);
  if (!file.ok) return undefined;
  const cells = pick(file.cells, str(flags, "cell"), path);
  checkSizeNames(sizes, cells);
  return { file, cells };
}

/** The one cell of `cells`, or a usage error asking for `--cell`. */
export function onlyCell<T extends { readonly name: string }>(cells: readonly T[], path: string, why = ""): T {
  if (cells.length !== 1) throw new UsageError(`'${path}' has ${cells.length} cells (${cells.map((c) => c.name).join(", ")})${why}; choose one with --cell`);
  return cells[0]!;
}

// ------------------------------------------------------------ check

const check: CommandEntry = {
  name: "check",
  jsonDiagnostics: true,
  args: "FILE.cell...",
  summary: "Parse and shape-check cells, and print their errors and warnings",
  details: "Exit codes: 0 no error, 1 an error (or a warning with --deny-warnings), 2 usage.",
  options: { size: OPT.size, json: { type: "boolean", help: "print diagnostics as JSON for editors (LSP-shaped ranges)" }, "deny-warnings": OPT.denyWarnings },
  async run(files, flags, ctx) {
    const sizes = parseSizes(str(flags, "size"));
    const cells: CheckedCell[] = [];
    let failed = false;
    for (const path of someFiles(files)) {
      const file = await frontFile(path, sizes, ctx);
      failed ||= !file.ok;
      cells.push(...file.cells);
      if (file.ok && !ctx.report.json) ctx.out(`${path}: ok (${file.cells.map((c) => c.name).join(", ")})`);
    }
    if (!failed) checkSizeNames(sizes, cells);
    return failed ? 1 : 0;
  },
};

/**
 * Every command by name, in the order `rnnc --help` lists them, and where its definition lives:
 * a run loads the one module of the command it runs (`rnnc check` loads none beside this one).
 */
const COMMANDS: readonly { readonly name: string; load(): Promise<CommandEntry> }[] = [
  { name: "build", load: async () => (await import("./build.js")).build },
  { name: "check", load: async () => check },
  { name: "gradcheck", load: async () => (await import("./build.js")).gradcheck },
  { name: "eval", load: async () => (await import("./build.js")).evalCommand },
  { name: "graph", load: async () => (await import("./graph.js")).graph },
  { name: "export", load: async () => (await import("./export-entry.js")).exportEntry },
  { name: "explain", load: async () => (await import("./explain.js")).explain },
];

/** The commands' names, in the order `rnnc --help` lists them. */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);

/** The command named `name` (its module loaded), or undefined when there is none. */
export async function loadCommand(name: string): Promise<CommandEntry | undefined> {
  const entry = await COMMANDS.find((c) => c.name === name)?.load();
  if (entry && entry.name !== name) throw new Error(`the command listed as '${name}' is named '${entry.name}'`);
  return entry;
}

/** Every command, in the order `rnnc --help` lists them (every command module loaded). */
export async function loadCommands(): Promise<readonly CommandEntry[]> {
  return Promise.all(COMMAND_NAMES.map(async (name) => (await loadCommand(name))!));
}
