/**
 * The command line's conventions (issue 12): help generated per command, --version, usage on
 * stderr only for usage errors, exit 2 only for usage, colour on a terminal per NO_COLOR and
 * FORCE_COLOR, the closing summary line, --json with LSP-shaped diagnostics, --deny-warnings,
 * graph --out/--cell, build --watch, and `check`/`graph` never loading TypeScript, ts-morph or
 * prettier. In-process through `main` where possible; the real binary (over dist/, after
 * `npm run build`) where a process matters.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { wantsColor } from "../src/args.js";
import { loadCommands } from "../src/commands.js";
import { exportEntry } from "../src/export-entry.js";
import { exportCommand } from "../src/export.js";
import { acceptedFlags } from "../src/options.js";
import { main } from "../src/cli.js";
import { STACK_LINE, rnncClean as rnnc, tempFolder, FORGOTTEN_UPDATE } from "./reference/harness.js";

const RNN = "examples/cells/rnn.cell";
const BIN = join(process.cwd(), "bin/rnnc.js");
const NAMES = ["build", "check", "gradcheck", "eval", "graph", "export", "explain"];

const tmp = tempFolder();
const temp = tmp.file;


const TWO_ERRORS = `cell rnn {
  size I = 4, H = 8
  input x[I]
  state h[H]
  param Wx[H, I], Wh[H, H], b[H]
  h = tanh(Wx * x + Wh·h + b + q)
}
`;

const TWO_CELLS = `cell a {
  state h[3]
  h = tanh(h)
}
cell b {
  state s[2]
  s = relu(s)
}
`;

/** The real binary as a process, with `env` added to the environment. */
function binary(args: readonly string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env } });
  expect(r.stdout + r.stderr).not.toMatch(STACK_LINE);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("help and version", () => {
  it.each(NAMES)("rnnc %s --help prints the command's usage and every option on stdout, exit 0", async (name) => {
    const commands = await loadCommands();
    const spec = commands.find((c) => c.name === name)!;
    for (const argv of [[name, "--help"], [name, "-h"], ["help", name]]) {
      const r = await rnnc(...argv);
      expect(r).toMatchObject({ code: 0, err: "" });
      expect(r.out).toMatch(new RegExp(`^usage: rnnc ${name} `));
      for (const flag of Object.keys(spec.options)) expect(r.out).toContain(`--${flag}`);
    }
  });

  it("--help wins over everything else on the line (no parse error for a missing file)", async () => {
    expect(await rnnc("build", "--help")).toMatchObject({ code: 0, err: "" });
    expect((await rnnc("gradcheck", "--steps", "-3", "--help")).code).toBe(0);
  });

  it("rnnc --help lists every command; --version prints the package's version", async () => {
    const help = await rnnc("--help");
    expect(help.code).toBe(0);
    for (const name of NAMES) expect(help.out).toMatch(new RegExp(`^  ${name} `, "m"));
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) expect(await rnnc(flag)).toEqual({ code: 0, out: `rnnc ${version}\n`, err: "" });
  });

  it("rnnc without arguments: the overview on stderr, nothing on stdout, exit 2", async () => {
    const r = await rnnc();
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toMatch(/^usage: rnnc <command>/);
  });
});

describe("usage errors, and only they, exit 2 with the usage on stderr", () => {
  it("an unknown option: named, the nearest suggested, the command's usage line, exit 2", async () => {
    const r = await rnnc("check", RNN, "--jsn");
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toBe("rnnc check: error: unknown option '--jsn'; did you mean '--json'?\nusage: rnnc check FILE.cell... [options]\nRun 'rnnc check --help' for its options.\n");
  });

  it("an unknown command suggests the nearest", async () => {
    const r = await rnnc("buld", RNN);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^rnnc: error: unknown command 'buld'; did you mean 'build'\?/);
  });

  it("--steps -3 is the flag's own message, not the argument parser's", async () => {
    const r = await rnnc("gradcheck", RNN, "--steps", "-3");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^rnnc gradcheck: error: --steps: expected an integer from 1 to \d+, got '-3'\n/);
    expect(r.err).not.toMatch(/ambiguous|ERR_/);
  });

  it("a string option without its value names the option and its value", async () => {
    const r = await rnnc("build", RNN, "--out");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^rnnc build: error: --out needs a value: --out DIR\n/);
  });

  it("a missing file is exit 1, one line, without any usage", async () => {
    const r = await rnnc("check", tmp.path("missing.cell"));
    expect(r.code).toBe(1);
    expect(r.err).toBe(`rnnc: error: cannot read '${tmp.path("missing.cell")}': no such file or directory\n`);
  });

  it("errors in a cell are exit 1 and print no usage", async () => {
    const r = await rnnc("check", temp("two.cell", TWO_ERRORS));
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/usage:/);
  });
});

