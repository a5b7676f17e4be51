/**
 * The fuzz cases, each a pure function of the run's seed and its index: random cells from the
 * property-test generator, mutations of random cells, and mutations of the example cells. Each
 * case also carries a plan saying which of the costlier stages it goes through.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { mulberry32 } from "../src/runtime/random.js";
import { randomCells } from "../tests/helpers/random-cell.js";
import { mutate } from "./fuzz-mutate.js";

export type CaseKind = "random" | "mutated" | "example-mutated" | "replay";

/** Which optional stages a case runs; everything else runs for every case that checks. */
export interface Plan {
  /** Seeds the data the kernels run on. */
  readonly seed: number;
  readonly products: "runtime" | "inline";
  readonly f32: boolean;
  readonly format: boolean;
  readonly gradcheck: boolean;
  readonly graph: boolean;
  readonly hostileNames: boolean;
}

export interface Case {
  readonly id: number;
  readonly kind: CaseKind;
  readonly text: string;
  readonly plan: Plan;
  /** The mutations applied, for mutated cases. */
  readonly mutations?: readonly string[];
}

/** Every optional stage: what a replayed case runs. */
export const FULL_PLAN: Plan = { seed: 1, products: "inline", f32: true, format: true, gradcheck: true, graph: true, hostileNames: true };

/** Mixes two 32-bit numbers into a seed (a few rounds of the mulberry32 finaliser). */
export function mix(a: number, b: number): number {
  return Math.floor(mulberry32((a ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b)) >>> 0)() * 2 ** 32);
}

const CHUNK = 100;

/** Random cells are drawn in seeded chunks, so each is found again from its index alone. */
export class CaseSource {
  private chunk = -1;
  private cells: string[] = [];

  constructor(
    readonly seed: number,
    private readonly examples: readonly string[],
  ) {}

  randomCell(index: number): string {
    const c = Math.floor(index / CHUNK);
    if (c !== this.chunk) {
      this.cells = fc.sample(randomCells, { seed: mix(this.seed, c) | 0, numRuns: CHUNK });
      this.chunk = c;
    }
    return this.cells[index % CHUNK]!;
  }

  /** Case `id`: 20 % random, 60 % mutated random, 20 % mutated examples. */
  make(id: number): Case {
    const r = mulberry32(mix(this.seed ^ 0x5eed, id));
    const roll = r();
    const kind: CaseKind = roll < 0.2 ? "random" : roll < 0.8 ? "mutated" : "example-mutated";
    const base = kind === "example-mutated" ? this.examples[Math.floor(r() * this.examples.length)]! : this.randomCell(id);
    if (kind === "random") return { id, kind, text: base, plan: planFor(r) };
    const { text, applied } = mutate(base, r);
    return { id, kind, text, plan: planFor(r), mutations: applied };
  }
}

function planFor(r: () => number): Plan {
  return {
    seed: Math.floor(r() * 2 ** 31),
    products: r() < 0.5 ? "runtime" : "inline",
    f32: r() < 0.1,
    format: r() < 0.03,
    gradcheck: r() < 0.05,
    graph: r() < 0.05,
    hostileNames: r() < 0.005,
  };
}

export function readExamples(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".cell"))
    .sort()
    .map((f) => readFileSync(join(dir, f), "utf8"));
}
