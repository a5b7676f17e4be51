/**
 * A child process of the bench (`run.js --memory-child …`, `run.js --threads-child …`): runs it,
 * collects its output, and hands back its last stdout line parsed as JSON, or why there is none.
 */

import { spawn } from "node:child_process";

export type ChildReply = { readonly json: unknown } | { readonly error: string };

/** Runs `node script ...args` with `env` and parses the last line of its stdout. Each line the
 *  child writes to stderr goes to `progress`, when given (its progress log). */
export function runJsonChild(script: string, args: readonly string[], env: NodeJS.ProcessEnv, progress?: (line: string) => void): Promise<ChildReply> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
    let out = "", err = "", partial = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      const text = d.toString();
      err += text;
      if (!progress) return;
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      for (const l of lines) progress(l);
    });
    child.on("close", (code) => {
      if (progress && partial) progress(partial);
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve({ json: JSON.parse(line) as unknown });
      } catch {
        resolve({ error: `exit ${code}: ${(err.trim().split("\n").pop() ?? "").slice(0, 200)}` });
      }
    });
  });
}
