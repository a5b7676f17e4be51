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

/** The process's Node options a worker takes: all but `--input-type`, which only `node -e` accepts. */
function workerArgv(): string[] {
  const argv: string[] = [];
  for (let k = 0; k < process.execArgv.length; k++) {
    const a = process.execArgv[k]!;
    if (a === "--input-type") k++;
    else if (!a.startsWith("--input-type=")) argv.push(a);
  }
  return argv;
}

/** Node's worker threads (shared memory is always there). */
const nodePlatform = (): Platform => ({
  unavailable: undefined,
  cpu: threadCpu,
  cores: availableParallelism(),
  spawn(): WorkerHandle {
    const worker = new Worker(WORKER, { execArgv: workerArgv() });
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
