/**
 * `rnnc eval`: forward and backward through time on numbers given as JSON (SPEC §2, README
 * "rnnc eval"). Params may be drawn (`--init SEED`) and inputs too (`--random-inputs`), so a cell
 * can be run without typing its numbers; what the data gives always wins.
 */
import { MAX_BATCH, MAX_EVAL_ELEMENTS, MAX_STEPS } from "../compiler/limits.js";
import { UsageError, parseCount } from "./args.js";
import { DataError, positiveCount, readTensors, writeTensors } from "./data.js";
import { MAX_SEED, mulberry32 } from "./runtime/random.js";
import type { Cell, Real, TensorSpec, Tensors } from "./runtime/types.js";

const FIELDS = ["T", "B", "params", "inputs", "initial", "mask", "outputGrads", "finalGrads"];

/** What the command line adds to the data: drawn params and inputs, and T and B when the data has none. */
export interface EvalRequest {
  /** Draw the params the data does not give, with this seed. */
  readonly init?: number;
  /** Draw the inputs the data does not give (seeded by `init`, or 0). */
  readonly randomInputs?: boolean;
  readonly steps?: number;
  readonly batch?: number;
}

type Flags = Record<string, string | boolean | undefined>;
const str = (flags: Flags, name: string) => (typeof flags[name] === "string" ? (flags[name] as string) : undefined);

/** `--init`, `--random-inputs`, `--steps`, `--batch` as an `EvalRequest`; without `--data` one of the first two is needed. */
export function evalRequest(flags: Flags): EvalRequest {
  const init = str(flags, "init") === undefined ? undefined : parseCount("--init", str(flags, "init"), 0, 0, MAX_SEED);
  const randomInputs = flags["random-inputs"] === true;
  if (str(flags, "data") === undefined && init === undefined)
    throw new UsageError("--data IN.json is required (or draw the params with --init SEED, and the inputs with --random-inputs)");
  return {
    init, randomInputs,
    steps: str(flags, "steps") === undefined ? undefined : parseCount("--steps", str(flags, "steps"), 1, 1, MAX_STEPS),
    batch: str(flags, "batch") === undefined ? undefined : parseCount("--batch", str(flags, "batch"), 1, 1, MAX_BATCH),
  };
}

/** Runs `cell` on `data` (already parsed JSON); errors name the offending field. */
export function evaluate(cell: Cell, data: unknown, request: EvalRequest = {}): Record<string, unknown> {
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new DataError("expected a JSON object with T, B, params, inputs");
  const d = data as Record<string, unknown>;
  for (const key of Object.keys(d)) if (!FIELDS.includes(key)) throw new DataError(`${key}: unknown field (expected one of ${FIELDS.join(", ")})`);
  const drawing = request.init !== undefined || request.randomInputs === true;
  const T = positiveCount("T", d["T"] ?? (drawing ? request.steps ?? 1 : undefined), MAX_STEPS);
  const B = positiveCount("B", d["B"] ?? (drawing ? request.batch ?? 1 : undefined), MAX_BATCH);
  checkWork(cell, T, B);
  const make = (n: number): Real => (cell.dtype === "f32" ? new Float32Array(n) : new Float64Array(n));
  const params = withDrawn(readTensors("params", d["params"] ?? {}, cell.params, [], make, request.init !== undefined) ?? {},
    request.init === undefined ? undefined : cell.initParams(request.init));
  const drawnInputs = request.randomInputs ? drawInputs(cell, T, B, request.init ?? 0, make) : undefined;
  const inputs = withDrawn(readTensors("inputs", d["inputs"] ?? {}, cell.inputs, [T, B], make, request.randomInputs) ?? {}, drawnInputs);
  const initial = readTensors("initial", d["initial"], cell.states, [B], make, true);
  const mask = readMask(d["mask"], T, B);
  const outputGrads = readTensors("outputGrads", d["outputGrads"], cell.outputs, [T, B], make, true);
  const finalGrads = readTensors("finalGrads", d["finalGrads"], cell.states, [B], make, true);

  const trace = cell.forward(params, inputs, { T, B, initial, mask });
  const result: Record<string, unknown> = {
    outputs: writeTensors(trace.outputs, cell.outputs, [T, B]),
    final: writeTensors(trace.final, cell.states, [B]),
  };
  if (drawing) {
    result["used"] = {
      ...(request.init !== undefined ? { params: writeTensors(params, cell.params, []) } : {}),
      ...(request.randomInputs ? { inputs: writeTensors(inputs, cell.inputs, [T, B]) } : {}),
    };
  }
  if (d["outputGrads"] !== undefined || d["finalGrads"] !== undefined) {
    const grads = cell.createGrads();
    const back = cell.backward(params, trace, { outputs: outputGrads, final: finalGrads }, grads);
    result["grads"] = {
      params: writeTensors(grads, cell.params, []),
      inputs: writeTensors(back.inputs, cell.inputs, [T, B]),
      initial: writeTensors(back.initial, cell.states, [B]),
    };
  }
  return result;
}

