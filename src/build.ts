/**
 * The commands that compile cells to code: `build` (and `build --watch`), `gradcheck` and `eval`.
 * The back end (code generation, formatting, loading) is imported when one of them runs.
 */
import { watch } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { setImmediate } from "node:timers/promises";
import type { CheckedCell } from "../compiler/ast.js";
import type { BuiltFile, FileBuilder } from "../compiler/build-thread.js";
import type { CompileOptions, CompiledCell } from "../compiler/index.js";
import type { TapeReport } from "../compiler/codegen/plan.js";
import type { CellIR } from "../compiler/ir/cell.js";
import { InputError, UsageError, parseCount, parseSizes, readText, sizesRecord } from "./args.js";
import { collisions } from "./collisions.js";
import { OPT, checkSizeNames, chosenCells, dtype, frontFile, oneFile, onlyCell, someFiles, str, type CommandEntry, type Flags, type FrontFile } from "./commands.js";
import type { GradcheckResult, GradRow } from "./gradcheck.js";
import type { Context } from "./report.js";
import { MAX_SEED } from "./runtime/random.js";
import { DataError } from "./runtime/errors.js";

type BackOptions = Omit<CompileOptions, "path" | "sizes" | "onWarnings">;

/** Compiles a checked file (its diagnostics are already reported); only `names`' cells are kept. */
async function compileChecked(file: FrontFile, sizes: ReadonlyMap<string, number>, options: BackOptions, names?: readonly string[]): Promise<CompiledCell[]> {
  const { compileSource } = await import("../compiler/index.js");
  const cells = compileSource(file.text, { ...options, path: file.source.path, sizes: sizesRecord(sizes) });
  return names ? cells.filter((c) => names.includes(c.name)) : cells;
}

// ------------------------------------------------------------ build

const emitKind = (flags: Flags): "ts" | "js" => {
  const v = str(flags, "emit") ?? "ts";
  if (v !== "ts" && v !== "js") throw new UsageError(`--emit: expected ts or js, got '${v}'`);
  return v;
};

const products = (flags: Flags): "runtime" | "inline" => {
  const v = str(flags, "products") ?? "runtime";
  if (v !== "runtime" && v !== "inline") throw new UsageError(`--products: expected runtime or inline, got '${v}'`);
  return v;
};

const tapeBudget = (flags: Flags): number | undefined => {
  const v = str(flags, "tape-budget");
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new UsageError(`--tape-budget: expected a number of elements, got '${v}'`);
  return Number(v);
};

/** `1,040 numbers per sample-step: states 1,024, taped values 16 (budget 65,536)`. */
function describeTape(tape: TapeReport): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const recomputed = tape.recomputed.length ? `; recomputed in the backward: ${tape.recomputed.map((r) => `${r.name} (${n(r.elements)})`).join(", ")}` : "";
  return `${n(tape.states + tape.taped)} numbers per sample-step: states ${n(tape.states)}, taped values ${n(tape.taped)} (budget ${n(tape.budget)})${recomputed}`;
}

/**
 * One build of every file: everything is compiled and formatted before anything is written.
 * `builder` gives the thread that prints and formats the modules: started first, it loads
 * ts-morph and prettier while the files are checked and the cells compile.
 */
