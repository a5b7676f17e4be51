/**
 * What `rnnc build` writes for each compiled cell, made on two more threads, so that a build uses
 * both cores of a small machine: the *printer* thread loads ts-morph and prettier, prints each
 * TypeScript module from its parts (`typescript-parts.ts`) and formats; the *formatter* thread
 * loads prettier only and formats (it is started only when a core is free for it:
 * `formattingThreads`). Both start loading when the builder starts, while this thread compiles
 * the cells. Each module to format goes to whichever thread has the fewest jobs, at most
 * `DEPTH` jobs each, so neither waits on the other's work; the text is the same as `buildFiles`'
 * (the same functions make it), whichever thread makes it. Run from the TypeScript sources (no
 * compiled worker beside this file), it all happens on this thread instead, through `build.ts`.
 */
import { existsSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { EmitKind } from "./build.js";
import { renderDeclarations, renderJavaScript, type CellModule } from "./codegen/module.js";
import { typescriptParts, type TypeScriptParts } from "./codegen/typescript-parts.js";

/** A job of a worker: print a TypeScript module from its parts (unformatted), or format a text. */
export type BuildJob =
  | { readonly id: number; readonly kind: "print"; readonly parts: TypeScriptParts }
  | { readonly id: number; readonly kind: "format"; readonly text: string };

/** The worker's answer: the text, or what went wrong. */
export type BuildReply = { readonly id: number; readonly text: string } | { readonly id: number; readonly error: string };

/** What a worker is started with: whether it loads ts-morph to print TypeScript. */
export interface BuildWorkerData {
  readonly prints: boolean;
}

export interface BuiltFile {
  readonly extension: string;
  readonly text: string;
}

/** Makes the files of compiled cells; `close` stops its threads (jobs still running are dropped). */
export interface FileBuilder {
  /** The files `rnnc build --emit KIND` writes for a cell, by extension, formatted. */
  files(cell: { readonly module: CellModule }, emit: EmitKind): Promise<BuiltFile[]>;
  close(): Promise<void>;
}

const WORKER = new URL("./build-worker.js", import.meta.url);

/**
 * Modules a thread holds to format at once: two, so that a thread that finishes one has the next
 * at hand even while this thread is busy compiling and cannot answer at once.
 */
const DEPTH = 2;

/**
 * How many threads format: two when a core is free for the second (more than one core, and a
 * 1-minute load average below cores − 1), else one. On a busy machine the second thread gains no
 * time and costs a second start and warm-up of prettier (about a fifth more CPU for the examples).
 */
export function formattingThreads(): 1 | 2 {
  const cores = os.availableParallelism();
  return cores >= 2 && os.loadavg()[0]! < cores - 1 ? 2 : 1;
}

/** A builder whose threads (`threads`: 1, the printer alone, or 2) start loading ts-morph and prettier now. */
export function startFileBuilder(threads: 1 | 2 = formattingThreads()): FileBuilder {
  return existsSync(fileURLToPath(WORKER)) ? threadBuilder(threads) : inProcessBuilder();
}

function inProcessBuilder(): FileBuilder {
  return {
    files: async (cell, emit) => (await import("./build.js")).buildFiles(cell, emit),
    close: async () => {},
  };
}

type Job = { readonly kind: "print"; readonly parts: TypeScriptParts } | { readonly kind: "format"; readonly text: string };

interface Waiting {
  readonly job: Job;
  resolve(text: string): void;
  reject(e: Error): void;
}

/** A worker and the jobs it holds, by id. */
interface Thread {
  readonly worker: Worker;
  /** Whether it loads ts-morph and prints TypeScript (the printer), or only formats. */
  readonly prints: boolean;
  readonly held: Map<number, Waiting>;
}

/** How many modules `t` holds to format. */
const formatting = (t: Thread) => [...t.held.values()].filter((w) => w.job.kind === "format").length;

function threadBuilder(count: 1 | 2): FileBuilder {
  const threads: Thread[] = (count === 2 ? [true, false] : [true]).map((prints) => ({
    worker: new Worker(WORKER, { workerData: { prints } satisfies BuildWorkerData }),
    prints,
    held: new Map(),
  }));
  const printer = threads[0]!;
  const queue: Waiting[] = [];
  let next = 0;
  let closed = false;
  /** Why the builder stopped (a thread failed or exited): every job after it is refused with it. */
  let broken: Error | undefined;
  const send = (t: Thread, w: Waiting) => {
    const id = next++;
    t.held.set(id, w);
    t.worker.postMessage({ id, ...w.job } satisfies BuildJob);
  };
  const fail = (e: Error) => {
    broken ??= e;
    for (const w of [...queue, ...threads.flatMap((t) => [...t.held.values()])]) w.reject(e);
    queue.length = 0;
    for (const t of threads) t.held.clear();
  };
  // Hands out the queued jobs: a print at once to the printer (printing is quick, and every
  // module printed is one more the formatter can take); a module to format to the thread with
  // room that holds fewest (the formatter on a tie). A thread keeps the process alive only while
  // it holds work.
  const dispatch = () => {
    for (const w of queue.filter((w) => w.job.kind === "print")) send(printer, w);
    const formats = queue.filter((w) => w.job.kind === "format");
    queue.length = 0;
    for (const w of formats) {
      const t = threads.filter((t) => formatting(t) < DEPTH).sort((a, b) => formatting(a) - formatting(b) || Number(a.prints) - Number(b.prints))[0];
      if (t) send(t, w);
      else queue.push(w);
    }
    for (const t of threads) (t.held.size > 0 ? t.worker.ref() : t.worker.unref());
  };
  for (const t of threads) {
    t.worker.on("message", (r: BuildReply) => {
      const w = t.held.get(r.id);
      if (!w) return;
      t.held.delete(r.id);
      if ("error" in r) w.reject(new Error(`${w.job.kind === "print" ? "printing" : "formatting"} a module failed: ${r.error}`));
      else w.resolve(r.text);
      dispatch();
    });
    t.worker.on("error", (e: Error) => fail(new Error(`the build thread failed: ${e.message}`)));
    t.worker.on("exit", (code: number) => closed || fail(new Error(`the build thread exited with code ${code}`)));
  }
  dispatch();
  const run = (job: Job): Promise<string> => {
    if (closed) return Promise.reject(new Error("the build thread is closed"));
    if (broken) return Promise.reject(broken);
    const done = new Promise<string>((resolve, reject) => queue.push({ job, resolve, reject }));
    dispatch();
    return done;
  };
  return {
    async files(cell, emit) {
      const m = cell.module;
      if (emit === "ts") return [{ extension: ".ts", text: await run({ kind: "format", text: await run({ kind: "print", parts: typescriptParts(m) }) }) }];
      const [js, dts] = await Promise.all([
        run({ kind: "format", text: renderJavaScript(m, "module") }),
        run({ kind: "format", text: renderDeclarations(m) }),
      ]);
      return [{ extension: ".js", text: js }, { extension: ".d.ts", text: dts }];
    },
    async close() {
      if (closed) return;
      closed = true;
      queue.length = 0;
      for (const t of threads) t.held.clear();
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}
