/**
 * What a command loads: `rnnc check` (the built CLI in dist/) runs with every other command's
 * module and TypeScript, ts-morph and prettier refused by a resolve hook; the command table's
 * names are the names of the commands it loads.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { COMMAND_NAMES, loadCommand, loadCommands } from "../src/commands.js";

const dir = mkdtempSync(join(tmpdir(), "rnnc-loading-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `node bin/rnnc.js ...args` with a hook that refuses modules whose URL matches `refused`. */
function refusing(refused: RegExp, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const hooks = join(dir, `hooks-${refused.source.length}.mjs`);
  writeFileSync(hooks, [
    `const refused = new RegExp(${JSON.stringify(refused.source)});`,
    "export async function resolve(specifier, context, next) {",
    "  const r = await next(specifier, context);",
    "  if (refused.test(r.url)) throw new Error(`refused: ${r.url}`);",
    "  return r;",
    "}",
  ].join("\n"));
  const register = join(dir, `register-${refused.source.length}.mjs`);
  writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  return spawnSync(process.execPath, ["--import", pathToFileURL(register).href, "bin/rnnc.js", ...args], { encoding: "utf8" });
}

describe("rnnc check loads only the front end", () => {
  const others = /dist\/src\/(build|graph|explain|export|export-entry|gradcheck|eval)\.js$|node_modules\/(typescript|ts-morph|@ts-morph|prettier)\//;

  it("the hook refuses what it should (rnnc build is refused)", () => {
    expect(existsSync("dist/src/cli.js"), "dist/ is missing: run npm run build").toBe(true);
    const r = refusing(others, ["build", "examples/cells/rnn.cell", "--out", join(dir, "out")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/refused: .*dist\/src\/build\.js/);
  });

  it("rnnc check runs with every other command's module refused", () => {
    const r = refusing(others, ["check", "examples/cells/lstm.cell", "examples/cells/gru.cell"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("examples/cells/lstm.cell: ok (lstm)\nexamples/cells/gru.cell: ok (gru)\n");
    expect(r.status).toBe(0);
  });
});

describe("the command table", () => {
  it("lists each command under its own name, in the order of the overview", async () => {
    expect((await loadCommands()).map((c) => c.name)).toEqual(COMMAND_NAMES);
    for (const name of COMMAND_NAMES) expect((await loadCommand(name))?.name).toBe(name);
    expect(await loadCommand("chek")).toBeUndefined();
  });
});
