/**
 * One definition of each command's arguments and options, from which both the parser's table
 * (`node:util` parseArgs) and the command's `--help` are generated; and the translation of the
 * parser's own errors into `rnnc` usage errors.
 */
import { parseArgs } from "node:util";
import { nearest } from "../compiler/messages.js";
import { UsageError } from "./args.js";

export interface OptionDef {
  readonly type: "string" | "boolean";
  readonly short?: string;
  /** The value's placeholder in help: `DIR`, `H=64,I=32`. */
  readonly value?: string;
  readonly help: string;
}

export type OptionDefs = Readonly<Record<string, OptionDef>>;

export interface CommandSpec {
  readonly name: string;
  /** The positional arguments as usage shows them: `FILE.cell...`. */
  readonly args: string;
  /** One line for `rnnc --help`. */
  readonly summary: string;
  /** More lines for `rnnc NAME --help` (an example, the exit codes). */
  readonly details?: string;
  readonly options: OptionDefs;
}

export type Flags = Record<string, string | boolean | undefined>;

/** `--help`, which every command has. */
const HELP: OptionDef = { type: "boolean", short: "h", help: "show this help and exit" };

/** `usage: rnnc build FILE.cell... [options]` */
export function usageLine(spec: CommandSpec): string {
  return `usage: rnnc ${spec.name} ${spec.args} [options]`;
}

/** The command's help: usage, summary, then every option with its value and description, aligned. */
export function commandHelp(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, help: HELP }).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? ` ${o.value}` : ""}`,
    o.help,
  ] as const);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const lines = rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`);
  return [usageLine(spec), "", `${spec.summary}.`, ...(spec.details ? ["", spec.details] : []), "", "options:", ...lines].join("\n");
}

/** The option names a command accepts, as typed: `--out`, `-o`, `--help`, `-h`. */
export function acceptedFlags(spec: CommandSpec): string[] {
  return Object.entries({ ...spec.options, help: HELP }).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
}

/**
 * `argv` against `spec`: positionals and flags, or a `UsageError` in `rnnc`'s words (an unknown
 * option with the nearest known one, a missing value). A value that starts with `-` is taken as
 * the value of a string option (`--steps -3` is then rejected by the option's own check).
 */
export function parseCommandLine(spec: CommandSpec, argv: readonly string[]): { files: string[]; flags: Flags } {
  const options: OptionDefs = { ...spec.options, help: HELP };
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith("--") ? a.slice(2) : a.startsWith("-") && a.length === 2 ? shortName(options, a[1]!) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && options[name]?.type === "string" && !a.includes("=") && next !== undefined && next.startsWith("-") && next !== "--") {
      args.push(`--${name}=${next}`);
      i++;
    } else args.push(a);
  }
  try {
    const table = Object.fromEntries(Object.entries(options).map(([n, o]) => [n, o.short ? { type: o.type, short: o.short } : { type: o.type }]));
    const { values, positionals } = parseArgs({ args, options: table, allowPositionals: true, strict: true });
    return { files: positionals, flags: values as Flags };
  } catch (e) {
    throw translate(e, options);
  }
}

function shortName(options: OptionDefs, letter: string): string | undefined {
  return Object.entries(options).find(([, o]) => o.short === letter)?.[0];
}

/** A parseArgs error as a usage error naming the option. */
function translate(e: unknown, options: OptionDefs): unknown {
  const code = String((e as { code?: unknown } | null)?.code ?? "");
  if (!code.startsWith("ERR_PARSE_ARGS")) return e;
  const message = (e as Error).message;
  const flag = /'(-[^' ]*)/.exec(message)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const near = nearest(flag.replace(/^-+/, "").replace(/=.*$/, ""), Object.keys(options));
    return new UsageError(`unknown option '${flag}'${near ? `; did you mean '--${near}'?` : ""}`);
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = /--([\w-]+)/.exec(message)?.[1] ?? "";
    const def = options[name];
    const long = def ? `--${name}` : flag;
    return new UsageError(def?.type === "boolean" ? `${long} takes no value` : `${long} needs a value${def?.value ? `: ${long} ${def.value}` : ""}`);
  }
  return new UsageError(message);
}
