/**
 * CPU time of one thread, from Linux's /proc (ticks of 10 ms). On a shared machine a case's wall
 * time says more about the neighbours than about the case, so deadlines count the worker thread's
 * own CPU time where the system reports it, and wall time elsewhere.
 */
import { readFileSync } from "node:fs";

const MS_PER_TICK = 10;

function ticks(path: string): number | undefined {
  try {
    const stat = readFileSync(path, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** This thread's id, when the system exposes per-thread CPU time. */
export function threadId(): number | undefined {
  try {
    const id = Number(readFileSync("/proc/thread-self/stat", "utf8").split(" ")[0]);
    return Number.isInteger(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** CPU milliseconds used so far by thread `tid` of this process. */
export function threadCpuMs(tid: number): number | undefined {
  const t = ticks(`/proc/self/task/${tid}/stat`);
  return t === undefined ? undefined : t * MS_PER_TICK;
}

/** CPU milliseconds used so far by the calling thread. */
export function ownCpuMs(): number | undefined {
  const t = ticks("/proc/thread-self/stat");
  return t === undefined ? undefined : t * MS_PER_TICK;
}