describe("the summary line and --deny-warnings", () => {
  it("two errors end with '2 errors'", async () => {
    const r = await rnnc("check", temp("two.cell", TWO_ERRORS));
    expect(r.err.trimEnd().split("\n").at(-1)).toBe("2 errors");
  });

  it("a warning is counted and keeps exit 0; --deny-warnings makes it exit 1", async () => {
    const path = temp("forgot.cell", FORGOTTEN_UPDATE);
    const r = await rnnc("check", path);
    expect(r.code).toBe(0);
    expect(r.err.trimEnd().split("\n").at(-1)).toBe("1 warning");
    const denied = await rnnc("check", path, "--deny-warnings");
    expect(denied.code).toBe(1);
    expect(denied.err.trimEnd().split("\n").at(-1)).toBe("1 warning (warnings denied by --deny-warnings)");
    expect((await rnnc("build", path, "--out", tmp.path("denied"), "--deny-warnings")).code).toBe(1);
  });

  it("a clean cell prints no summary at all", async () => {
    expect(await rnnc("check", RNN)).toMatchObject({ code: 0, err: "" });
  });
});

describe("colour", () => {
  it("FORCE_COLOR and NO_COLOR decide, then whether the stream is a terminal", () => {
    expect(wantsColor(true, {})).toBe(true);
    expect(wantsColor(false, {})).toBe(false);
    expect(wantsColor(true, { NO_COLOR: "1" })).toBe(false);
    expect(wantsColor(true, { NO_COLOR: "" })).toBe(true);
    expect(wantsColor(false, { FORCE_COLOR: "1" })).toBe(true);
    expect(wantsColor(false, { FORCE_COLOR: "" })).toBe(true);
    expect(wantsColor(true, { FORCE_COLOR: "0" })).toBe(false);
    expect(wantsColor(true, { TERM: "dumb" })).toBe(false);
  });

  it("the real binary colours its diagnostics with FORCE_COLOR, and not when piped or with NO_COLOR", () => {
    const path = temp("two.cell", TWO_ERRORS);
    const forced = binary(["check", path], { FORCE_COLOR: "1" });
    expect(forced.err).toContain("\x1b[1;31merror[E3002]\x1b[0m");
    expect(forced.err.replace(/\x1b\[[0-9;]*m/g, "")).toBe(binary(["check", path]).err);
    expect(binary(["check", path]).err).not.toContain("\x1b[");
    expect(binary(["check", path], { NO_COLOR: "1" }).err).not.toContain("\x1b[");
  });
});

describe("--json: LSP-shaped diagnostics", () => {
  it("check --json on a file with two errors", async () => {
    const path = temp("two.cell", TWO_ERRORS);
    const r = await rnnc("check", path, "--json");
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out) as { files: { path: string; uri: string; diagnostics: Record<string, unknown>[] }[]; errors: number; warnings: number };
    expect(doc).toMatchObject({ errors: 2, warnings: 0 });
    expect(doc.files).toHaveLength(1);
    const uri = pathToFileURL(path).href;
    expect(doc.files[0]).toMatchObject({ path, uri });
    expect(doc.files[0]!.diagnostics).toEqual([
      {
        range: { start: { line: 5, character: 11 }, end: { line: 5, character: 17 } },
        severity: 1, code: "E3002", source: "rnnc",
        message: "shape mismatch in '*': Wx is [8, 4] but x is [4]\nhelp: '*' is elementwise; for a matrix product write 'Wx·x' (or 'Wx @ x')",
        relatedInformation: [{ location: { uri, range: { start: { line: 4, character: 8 }, end: { line: 4, character: 16 } } }, message: "Wx is declared [8, 4]" }],
        help: "'*' is elementwise; for a matrix product write 'Wx·x' (or 'Wx @ x')",
      },
      {
        range: { start: { line: 5, character: 31 }, end: { line: 5, character: 32 } },
        severity: 1, code: "E3001", source: "rnnc", message: "unknown name 'q'", relatedInformation: [],
      },
    ]);
    expect(r.err).toBe("2 errors\n");
  });

  it("a range counts UTF-16 code units, as LSP does (σ and · are one each)", async () => {
    const r = await rnnc("check", temp("forgot.cell", FORGOTTEN_UPDATE), "--json");
    const d = (JSON.parse(r.out) as { files: { diagnostics: { severity: number; code: string; range: unknown }[] }[] }).files[0]!.diagnostics;
    expect(d.map((x) => [x.code, x.severity])).toEqual([["W3002", 2]]);
    expect(d[0]!.range).toEqual({ start: { line: 3, character: 8 }, end: { line: 3, character: 9 } });
  });

  it("build --json lists the modules written, and a clean file with no diagnostics", async () => {
    const out = tmp.path("json-out");
    const r = await rnnc("build", RNN, "--out", out, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ files: [{ path: RNN, uri: pathToFileURL(join(process.cwd(), RNN)).href, diagnostics: [] }], errors: 0, warnings: 0, wrote: [join(out, "rnn.ts")] });
    expect(existsSync(join(out, "rnn.ts"))).toBe(true);
  });
});

