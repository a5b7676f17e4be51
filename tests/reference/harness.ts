/**
 * One-line helpers for the CLI and eval tests: run `main` in-process with captured output, make
 * and remove temp dirs, and compare nested number arrays leaf by leaf with the path of the first
 * mismatch in the message.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { main } from "../../src/cli.js";

export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `rnnc ...argv` in-process; stdout and stderr are captured, each chunk ending in a newline. */
export async function rnnc(...argv: string[]): Promise<Run> {
  let out = "", err = "";
  const nl = (t: string) => (t.endsWith("\n") ? t : `${t}\n`);
  const code = await main(argv, { out: (t) => (out += nl(t)), err: (t) => (err += nl(t)) });
  return { code, out, err };
}

/** `rnnc ...argv` in-process, asserting that no stack trace and no "internal error" reaches the user. */
export async function rnncClean(...argv: string[]): Promise<Run> {
  const run = await rnnc(...argv);
  for (const text of [run.out, run.err]) {
    expect(text, `rnnc ${argv.join(" ")}`).not.toMatch(STACK_LINE);
    expect(text, `rnnc ${argv.join(" ")}`).not.toMatch(/internal error/);
  }
  return run;
}

/** A fresh directory under the OS temp dir, and its removal. */
export const makeTempDir = (): string => mkdtempSync(join(tmpdir(), "rnnc-test-"));
export const removeDir = (dir: string): void => rmSync(dir, { recursive: true, force: true });

/** The mistake new cells make most: the state update written to a local, so `h` never changes. */
export const FORGOTTEN_UPDATE = `cell rnn {
  size I = 4, H = 8
  input x[I]
  state h[H]
  param Wx[H, I], Wh[H, H], b[H]

  h_new = tanh(Wx·x + Wh·h + b)
}
`;

/** A temporary folder for one test file: made before its tests, removed after them. */
export function tempFolder(): { path(...parts: string[]): string; file(name: string, text: string): string } {
  let dir = "";
  beforeAll(() => void (dir = makeTempDir()));
  afterAll(() => removeDir(dir));
  const path = (...parts: string[]) => join(dir, ...parts);
  /** Writes `text` to `name` in the folder and returns its path. */
  const file = (name: string, text: string) => {
    const at = path(name);
    writeFileSync(at, text);
    return at;
  };
  return { path, file };
}

/** A stack-trace line as Node prints one ("    at fn (file:1:2)"). */
export const STACK_LINE = /^\s{4}at /m;

/**
 * The first leaf where |actual − expected| > tol·max(1, |expected|), or where the nesting differs,
 * as a message naming the path; undefined when all agree. `count` receives the number of leaves.
 */
export function firstMismatch(path: string, actual: unknown, expected: unknown, tol: number, count = { leaves: 0 }): string | undefined {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected a list of ${expected.length}, got ${JSON.stringify(actual)}`;
    if (actual.length !== expected.length) return `${path}: expected ${expected.length} entries, got ${actual.length}`;
    for (let i = 0; i < expected.length; i++) {
      const m = firstMismatch(`${path}[${i}]`, actual[i], expected[i], tol, count);
      if (m) return m;
    }
    return undefined;
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null) return `${path}: expected an object, got ${JSON.stringify(actual)}`;
    const [a, e] = [actual as Record<string, unknown>, expected as Record<string, unknown>];
    const keys = (o: object) => Object.keys(o).sort().join(",");
    if (keys(a) !== keys(e)) return `${path}: keys ${keys(a)} differ from the reference's ${keys(e)}`;
    for (const k of Object.keys(e)) {
      const m = firstMismatch(`${path}.${k}`, a[k], e[k], tol, count);
      if (m) return m;
    }
    return undefined;
  }
  count.leaves++;
  const [a, e] = [actual as number, expected as number];
  if (typeof a !== "number" || !(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e))))
    return `${path}: rnnc ${JSON.stringify(a)}, reference ${e} (tolerance ${tol} relative)`;
  return undefined;
}
