/**
 * The worker's side of a parallel cell: answers each task in the order it came, one reply per
 * task. The first task loads the cell; an error in any task is sent back (name and message), to
 * be raised in the calling thread, and the worker stays ready for the next.
 */
import { productsReady } from "../runtime/products.js";
import { answer, failure, Lane, loadCell } from "./lane.js";
import { clock, type LoadTask, type Reply, type Task } from "./protocol.js";

/** What a worker talks through: `self` in a browser, `parentPort` in Node. */
export interface Port {
  postMessage(message: Reply): void;
}

/**
 * Handles the tasks a worker receives; call it with each message's data. `cpu` reads this
 * thread's CPU time in ms, where the platform can (for timed tasks).
 */
export function serve(port: Port, cpu?: () => number | undefined): (task: Task) => Promise<void> {
  let lane: Lane | undefined;
  const load = async (task: LoadTask): Promise<Reply> => {
    try {
      lane = new Lane(await loadCell(task.source), cpu);
      await productsReady();
      return { id: task.id, ok: true };
    } catch (e) {
      return failure(task.id, e);
    }
  };
  // Tasks run one after another even though loading is asynchronous.
  let queue = Promise.resolve();
  return (task) => {
    const received = clock();
    return (queue = queue.then(async () => {
      const reply = task.op === "load" ? await load(task) : lane ? answer(lane, task, received) : failure(task.id, new Error("internal error: a task before the cell was loaded"));
      // A drop is not answered (the caller does not wait for it).
      if (task.op !== "drop") port.postMessage(reply);
    }));
  };
}
