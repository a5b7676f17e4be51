/**
 * The CLI as `bin/rnnc.js` starts it. `npm run build` bundles this file and what it imports
 * statically into one CommonJS module, `dist/src/launch.bundle.cjs` (`scripts/bundle-cli.mjs`),
 * so that a command whose whole run is in that module starts without Node resolving, reading and
 * linking the thirty-odd ES modules of the front end one by one: `rnnc check` (issue 9: it must
 * start in well under 0.15 s on top of Node's own start). Every other command is handed to the
 * unbundled CLI (`dist/src/cli.js`), which loads its command's modules lazily as before. A command
 * must not mix the two: an error class of the bundle is not the same class as the unbundled
 * module's, so the bundled CLI runs only commands that import nothing at run time.
 */
import { main as bundled } from "./cli.js";
import type { Io } from "./args.js";

/** The first arguments the bundled CLI runs itself (`rnnc check ...`, `rnnc --version`). */
export const BUNDLED_COMMANDS: ReadonlySet<string> = new Set(["check", "--version", "-V", "version"]);

export async function main(argv: readonly string[], io?: Io): Promise<number> {
  if (argv[0] !== undefined && BUNDLED_COMMANDS.has(argv[0])) return bundled(argv, io);
  // Left a dynamic import by the bundler: in the bundle, this is the unbundled dist/src/cli.js.
  const { main: unbundled } = await import("./cli.js");
  return unbundled(argv, io);
}
