/**
 * The package as a user gets it: built fresh into a staging folder (so this checkout's dist/, which
 * other tests read, is never rewritten under them), packed with `npm pack`, and installed into a
 * fresh project outside the checkout. Free of vitest.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { once } from "./once.js";

export const repo = resolve(import.meta.dirname, "../..");
export const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Runs a command to its end and returns its standard output; throws with its standard error if it fails. */
export const run = (cmd: string, args: readonly string[], cwd: string): string =>
  execFileSync(cmd, [...args], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_fund: "false", npm_config_audit: "false", npm_config_update_notifier: "false" },
  });

export interface Packed {
  /** The tarball's path. */
  readonly tarball: string;
  /** The files it holds, as `npm pack` lists them. */
  readonly files: readonly string[];
  readonly size: number;
  readonly unpackedSize: number;
}

/** Builds the package from the sources into `dir/stage` and packs it into `dir`. */
export function packPackage(dir: string): Packed {
  const stage = join(dir, "stage");
  run(process.execPath, [join(repo, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", join(stage, "dist")], repo);
  run(process.execPath, [join(repo, "scripts/bundle-cli.mjs"), join(stage, "dist")], repo); // as npm run build does
  for (const entry of ["package.json", "README.md", "cell.d.ts", "bin"]) cpSync(join(repo, entry), join(stage, entry), { recursive: true });
  const [packed] = JSON.parse(run(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], stage)) as {
    filename: string; files: { path: string }[]; size: number; unpackedSize: number;
  }[];
  return { tarball: join(dir, packed!.filename), files: packed!.files.map((f) => f.path), size: packed!.size, unpackedSize: packed!.unpackedSize };
}

/**
 * The package packed once for a whole test run (`dir` is the run's, from the global setup) and
 * shared by the test files that install it: the first to ask builds and packs it into `dir`, the
 * others wait for it. Each file still installs the tarball into a fresh project of its own.
 */
export const packOnce = (dir: string): Promise<Packed> => once(dir, "packed", () => packPackage(dir));

/** A fresh ES-module project in `dir/project` with `packages` installed (`dev`: as devDependencies). */
export function makeProject(dir: string, packages: readonly string[], dev: boolean): string {
  const project = join(dir, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", version: "1.0.0", private: true, type: "module" }));
  run(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund", ...(dev ? ["--save-dev"] : []), ...packages], project);
  return project;
}
