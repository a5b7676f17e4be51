/**
 * A thread `rnnc build` prints and formats its modules on (`build-thread.ts` starts one or two).
 * The printer loads ts-morph (to print TypeScript modules) and prettier; the formatter only prettier.
 * Each loads as it starts, while the main thread is still compiling the cells, then answers each
 * job with its text. The printer takes jobs once ts-morph is loaded, and loads prettier after it,
 * so that the modules it prints reach the formatter as early as they can.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { BuildJob, BuildReply, BuildWorkerData } from "./build-thread.js";

const { prints } = workerData as BuildWorkerData;
const print = prints ? (await import("./codegen/typescript.js")).printTypeScript : undefined;
const formatter = import("./codegen/format.js");

const port = parentPort!;
const reply = (r: BuildReply) => port.postMessage(r);
const failure = (id: number, e: unknown): BuildReply => ({ id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });

port.on("message", (job: BuildJob) => {
  if (job.kind === "format") {
    formatter.then(({ formatModule }) => formatModule(job.text)).then((text) => reply({ id: job.id, text }), (e: unknown) => reply(failure(job.id, e)));
    return;
  }
  try {
    if (!print) throw new Error("this build thread does not print TypeScript");
    reply({ id: job.id, text: print(job.parts) });
  } catch (e) {
    reply(failure(job.id, e));
  }
});
