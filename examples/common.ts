/**
 * Shared plumbing for the examples: finding the repo root (so paths work from `examples/` under
 * vitest and from `dist/examples/` when compiled), compiling a cell of `examples/cells/`, a tiny
 * command-line parser, and a clock.
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../src/index.js";
import { ProgressBar, type Metrics } from "../src/train/index.js";
import type { Cell, DType } from "../src/runtime/types.js";

/** The directory holding rnnc's package.json, found by walking up from this file. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name;
      if (name === "rnnc") return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("examples: cannot find rnnc's package.json above " + import.meta.url);
    dir = parent;
  }
}

/** `examples/out/<name>` under the repo root. */
export function outPath(name: string): string {
  return join(repoRoot(), "examples", "out", name);
}

const cellCache = new Map<string, Cell>();

/** Compiles `examples/cells/<file>` in-process with the given sizes (cached per file, sizes, dtype). */
export function loadCell(file: string, sizes: Record<string, number>, dtype: DType = "f32"): Cell {
  const key = `${file} ${dtype} ${JSON.stringify(sizes)}`;
  let cell = cellCache.get(key);
  if (cell === undefined) {
    const source = readFileSync(join(repoRoot(), "examples", "cells", file), "utf8");
    cell = compile(source, { path: file, sizes, dtype });
    cellCache.set(key, cell);
  }
  return cell;
}

/** What every example's command line accepts, plus its own flags (values as strings). */
export interface CliArgs {
  readonly quick: boolean;
  readonly epochs?: number;
  readonly seed?: number;
  readonly flags: Readonly<Record<string, string | true>>;
}

/**
 * Parses `--quick`, `--epochs N`, `--seed N` and any `--name value` / `--name` flag. A flag listed in
 * `booleans` never takes a value.
 */
export function parseArgs(argv: readonly string[], booleans: readonly string[] = []): CliArgs {
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new Error(`unexpected argument '${arg}' (flags start with --)`);
    const eq = arg.indexOf("=");
    if (eq > 0) {
      flags[arg.slice(2, eq)] = arg.slice(eq + 1);
      continue;
    }
    const name = arg.slice(2);
    const next = argv[i + 1];
    if (name === "quick" || booleans.includes(name) || next === undefined || next.startsWith("--")) {
      flags[name] = true;
    } else {
      flags[name] = next;
      i++;
    }
  }
  const int = (name: string): number | undefined => {
    const value = flags[name];
    if (value === undefined) return undefined;
    const n = Number(value);
    if (value === true || !Number.isInteger(n)) throw new Error(`--${name} needs an integer, got '${value}'`);
    return n;
  };
  return { quick: flags["quick"] === true, epochs: int("epochs"), seed: int("seed"), flags };
}

/** A number flag or a default. */
export function numberFlag(args: CliArgs, name: string, fallback: number): number {
  const value = args.flags[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value === true || !Number.isFinite(n)) throw new Error(`--${name} needs a number, got '${value}'`);
  return n;
}

/** A string flag or a default. */
export function stringFlag(args: CliArgs, name: string, fallback?: string): string | undefined {
  const value = args.flags[name];
  if (value === true) throw new Error(`--${name} needs a value`);
  return value ?? fallback;
}

/** True when this module is the script node was started with (not imported by a test). */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return fileURLToPath(moduleUrl) === entry || fileURLToPath(moduleUrl) === entry + ".js";
  } catch {
    return false;
  }
}

/** Runs an example's CLI: parses args, calls `run`, reports errors on stderr with exit code 1. */
export function runCli(run: (args: CliArgs) => Promise<unknown> | unknown, booleans: readonly string[] = []): void {
  Promise.resolve()
    .then(() => run(parseArgs(process.argv.slice(2), booleans)))
    .catch((error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    });
}

/** Seconds since `start` (a `performance.now()` value). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

/** Writes a line to stdout unless silent. */
export function say(silent: boolean | undefined, line = ""): void {
  if (silent !== true) process.stdout.write(line + "\n");
}

/** A percentage with one decimal. */
export function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(1)} %`;
}

/** Options every example's `main` accepts besides its own. */
export interface ExampleOptions {
  /** A small, fast run (the test suite's). */
  readonly quick?: boolean;
  readonly epochs?: number;
  readonly seed?: number;
  /** No stdout lines and no progress bar (tests). */
  readonly silent?: boolean;
  /** Where figures (and saved params) go; default `examples/out/`. */
  readonly outDir?: string;
}

/** `<outDir>/<file>`, with `outDir` defaulting to `examples/out/`. */
export function outputFile(options: ExampleOptions, file: string): string {
  return options.outDir === undefined ? outPath(file) : join(options.outDir, file);
}

/**
 * One progress bar on stderr for a whole run (`total` training steps), rather than one per epoch:
 * on a terminal it redraws in place, in a log it prints a line every tenth of the way. Silent runs
 * get a bar that draws nothing.
 */
export class RunProgress {
  private readonly bar: ProgressBar | undefined;
  private done = 0;
  private metrics: Record<string, number | string> = {};

  constructor(label: string, total: number, silent?: boolean) {
    this.bar = silent === true ? undefined : new ProgressBar(total, { label });
  }

  /** One more step done; `metrics` are merged into what the bar shows. */
  tick(metrics: Metrics = {}): void {
    this.done += 1;
    Object.assign(this.metrics, metrics);
    this.bar?.update(this.done, this.metrics);
  }

  /** Updates the shown metrics without counting a step (e.g. after an evaluation). */
  show(metrics: Metrics): void {
    Object.assign(this.metrics, metrics);
    this.bar?.update(this.done, this.metrics);
  }

  finish(metrics: Metrics = {}): void {
    Object.assign(this.metrics, metrics);
    this.bar?.finish(this.metrics);
  }
}
