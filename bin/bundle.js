// Loads the CLI's CommonJS bundle (dist/src/launch.bundle.cjs) as `require` would, compiled with a
// V8 code cache when one is given and V8 takes it: `bin/rnnc.js` runs it, `scripts/bundle-cli.mjs`
// runs it once to make that cache.
"use strict";
const Module = require("node:module");
const { dirname } = require("node:path");
const vm = require("node:vm");
const { readFileSync } = require("node:fs");

/** The bundle's exports, and the compiled script (whose `createCachedData()` is its code cache). */
function loadBundle(file, cachedData) {
  const script = new vm.Script(Module.wrap(readFileSync(file, "utf8")), { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(file), module, file, dirname(file));
  return { exports: module.exports, script };
}

module.exports = { loadBundle };
