/**
 * The `rnnc` command line (SPEC §2). Exit codes: 0 ok, 1 errors in a cell or its data (or a wrong
 * gradient), 2 usage. Diagnostics go to stderr in the `file:line:col: error:` form; no stack trace
 * ever reaches the user.
 */
import { parseArgs } from "node:util";
import { CompileError } from "../compiler/diagnostics.js";
import { InputError, UsageError, type Io } from "./args.js";
import { commands, type Command } from "./commands.js";


const USAGE = `usage: rnnc <command> [options]

commands:
  build FILE.cell... [--out DIR] [--size H=64,I=32] [--dtype f32|f64] [--runtime SPEC] [--products runtime|inline] [--dump-ir] [--no-opt]
  check FILE.cell...
  gradcheck FILE.cell [--cell NAME] [--size ...] [--steps T] [--batch B] [--seed N] [--json]
  eval FILE.cell --data IN.json [--cell NAME] [--size ...] [--dtype f32|f64]
  graph FILE.cell [--cell NAME] [--backward] [--format dot|svg|mermaid]
  export FILE.cell --format onnx [--cell NAME] [--size ...] [--dtype f32|f64] [--params FILE [--group NAME]] [--initial-states optional|required] [--out FILE.onnx]`;


const stdio: Io = {
  out: (t) => process.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith("\n") ? t : `${t}\n`),
};

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
    if (e instanceof InputError) {
      io.err(`rnnc: error: ${e.message}`);
      return 1;
    }
    if (e instanceof UsageError || (e instanceof TypeError && "code" in e && String(e.code).startsWith("ERR_PARSE_ARGS"))) {
      io.err(`rnnc ${name}: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    io.err(`rnnc: internal error: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env["RNNC_DEBUG"] && e instanceof Error) io.err(e.stack ?? "");
    return 1;
  }
}

