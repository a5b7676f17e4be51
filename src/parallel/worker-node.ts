/** A parallel cell's worker in Node (a `node:worker_threads` worker started by `rnnc/parallel`). */
import { parentPort } from "node:worker_threads";
import { threadCpu } from "./cpu-node.js";
import { serve } from "./serve.js";
import type { Task } from "./protocol.js";

if (!parentPort) throw new Error("rnnc/parallel: worker-node.js runs as a worker thread, not on its own");
const port = parentPort;
const handle = serve(port, threadCpu);
port.on("message", (task: Task) => void handle(task));
