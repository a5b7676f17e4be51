// `npm run bench`'s phase of one thread against two in a child process (bench/threads.ts): which
// workloads it runs, the child's JSON reply, and the table that sets it beside the in-run figures.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runJsonChild } from "../bench/child.js";
import type { Contestant, Result } from "../bench/harness.js";
import { threadTable } from "../bench/report.js";
import { runThreads, threadWorkloads, type ThreadsResult } from "../bench/threads.js";
import { WORKLOADS } from "../bench/workloads.js";

const RUN = fileURLToPath(new URL("../dist/bench/run.js", import.meta.url));
const contestant = (id: string): Contestant => ({ id, label: id, unsupported: () => null, prepare: () => Promise.reject(new Error("not here")) });
const pick = (...ids: string[]) => WORKLOADS.filter((w) => ids.includes(w.id));
const result = (contestant: string, ms: number): Result => ({ contestant, label: contestant, median: ms / 1e3, q1: ms / 1e3, q3: ms / 1e3, rounds: 9, reps: 1, few: false });

let dir: string;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), "rnnc-bench-threads-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bench: one thread against two in a child process", () => {
  it("runs the selected workloads among train s3, s2 and forward s3, s2, train s3 first, only with both contestants", () => {
    const both = [contestant("hand-fused"), contestant("rnnc"), contestant("rnnc-2t")];
    expect(threadWorkloads(WORKLOADS, both).map((w) => w.id)).toEqual(["lstm-train-s3", "lstm-train-s2", "lstm-forward-s3", "lstm-forward-s2"]);
    expect(threadWorkloads(pick("lstm-forward-s2", "gru-train-s2", "lstm-train-s2"), both).map((w) => w.id)).toEqual(["lstm-train-s2", "lstm-forward-s2"]);
    expect(threadWorkloads(pick("lstm-train-s1", "lstm-step-h64"), both)).toEqual([]);
    expect(threadWorkloads(WORKLOADS, [contestant("rnnc"), contestant("rnnc-O0")])).toEqual([]);
    expect(threadWorkloads(WORKLOADS, [contestant("rnnc-2t")])).toEqual([]);
  });

  it("prints the child's medians and ratio beside the in-run ones, with the load", () => {
    const [s3, s2] = pick("lstm-train-s3", "lstm-forward-s2");
    const child: ThreadsResult = {
      loadStart: 0.52, loadEnd: 1.07, maxRss: 200 * 2 ** 20,
      rows: [
        { workload: s3.id, results: [result("rnnc", 120), result("rnnc-2t", 66.7)] },
        { workload: s2.id, results: [result("rnnc", 4), { contestant: "rnnc-2t", label: "rnnc, 2 threads", skipped: "no worker threads" }] },
      ],
    };
    const inRun = [{ workload: s3, results: [result("hand-fused", 100), result("rnnc", 125), result("rnnc-2t", 100)] }];
    const text = threadTable(child, inRun);
    expect(text).toContain("load average 0.52 at its start, 1.07 at its end");
    const row = (id: string) => text.split("\n").find((l) => l.startsWith(id))!.split(/\s{2,}/);
    expect(row("lstm-train-s3")).toEqual(["lstm-train-s3", "120 ms", "120 ms–120 ms", "66.7 ms", "66.7 ms–66.7 ms", "1.80×", "125 ms", "100 ms", "1.25×"]);
    expect(row("lstm-forward-s2")).toEqual(["lstm-forward-s2", "4.00 ms", "4.00 ms–4.00 ms", "—", "—", "—", "—", "—"]);
    expect(text).toContain("rnnc, 2 threads: no worker threads");
    expect(threadTable({ rows: [], error: "exit 1: boom" }, [])).toContain("the child failed: exit 1: boom");
  });

  it("reads the child's last stdout line and passes its stderr on as progress", async () => {
    const script = join(dir, "child.mjs");
    writeFileSync(script, 'process.stderr.write("one\\ntwo"); console.log("noise"); console.log(JSON.stringify({ n: Number(process.argv[2]) }));');
    const lines: string[] = [];
    expect(await runJsonChild(script, ["7"], process.env, (l) => lines.push(l))).toEqual({ json: { n: 7 } });
    expect(lines).toEqual(["one", "two"]);
    writeFileSync(script, 'console.error("it broke"); process.exit(3);');
    expect(await runJsonChild(script, [], process.env)).toEqual({ error: "exit 3: it broke" });
  });

  it("measures rnnc and rnnc-2t alone in the built bench's child", async () => {
    if (!existsSync(RUN)) throw new Error("dist/bench/run.js is missing: run npm run build");
    const r = await runThreads(RUN, pick("lstm-forward-s2"), true, () => undefined);
    expect(r.error).toBeUndefined();
    expect(r.rows.map((x) => x.workload)).toEqual(["lstm-forward-s2"]);
    const results = r.rows[0].results;
    expect(results.map((x) => x.contestant)).toEqual(["rnnc", "rnnc-2t"]);
    for (const x of results) expect(x.median).toBeGreaterThan(0);
    expect(r.loadStart).toBeGreaterThanOrEqual(0);
    expect(r.loadEnd).toBeGreaterThanOrEqual(0);
  });
});
