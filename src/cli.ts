/**
 * The `rnnc` command line (SPEC §2). Exit codes: 0 ok, 1 errors in a cell or its data, a file that
 * cannot be read or written, a wrong gradient, or a warning under `--deny-warnings`; 2 usage, and
 * only usage. Diagnostics go to stderr in the `file:line:col: error[E…]:` form (coloured on a
 * terminal), followed by a summary line (`2 errors, 1 warning`); the usage goes to stderr only
 * after a usage error; no stack trace ever reaches the user.
 */
import { readFileSync } from "node:fs";
import { CompileError } from "../compiler/diagnostics.js";
import { InputError, UsageError, strayFileError, wantsColor, type Io } from "./args.js";
import { COMMAND_NAMES, loadCommand, loadCommands, type CommandEntry } from "./commands.js";
import { commandHelp, parseCommandLine, usageLine } from "./options.js";
import { Reporter, type Context } from "./report.js";
import { DataError } from "./runtime/errors.js";
import { nearest } from "../compiler/messages.js";

const stdio: Io = {
  out: (t) => (guardStreams(), process.stdout.write(t.endsWith("\n") ? t : `${t}\n`)),
  err: (t) => (guardStreams(), process.stderr.write(t.endsWith("\n") ? t : `${t}\n`)),
  color: wantsColor(process.stderr.isTTY),
  outIsTerminal: process.stdout.isTTY === true,
};

let guarded = false;

/**
 * A reader that goes away (`rnnc gradcheck ... | head -1`) makes the next write fail with EPIPE,
 * emitted as an 'error' event that would crash with a stack trace: stop quietly instead. Any other
 * failure of stdout or stderr is reported in one line.
 */
function guardStreams(): void {
  if (guarded) return;
  guarded = true;
  for (const [name, stream] of [["standard output", process.stdout], ["standard error", process.stderr]] as const) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE" && stream !== process.stderr) process.stderr.write(`rnnc: error: cannot write to ${name}: ${e.code ?? e.message}\n`);
      process.exit(e.code === "EPIPE" ? (process.exitCode ?? 0) : 1);
    });
  }
}

/** The package's version, from its package.json (two levels up from both src/ and dist/src/). */
export function version(): string {
  for (const up of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "rnnc" && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return "unknown";
}

/** `rnnc --help`: every command with its summary. */
function overview(commands: readonly CommandEntry[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "usage: rnnc <command> [options]",
    "",
    "rnnc compiles recurrent neural-network cells (.cell files) to forward and BPTT kernels.",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run 'rnnc <command> --help' for a command's options, 'rnnc --version' for the version.",
  ].join("\n");
}

export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  // Only the module of the command that runs is loaded (all of them for the overview).
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(overview(await loadCommands()));
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic === undefined) {
      io.out(overview(await loadCommands()));
      return 0;
    }
    const command = await loadCommand(topic);
    if (!command) return unknownCommand(topic, io);
    io.out(commandHelp(command));
    return 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    io.out(`rnnc ${version()}`);
    return 0;
  }
  const command = await loadCommand(name);
  if (!command) return unknownCommand(name, io);
  const usageError = (message: string): number => {
    io.err(`rnnc ${name}: error: ${message}\n${usageLine(command)}\nRun 'rnnc ${name} --help' for its options.`);
    return 2;
  };
  let ctx: Context | undefined;
  try {
    const { files, flags } = parseCommandLine(command, rest);
    if (flags["help"]) {
      io.out(commandHelp(command));
      return 0;
    }
    ctx = { ...io, report: new Reporter(io, flags["json"] === true && command.jsonDiagnostics === true) };
    let code = await command.run(files, flags, ctx);
    const { report } = ctx;
    if (code === 0 && flags["deny-warnings"] && report.warnings > 0) code = 1;
    finish(ctx, flags["deny-warnings"] === true);
    return code;
  } catch (e) {
    if (e instanceof UsageError) return usageError(e.message);
    const code = reportFailure(e, ctx, io);
    if (ctx) finish(ctx, false);
    return code;
  }
}

/** Ends a run: the JSON document of `--json`, or the summary line of its diagnostics. */
function finish(ctx: Context, deny: boolean): void {
  const { report } = ctx;
  if (report.json) ctx.out(JSON.stringify(report.document(), null, 2));
  const summary = report.summary();
  if (summary === "") return;
  const denied = deny && report.warnings > 0 ? " (warnings denied by --deny-warnings)" : "";
  const line = `${summary}${denied}`;
  ctx.err(ctx.color && report.errors + (denied ? report.warnings : 0) > 0 ? `\x1b[1;31m${line}\x1b[0m` : line);
}

/** An error that is not a usage error, reported in one line (or as diagnostics); its exit code. */
function reportFailure(e: unknown, ctx: Context | undefined, io: Io): number {
  if (e instanceof CompileError) {
    if (ctx) ctx.report.report(e.source, e.diagnostics);
    else io.err(`${e.message}\n`);
    return 1;
  }
  if (e instanceof InputError || e instanceof DataError) {
    io.err(`rnnc: error: ${e.message}`);
    return 1;
  }
  const file = strayFileError(e);
  if (file !== undefined) {
    io.err(`rnnc: error: ${file}`);
    return 1;
  }
  io.err(`rnnc: internal error: ${e instanceof Error ? e.message : String(e)}`);
  if (process.env["RNNC_DEBUG"] && e instanceof Error) io.err(e.stack ?? "");
  return 1;
}

function unknownCommand(name: string, io: Io): number {
  const near = nearest(name, COMMAND_NAMES);
  io.err(`rnnc: error: unknown command '${name}'${near ? `; did you mean '${near}'?` : ""}\nusage: rnnc <command> [options]\n` +
    `commands: ${COMMAND_NAMES.join(", ")}\nRun 'rnnc --help' for more.`);
  return 2;
}
