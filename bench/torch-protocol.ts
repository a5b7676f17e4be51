/**
 * The line protocol between the bench and its PyTorch driver (bench/torch_driver.py), a Python
 * process started once per run: one JSON object per line each way, one reply per request, in order.
 * Arrays do not travel in the lines: they are raw little-endian files in a temporary folder, named in
 * the request (`files`) or the reply.
 *
 *   hello                                       → { torch, threads }
 *   prepare { key, cell, kind, I, H, B, T, dtype, files: { W, b, x, dY? } }   (fused params, see
 *           bench/hand-fused.ts; x is [T][B][I]; dLoss/dh [T][B][H], ones without dY)  → {}
 *   time    { key, reps }                       → { seconds }   reps back-to-back calls, per call
 *   outputs { key, dir }                        → { files: { h, dW, db, dx } }  one train call's results
 *   rss                                         → { rss, maxRss }  bytes, the driver's own
 *   dispose { key }                             → {}
 *   quit                                        → {}  and the driver exits
 *
 * A failed request is answered `{ "ok": false, "error": "..." }`.
 */

export type Command = "hello" | "prepare" | "time" | "outputs" | "rss" | "dispose" | "quit";

export interface Request {
  readonly cmd: Command;
  readonly [field: string]: unknown;
}

export interface Reply {
  readonly ok: boolean;
  readonly error?: string;
  readonly [field: string]: unknown;
}

/** One request as the line the driver reads. */
export function encodeRequest(req: Request): string {
  return JSON.stringify(req) + "\n";
}

/** Splits the driver's output into replies, whatever the chunk boundaries. */
export class ReplyReader {
  private rest = "";

  /** The replies completed by `chunk`; a line that is not a JSON object throws, quoting it. */
  push(chunk: string): Reply[] {
    const lines = (this.rest + chunk).split("\n");
    this.rest = lines.pop()!;
    return lines.filter((l) => l.trim() !== "").map(parseReply);
  }
}

function parseReply(line: string): Reply {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`pytorch driver: expected a JSON reply, got '${line.slice(0, 120)}'`);
  }
  if (typeof v !== "object" || v === null || typeof (v as { ok?: unknown }).ok !== "boolean")
    throw new Error(`pytorch driver: reply without "ok": '${line.slice(0, 120)}'`);
  return v as Reply;
}

/** The reply's fields, or an error naming the request that failed. */
export function expectOk(req: Request, reply: Reply): Reply {
  if (!reply.ok) throw new Error(`pytorch ${req.cmd}${req["key"] ? ` ${String(req["key"])}` : ""}: ${reply.error ?? "failed"}`);
  return reply;
}

/** A number field of a reply, or an error naming it. */
export function numberField(req: Request, reply: Reply, field: string): number {
  const v = reply[field];
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`pytorch ${req.cmd}: reply field '${field}' is not a finite number`);
  return v;
}
