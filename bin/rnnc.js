#!/usr/bin/env node
// `rnnc check` runs from one CommonJS module that `npm run build` bundles from src/launch.ts,
// compiled with the V8 code cache the build made beside it (V8 takes it only from the same V8
// with the same flags): one file of rnnc read, nothing compiled twice, and Node's ES-module loader
// never started. This file is CommonJS too (bin/package.json), for the same reason. Every other
// command runs from the CLI's ES modules (dist/src/cli.js), as does everything when dist/ was
// compiled by `tsc` alone and has no bundle.
"use strict";
const { existsSync, readFileSync } = require("node:fs");
const { join } = require("node:path");
const { loadBundle } = require("./bundle.js");

/** The bundle's exports, compiled with its code cache when there is one. */
function load(file) {
  let cachedData;
  try {
    cachedData = readFileSync(file.replace(/\.cjs$/, ".cache"));
  } catch {
    // no cache: compiled from the text alone
  }
  return loadBundle(file, cachedData).exports;
}

const argv = process.argv.slice(2);
const bundle = join(__dirname, "../dist/src/launch.bundle.cjs");
const launch = existsSync(bundle) ? load(bundle) : undefined;
const run = launch?.runsHere(argv) ? launch.main(argv) : import("../dist/src/cli.js").then((cli) => cli.main(argv));
run.then((code) => {
  process.exitCode = code;
});
