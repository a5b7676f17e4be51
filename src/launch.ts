/**
 * The CLI as `bin/rnnc.js` starts it. `npm run build` bundles this file and what it imports
 * statically into one CommonJS module, `dist/src/launch.bundle.cjs` (`scripts/bundle-cli.mjs`),
 * and makes V8's code cache of it, so that a command whose whole run is in that module starts
 * without Node resolving, reading, compiling and linking the thirty-odd ES modules of the front
 * end one by one: `rnnc check`, which should cost little on top of Node's own start. Every other
 * command runs from the unbundled CLI (`dist/src/cli.js`), which loads its command's modules lazily. A command must not mix the two: an error class of the bundle is not
 * the same class as the unbundled module's, so the bundle runs only commands that import nothing
 * at run time (it is compiled without a loader for `import()`).
 */
export { main } from "./cli.js";

/** The first arguments the bundle runs itself (`rnnc check ...`, `rnnc --version`). */
const BUNDLED_COMMANDS: ReadonlySet<string> = new Set(["check", "--version", "-V", "version"]);

/** Whether the bundle runs this command line (else the unbundled CLI does). */
export function runsHere(argv: readonly string[]): boolean {
  return argv[0] !== undefined && BUNDLED_COMMANDS.has(argv[0]);
}
