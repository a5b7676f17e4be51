import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    pool: "forks",
    // A worker runs file after file with the modules it has loaded (TypeScript, ts-morph, prettier,
    // the compiler), instead of a fresh process importing them again for each file: half the CPU
    // time of the small files. No test keeps state across files.
    isolate: false,
    // Vitest's default is one worker fewer than the cores: on a 2-core machine, one. The heavy
    // files (random cells, the packed package, the CLI against hostile files) run in parallel.
    maxWorkers: 2,
    // A folder for the run, where test files share one build of the packed package and one look for Python.
    globalSetup: ["tests/helpers/global-setup.ts"],
  },
});
