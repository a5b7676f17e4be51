/**
 * The CPU time of the calling thread, in ms, on Linux (from `/proc/thread-self/schedstat`, in ns);
 * undefined elsewhere. Node only: parallel cells read it for their timeline.
 */
import { readFileSync } from "node:fs";

let readable = true;

export function threadCpu(): number | undefined {
  if (!readable) return undefined;
  try {
    const ns = Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    readable = false;
    return undefined;
  }
}
