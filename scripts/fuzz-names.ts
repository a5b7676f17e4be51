/**
 * Cells under hostile file names: each name carries a character that ends a line, a comment or a
 * string in JavaScript, followed by code that sets a global. Building, formatting and loading the
 * module must never run it, and diagnostics must still start with the file name.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildModule } from "../compiler/build.js";
import { CompileError, checkSource, compileSource } from "../compiler/index.js";
import { load } from "../src/load.js";
import type { FailureKind } from "./fuzz-pipeline.js";

export const PIECES = [
  "\u2028", "\u2029", "\n", "\r", "\r\n", "\u0085", "*/", "\"", "'", "`", "\\", "${", "😀", "\ud800", "</script>", "\\u2028",
];

const SENTINEL = "__rnncFuzzRan";
const payload = (piece: string) => `a${piece}globalThis.${SENTINEL}=1;${piece}//`;

type Report = (stage: string, what: string, detail: string, kind?: FailureKind) => void;

/** Paths to try: on disk (a directory per piece, so the payload may hold `//`), and in memory only. */
async function paths(dir: string, pieces: readonly string[]): Promise<{ path: string; onDisk: boolean }[]> {
  const out: { path: string; onDisk: boolean }[] = [];
  for (const [k, piece] of pieces.entries()) {
    const sub = join(dir, String(k), payload(piece).slice(0, -2));
    try {
      await mkdir(sub, { recursive: true });
      out.push({ path: `${sub}//b.cell`, onDisk: true }, { path: join(dir, String(k), `n${piece}.cell`), onDisk: true });
    } catch {
      // a name this file system refuses
    }
    out.push({ path: `${payload(piece)}\0.cell`, onDisk: false });
  }
  return out;
}

/** Two of the pieces, chosen by `seed` (each build costs a compile, a format and two loads). */
export async function hostileNames(text: string, seed: number, report: Report): Promise<void> {
  const pieces = [PIECES[seed % PIECES.length]!, PIECES[(seed >>> 8) % PIECES.length]!];
  const dir = await mkdtemp(join(tmpdir(), "rnnc-fuzz-"));
  try {
    for (const { path, onDisk } of await paths(dir, pieces)) {
      let source = text;
      if (onDisk) {
        try {
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, text);
        } catch {
          continue; // a name this file system refuses
        }
        source = await readFile(path, "utf8");
      }
      await buildUnder(source, path, report);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function buildUnder(text: string, path: string, report: Report): Promise<void> {
  const shown = JSON.stringify(path).replace(/[\u2028\u2029\u0085]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
  delete (globalThis as Record<string, unknown>)[SENTINEL];
  try {
    for (const cell of compileSource(text, { path, dtype: "f64" })) {
      if (/[\u2028\u2029]/.test(cell.code)) report("hostile file name", "raw U+2028/U+2029 in emitted code", `path ${shown}`, "code-ran");
      load(cell.code);
      load(await buildModule(cell));
    }
  } catch (e) {
    report("hostile file name", `${(e as Error).name}: ${String((e as Error).message).split("\n")[0]!.slice(0, 80)}`, `path ${shown}\n${(e as Error).stack ?? e}`);
  }
  if ((globalThis as Record<string, unknown>)[SENTINEL] !== undefined)
    report("hostile file name", "code from the file name ran", `path ${shown}`, "code-ran");
  try {
    checkSource(`${text}\n@`, { path });
  } catch (e) {
    if (!(e instanceof CompileError)) report("hostile file name", "diagnostic threw", String(e));
    else if (!e.message.startsWith(`${path}:`)) report("hostile file name", "diagnostic does not start with the path", `path ${shown}`, "diagnostic");
  }
}
