/**
 * The CPU time of the calling thread, in ms, on Linux (from `/proc/thread-self/schedstat`, in ns);
 * undefined elsewhere. Node only: parallel cells read it for their timeline.
 */
import { readFileSync } from "node:fs";

let readable = true;

export function threadCpu(): number | undefined {
  if (!readable) return undefined;
  try {
    // The kernel brings a running thread's count up to date only at a scheduler tick (4 ms here)
    // or a switch, so read alone it lags by up to a tick: the phases of a timeline were off by
    // that much. getrusage(RUSAGE_SELF), which process.cpuUsage() calls, updates the calling
    // thread's count first (about 2 µs).
    process.cpuUsage();
    const ns = Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    readable = false;
    return undefined;
  }
}
