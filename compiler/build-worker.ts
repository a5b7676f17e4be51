/**
 * The thread `rnnc build` prints and formats its modules on (`build-thread.ts` starts it). It
 * loads ts-morph and prettier as it starts, while the main thread is still compiling the cells,
 * then answers each job with the module's formatted text.
 */
import { parentPort } from "node:worker_threads";
import { formatModule } from "./codegen/format.js";
import { printTypeScript } from "./codegen/typescript.js";
import type { BuildJob, BuildReply } from "./build-thread.js";

const port = parentPort!;
port.on("message", (job: BuildJob) => {
  const reply = (r: BuildReply) => port.postMessage(r);
  let text: string;
  try {
    text = job.kind === "typescript" ? printTypeScript(job.parts) : job.text;
  } catch (e) {
    reply({ id: job.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    return;
  }
  formatModule(text).then(
    (formatted) => reply({ id: job.id, text: formatted }),
    (e: unknown) => reply({ id: job.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
