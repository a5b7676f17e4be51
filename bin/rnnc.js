#!/usr/bin/env node
// The CLI, bundled into one CommonJS module by `npm run build` (from src/launch.ts): `rnnc check`
// reads one file of rnnc and never starts Node's ES-module loader; the other commands import the
// CLI's ES modules from there. This file is CommonJS too (bin/package.json), for the same reason.
// A dist/ compiled by `tsc` alone has no bundle: the same CLI then runs from its modules.
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const bundle = join(__dirname, "../dist/src/launch.bundle.cjs");
const launch = existsSync(bundle) ? Promise.resolve(require(bundle)) : import("../dist/src/launch.js");
launch.then((cli) => cli.main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