/**
 * JSON indented for a person: objects one key a line, and each innermost list of numbers on one
 * line (a vector reads as a row, a matrix as its rows).
 */
export function prettyJson(value: unknown, indent = ""): string {
  if (Array.isArray(value) && value.every((v) => typeof v === "number" || v === null)) return `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return value.length === 0 ? "[]" : `[\n${value.map((v) => inner + prettyJson(v, inner)).join(",\n")}\n${indent}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    return entries.length === 0 ? "{}" : `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`).join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** The given tensors, and the drawn ones for the names not given. */
function withDrawn(given: Tensors, drawn: Tensors | undefined): Tensors {
  return drawn ? { ...drawn, ...given } : given;
}

/** Inputs uniform in [-1, 1], `[T][B][n]`, from a generator seeded apart from the params'. */
function drawInputs(cell: Cell, T: number, B: number, seed: number, make: (n: number) => Real): Tensors {
  const random = mulberry32((seed ^ 0x5bd1e995) >>> 0);
  return Object.fromEntries(cell.inputs.map((x) => {
    const a = make(T * B * x.size);
    for (let i = 0; i < a.length; i++) a[i] = 2 * random() - 1;
    return [x.name, a];
  }));
}

/** `mask`: `[T][B]` of 1 (a real step) and 0 (padding), or true and false. */
function readMask(value: unknown, T: number, B: number): Uint8Array | undefined {
  if (value === undefined) return undefined;
  const mask = new Uint8Array(T * B);
  if (!Array.isArray(value) || value.length !== T) throw new DataError(`mask: expected a list of ${T} (one per step), got ${describe(value)}`);
  value.forEach((row: unknown, t) => {
    if (!Array.isArray(row) || row.length !== B) throw new DataError(`mask[${t}]: expected a list of ${B} (one per sequence), got ${describe(row)}`);
    row.forEach((v: unknown, b) => {
      if (v !== 0 && v !== 1 && v !== true && v !== false) throw new DataError(`mask[${t}][${b}]: expected 0 or 1, got ${JSON.stringify(v)}`);
      mask[t * B + b] = v === 1 || v === true ? 1 : 0;
    });
  });
  return mask;
}

const describe = (v: unknown): string => (Array.isArray(v) ? `a list of ${v.length}` : v === null ? "null" : typeof v);

/**
 * The numbers one evaluation holds for each step of each sequence (inputs, states, outputs, their
 * gradients and the tape) must stay within `MAX_EVAL_ELEMENTS` in all: T and B are only numbers in
 * the file, and a cell without inputs has no data that would bound them.
 */
function checkWork(cell: Cell, T: number, B: number): void {
  const total = (specs: readonly TensorSpec[]) => specs.reduce((n, s) => n + s.size, 0);
  const perStep = 2 * (total(cell.inputs) + total(cell.states) + total(cell.outputs)) + total(cell.tape);
  const numbers = T * B * Math.max(1, perStep);
  if (numbers <= MAX_EVAL_ELEMENTS) return;
  throw new DataError(`T: ${T} steps of ${B} sequences need ${numbers} numbers (${perStep} per step and sequence); ` +
    `at most ${MAX_EVAL_ELEMENTS} are allowed: lower T or B`);
}
