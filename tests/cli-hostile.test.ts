/**
 * `rnnc` against a hostile file system and hostile flags: two files defining one cell, a build
 * killed or failing half-way, `--out` that is a file, a directory where a module goes, read-only
 * and permission-denied directories, missing inputs, `--size __proto__=5`, a reader that closes
 * the pipe. Every failure is one line naming the path, exit 1 (2 for usage), no stack trace, and
 * a build that fails writes nothing. (Runs the CLI in-process, and the real binary over dist/
 * where a real process matters: after `npm run build`.)
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeFileError, parseSizes } from "../src/args.js";
import { STACK_LINE, rnncClean, type Run, tempFolder } from "./reference/harness.js";

const RNN = "examples/cells/rnn.cell";
const LSTM = "examples/cells/lstm.cell";
const BIN = join(process.cwd(), "bin/rnnc.js");

const tmp = tempFolder();
const temp = tmp.file;

const rnnc = rnncClean;

/** The real binary, as a process. */
function node(args: readonly string[], options: Parameters<typeof spawnSync>[2] = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", ...options });
  const run = { code: r.status, out: String(r.stdout), err: String(r.stderr) };
  expect(run.out + run.err).not.toMatch(STACK_LINE);
  expect(run.err).not.toMatch(/internal error/);
  return run;
}

const rnnCell = (I = 8) => `cell rnn {\n  size I = ${I}, H = 16\n  input x[I]\n  state h[H]\n  param Wx[H, I], Wh[H, H], b[H]\n  h = tanh(Wx·x + Wh·h + b)\n}\n`;
const BAD = "cell bad {\n  state h[3]\n  h = q\n}\n";
const ls = (d: string) => (existsSync(d) ? readdirSync(d).sort() : []);

describe("two cells that would be one module", () => {
  it("the same cell name in two files: an error naming both files and spans, exit 1, nothing written", async () => {
    const [a, b] = [temp("a.cell", rnnCell()), temp("b.cell", rnnCell(3))];
    const out = tmp.path("dup");
    const r = await rnnc("build", a, b, "--out", out);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(new RegExp(`^${b}:1:6: error\\[E\\d+\\]: cell 'rnn' is also defined in '${a}': both would be written to '${join(out, "rnn.ts")}'`));
    expect(r.err).toContain(`note: cell 'rnn' is first defined at ${a}:1:6`);
    expect(existsSync(out)).toBe(false);
  });

  it("names that differ only in case are one file on macOS and Windows: an error too", async () => {
    const upper = temp("upper.cell", rnnCell().replace("cell rnn", "cell Rnn"));
    const out = tmp.path("case");
    const r = await rnnc("build", temp("lower.cell", rnnCell()), upper, "--out", out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/upper\.cell:1:6: error\[E\d+\]: cell 'Rnn' would be written to .*Rnn\.ts'.*case-insensitive/);
    expect(existsSync(out)).toBe(false);
  });

  it("a file given twice is caught the same way", async () => {
    const a = temp("twice.cell", rnnCell());
    const r = await rnnc("build", a, a, "--out", tmp.path("twice"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/twice\.cell:1:6: error.*also defined in/);
  });
});

describe("a build that fails writes nothing", () => {
  it("a bad file among good ones: exit 1, the --out directory is not even created", async () => {
    const out = tmp.path("one-bad");
    const r = await rnnc("build", RNN, temp("bad.cell", BAD), LSTM, "--out", out);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/bad\.cell:3:7: error/);
    expect(existsSync(out)).toBe(false);
  });

  it("a directory where the second module goes: nothing is written, the first module keeps its old text, no temporary file is left", async () => {
    const out = tmp.path("half");
    mkdirSync(join(out, "rnn.ts"), { recursive: true });
    writeFileSync(join(out, "lstm.ts"), "// old\n");
    const r = await rnnc("build", LSTM, RNN, "--out", out);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`rnnc: error: cannot write '${join(out, "rnn.ts")}': it is a directory\n`);
    expect(readFileSync(join(out, "lstm.ts"), "utf8")).toBe("// old\n");
    expect(ls(out)).toEqual(["lstm.ts", "rnn.ts"]);
  });

  it("modules are replaced by a rename, never truncated in place: a hard link to the old module keeps its old text", async () => {
    const out = tmp.path("rename");
    expect((await rnnc("build", RNN, "--out", out)).code).toBe(0);
    const old = readFileSync(join(out, "rnn.ts"), "utf8");
    linkSync(join(out, "rnn.ts"), tmp.path("rnn-old.ts"));
    expect((await rnnc("build", RNN, "--out", out, "--size", "H=4")).code).toBe(0);
    expect(readFileSync(tmp.path("rnn-old.ts"), "utf8")).toBe(old);
    expect(readFileSync(join(out, "rnn.ts"), "utf8")).toMatch(/H: 4/);
    expect(ls(out)).toEqual(["rnn.ts"]);
  });

  it("a build killed at any moment leaves each module absent or whole, never truncated", async () => {
    const out = tmp.path("killed");
    const started = Date.now();
    expect(node(["build", LSTM, "--out", tmp.path("killed-ref")]).code).toBe(0);
    const duration = Date.now() - started;
    const whole = [readFileSync(tmp.path("killed-ref", "lstm.ts"), "utf8")];
    // Kills spread over the last part of a build, where it writes.
    for (const delay of [0.6, 0.75, 0.9, 1].map((f) => Math.round(f * duration))) {
      await new Promise<void>((resolve) => {
        const child = spawn(process.execPath, [BIN, "build", LSTM, "--out", out], { stdio: "ignore" });
        const timer = setTimeout(() => child.kill("SIGKILL"), delay);
        child.on("exit", () => (clearTimeout(timer), resolve()));
      });
      if (existsSync(join(out, "lstm.ts"))) expect(whole).toContain(readFileSync(join(out, "lstm.ts"), "utf8"));
      expect(ls(out).filter((f) => f !== "lstm.ts" && !/^\.lstm\.ts\..*\.tmp$/.test(f))).toEqual([]);
    }
  }, 120_000);
});