describe("rnnc graph: one picture a file", () => {
  it("--out FILE writes the picture there; --cell chooses the cell", async () => {
    const path = temp("two-cells.cell", TWO_CELLS);
    const out = tmp.path("b.dot");
    const r = await rnnc("graph", path, "--cell", "b", "--out", out);
    expect(r).toMatchObject({ code: 0, out: `wrote ${out}\n`, err: "" });
    expect(readFileSync(out, "utf8")).toMatch(/^digraph "b" \{/);
  });

  it("a file with two cells needs --cell for SVG, Mermaid or --out (exit 2); DOT on stdout lists both", async () => {
    const path = temp("two-cells.cell", TWO_CELLS);
    const r = await rnnc("graph", path, "--format", "mermaid");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/has 2 cells \(a, b\): one mermaid picture is one cell; choose one with --cell/);
    expect((await rnnc("graph", path, "--format", "svg")).code).toBe(2);
    expect((await rnnc("graph", path, "--out", tmp.path("both.dot"))).code).toBe(2);
    const dot = await rnnc("graph", path);
    expect(dot.code).toBe(0);
    expect(dot.out.match(/^digraph "[ab]" \{/gm)).toEqual(['digraph "a" {', 'digraph "b" {']);
  });

  it("--out into a missing directory is exit 1 naming the path", async () => {
    const out = tmp.path("no", "such", "dir", "g.dot");
    const r = await rnnc("graph", RNN, "--out", out);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`rnnc: error: cannot write '${out}': no such file or directory\n`);
  });
});

