/**
 * `import lstm from "./lstm.cell"` in Vite, Rollup, Rolldown, esbuild, webpack and Rspack: the
 * `.cell` file is compiled when the bundle is built, into the JavaScript module `rnnc build`
 * would write, importing `rnnc/runtime`. Built on unplugin, one plugin for every bundler.
 *
 * Options come from the plugin (for every `.cell` import) and from the import's query, which
 * overrides them: `./lstm.cell?H=64&dtype=f64`. A file with one cell exports it as the default
 * export and as `cell`, with its `sizes` and `spec`; a file with several exports each cell under
 * its own name (or, with `?cell=NAME`, that one cell as above). Errors in a cell are reported in
 * the bundler's own format, located in the `.cell` file; the file is watched, so a dev server or a
 * watch build recompiles it when it changes.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { createUnplugin, type UnpluginBuildContext, type UnpluginContext } from "unplugin";
import { emitModules, type Diagnostic, type EmitOptions, type Location } from "../api.js";
import { DataError } from "../runtime/errors.js";

export interface RnncPluginOptions {
  /** Size overrides for every `.cell` import whose cells declare them (a query's sizes override these). */
  readonly sizes?: Readonly<Record<string, number>>;
  readonly dtype?: "f32" | "f64";
  readonly products?: "runtime" | "inline";
  readonly optimize?: boolean;
  /** The specifier modules import the runtime from (default `rnnc/runtime`). */
  readonly runtime?: string;
}

/** The query keys that are options; every other key of the form of a name is a size. */
const OPTION_KEYS = new Set(["dtype", "products", "optimize", "cell"]);
/** Query keys bundlers add for themselves (Vite's `?import`, cache busters), ignored. */
const BUNDLER_KEYS = new Set(["import", "t", "v", "used", "direct"]);
/** Queries that ask the bundler for the file as something else (`?raw`, `?url`): left to it. */
const OTHER_KINDS = new Set(["raw", "url", "inline", "worker", "sharedworker"]);

const CELL = /\.cell(?:\?.*)?$/;

function split(id: string): { path: string; query: URLSearchParams } {
  const at = id.indexOf("?");
  return at < 0 ? { path: id, query: new URLSearchParams() } : { path: id.slice(0, at), query: new URLSearchParams(id.slice(at + 1)) };
}

/** The emit options of one import: the plugin's, overridden by the query's. */
export function queryOptions(id: string, base: RnncPluginOptions): EmitOptions & { readonly path: string } {
  const { path, query } = split(id);
  const sizes: Record<string, number> = {};
  let options: EmitOptions = { dtype: base.dtype, products: base.products, optimize: base.optimize, runtime: base.runtime };
  for (const [key, value] of query) {
    if (BUNDLER_KEYS.has(key)) continue;
    if (key === "dtype" || key === "products" || key === "cell") options = { ...options, [key]: value };
    else if (key === "optimize") {
      if (value !== "true" && value !== "false") throw new DataError(`query '${key}=${value}': expected true or false`);
      options = { ...options, optimize: value === "true" };
    } else if (/^[A-Za-z_][A-Za-z0-9_]*$/u.test(key)) {
      if (!/^[1-9][0-9]*$/u.test(value)) throw new DataError(`query '${key}=${value}': a size must be a positive integer`);
      sizes[key] = Number(value);
    } else throw new DataError(`query '${key}': not a size or one of ${[...OPTION_KEYS].join(", ")}`);
  }
  return { ...options, sizes, commonSizes: base.sizes ?? {}, path };
}

/** A file of several cells without `?cell=`: each cell re-exported under its name from its own import. */
function facade(id: string, cells: readonly string[]): string {
  const { path, query } = split(id);
  return cells
    .map((name) => {
      const q = new URLSearchParams(query);
      q.set("cell", name);
      return `export { default as ${JSON.stringify(name)} } from ${JSON.stringify(`./${basename(path)}?${q}`)};`;
    })
    .join("\n");
}

/** What compiling one import gives: the module's JavaScript, or why not. */
type Outcome =
  | { readonly code: string; readonly warnings: readonly Diagnostic[] }
  | { readonly errors: readonly Diagnostic[] }
  | { readonly problem: string };

/** Compiles the `.cell` file of import `id` (path and query) into its module. */
async function compileImport(id: string, base: RnncPluginOptions): Promise<Outcome> {
  let result;
  try {
    const options = queryOptions(id, base);
    result = await emitModules(await readFile(options.path, "utf8"), { ...options, lang: "js" });
  } catch (e) {
    if (e instanceof DataError) return { problem: `${id}: ${e.message}` };
    if (e instanceof Error && "code" in e && typeof e.code === "string") return { problem: `cannot read '${split(id).path}': ${e.code}` };
    throw e;
  }
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) return { errors };
  const code = result.modules.length === 1 ? result.modules[0]!.code : facade(id, result.modules.map((m) => m.cell));
  return { code, warnings: result.diagnostics };
}

