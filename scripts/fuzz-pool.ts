/**
 * Worker threads with a deadline per case. A case past its deadline is a hang: its worker is
 * terminated and a fresh one started. A worker that dies (out of memory, a native crash) is a
 * crash of the case it was running. The deadline counts the worker thread's CPU time where Linux
 * reports it (a loaded machine does not make a case hang), with a wall-clock backstop of
 * `WALL_FACTOR` times the deadline; elsewhere it counts wall time.
 */
import { Worker } from "node:worker_threads";
import type { Plan } from "./fuzz-cases.js";
import { threadCpuMs } from "./fuzz-cpu.js";
import type { Outcome } from "./fuzz-pipeline.js";
import type { Ready, Reply, Request } from "./fuzz-worker.js";

const WORKER = new URL("./fuzz-worker.js", import.meta.url);
/** Heap per worker; a case that needs more is reported as a crash. */
const HEAP_MB = 1024;
const WALL_FACTOR = 100;
const POLL_MS = 50;

export type Result = Reply | { readonly hang: string; readonly ms: number } | { readonly crash: string; readonly ms: number };

interface Live {
  readonly worker: Worker;
  readonly tid?: number;
}

function spawn(): Promise<Live> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
    worker.on("error", () => {}); // reported by the case that is running, if any
    worker.once("message", (m: Ready) => resolve({ worker, tid: m.tid }));
    worker.once("error", reject);
  });
}

/** One worker running one case at a time. */
export class Lane {
  private live: Promise<Live> = spawn();

  constructor(private readonly timeoutMs: number) {}

  /** True when deadlines count CPU time. */
  async cpuDeadlines(): Promise<boolean> {
    const { tid } = await this.live;
    return tid !== undefined && threadCpuMs(tid) !== undefined;
  }

  async run(text: string, plan: Plan): Promise<Result> {
    const live = await this.live;
    const { worker, tid } = live;
    const start = performance.now();
    const cpu0 = tid === undefined ? undefined : threadCpuMs(tid);
    return new Promise<Result>((resolve) => {
      const ms = () => performance.now() - start;
      const onMessage = (reply: Reply) => done(reply, false);
      const onError = (e: Error) => done({ crash: `${e.name}: ${e.message}`, ms: ms() }, true);
      const onExit = (code: number) => done({ crash: `worker exited with code ${code}`, ms: ms() }, true);
      const done = (result: Result, restart: boolean) => {
        clearInterval(timer);
        worker.off("message", onMessage).off("error", onError).off("exit", onExit);
        if (restart) this.restart(worker);
        resolve(result);
      };
      const timer = setInterval(() => {
        const cpu = cpu0 === undefined ? undefined : threadCpuMs(tid!)! - cpu0;
        if (cpu !== undefined && cpu >= this.timeoutMs) done({ hang: `${cpu} ms of CPU time`, ms: ms() }, true);
        else if (ms() >= this.timeoutMs * (cpu === undefined ? 1 : WALL_FACTOR)) done({ hang: `${ms().toFixed(0)} ms of wall time`, ms: ms() }, true);
      }, POLL_MS);
      worker.on("message", onMessage).on("error", onError).on("exit", onExit);
      worker.postMessage({ text, plan } satisfies Request);
    });
  }

  private restart(old: Worker): void {
    void old.terminate();
    this.live = spawn();
  }

  async close(): Promise<void> {
    await (await this.live).worker.terminate();
  }
}

/** The outcome a hang or crash stands for. */
export function outcomeOf(result: Result): Outcome {
  if ("outcome" in result) return result.outcome;
  const failure = "hang" in result
    ? { kind: "hang" as const, key: "hang: past the deadline", detail: `no result after ${result.hang}` }
    : { kind: "crash" as const, key: `crash: ${result.crash.replace(/\d+/g, "N")}`, detail: result.crash };
  return { checked: false, compiled: false, compared: false, large: false, failures: [failure] };
}
