/**
 * Tallies of a fuzz run (by case kind, by failure class, times per case), failing cases written
 * out for replay, and the printed report.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Case, CaseKind } from "./fuzz-cases.js";
import type { Failure, Outcome } from "./fuzz-pipeline.js";

/** Cases written per failure class; the rest are counted only. */
const FILES_PER_CLASS = 5;

interface KindTally {
  cases: number;
  checked: number;
  compiled: number;
  compared: number;
  large: number;
  failed: number;
}

interface ClassTally {
  readonly failure: Failure;
  count: number;
  readonly files: string[];
  readonly kinds: Set<CaseKind>;
}

const slug = (key: string) => key.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60);

export class Tally {
  readonly kinds = new Map<CaseKind, KindTally>();
  readonly classes = new Map<string, ClassTally>();
  readonly times: number[] = [];
  readonly cpuTimes: number[] = [];
  slowButDone = 0;
  private readonly started = performance.now();

  constructor(private readonly out: string, private readonly command: string) {}

  add(c: Case, outcome: Outcome, ms: number, cpuMs?: number): void {
    const k = this.kinds.get(c.kind) ?? { cases: 0, checked: 0, compiled: 0, compared: 0, large: 0, failed: 0 };
    this.kinds.set(c.kind, k);
    k.cases++;
    k.checked += +outcome.checked;
    k.compiled += +outcome.compiled;
    k.compared += +outcome.compared;
    k.large += +outcome.large;
    k.failed += +(outcome.failures.length > 0);
    this.times.push(ms);
    if (cpuMs !== undefined) this.cpuTimes.push(cpuMs);
    const seen = new Set<string>();
    for (const f of outcome.failures) {
      if (seen.has(f.key)) continue;
      seen.add(f.key);
      const t = this.classes.get(f.key) ?? { failure: f, count: 0, files: [], kinds: new Set() };
      this.classes.set(f.key, t);
      t.count++;
      t.kinds.add(c.kind);
      if (t.files.length < FILES_PER_CLASS) t.files.push(this.write(c, f, outcome.failures));
    }
  }

  get failed(): number {
    return [...this.kinds.values()].reduce((s, k) => s + k.failed, 0);
  }

  /** `<out>/<case>-<class>.cell`, and a `.txt` beside it saying what failed and how to replay. */
  private write(c: Case, f: Failure, all: readonly Failure[]): string {
    mkdirSync(this.out, { recursive: true });
    const base = join(this.out, `${String(c.id).padStart(6, "0")}-${slug(f.key)}`);
    writeFileSync(`${base}.cell`, c.text);
    const others = all.filter((g) => g !== f).map((g) => `also: ${g.key}`);
    const text = [
      `case ${c.id} (${c.kind}${c.mutations ? `: ${c.mutations.join(", ")}` : ""})`, `failed: ${f.key}`, ...others, "", f.detail.slice(0, 3000), "",
      `replay: ${this.command} --replay ${base}.cell`, `plan: ${JSON.stringify(c.plan)}`, "",
    ];
    writeFileSync(`${base}.txt`, text.join("\n"));
    return `${base}.cell`;
  }

  report(): string {
    const quantiles = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const q = (p: number) => (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(0);
      return `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`;
    };
    const total = [...this.kinds.values()].reduce((s, k) => s + k.cases, 0);
    const lines = [`cases: ${total}`, "kind              cases  checked  compiled  compared  large  failed"];
    for (const [kind, k] of [...this.kinds].sort()) {
      const cols = [k.cases, k.checked, k.compiled, k.compared, k.large, k.failed].map((n, i) => String(n).padStart([5, 9, 10, 10, 7, 8][i]!));
      lines.push(kind.padEnd(16) + cols.join(""));
    }
    const count = (kind: string) => [...this.classes.values()].filter((c) => c.failure.kind === kind).reduce((s, c) => s + c.count, 0);
    lines.push(
      "",
      `throws: ${count("throw")}, hangs: ${count("hang")}, crashes: ${count("crash")}, mismatches: ${count("mismatch")}, ` +
        `bad diagnostics: ${count("diagnostic")}, code ran: ${count("code-ran")}, limits missing: ${count("limit")}; cases that failed: ${this.failed}`,
      `wall time per case: ${quantiles(this.times)}` + (this.slowButDone ? ` (${this.slowButDone} past the deadline once, done on a retry)` : ""),
      ...(this.cpuTimes.length ? [`CPU time per case (worker thread, 10 ms ticks): ${quantiles(this.cpuTimes)}`] : []),
      `wall time: ${((performance.now() - this.started) / 1000).toFixed(1)} s`,
    );
    if (this.classes.size) lines.push("", `failure classes (${this.classes.size}):`);
    for (const [key, c] of [...this.classes].sort((a, b) => b[1].count - a[1].count)) {
      lines.push(`  ${c.count} × ${key} [${[...c.kinds].join(", ")}]`, ...c.files.map((f) => `      ${f}`));
    }
    return lines.join("\n");
  }
}