async function buildOnce(files: readonly string[], flags: Flags, ctx: Context, builder: () => FileBuilder): Promise<number> {
  const out = str(flags, "out") ?? "generated";
  const sizes = parseSizes(str(flags, "size"));
  const copy = flags["runtime-copy"] === true;
  if (copy && str(flags, "runtime") !== undefined) throw new UsageError("--runtime and --runtime-copy: give one of them");
  // The build threads start loading ts-morph and prettier first, the slowest part of a build,
  // while this thread loads the rest, checks the files and compiles the cells (the command closes
  // them when the build stops, whether or not it gets that far).
  const thread = builder();
  // What only this command needs is loaded when it runs (so `rnnc check` does not load it).
  const [{ dumpIR }, { RUNTIME_COPY_SPECIFIER, RUNTIME_DIR, runtimeModules }, { writeModules }] = await Promise.all([
    import("../compiler/ir/dump.js"), import("./runtime-copy.js"), import("./write.js"),
  ]);
  const options: BackOptions = {
    dtype: dtype(flags, "f32"),
    runtime: copy ? RUNTIME_COPY_SPECIFIER : (str(flags, "runtime") ?? "rnnc/runtime"),
    optimize: flags["no-opt"] !== true,
    products: products(flags),
    onPass: flags["dump-ir"] ? (label: string, ir: CellIR) => ctx.out(dumpIR(ir, label)) : undefined,
    tapeBudget: tapeBudget(flags),
  };
  const checked: FrontFile[] = [];
  for (const path of files) checked.push(await frontFile(path, sizes, ctx));
  if (checked.some((f) => !f.ok)) return 1;
  checkSizeNames(sizes, checked.flatMap((f) => f.cells));
  // Each file's modules go to the build thread as soon as the file is compiled (when --emit is
  // valid: a wrong one is reported below, after the notes, as it always was).
  const given = str(flags, "emit") ?? "ts";
  const early = given === "ts" || given === "js" ? given : undefined;
  const made = new Map<CompiledCell, Promise<BuiltFile[]>>();
  const compiled: { path: string; text: string; cells: CompiledCell[] }[] = [];
  for (const f of checked) {
    // Between two files the build threads' answers are taken and their next modules handed out.
    await setImmediate();
    const cells = await compileChecked(f, sizes, options);
    if (early) {
      for (const c of cells) {
        const files = thread.files(c, early);
        files.catch(() => {}); // awaited below, unless the build stops first
        made.set(c, files);
      }
    }
    compiled.push({ path: f.source.path, text: f.text, cells });
  }
  for (const cell of compiled.flatMap((f) => f.cells)) {
    const { tape } = cell;
    if (flags["dump-ir"]) ctx.out(`# tape: cell ${cell.name}: ${describeTape(tape)}\n`);
    if (tape.recomputed.length > 0 && !ctx.report.json) {
      const saved = tape.recomputed.reduce((n, r) => n + r.elements, 0);
      ctx.err(`note: cell ${cell.name}: the tape would hold ${tape.taped + saved} numbers per sample-step, over the budget of ${tape.budget}; ` +
        `the backward recomputes ${tape.recomputed.map((r) => `${r.name} (${r.elements})`).join(", ")} instead of storing ${tape.recomputed.length === 1 ? "it" : "them"}` +
        (tape.taped > tape.budget ? `; ${tape.taped} remain taped (nothing else can be recomputed)` : ""));
    }
  }
  const emit = emitKind(flags);
  const modules = compiled.flatMap((file) => file.cells.map((cell) => ({ file, cell, path: join(out, `${cell.name}.${emit}`) })));
  const clashes = collisions(modules);
  if (clashes.length > 0) {
    ctx.err(`${clashes.join("\n\n")}\n`);
    return 1;
  }
  const written = (await Promise.all(modules.map(async (m) => (await (made.get(m.cell) ?? thread.files(m.cell, emit))).map((f) => ({ path: join(out, `${m.cell.name}${f.extension}`), text: f.text }))))).flat();
  // The runtime first, so that no module is ever there without what it imports.
  const runtimeDir = join(out, RUNTIME_DIR);
  if (copy) await writeModules(runtimeDir, await runtimeModules(out));
  await writeModules(out, written);
  const wrote = [...(copy ? [`${runtimeDir}/`] : []), ...written.map((f) => f.path)];
  if (ctx.report.json) ctx.report.extra["wrote"] = wrote;
  else for (const path of wrote) ctx.out(`wrote ${path}`);
  return 0;
}

/** How long a burst of file-system events is waited out before rebuilding. */
const SETTLE_MS = 100;

