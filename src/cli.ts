/**
 * The `rnnc` command line (SPEC §2). Exit codes: 0 ok, 1 errors in a cell or its data (or a wrong
 * gradient), 2 usage. Diagnostics go to stderr in the `file:line:col: error:` form; no stack trace
 * ever reaches the user.
 */
import { parseArgs } from "node:util";
import { CompileError } from "../compiler/diagnostics.js";
import { InputError, UsageError, strayFileError, type Io } from "./args.js";
import { DataError } from "./runtime/errors.js";
import { commands, type Command } from "./commands.js";


const USAGE = `usage: rnnc <command> [options]

commands:
  build FILE.cell... [--out DIR] [--size H=64,I=32] [--dtype f32|f64] [--runtime SPEC | --runtime-copy] [--products runtime|inline] [--dump-ir] [--no-opt]
  check FILE.cell...
  gradcheck FILE.cell [--cell NAME] [--size ...] [--steps T] [--batch B] [--seed N] [--json]
  eval FILE.cell --data IN.json [--cell NAME] [--size ...] [--dtype f32|f64]
  graph FILE.cell [--cell NAME] [--backward] [--format dot|svg|mermaid]
  export FILE.cell --format onnx [--cell NAME] [--size ...] [--dtype f32|f64] [--params FILE [--group NAME]] [--initial-states optional|required] [--out FILE.onnx]`;


const stdio: Io = {
  out: (t) => (guardStreams(), process.stdout.write(t.endsWith("\n") ? t : `${t}\n`)),
  err: (t) => (guardStreams(), process.stderr.write(t.endsWith("\n") ? t : `${t}\n`)),
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

export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command: Command | undefined = commands[name];
  if (!command) {
    io.err(`rnnc: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({ args: [...rest], options: command.options, allowPositionals: true, strict: true });
    return await command.run(positionals, values as Record<string, string | boolean | undefined>, io);
  } catch (e) {
    if (e instanceof CompileError) {
      io.err(`${e.message}\n`);
      return 1;
    }
    if (e instanceof InputError || e instanceof DataError) {
      io.err(`rnnc: error: ${e.message}`);
      return 1;
    }
    if (e instanceof UsageError || (e instanceof TypeError && "code" in e && String(e.code).startsWith("ERR_PARSE_ARGS"))) {
      io.err(`rnnc ${name}: ${(e as Error).message}\n${USAGE}`);
      return 2;
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
}

