/** What the subcommands share: error kinds, output, and parsing of files and flags. */
import { readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { isIdentChar, isIdentStart } from "../compiler/lexer.js";

/** Wrong use of the command line: exit code 2. */
export class UsageError extends Error {}
/** An error in user input (a cell's data, a file) that exits with 1. */
export class InputError extends Error {}
/** A file the command could not read or write: exit code 1, the message names the path. */
export class FileError extends InputError {}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether diagnostics on `err` are coloured (a terminal, per NO_COLOR and FORCE_COLOR); default no. */
  readonly color?: boolean;
  /** Whether `out` is a terminal (JSON is then pretty-printed); default no. */
  readonly outIsTerminal?: boolean;
}

/**
 * Whether to colour a stream: FORCE_COLOR (other than `0` or `false`) says yes, NO_COLOR (any
 * non-empty value, https://no-color.org) says no, and otherwise a terminal other than `dumb` gets colour.
 */
export function wantsColor(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env["FORCE_COLOR"];
  if (force !== undefined && force !== "0" && force !== "false") return true;
  if (force !== undefined || (env["NO_COLOR"] ?? "") !== "") return false;
  return isTTY === true && env["TERM"] !== "dumb";
}

/** What was being done to the path when the file system refused: "read", "write", "create directory", ... */
export type FileAction = string;

/** What each errno means to someone who typed a path (the rest show their code). */
const REASONS: ReadonlyMap<string, string> = new Map([
  ["ENOENT", "no such file or directory"],
  ["EISDIR", "it is a directory"],
  ["ENOTDIR", "a part of the path is not a directory"],
  ["EEXIST", "it exists and is not a directory"],
  ["EACCES", "permission denied"],
  ["EPERM", "operation not permitted"],
  ["EROFS", "the file system is read-only"],
  ["ENOSPC", "no space left on the device"],
  ["EDQUOT", "disk quota exceeded"],
  ["ENAMETOOLONG", "the name is too long"],
  ["ELOOP", "too many levels of symbolic links"],
  ["EMFILE", "too many open files"],
  ["ENFILE", "too many open files in the system"],
  ["EBUSY", "the file is busy"],
  ["ETXTBSY", "the file is busy"],
  ["EIO", "input/output error"],
  ["EFBIG", "the file is too large"],
]);

/** The errno code of a Node file-system error, or undefined for any other value. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return e instanceof Error && typeof code === "string" && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * `cannot write 'out/rnn.ts': it is a directory`: a file-system error as a sentence naming the
 * path the user gave (not a temporary file), or undefined when `e` is not a file-system error.
 */
export function describeFileError(e: unknown, action: FileAction, path: string): string | undefined {
  const code = errnoCode(e);
  if (code === undefined) return undefined;
  const reason = REASONS.get(code) ?? `${code}: ${(e as Error).message.replace(/^[A-Z0-9]+: /, "").replace(/, \w+ '.*$/, "")}`;
  return `cannot ${action} '${path}': ${reason}`;
}

/** A file-system error that no command anticipated, described by its own path and system call. */
export function strayFileError(e: unknown): string | undefined {
  const { path, syscall } = (e ?? {}) as NodeJS.ErrnoException;
  return typeof path === "string" ? describeFileError(e, syscall ?? "use", path) : undefined;
}

/** A `FileError` for `e` (rethrowing anything that is not a file-system error), naming `path`. */
export async function fileError(e: unknown, action: FileAction, path: string): Promise<FileError> {
  const message = describeFileError(e, action, path);
  if (message === undefined) throw e;
  // ENOTDIR says a part of the path is a file: say which one.
  const blocker = errnoCode(e) === "ENOTDIR" ? await firstNonDirectory(path) : undefined;
  return new FileError(blocker === undefined ? message : `cannot ${action} '${path}': '${blocker}' is not a directory`);
}

/** The longest existing ancestor of `path` that is not a directory. */
async function firstNonDirectory(path: string): Promise<string | undefined> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const found = await stat(dir).then((s) => s, () => undefined);
    if (found) return found.isDirectory() ? undefined : dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Reads a text file given on the command line; a failure is a `FileError` naming it. */
export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw await fileError(e, "read", path);
  }
}

/** Reads a `.cell` file. */
export const readSource = readText;

/** `H=64` is fine; a size name is an identifier of the cell language. */
function isSizeName(name: string): boolean {
  const chars = [...name];
  return chars.length > 0 && isIdentStart(chars[0]!) && chars.every(isIdentChar);
}

/**
 * `--size H=64,I=32` → Map { H → 64, I → 32 }. A Map, so that no name (`__proto__`,
 * `constructor`) can reach an object's prototype; whether each name is a size of the cells being
 * built is checked once they are compiled (`checkSizeNames`).
 */
export function parseSizes(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (text === undefined) return out;
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    const [name, value] = eq < 0 ? [part, ""] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    if (eq < 0 || !/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < 1)
      throw new UsageError(`--size: expected NAME=positive integer, got '${part}'`);
    if (!isSizeName(name))
      throw new UsageError(`--size: '${name}' is not a size name (letters, digits and '_', not starting with a digit)`);
    if (out.has(name)) throw new UsageError(`--size: '${name}' is given twice`);
    out.set(name, Number(value));
  }
  return out;
}

/** Sizes as `CompileOptions.sizes` takes them: an object without a prototype. */
export function sizesRecord(sizes: ReadonlyMap<string, number>): Record<string, number> {
  const record = Object.create(null) as Record<string, number>;
  for (const [name, value] of sizes) record[name] = value;
  return record;
}

/** An integer flag of at least `min` (1 unless given). */
export function parseCount(flag: string, text: string | undefined, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max || !Number.isSafeInteger(Number(text)))
    throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, got '${text}'`);
  return Number(text);
}
