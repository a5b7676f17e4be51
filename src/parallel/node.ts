/**
 * `parallel` for Node: its workers are `node:worker_threads` threads (see `./index.ts` for the
 * browser's). A worker keeps the process alive only while it has a task, so a program that
 * forgets `close()` still exits; `close()` stops the workers at once.
 */
import { availableParallelism } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { threadCpu } from "./cpu-node.js";
import type { CellSource, Reply } from "./protocol.js";
import { startParallel, type ParallelCell, type ParallelOptions, type Platform, type WorkerHandle } from "./pool.js";

export type { CellSource, SourceOptions } from "./protocol.js";
export type { CallTiming, ParallelCell, ParallelOptions } from "./pool.js";
export type { TaskTiming } from "./protocol.js";

const WORKER = new URL("./worker-node.js", import.meta.url);

/** The process's Node options, but `--input-type`, which only `node -e` accepts. */
function processArgv(): string[] {
  const argv: string[] = [];
  for (let k = 0; k < process.execArgv.length; k++) {
    const a = process.execArgv[k]!;
    if (a === "--input-type") k++;
    else if (!a.startsWith("--input-type=")) argv.push(a);
  }
  return argv;
}

/** The options a worker was started with, once one was: every later worker takes the same. */
let workerArgv: string[] | undefined;

/**
 * Starts a worker with the process's Node options. Node refuses a worker V8's options and those
 * of the whole process (`--max-old-space-size`, `--expose-gc`, `--perf-basic-prof`, …), which the
 * worker has anyway: they are dropped, as Node's error names them (and all options are, should
 * it name them otherwise), so that `node --max-old-space-size=8192 train.js` runs its workers.
 */
function startWorker(): Worker {
  if (workerArgv) return new Worker(WORKER, { execArgv: workerArgv });
  let argv = processArgv();
  for (;;) {
    try {
      const worker = new Worker(WORKER, { execArgv: argv });
      workerArgv = argv;
      return worker;
    } catch (e) {
      if ((e as { code?: unknown }).code !== "ERR_WORKER_INVALID_EXEC_ARGV" || argv.length === 0) throw e;
      const named = new Set(String((e as Error).message).replace(/^[^:]*:\s*/u, "").split(/,\s*/u));
      const kept = argv.filter((a) => !named.has(a));
      argv = kept.length < argv.length ? kept : [];
    }
  }
}

/** Node's worker threads (shared memory is always there). */
const nodePlatform = (): Platform => ({
  unavailable: undefined,
  cpu: threadCpu,
  cores: availableParallelism(),
  spawn(): WorkerHandle {
    const worker = startWorker();
    let stopping = false;
    return {
      post: (task) => worker.postMessage(task),
      listen(reply, fail) {
        worker.on("message", (r: Reply) => reply(r));
        worker.on("error", (e: Error) => fail(e));
        worker.on("messageerror", (e: Error) => fail(e));
        worker.on("exit", (code: number) => stopping || fail(new Error(`it exited with code ${code}`)));
      },
      hold: (busy) => (busy ? worker.ref() : worker.unref()),
      terminate: async () => {
        stopping = true;
        await worker.terminate();
      },
    };
  },
  /** A URL as it is; a path, absolute or from the working directory, as a file URL. */
  moduleUrl(module) {
    if (module instanceof URL) return module.href;
    if (/^[a-z][a-z0-9+.-]+:/iu.test(module) && !/^[a-z]:[\\/]/iu.test(module)) return module;
    return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
  },
});

/** A parallel cell over Node worker threads (see `ParallelCell`). */
export function parallel(source: CellSource, options: ParallelOptions = {}): Promise<ParallelCell> {
  return startParallel(nodePlatform(), source, options);
}