describe("check and graph load no TypeScript, ts-morph or prettier", () => {
  it("the real binary runs check and graph with those packages made unloadable", () => {
    const hook = temp("block.mjs", `export async function resolve(spec, ctx, next) {
  if (/^(ts-morph|typescript|prettier)(\\/|$)/.test(spec)) throw new Error("loaded " + spec);
  return next(spec, ctx);
}\n`);
    const register = temp("register.mjs", `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);
    const run = (...args: string[]) => spawnSync(process.execPath, ["--import", pathToFileURL(register).href, BIN, ...args], { encoding: "utf8" });
    const checked = run("check", RNN);
    expect(checked.stderr).toBe("");
    expect(checked.stdout).toBe(`${RNN}: ok (rnn)\n`);
    expect(run("graph", RNN, "--backward").status).toBe(0);
    expect(run("explain", "E3002").status).toBe(0);
    expect(run("explain", "examples/cells/lstm.cell", "--after-passes").status).toBe(0);
    // The hook does block them: a build needs them and fails.
    const built = run("build", RNN, "--out", tmp.path("blocked"));
    expect(built.status).toBe(1);
    expect(built.stderr).toMatch(/loaded (ts-morph|typescript|prettier)/);
  });
});

describe("rnnc build --watch", () => {
  it("builds, then rebuilds when the file changes, until interrupted", async () => {
    const path = temp("watched.cell", "cell w {\n  state h[3]\n  h = tanh(h)\n}\n");
    const out = tmp.path("watch-out");
    const child = spawn(process.execPath, [BIN, "build", path, "--out", out, "--watch"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const waitFor = (count: number) => new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if ((stderr.match(/watching 1 file for changes/g) ?? []).length >= count) (clearInterval(timer), resolve());
        if (child.exitCode !== null) (clearInterval(timer), reject(new Error(`exited: ${stderr}`)));
      }, 20);
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    await waitFor(1);
    expect(readFileSync(join(out, "w.ts"), "utf8")).toContain("tanh");
    // Saved as many editors save: a new file renamed over the old one.
    writeFileSync(`${path}.tmp`, "cell w {\n  state h[3]\n  h = relu(h)\n}\n");
    renameSync(`${path}.tmp`, path);
    await waitFor(2);
    writeFileSync(path, "cell w {\n  state h[3]\n  h = relu(q)\n}\n");
    await waitFor(3);
    const code = await new Promise<number | null>((resolve) => (child.on("exit", (c) => resolve(c)), child.kill("SIGINT")));
    expect(code).toBe(0);
    expect(stdout.match(/wrote /g)).toHaveLength(2);
    expect(readFileSync(join(out, "w.ts"), "utf8")).not.toContain("tanh");
    expect(stderr).toMatch(/error\[E3001\]: unknown name 'q'[\s\S]*1 error; build failed; watching 1 file/);
    expect(stderr).not.toMatch(STACK_LINE);
  }, 60_000);
});

describe("rnnc export's options", () => {
  it("the CLI's definition (with help) accepts exactly the options the export command reads", () => {
    expect(Object.keys(exportEntry.options).sort()).toEqual(Object.keys(exportCommand.options).sort());
  });
});

describe("the README's CLI section lists every command and every flag the CLI accepts", () => {
  it("and nothing more", async () => {
    const readme = readFileSync("README.md", "utf8");
    const section = readme.slice(readme.indexOf("## The command line"), readme.indexOf("\n## ", readme.indexOf("## The command line") + 5));
    const commands = await loadCommands();
    const listed = new Set([...section.matchAll(/`rnnc (\w+)/g)].map((m) => m[1]!));
    expect([...listed].sort()).toEqual(commands.map((c) => c.name).sort());
    for (const c of commands) {
      const rows = section.split("\n").filter((l) => l.startsWith(`| \`rnnc ${c.name} `));
      expect(rows.length, `a table row for rnnc ${c.name}`).toBeGreaterThan(0);
      const row = rows.join("\n");
      const flags = new Set([...row.matchAll(/(?<![\w-])(--?[a-zA-Z][\w-]*)/g)].map((m) => m[1]!));
      expect([...flags].sort(), `rnnc ${c.name}`).toEqual(acceptedFlags(c).filter((f) => f !== "--help" && f !== "-h").sort());
    }
    expect(section).toMatch(/--help/);
    expect(section).toMatch(/--version/);
  });
});

describe("in-process callers", () => {
  it("main's Io may ask for colour", async () => {
    let err = "";
    const code = await main(["check", temp("two.cell", TWO_ERRORS)], { out: () => undefined, err: (t) => (err += t), color: true });
    expect(code).toBe(1);
    expect(err).toContain("\x1b[1;31merror[E3002]\x1b[0m");
  });
});
