/**
 * The worker's side of a parallel cell: answers each task in the order it came, one reply per
 * task. The first task loads the cell; an error in any task is sent back (name and message), to
 * be raised in the calling thread, and the worker stays ready for the next.
 */
import { productsReady } from "../runtime/products.js";
import { Lane, loadCell } from "./lane.js";
import type { Reply, Task } from "./protocol.js";

/** What a worker talks through: `self` in a browser, `parentPort` in Node. */
export interface Port {
  postMessage(message: Reply): void;
}

/** Handles the tasks a worker receives; call it with each message's data. */
export function serve(port: Port): (task: Task) => Promise<void> {
  let lane: Lane | undefined;
  const answer = async (task: Task): Promise<Reply> => {
    switch (task.op) {
      case "load":
        lane = new Lane(await loadCell(task.source));
        await productsReady();
        return { id: task.id, ok: true };
      case "drop":
        lane?.drop(task.trace);
        return { id: task.id, ok: true };
      case "forward":
        return { id: task.id, ok: true, tapeBytes: ready(lane).forward(task) };
      case "backward":
        ready(lane).backward(task);
        return { id: task.id, ok: true };
    }
  };
  // Tasks run one after another even though loading is asynchronous.
  let queue = Promise.resolve();
  return (task) =>
    (queue = queue.then(async () => {
      let reply: Reply;
      try {
        reply = await answer(task);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        reply = { id: task.id, ok: false, name: error.name, message: error.message };
      }
      port.postMessage(reply);
    }));
}

function ready(lane: Lane | undefined): Lane {
  if (!lane) throw new Error("internal error: a task before the cell was loaded");
  return lane;
}
