// The line protocol between `npm run bench` and its PyTorch driver (bench/torch-protocol.ts).
import { describe, expect, it } from "vitest";
import { encodeRequest, expectOk, numberField, ReplyReader } from "../bench/torch-protocol.js";

describe("bench's PyTorch driver protocol", () => {
  it("sends one JSON line per request", () => {
    const line = encodeRequest({ cmd: "time", key: "lstm-train-s1#0", reps: 3 });
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(JSON.parse(line)).toEqual({ cmd: "time", key: "lstm-train-s1#0", reps: 3 });
  });

  it("reads replies whatever the chunk boundaries", () => {
    const text = '{"ok": true, "seconds": 0.5}\n\n{"ok": false, "error": "ValueError: x"}\n{"ok": true}\n';
    for (const cut of [1, 7, 29, 30, 31, text.length - 1]) {
      const r = new ReplyReader();
      const got = [...r.push(text.slice(0, cut)), ...r.push(text.slice(cut))];
      expect(got).toEqual([{ ok: true, seconds: 0.5 }, { ok: false, error: "ValueError: x" }, { ok: true }]);
    }
    const r = new ReplyReader();
    expect(r.push('{"ok": tr')).toEqual([]);
    expect(r.push('ue}\n')).toEqual([{ ok: true }]);
  });

  it("rejects a line that is not a reply, quoting it", () => {
    expect(() => new ReplyReader().push("Warning: something\n")).toThrow(/expected a JSON reply, got 'Warning: something'/);
    expect(() => new ReplyReader().push('{"seconds": 1}\n')).toThrow(/without "ok"/);
  });

  it("names the failed request and a bad field", () => {
    const req = { cmd: "prepare", key: "gru-train-s2#4" } as const;
    expect(() => expectOk(req, { ok: false, error: "ValueError: 3 numbers, expected 6" })).toThrow("pytorch prepare gru-train-s2#4: ValueError: 3 numbers, expected 6");
    expect(expectOk(req, { ok: true, seconds: 2 })).toEqual({ ok: true, seconds: 2 });
    expect(numberField({ cmd: "time" }, { ok: true, seconds: 0.25 }, "seconds")).toBe(0.25);
    expect(() => numberField({ cmd: "time" }, { ok: true, seconds: "fast" }, "seconds")).toThrow("pytorch time: reply field 'seconds' is not a finite number");
  });
});
