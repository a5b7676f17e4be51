/**
 * `npm run build`'s last step: bundles `src/launch.ts` and everything it imports statically into
 * one CommonJS module beside the compiled CLI, `DIST/src/launch.bundle.cjs`, which `bin/rnnc.js`
 * requires. `rnnc check` then loads one file of rnnc instead of about thirty, and Node does not
 * start its ES-module loader at all (nor build the ES-module views of the built-ins it uses).
 * Dynamic imports stay imports of the compiled ES modules in `DIST/src/` (the bundle sits beside
 * them, so their relative paths hold), and packages stay imports of packages.
 *
 *   node scripts/bundle-cli.mjs [DIST]      DIST defaults to ./dist
 */
import { build } from "esbuild";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const dist = resolve(process.argv[2] ?? join(root, "dist"));

/** Every `import()` is left to Node, unresolved and unbundled. */
const dynamicImportsStay = {
  name: "dynamic-imports-stay",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => (args.kind === "dynamic-import" ? { path: args.path, external: true } : undefined));
  },
};

await build({
  entryPoints: [join(root, "src/launch.ts")],
  outfile: join(dist, "src/launch.bundle.cjs"),
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