describe("file-system failures are reported as what they are, naming the path (exit 1)", () => {
  it("--out is a file (EEXIST)", async () => {
    const file = temp("out-is-a-file", "x");
    const r = await rnnc("build", RNN, "--out", file);
    expect(r).toMatchObject({ code: 1, out: "" });
    expect(r.err).toBe(`rnnc: error: cannot create directory '${file}': it exists and is not a directory\n`);
  });

  it("--out is below a file (ENOTDIR): names the file in the way", async () => {
    const file = temp("blocker", "x");
    const r = await rnnc("build", RNN, "--out", join(file, "sub", "out"));
    expect(r.code).toBe(1);
    expect(r.err).toBe(`rnnc: error: cannot create directory '${join(file, "sub", "out")}': '${file}' is not a directory\n`);
  });

  it("a directory where the module goes (EISDIR)", async () => {
    const out = tmp.path("isdir");
    mkdirSync(join(out, "rnn.ts"), { recursive: true });
    const r = await rnnc("build", RNN, "--out", out);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`rnnc: error: cannot write '${join(out, "rnn.ts")}': it is a directory\n`);
  });

  it("a missing input file (ENOENT), for every command", async () => {
    const missing = tmp.path("no-such.cell");
    for (const argv of [["build", missing], ["check", missing], ["gradcheck", missing], ["eval", missing, "--data", missing], ["graph", missing]]) {
      const r = await rnnc(...argv);
      expect(r.code, argv.join(" ")).toBe(1);
      expect(r.err).toBe(`rnnc: error: cannot read '${missing}': no such file or directory\n`);
    }
  });

  it("an input that is a directory (EISDIR), and --data that is a directory", async () => {
    const dir = tmp.path();
    const r = await rnnc("check", dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`rnnc: error: cannot read '${dir}': it is a directory\n`);
    const d = await rnnc("eval", RNN, "--data", dir);
    expect(d.code).toBe(1);
    expect(d.err).toBe(`rnnc: error: cannot read '${dir}': it is a directory\n`);
  });

  it("the same through the real binary: one line, exit 1, no stack trace", () => {
    const file = temp("out-is-a-file-2", "x");
    expect(node(["build", RNN, "--out", file])).toMatchObject({ code: 1, err: `rnnc: error: cannot create directory '${file}': it exists and is not a directory\n` });
    expect(node(["check", tmp.path("absent.cell")])).toMatchObject({ code: 1, err: `rnnc: error: cannot read '${tmp.path("absent.cell")}': no such file or directory\n` });
  });

  // Root ignores permission bits, so the permission-denied build runs as `nobody` when the tests
  // run as root (as CI does); anyone else meets the permission bits as they are.
  const root = process.getuid?.() === 0;
  it.skipIf(process.platform === "win32")("a directory without write permission (EACCES), for real", () => {
    const box = tmp.path("perm");
    const out = join(box, "out");
    mkdirSync(out, { recursive: true });
    const cell = join(box, "rnn.cell");
    writeFileSync(cell, rnnCell());
    chmodSync(tmp.path(), 0o755);
    chmodSync(box, 0o755);
    chmodSync(cell, 0o644);
    chmodSync(out, 0o555);
    const r = node(["build", cell, "--out", out], root ? { uid: 65534, gid: 65534 } : {});
    chmodSync(out, 0o755);
    expect(r).toMatchObject({ code: 1, out: "", err: `rnnc: error: cannot write '${join(out, "rnn.ts")}': permission denied\n` });
    expect(ls(out)).toEqual([]);
  });

  // A read-only file system, for real: a read-only bind mount of the output directory in a mount
  // namespace of the build's own (gone when it exits). Needs root and unshare(1); else skipped.
  const canMount = root && spawnSync("unshare", ["-m", "true"]).status === 0;
  it.skipIf(!canMount)("a read-only file system (EROFS), for real: the old module is kept", () => {
    const out = tmp.path("ro");
    mkdirSync(out);
    writeFileSync(join(out, "rnn.ts"), "// old\n");
    const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"';
    const r = spawnSync("unshare", ["-m", "sh", "-c", script, "sh", out, process.execPath, BIN, "build", RNN, "--out", out], { encoding: "utf8" });
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`rnnc: error: cannot write '${join(out, "rnn.ts")}': the file system is read-only\n`);
    expect(r.status).toBe(1);
    expect(readFileSync(join(out, "rnn.ts"), "utf8")).toBe("// old\n");
    expect(ls(out)).toEqual(["rnn.ts"]);
  });

  it("the message of every errno the mapping knows, and of one it does not", () => {
    const err = (code: string) => Object.assign(new Error(`${code}: something, open 'x.tmp'`), { code, syscall: "open", path: "x.tmp" });
    expect(describeFileError(err("EACCES"), "write", "out/rnn.ts")).toBe("cannot write 'out/rnn.ts': permission denied");
    expect(describeFileError(err("EROFS"), "write", "out/rnn.ts")).toBe("cannot write 'out/rnn.ts': the file system is read-only");
    expect(describeFileError(err("ENOSPC"), "write", "out/rnn.ts")).toBe("cannot write 'out/rnn.ts': no space left on the device");
    expect(describeFileError(err("EPERM"), "create directory", "out")).toBe("cannot create directory 'out': operation not permitted");
    expect(describeFileError(err("EWHATEVER"), "read", "a.cell")).toBe("cannot read 'a.cell': EWHATEVER: something");
    expect(describeFileError(new Error("not a file error"), "read", "a.cell")).toBeUndefined();
  });
});

