/**
 * `rnnc eval` (SPEC §2) against independent float64 references (tests/reference/), one per example
 * cell: outputs, final states and every gradient (params, inputs, initial states) of a seeded
 * T=3, B=2 input. The references' BPTT is written by hand, so the tolerance is 1e-9 relative
 * (|a − b| ≤ 1e-9·max(1, |b|)); and that BPTT is itself checked against central finite
 * differences of the reference's own forward, so a wrong reference cannot agree by accident.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firstMismatch, makeTempDir, removeDir, rnnc } from "./reference/harness.js";
import {
  REFERENCES, lstmReference, gruTorchReference, maxFiniteDifferenceError, randomEvalData, runReference,
  type EvalData, type ReferenceCell,
} from "./reference/index.js";

const T = 3, B = 2;
let dir = "";
beforeAll(() => void (dir = makeTempDir()));
afterAll(() => removeDir(dir));

/** Writes `data` to a temp JSON file and runs `rnnc eval FILE --data it ...flags`; returns parsed stdout. */
async function evalJson(file: string, data: unknown, ...flags: string[]): Promise<Record<string, unknown>> {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(data));
  const run = await rnnc("eval", file, "--data", path, ...flags);
  expect(run.err, "stderr").toBe("");
  expect(run.code, "exit code").toBe(0);
  return JSON.parse(run.out) as Record<string, unknown>;
}

/** rnnc's answer equals the reference's at `tol`, over every leaf, with the same keys. */
function expectAgrees(actual: unknown, expected: unknown, tol: number): void {
  const count = { leaves: 0 };
  const mismatch = firstMismatch("result", actual, expected, tol, count);
  if (mismatch) expect.fail(mismatch);
  expect(count.leaves).toBeGreaterThan(0);
}

describe("the references are right on their own terms", () => {
  for (const [k, ref] of REFERENCES.entries()) {
    it(`${ref.name}: hand-written BPTT equals central differences of the reference forward (FD tolerance 1e-6)`, () => {
      const data = randomEvalData(ref, T, B, 100 + k);
      const { error, where } = maxFiniteDifferenceError(ref, data, 4, 7 + k);
      expect(error, where).toBeLessThan(1e-6);
    });
  }

  for (const [k, ref] of REFERENCES.entries()) {
    if (ref.maxMargins === undefined) continue;
    it(`${ref.name}: the test data takes both sides of every max, and never a tie`, () => {
      const margins: Record<string, number[]> = {};
      const recording: ReferenceCell = {
        ...ref,
        step: (p, x, s) => {
          const r = ref.step(p, x, s);
          for (const [name, values] of Object.entries(ref.maxMargins!(r.cache))) (margins[name] ??= []).push(...values);
          return r;
        },
      };
      for (const seed of [100 + k, 1000 + k]) runReference(recording, randomEvalData(ref, T, B, seed));
      expect(Object.keys(margins).length).toBeGreaterThan(0);
      for (const [name, values] of Object.entries(margins)) {
        expect(values.some((v) => v > 0), `${name}: the first argument never wins`).toBe(true);
        expect(values.some((v) => v < 0), `${name}: the second argument never wins`).toBe(true);
        expect(Math.min(...values.map(Math.abs)), `${name}: a tie`).toBeGreaterThan(1e-6);
      }
    });
  }

  it("a deliberately wrong reference is caught by that check", () => {
    const good = lstmReference(3, 4);
    const broken: typeof good = {
      ...good,
      back: (p, cache, dNext, dOut, gp) => {
        const r = good.back(p, cache, dNext, dOut, gp);
        return { ...r, dPrev: { ...r.dPrev, c: r.dPrev["c"]!.map((v) => v * 1.01) } };
      },
    };
    const data = randomEvalData(broken, T, B, 5);
    expect(maxFiniteDifferenceError(broken, data, 4, 1).error).toBeGreaterThan(1e-4);
  });
});

describe("rnnc eval matches the reference to 1e-9", () => {
  for (const [k, ref] of REFERENCES.entries()) {
    it(`${ref.name}: outputs, final states, grads of params, inputs and initial states`, async () => {
      const data = randomEvalData(ref, T, B, 1000 + k);
      const got = await evalJson(ref.file, data);
      expect(Object.keys(got).sort()).toEqual(["final", "grads", "outputs"]);
      expectAgrees(got, runReference(ref, data), 1e-9);
    });
  }

  it("without outputGrads and finalGrads there is no `grads`; without `initial` the states start at zero", async () => {
    const ref = lstmReference();
    const { initial: _i, outputGrads: _o, finalGrads: _f, ...bare } = randomEvalData(ref, T, B, 31);
    const got = await evalJson(ref.file, bare);
    expect(Object.keys(got).sort()).toEqual(["final", "outputs"]);
    expectAgrees(got, runReference(ref, bare), 1e-9);
  });

  it("finalGrads alone (no outputGrads) gives the gradients of the final states only", async () => {
    const ref = gruTorchReference();
    const { outputGrads: _o, ...data } = randomEvalData(ref, T, B, 32);
    const got = await evalJson(ref.file, data);
    expectAgrees(got, runReference(ref, data), 1e-9);
  });

  it("--size overrides the declared sizes (lstm at I=3, H=5, T=4, B=3)", async () => {
    const ref = lstmReference(3, 5);
    const data: EvalData = randomEvalData(ref, 4, 3, 33);
    const got = await evalJson(ref.file, data, "--size", "I=3,H=5");
    expectAgrees(got, runReference(ref, data), 1e-9);
  });

  it("--dtype f32 agrees to float32 precision (1e-4), and is not float64-exact", async () => {
    const ref = lstmReference();
    const data = randomEvalData(ref, T, B, 34);
    const got = await evalJson(ref.file, data, "--dtype", "f32");
    const expected = runReference(ref, data);
    expectAgrees(got, expected, 1e-4);
    expect(firstMismatch("result", got, expected, 1e-12), "f32 numbers should differ from float64 somewhere").toBeDefined();
  });
});
