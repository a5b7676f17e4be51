/**
 * Writing emitted modules so that a build never leaves a truncated module behind: each module is
 * written to a temporary file beside its target, flushed to disk, and renamed into place (a rename
 * within one directory replaces the target at once). All modules are staged before any is renamed,
 * so a file-system failure while writing (permissions, a full disk, a read-only file system, a
 * directory where a module should go) leaves every target as it was. Failures are `FileError`s
 * naming the path the user asked for, never the temporary file.
 */
import { randomBytes } from "node:crypto";
import { lstat, mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { FileError, fileError } from "./args.js";

export interface ModuleFile {
  /** Where the module goes. */
  readonly path: string;
  readonly text: string;
}

/** Creates `dir` (and its parents) and writes every module in it: all of them, or none. */
export async function writeModules(dir: string, modules: readonly ModuleFile[]): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw await fileError(e, "create directory", dir);
  }
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