describe("--size names", () => {
  it.each([["__proto__"], ["constructor"], ["toString"], ["hasOwnProperty"]])("%s=5 is an error naming it (exit 2), nothing written", async (name) => {
    const out = tmp.path(`size-${name}`);
    const r = await rnnc("build", RNN, "--out", out, "--size", `${name}=5`);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`--size: cell 'rnn' has no size named '${name}' \\(sizes: I, H\\)`));
    expect(existsSync(out)).toBe(false);
  });

  it.each([["3H=2", "'3H' is not a size name"], ["H-1=2", "'H-1' is not a size name"], ["=4", "'' is not a size name"], ["H=4,H=5", "'H' is given twice"],
    ["H=99999999999999999999", "expected NAME=positive integer, got 'H=99999999999999999999'"]])("%s: exit 2, %s", async (size, message) => {
    const r = await rnnc("check", RNN, "--size", size);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--size: ${message}`);
  });

  it("a cell that does declare __proto__ gets it: sizes never reach a prototype", async () => {
    const path = temp("proto.cell", "cell p {\n  size __proto__ = 2\n  input x[__proto__]\n  state h[__proto__]\n  h = tanh(x + h)\n}\n");
    const out = tmp.path("proto");
    const r = await rnnc("build", path, "--out", out, "--size", "__proto__=5");
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(join(out, "p.ts"), "utf8")).toMatch(/\["__proto__"\]: 5/);
    expect(parseSizes("__proto__=5,H=2")).toEqual(new Map([["__proto__", 5], ["H", 2]]));
  });

  it("gradcheck, eval and graph check --size against the cell chosen with --cell", async () => {
    const two = temp("two.cell", `${rnnCell()}\ncell other {\n  size Q = 2\n  input x[Q]\n  state h[Q]\n  h = tanh(x + h)\n}\n`);
    const r = await rnnc("gradcheck", two, "--cell", "rnn", "--size", "Q=3");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--size: cell 'rnn' has no size named 'Q'/);
    expect((await rnnc("graph", two, "--cell", "other", "--size", "Q=3")).code).toBe(0);
  });
});

describe("a reader that goes away", () => {
  it.skipIf(process.platform === "win32")("rnnc gradcheck | head -1: no EPIPE stack trace", () => {
    const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const command = [process.execPath, BIN, "gradcheck", LSTM, "examples/cells/gru.cell", "--steps", "1", "--batch", "1"].map(quote).join(" ");
    const r = spawnSync("sh", ["-c", `(${command}; echo "rnnc exited $?" >&2) | head -1`], { encoding: "utf8" });
    expect(r.stdout).toMatch(/^gradcheck lstm: /);
    expect(r.stdout.split("\n")).toHaveLength(2);
    expect(r.stderr).toBe("rnnc exited 0\n");
  });
});

describe("the temporary files", () => {
  it("a good build leaves only the modules, readable like any file", async () => {
    const out = tmp.path("clean");
    expect((await rnnc("build", RNN, LSTM, "--out", out)).code).toBe(0);
    expect(ls(out)).toEqual(["lstm.ts", "rnn.ts"]);
    expect(statSync(join(out, "rnn.ts")).mode & 0o444).toBe(0o444);
  });
});
