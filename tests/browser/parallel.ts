/**
 * What the cross-origin-isolation page of tests/browser-parallel.test.ts runs: an emitted LSTM
 * module (served beside the page, with the runtime it imports) forward and backward over B = 7
 * with a mask and initial states, by the cell itself and by `parallel` with two lanes.
 */
import { parallel } from "../../src/parallel/index.js";
import type { Cell, Real, Tensors } from "../../src/runtime/types.js";

export type Numbers = Record<string, number[]>;

export interface ParallelReport {
  readonly isolated: boolean;
  readonly workers: boolean;
  readonly fallback: string | undefined;
  readonly one: Numbers;
  readonly two: Numbers;
}

const T = 4;
const B = 7;

/** Forward and backward through `run` on seeded data; every result by name. */
async function numbers(run: Pick<Cell, "createGrads"> & { forward: Function; backward: Function }, cell: Cell, random: () => number): Promise<Numbers> {
  const draw = (n: number): Real => new Float32Array(n).map(() => 2 * random() - 1);
  const named = (specs: readonly { name: string; size: number }[], per: number): Tensors => Object.fromEntries(specs.map((s) => [s.name, draw(per * s.size)]));
  const params = named(cell.params, 1);
  const mask = new Uint8Array(T * B).map((_, n) => (Math.floor(n / B) < T - (n % B) % T ? 1 : 0));
  const trace = await run.forward(params, named(cell.inputs, T * B), { T, B, initial: named(cell.states, B), mask });
  const grads = run.createGrads();
  const back = await run.backward(params, trace, { outputs: named(cell.outputs, T * B), final: named(cell.states, B) }, grads);
  const out: Numbers = {};
  for (const [k, v] of Object.entries(trace.outputs as Tensors)) out[`outputs.${k}`] = Array.from(v);
  for (const [k, v] of Object.entries(back.inputs as Tensors)) out[`inputs.${k}`] = Array.from(v);
  for (const [k, v] of Object.entries(back.initial as Tensors)) out[`initial.${k}`] = Array.from(v);
  for (const [k, v] of Object.entries(grads)) out[`grads.${k}`] = Array.from(v);
  return out;
}

export async function parallelNumbers(): Promise<ParallelReport> {
  const here = (file: string) => new URL(file, location.href).href;
  const runtime = (await import(here("./runtime.js"))) as typeof import("../../src/runtime/index.js");
  await runtime.productsReady();
  const { cell } = (await import(here("./lstm.js"))) as { cell: Cell };
  const par = await parallel({ module: "./lstm.js" }, { threads: 2 });
  const one = await numbers(cell, cell, runtime.mulberry32(5));
  const two = await numbers(par, cell, runtime.mulberry32(5));
  await par.close();
  return { isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true, workers: par.workers, fallback: par.fallback, one, two };
}
