/**
 * `npm run build`'s last step: bundles `src/launch.ts` and everything it imports statically into
 * one CommonJS module beside the compiled CLI, `DIST/src/launch.bundle.cjs`, which `bin/rnnc.js`
 * loads, and V8's code cache of it, `DIST/src/launch.bundle.cache`. `rnnc check` then loads one
 * file of rnnc instead of about thirty, compiles little of it, and Node does not start its
 * ES-module loader at all (nor build the ES-module views of the built-ins it uses). Packages stay
 * imports of packages.
 *
 * It also bundles ts-morph, with the TypeScript it carries, into one CommonJS module beside the
 * printer of the modules `rnnc build` writes, `DIST/compiler/codegen/ts-morph.bundle.cjs`, with
 * V8's code cache of it (`.cache`): `compiler/codegen/typescript.ts` loads it so, and V8 then
 * compiles little of its 13 MB on the build thread.
 *
 *   node scripts/bundle-cli.mjs [DIST]      DIST defaults to ./dist
 */
import { build } from "esbuild";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const dist = resolve(process.argv[2] ?? join(root, "dist"));
const bundle = join(dist, "src/launch.bundle.cjs");
const cacheFile = join(dist, "src/launch.bundle.cache");
const tsMorphBundle = join(dist, "compiler/codegen/ts-morph.bundle.cjs");
const tsMorphCache = join(dist, "compiler/codegen/ts-morph.bundle.cache");
// Never a new bundle beside an old cache (V8 checks a cache against its text's length only).
rmSync(cacheFile, { force: true });
rmSync(tsMorphCache, { force: true });

/** Every `import()` is left unresolved and unbundled (the bundle never runs one: `src/launch.ts`). */
const dynamicImportsStay = {
  name: "dynamic-imports-stay",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => (args.kind === "dynamic-import" ? { path: args.path, external: true } : undefined));
  },
};

await build({
  entryPoints: [join(root, "src/launch.ts")],
  outfile: bundle,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  packages: "external",
  plugins: [dynamicImportsStay],
  // `import.meta.url` (the CLI finds package.json from it) is the bundle's own URL.
  define: { "import.meta.url": "__bundleUrl" },
  banner: {
    js: [
      "// Bundled from src/launch.ts by scripts/bundle-cli.mjs (npm run build); do not edit.",
      '"use strict";', // first, as in the ES modules it is made of
      'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;',
    ].join("\n"),
  },
  logLevel: "warning",
});

// The V8 code cache of the bundle, made after it has checked every example cell, so that it holds
// the compiled front end too: `bin/rnnc.js` hands it to V8, which takes it only if made by the same
// V8 with the same flags (and compiles as usual otherwise).
const { loadBundle } = createRequire(import.meta.url)("../bin/bundle.js");
const { exports: loaded, script } = loadBundle(bundle);
const cells = join(root, "examples/cells");
const examples = existsSync(cells) ? readdirSync(cells).filter((f) => f.endsWith(".cell")).map((f) => join(cells, f)) : [];
if (examples.length > 0) await loaded.main(["check", ...examples], { out() {}, err() {} });
writeFileSync(cacheFile, script.createCachedData());

// ts-morph in one module, and its code cache made after printing a module of every kind of
// statement the printer writes (`compiler/codegen/typescript.ts`), so that it holds the compiled
// printer too.
await build({
  stdin: { contents: 'module.exports = require("ts-morph");', resolveDir: root, sourcefile: "ts-morph.bundle.cjs", loader: "js" },
  outfile: tsMorphBundle,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  banner: { js: "// ts-morph and its dependencies, bundled by scripts/bundle-cli.mjs (npm run build); do not edit." },
  logLevel: "warning",
});
{
  const { exports: tsMorph, script: tsMorphScript } = loadBundle(tsMorphBundle);
  const { StructureKind: K, VariableDeclarationKind: V, printStructure } = tsMorph;
  printStructure({
    kind: K.SourceFile,
    statements: [
      { kind: K.VariableStatement, isExported: true, declarationKind: V.Const, docs: ["A doc."], declarations: [{ name: "a", initializer: "{ b: 1 } as const" }] },
      { kind: K.Function, name: "f", docs: ["A doc."], parameters: [{ name: "x", type: "number" }], returnType: "void", statements: "const y = x;\nif (y) {\n  return;\n}" },
      { kind: K.ExportAssignment, isExportEquals: false, expression: "a" },
    ],
  });
  writeFileSync(tsMorphCache, tsMorphScript.createCachedData());
}
