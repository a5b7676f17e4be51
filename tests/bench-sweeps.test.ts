// `npm run bench`'s sweeps against this core's SIMD peak (bench/peak.ts): the loop that measures
// the peak, and the sweep table's share of it and its bound on what batching can gain.
import { describe, expect, it } from "vitest";
import type { Result } from "../bench/harness.js";
import { simdPeak } from "../bench/peak.js";
import { sweepTable } from "../bench/report.js";
import { sweeps } from "../bench/sweeps.js";

const result = (contestant: string, seconds: number): Result => ({ contestant, label: contestant, median: seconds, q1: seconds, q3: seconds, rounds: 5, reps: 1, few: false });
const contestants = [
  { id: "pytorch", label: "PyTorch 1 thread" },
  { id: "rnnc", label: "rnnc" },
];

describe("bench: sweeps against the SIMD peak", () => {
  it("measures a positive, finite rate of f32x4 multiplies and adds", async () => {
    const peak = await simdPeak(2, 20);
    expect(Number.isFinite(peak)).toBe(true);
    expect(peak).toBeGreaterThan(0);
  });

  it("prints rnnc's share of the peak per point and what B = 64 could gain over B = 1 at most", () => {
    const batch = sweeps(false).find((s) => s.id === "batch")!;
    const [b1, b64] = [1, 64].map((B) => batch.points.find((w) => w.B === B)!);
    // rnnc at 20 GFLOP/s at B = 1 and 30 at B = 64; PyTorch at 4 and 50.
    const reports = [b1!, b64!].map((w, k) => ({
      workload: w,
      results: [result("pytorch", w.flops / ([4, 50][k]! * 1e9)), result("rnnc", w.flops / ([20, 30][k]! * 1e9))],
    }));
    const text = sweepTable(batch.title, "B", reports, contestants, 50);
    const lines = text.split("\n");
    expect(lines[1]!.split(/\s{2,}/)).toEqual(["B", "PyTorch 1 thread GFLOP/s", "rnnc GFLOP/s", "rnnc % of peak", "rnnc ÷ PyTorch"]);
    expect(lines[2]!.trim().split(/\s{2,}/)).toEqual(["1", "4.00", "20.00", "40 %", "0.20"]);
    expect(lines[3]!.trim().split(/\s{2,}/)).toEqual(["64", "50.00", "30.00", "60 %", "1.67"]);
    expect(text).toContain("rnnc, B = 64 ÷ B = 1: 1.50×; the peak allows at most 2.50× (50.0 ÷ 20.00 GFLOP/s)");
    // Without a peak: no share column, and the gain alone.
    const plain = sweepTable(batch.title, "B", reports, contestants);
    expect(plain).not.toContain("% of peak");
    expect(plain).toContain("rnnc, B = 64 ÷ B = 1: 1.50×");
    expect(plain).not.toContain("allows");
  });

  it("gives an H sweep the share of the peak and no batching bound", () => {
    const hidden = sweeps(false).find((s) => s.id === "hidden")!;
    const w = hidden.points[0]!;
    const text = sweepTable(hidden.title, "H", [{ workload: w, results: [result("rnnc", w.flops / 25e9)] }], contestants, 50);
    expect(text.split("\n")[2]!.trim().split(/\s{2,}/)).toEqual([String(w.H), "25.00", "50 %"]);
    expect(text).not.toContain("B = 64 ÷ B = 1");
  });
});
