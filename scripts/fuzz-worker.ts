/**
 * A fuzz worker thread: warms up on one small cell, says it is ready, then runs each case it is
 * sent through the pipeline and posts the outcome back with the time it took.
 */
import { parentPort } from "node:worker_threads";
import { ownCpuMs, threadId } from "./fuzz-cpu.js";
import { FULL_PLAN, type Plan } from "./fuzz-cases.js";
import { runPipeline, type Outcome } from "./fuzz-pipeline.js";

export interface Request {
  readonly text: string;
  readonly plan: Plan;
}

export interface Reply {
  readonly outcome: Outcome;
  /** Wall time, and CPU time of this thread when known. */
  readonly ms: number;
  readonly cpuMs?: number;
}

/** The first message: the worker is ready, and its thread id (for CPU-time deadlines) when known. */
export interface Ready {
  readonly ready: true;
  readonly tid?: number;
}

const WARM_UP = `cell warm {
  size I = 2, H = 3
  input x[I]
  state h[H]
  param W[H, I], U[H, H], b[H]
  h = tanh(W·x + U·h + b)
}
`;

async function handle(request: Request): Promise<Reply> {
  const start = performance.now();
  const cpu0 = ownCpuMs();
  let outcome: Outcome;
  try {
    outcome = await runPipeline(request.text, request.plan);
  } catch (e) {
    const detail = String((e as Error)?.stack ?? e);
    outcome = { checked: false, compiled: false, compared: false, large: false, failures: [{ kind: "throw", key: `throw in pipeline: ${String(e).split("\n")[0]!.slice(0, 100)}`, detail }] };
  }
  const cpu1 = ownCpuMs();
  return { outcome, ms: performance.now() - start, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0 };
}

const port = parentPort!;
await runPipeline(WARM_UP, { ...FULL_PLAN, hostileNames: false });
port.on("message", (request: Request) => {
  void handle(request).then((reply) => port.postMessage(reply));
});
port.postMessage({ ready: true, tid: threadId() } satisfies Ready);
