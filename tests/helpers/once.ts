/**
 * What several test files of one run need and is costly to make, made once: the first file to ask
 * makes it, claiming it by creating a folder (which only one process can), and writes it as JSON;
 * the others wait for that file. A failure fails each of them with its message. Free of vitest.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** `make()` run once per `dir` (the run's folder, from the global setup) and `name`, by whichever file asks first. */
export async function once<T>(dir: string, name: string, make: () => T, timeout = 600_000): Promise<T> {
  const done = join(dir, `${name}.json`);
  const failed = join(dir, `${name}.failed`);
  if (claim(join(dir, `${name}.claim`))) {
    try {
      const value = make();
      writeFileSync(`${done}.part`, JSON.stringify(value));
      renameSync(`${done}.part`, done);
      return value;
    } catch (e) {
      writeFileSync(failed, e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e));
      throw e;
    }
  }
  for (const start = Date.now(); Date.now() - start < timeout; ) {
    if (existsSync(done)) return JSON.parse(readFileSync(done, "utf8")) as T;
    if (existsSync(failed)) throw new Error(`${name} failed in another test file:\n${readFileSync(failed, "utf8")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${name} in ${dir} after ${timeout / 1000} s`);
}

/** Creates the folder `path`: true if this call made it, false if it was there. */
function claim(path: string): boolean {
  try {
    mkdirSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}
