/** What the subcommands share: error kinds, output, and parsing of files and flags. */
import { readFile } from "node:fs/promises";

/** Wrong use of the command line: exit code 2. */
export class UsageError extends Error {}
/** An error in user input (a cell's data, a file) that exits with 1. */
export class InputError extends Error {}

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Reads a `.cell` file; a missing file is a usage error. */
export async function readSource(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read '${path}'${code === "ENOENT" ? ": no such file" : code ? `: ${code}` : ""}`);
  }
}

/** `--size H=64,I=32` → { H: 64, I: 32 }. */
export function parseSizes(text: string | undefined): Record<string, number> {
  if (text === undefined) return {};
  const out: Record<string, number> = {};
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([\p{L}_][\p{L}\p{N}_]*)=(\d+)$/u.exec(part);
    if (!m || Number(m[2]) < 1) throw new UsageError(`--size: expected NAME=positive integer, got '${part}'`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** An integer flag of at least `min` (1 unless given). */
export function parseCount(flag: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text)))
    throw new UsageError(`${flag}: expected an integer of at least ${min}, got '${text}'`);
  return Number(text);
}