/** The 0-based column of a location in UTF-16 code units (Rollup's and Vite's unit). */
const utf16Column = (l: Location): number => [...l.lineText].slice(0, l.column - 1).join("").length;

/**
 * Rollup, Vite, Rolldown, webpack, Rspack: the rendered diagnostics (`file:line:col: error[…]: …`,
 * the line, a caret, notes) in one error, located at the first.
 */
async function loadForRollup(ctx: UnpluginBuildContext & UnpluginContext, id: string, base: RnncPluginOptions): Promise<string> {
  ctx.addWatchFile(split(id).path);
  const out = await compileImport(id, base);
  // Rollup and Vite throw from `error`; webpack records the error and takes the empty module.
  if ("problem" in out) return (ctx.error({ id, message: out.problem } as never), "");
  if ("errors" in out) {
    const at = out.errors[0]!.location;
    const message = out.errors.map((d) => d.rendered).join("\n\n");
    return (ctx.error({ id, message, loc: { file: at.file, line: at.line, column: utf16Column(at) } } as never), "");
  }
  for (const w of out.warnings) ctx.warn(w.rendered);
  return out.code;
}

/** The parts of esbuild's plugin API used here (esbuild is the user's, not a dependency). */
interface EsbuildLocation { file: string; line: number; column: number; length: number; lineText: string }
interface EsbuildMessage { text: string; location?: EsbuildLocation | null; notes?: { text: string; location?: EsbuildLocation | null }[] }
interface EsbuildBuild {
  onLoad(
    options: { filter: RegExp; namespace?: string },
    callback: (args: { path: string; suffix?: string }) => Promise<{ contents?: string; loader?: "js"; resolveDir?: string; errors?: EsbuildMessage[]; warnings?: EsbuildMessage[]; watchFiles?: string[] }>,
  ): void;
}

/** A location as esbuild takes it: the column and length in UTF-8 bytes, the line's text for its frame. */
function esbuildLocation(l: Location): EsbuildLocation {
  const before = l.lineText.slice(0, utf16Column(l));
  const length = Buffer.byteLength(l.lineText.slice(before.length, before.length + (l.end - l.start)), "utf8");
  return { file: l.file, line: l.line, column: Buffer.byteLength(before, "utf8"), length, lineText: l.lineText };
}

/** esbuild: one message per diagnostic, with its own location, source line and located notes. */
function esbuildMessage(d: Diagnostic): EsbuildMessage {
  const notes = d.notes.map((n) => ({ text: n.message, location: n.location ? esbuildLocation(n.location) : null }));
  return { text: `${d.severity}[${d.code}]: ${d.message}`, location: esbuildLocation(d.location), notes: d.hint ? [...notes, { text: `help: ${d.hint}` }] : notes };
}

function setupEsbuild(build: EsbuildBuild, base: RnncPluginOptions): void {
  build.onLoad({ filter: CELL }, async (args) => {
    const id = args.path + (args.suffix ?? "");
    const path = split(id).path;
    const watch = { watchFiles: [path], resolveDir: dirname(path) };
    const out = await compileImport(id, base);
    if ("problem" in out) return { ...watch, errors: [{ text: out.problem }] };
    if ("errors" in out) return { ...watch, errors: out.errors.map(esbuildMessage) };
    return { ...watch, contents: out.code, loader: "js", warnings: out.warnings.map(esbuildMessage) };
  });
}

export const unplugin = createUnplugin<RnncPluginOptions | undefined>((userOptions = {}, meta) => ({
  name: "rnnc",
  enforce: "pre",
  resolveId: {
    filter: { id: CELL },
    handler(id, importer) {
      const { path, query } = split(id);
      if ([...query.keys()].some((k) => OTHER_KINDS.has(k))) return null;
      // An absolute path without a query is the bundler's to resolve (returned as it came, webpack
      // would resolve it again without end); one that is not a file may be Vite's URL from the
      // project root, which Vite resolves.
      if (isAbsolute(path)) return id !== path && existsSync(path) ? id : null;
      if (!path.startsWith("./") && !path.startsWith("../")) return null;
      const from = importer ? dirname(split(importer).path) : process.cwd();
      return resolve(from, path) + id.slice(path.length);
    },
  },
  // esbuild loads through its own hook below, which reports each diagnostic with its source line.
  ...(meta.framework === "esbuild"
    ? {}
    : {
        load: {
          filter: { id: CELL },
          handler(id: string) {
            if ([...split(id).query.keys()].some((k) => OTHER_KINDS.has(k))) return null;
            return loadForRollup(this, id, userOptions);
          },
        },
      }),
  esbuild: { onResolveFilter: CELL, setup: (build) => setupEsbuild(build as unknown as EsbuildBuild, userOptions) },
}));

export const vite = unplugin.vite;
export const rollup = unplugin.rollup;
export const rolldown = unplugin.rolldown;
export const esbuild = unplugin.esbuild;
export const webpack = unplugin.webpack;
export const rspack = unplugin.rspack;
export default unplugin;