/**
 * Builds, then rebuilds whenever one of the files changes, until interrupted (Ctrl-C). A failed
 * build is reported and waited out like a good one; each build ends with its summary line.
 */
async function buildWatching(files: readonly string[], flags: Flags, ctx: Context, once: () => Promise<number>): Promise<number> {
  const run = async () => {
    try {
      const code = await once();
      const summary = ctx.report.summary();
      ctx.err(`${summary ? `${summary}; ` : ""}${code === 0 ? "built" : "build failed"}; watching ${files.length} file${files.length === 1 ? "" : "s"} for changes (Ctrl-C stops)`);
    } catch (e) {
      ctx.err(`rnnc: error: ${e instanceof Error ? e.message : String(e)}`);
    }
    ctx.report.errors = ctx.report.warnings = 0;
  };
  await run();
  return new Promise<number>((done) => {
    let timer: NodeJS.Timeout | undefined;
    let running = Promise.resolve();
    // Directories are watched, not the files: an editor that saves by writing a new file and
    // renaming it over the old one would otherwise end the watch after the first save.
    const targets = new Set(files.map((f) => resolve(f)));
    const watchers = [...new Set([...targets].map((f) => dirname(f)))].map((dir) => watch(dir, (_event, name) => {
      if (name !== null && !targets.has(join(dir, name.toString()))) return;
      clearTimeout(timer);
      timer = setTimeout(() => void (running = running.then(run)), SETTLE_MS);
    }));
    const stop = () => {
      watchers.forEach((w) => w.close());
      clearTimeout(timer);
      done(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

export const build: CommandEntry = {
  name: "build",
  jsonDiagnostics: true,
  args: "FILE.cell...",
  summary: "Compile each cell to a formatted TypeScript module (or JavaScript and its declarations with --emit js), named after the cell",
  details: "A build with an error writes nothing. Exit codes: 0 built, 1 an error (or a warning with --deny-warnings), 2 usage.",
  options: {
    out: { type: "string", short: "o", value: "DIR", help: "where the modules go (default generated/)" },
    size: OPT.size,
    dtype: { ...OPT.dtype, help: "Float32Array or Float64Array buffers (default f32)" },
    runtime: { type: "string", value: "SPEC", help: "the runtime module the emitted code imports (default rnnc/runtime)" },
    emit: { type: "string", value: "ts|js", help: "TypeScript modules (.ts, the default), or JavaScript with declarations (.js and .d.ts)" },
    "runtime-copy": { type: "boolean", help: "write the dependency-free runtime beside the modules (OUT/rnnc-runtime/) and import it from there" },
    products: { type: "string", value: "runtime|inline", help: "matrix products as runtime calls (WebAssembly SIMD) or inline loops" },
    "tape-budget": { type: "string", value: "N", help: "numbers per sample-step the tape may hold before the backward recomputes values instead (default 65536)" },
    "dump-ir": { type: "boolean", help: "print the IR after each stage and pass" },
    "no-opt": { type: "boolean", help: "skip the optimizing passes" },
    json: { type: "boolean", help: "print diagnostics and the written files as JSON (LSP-shaped ranges)" },
    watch: { type: "boolean", short: "w", help: "rebuild whenever a file changes, until interrupted" },
    "deny-warnings": OPT.denyWarnings,
  },
  async run(files, flags, ctx) {
    someFiles(files);
    const { startFileBuilder } = await import("../compiler/build-thread.js");
    let builder: FileBuilder | undefined;
    const once = () => buildOnce(files, flags, ctx, () => (builder ??= startFileBuilder()));
    try {
      return await (flags["watch"] ? buildWatching(files, flags, ctx, once) : once());
    } finally {
      await builder?.close();
    }
  },
};

// ------------------------------------------------------------ gradcheck

/** "ok", "zero", "ok (2 at a kink, not judged)", "WRONG". */
function status(row: GradRow): string {
  if (!row.ok) return "WRONG";
  if (row.zero) return "zero";
  const notes = [
    row.atKink ? `${row.atKink} at a kink` : "",
    row.unsettled ? `${row.unsettled} did not settle` : "",
  ].filter(Boolean);
  return notes.length ? `ok (${notes.join(", ")}, not judged)` : "ok";
}

function printGradcheck(r: GradcheckResult, ctx: Context, describeNonFinite: (v: NonNullable<GradcheckResult["nonFinite"]>) => string): void {
  if (r.nonFinite) {
    ctx.err(`rnnc: error: gradcheck ${r.cell}: the forward pass is not finite: ${describeNonFinite(r.nonFinite)} ` +
      `(seed ${r.seed}, T=${r.T}, B=${r.B}); no gradient can be checked`);
    return;
  }
  ctx.out(`gradcheck ${r.cell}: T=${r.T} B=${r.B} seed=${r.seed} eps=${r.eps.toExponential(1)}, float64 central differences`);
  const head = ["tensor", "size", "checked", "max abs err", "max rel err", "step", ""];
  const rows = r.rows.map((row) => [
    `${row.kind} ${row.name}`, String(row.size), String(row.checked),
    row.maxAbsError.toExponential(2), row.maxRelError.toExponential(2), row.step.toExponential(1), status(row),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  ctx.out([line(head), ...rows.map(line)].join("\n"));
  const bad = r.rows.filter((row) => !row.ok).length;
  const zero = r.rows.filter((row) => row.ok && row.zero);
  const lines = [bad > 0 ? `${bad} of ${r.rows.length} gradients are WRONG`
    : zero.length > 0 ? `${r.rows.length - zero.length} of ${r.rows.length} gradients match, ${zero.length} are identically zero`
    : `all ${r.rows.length} gradients match`];
  if (zero.length > 0) {
    lines.push(`zero: ${zero.map((row) => `${row.kind} ${row.name}`).join(", ")}: the analytic and the numeric gradient are both ` +
      "exactly 0 at every element checked: the loss does not depend on them at all (a state never assigned, a value nothing reads; see the warnings)");
  }
  ctx.out(`${lines.join("\n")}\n`);
}

export const gradcheck: CommandEntry = {
  name: "gradcheck",
  args: "FILE.cell...",
  summary: "Compare the compiled analytic gradient of every param, input and initial state with float64 central differences",
  details: "Exit codes: 0 all match (or are identically zero), 1 a gradient is WRONG or a cell has errors, 2 usage.",
  options: {
    cell: OPT.cell,
    size: OPT.size,
    steps: { type: "string", value: "T", help: "time steps of the random sequences (default 4)" },
    batch: { type: "string", value: "B", help: "sequences in the batch (default 2)" },
    seed: { type: "string", value: "N", help: "seed of the random data (default 0)" },
    json: { type: "boolean", help: "print the results as JSON" },
    "deny-warnings": OPT.denyWarnings,
  },
  async run(files, flags, ctx) {
    const options = {
      steps: parseCount("--steps", str(flags, "steps"), 4),
      batch: parseCount("--batch", str(flags, "batch"), 2),
      seed: parseCount("--seed", str(flags, "seed"), 0, 0, MAX_SEED),
    };
    const [{ instantiate }, { gradcheck: checkGradients, describeNonFinite }] = await Promise.all([import("./instantiate.js"), import("./gradcheck.js")]);
    const results: GradcheckResult[] = [];
    let failed = false;
    for (const path of someFiles(files)) {
      const chosen = await chosenCells(path, flags, ctx);
      if (!chosen) {
        failed = true;
        continue;
      }
      const names = chosen.cells.map((c) => c.name);
      for (const c of await compileChecked(chosen.file, parseSizes(str(flags, "size")), { dtype: "f64" }, names))
        results.push(checkGradients(c.ir, instantiate(c), options));
    }
    if (flags["json"]) {
      ctx.out(JSON.stringify(results, null, 2));
      for (const r of results) if (r.nonFinite) ctx.err(`rnnc: error: gradcheck ${r.cell}: the forward pass is not finite: ${describeNonFinite(r.nonFinite)}`);
    } else results.forEach((r) => printGradcheck(r, ctx, describeNonFinite));
    return !failed && results.every((r) => r.ok) ? 0 : 1;
  },
};

// ------------------------------------------------------------ eval

export const evalCommand: CommandEntry = {
  name: "eval",
  args: "FILE.cell",
  summary: "Run forward and backward through time on numbers given as JSON, and print JSON",
  details: [
    "The input and output JSON are described in the README (rnnc eval). With --init SEED the params are",
    "drawn (those in the data win), with --random-inputs the inputs too; then --data may be left out",
    "(T and B default to 1, or give --steps and --batch).",
  ].join("\n"),
  options: {
    data: { type: "string", value: "IN.json", help: "the numbers: T, B, params, inputs, initial, mask, outputGrads, finalGrads" },
    cell: OPT.cell,
    size: OPT.size,
    dtype: { ...OPT.dtype, help: "the numbers' type (default f64)" },
    init: { type: "string", value: "SEED", help: "draw the params not given in the data (seeded, as initParams does)" },
    "random-inputs": { type: "boolean", help: "draw the inputs not given in the data (uniform in [-1, 1], seeded by --init or 0)" },
    steps: { type: "string", value: "T", help: "T when the data does not give it" },
    batch: { type: "string", value: "B", help: "B when the data does not give it" },
    pretty: { type: "boolean", help: "indent the JSON (the default when the output is a terminal)" },
    compact: { type: "boolean", help: "print the JSON on one line (the default otherwise)" },
    "deny-warnings": OPT.denyWarnings,
  },
  async run(files, flags, ctx) {
    const path = oneFile(files);
    const { evalRequest, evaluate, prettyJson } = await import("./eval.js");
    const request = evalRequest(flags);
    const chosen = await chosenCells(path, flags, ctx);
    if (!chosen) return 1;
    const cell: CheckedCell = onlyCell(chosen.cells, path);
    const dataPath = str(flags, "data");
    const data = dataPath === undefined ? {} : parseJson(await readText(dataPath), dataPath);
    const [compiled] = await compileChecked(chosen.file, parseSizes(str(flags, "size")), { dtype: dtype(flags, "f64") }, [cell.name]);
    const { instantiate } = await import("./instantiate.js");
    let result: unknown;
    try {
      result = evaluate(instantiate(compiled!), data, request);
    } catch (e) {
      if (e instanceof DataError) throw new InputError(`${dataPath ?? "the data"}: ${e.message}${sizeHint(e.message, cell)}`);
      throw e;
    }
    const pretty = flags["pretty"] === true || (flags["compact"] !== true && ctx.outIsTerminal === true);
    ctx.out(pretty ? prettyJson(result) : JSON.stringify(result));
    return 0;
  },
};

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: malformed JSON: ${(e as Error).message}`);
  }
}

/**
 * `params.Wx: expected 7 entries, got 2`: when the length the data has is what the shape would
 * be with one size changed, say which `--size` would make it fit.
 */
function sizeHint(message: string, cell: CheckedCell): string {
  const m = /^(params|inputs|initial|outputGrads|finalGrads)\.[^:[.]+((?:\[\d+\])*): expected (\d+) entries, got (\d+)/.exec(message);
  if (!m) return "";
  const [, group, indices, expected, got] = m;
  const lead = { params: 0, inputs: 2, initial: 1, outputGrads: 2, finalGrads: 1 }[group as "params"];
  if ((indices!.match(/\[/g) ?? []).length < lead || Number(got) === 0) return "";
  const size = [...cell.sizes].find(([, value]) => value === Number(expected));
  return size ? ` (the cell has ${size[0]} = ${size[1]}; if the data is for ${size[0]} = ${got}, pass --size ${size[0]}=${got})` : "";
}
