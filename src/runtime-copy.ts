/**
 * `rnnc build --runtime-copy`: the runtime written beside the modules, so that a project keeps rnnc
 * in `devDependencies` (as one keeps a compiler) and its kernels still load after
 * `npm install --omit=dev`. The runtime depends on no package; its built files (JavaScript and
 * declarations), and every file they import, are copied into one folder, their relative imports
 * rewritten to that folder, and the modules import `./rnnc-runtime/index.js`.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ModuleFile } from "./write.js";

/** The folder, inside the output folder, that holds the copy. */
export const RUNTIME_DIR = "rnnc-runtime";
/** What emitted modules import when the runtime is copied beside them. */
export const RUNTIME_COPY_SPECIFIER = `./${RUNTIME_DIR}/index.js`;

/** The built runtime's folder: beside this module once built; `dist/` when run from the sources. */
function builtRuntime(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith(".ts") ? resolve(dirname(here), "../dist/src/runtime") : resolve(dirname(here), "runtime");
}

/** Relative specifiers of `import`/`export ... from`, side-effect imports and `import("...")`. */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.{1,2}\/[^"'\n]+)\2/gu;

/**
 * The runtime's files and those they import, by their name in the copy, with each relative import
 * rewritten to its file's name there. Two files of one name would clash: that is refused.
 */
export async function runtimeFiles(root = builtRuntime()): Promise<Map<string, string>> {
  const entry = join(root, "index.js");
  if (!existsSync(entry)) throw new Error(`the built runtime is missing: ${entry}`);
  const files = new Map<string, string>();
  const origin = new Map<string, string>();
  const pending = [entry, join(root, "index.d.ts")];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    const name = basename(path);
    if (origin.get(name) === path) continue;
    if (origin.has(name)) throw new Error(`runtime files '${origin.get(name)}' and '${path}' have one name`);
    origin.set(name, path);
    const text = await readFile(path, "utf8");
    files.set(name, text.replace(SPECIFIER, (_, head: string, quote: string, spec: string) => {
      const target = resolve(dirname(path), spec);
      pending.push(target);
      // A declaration file's `./x.js` is its sibling `./x.d.ts` (where there is one, it follows too).
      if (path.endsWith(".d.ts") && target.endsWith(".js") && existsSync(target.replace(/\.js$/u, ".d.ts"))) pending.push(target.replace(/\.js$/u, ".d.ts"));
      return `${head}${quote}./${basename(target)}${quote}`;
    }));
    if (path.endsWith(".js") && existsSync(path.replace(/\.js$/u, ".d.ts"))) pending.push(path.replace(/\.js$/u, ".d.ts"));
  }
  // ES modules whatever the `type` of the project's package.json.
  files.set("package.json", `${JSON.stringify({ type: "module" }, null, 2)}\n`);
  return files;
}

/** The copy as files to write into `out/rnnc-runtime/`. */
export async function runtimeModules(out: string): Promise<ModuleFile[]> {
  return [...(await runtimeFiles())].sort(([a], [b]) => a.localeCompare(b)).map(([name, text]) => ({ path: join(out, RUNTIME_DIR, name), text }));
}
