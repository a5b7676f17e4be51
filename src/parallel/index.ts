/**
 * Data-parallel forward and backward: `parallel(source, { threads })` splits each batch over worker
 * threads that share the data through `SharedArrayBuffer`, and sums the param gradients in a fixed
 * order. This module is the browser's: its workers are module `Worker`s, which need a
 * cross-origin-isolated page (`crossOriginIsolated`, for shared memory); elsewhere the lanes run
 * one after another on the calling thread, with the same results. Node resolves `rnnc/parallel`
 * to `./node.js`, which uses `node:worker_threads`; this file imports no Node built-in.
 */
import type { Task, Reply } from "./protocol.js";
import { startParallel, type ParallelCell, type ParallelOptions, type Platform, type WorkerHandle } from "./pool.js";
import type { CellSource } from "./protocol.js";

export type { CellSource, SourceOptions } from "./protocol.js";
export type { CallTiming, ParallelCell, ParallelOptions } from "./pool.js";
export type { TaskTiming } from "./protocol.js";

interface BrowserWorker {
  postMessage(message: Task): void;
  terminate(): void;
  addEventListener(type: "message", listener: (event: { data: Reply }) => void): void;
  addEventListener(type: "error" | "messageerror", listener: (event: { message?: string }) => void): void;
}

const scope = globalThis as {
  Worker?: new (url: URL, options: { type: "module" }) => BrowserWorker;
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  location?: { href: string };
};

function why(): string | undefined {
  if (typeof scope.Worker !== "function") return "no Worker here";
  if (typeof SharedArrayBuffer !== "function" || scope.crossOriginIsolated !== true)
    return "the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  return undefined;
}

/** Web workers, where the page may share memory with them. */
const browserPlatform = (): Platform => ({
  unavailable: why(),
  cores: scope.navigator?.hardwareConcurrency ?? 1,
  spawn(): WorkerHandle {
    const worker = new scope.Worker!(new URL("./worker.js", import.meta.url), { type: "module" });
    return {
      post: (task) => worker.postMessage(task),
      listen(reply, fail) {
        worker.addEventListener("message", (event) => reply(event.data));
        worker.addEventListener("error", (event) => fail(new Error(event.message ?? "the worker could not run")));
        worker.addEventListener("messageerror", () => fail(new Error("a message could not be read")));
      },
      hold: () => {},
      terminate: async () => worker.terminate(),
    };
  },
  moduleUrl: (module) => new URL(module, scope.location?.href).href,
});

/** A parallel cell over this page's workers (see `ParallelCell`); the same lanes on this thread where there are none. */
export function parallel(source: CellSource, options: ParallelOptions = {}): Promise<ParallelCell> {
  return startParallel(browserPlatform(), source, options);
}
