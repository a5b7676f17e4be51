/**
 * Writing emitted modules so that a build never leaves a truncated module behind: each module is
 * written to a temporary file beside its target, flushed to disk, and renamed into place (a rename
 * within one directory replaces the target at once). All modules are staged before any is renamed,
 * so a file-system failure while writing (permissions, a full disk, a read-only file system, a
 * directory where a module should go) leaves every target as it was. Failures are `FileError`s
 * naming the path the user asked for, never the temporary file.
 */
import { randomBytes } from "node:crypto";
import { lstat, mkdir, open, rename, rm, rmdir } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { FileError, fileError } from "./args.js";

export interface ModuleFile {
  /** Where the module goes. */
  readonly path: string;
  readonly text: string;
}

/**
 * Creates `dir` (and its parents) and writes every module in it: all of them, or none (and then
 * the directories it created are removed again).
 */
export async function writeModules(dir: string, modules: readonly ModuleFile[]): Promise<void> {
  let created: string | undefined;
  try {
    created = await mkdir(dir, { recursive: true });
  } catch (e) {
    throw await fileError(e, "create directory", dir);
  }
  try {
    await stageAndRename(modules);
  } catch (e) {
    if (created !== undefined) await removeEmpty(dir, created);
    throw e;
  }
}

async function stageAndRename(modules: readonly ModuleFile[]): Promise<void> {
  for (const m of modules) {
    const found = await lstat(m.path).catch(() => undefined);
    if (found?.isDirectory()) throw new FileError(`cannot write '${m.path}': it is a directory`);
  }
  const staged: { readonly temp: string; readonly path: string; renamed: boolean }[] = [];
  try {
    for (const m of modules) {
      const temp = join(dirname(m.path), `.${basename(m.path)}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`);
      staged.push({ temp, path: m.path, renamed: false });
      await writeFlushed(temp, m.text).catch(async (e: unknown) => {
        throw await fileError(e, "write", m.path);
      });
    }
    for (const s of staged) {
      await rename(s.temp, s.path).catch(async (e: unknown) => {
        throw await fileError(e, "write", s.path);
      });
      s.renamed = true;
    }
  } finally {
    await Promise.all(staged.filter((s) => !s.renamed).map((s) => rm(s.temp, { force: true }).catch(() => undefined)));
  }
}

/** Removes the directories from `dir` up to `top`, which this build created, where they are empty. */
async function removeEmpty(dir: string, top: string): Promise<void> {
  top = resolve(top);
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (!(await rmdir(d).then(() => true, () => false)) || d === top || dirname(d) === d) return;
  }
}

/** Creates `path` (which must not exist), writes `text` and flushes it to the disk. */
async function writeFlushed(path: string, text: string): Promise<void> {
  const file = await open(path, "wx");
  try {
    await file.writeFile(text, "utf8");
    await file.sync();
  } finally {
    await file.close();
  }
}
