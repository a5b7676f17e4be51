/**
 * What the type of an emitted module's `cell` knows: its param, input, state and output names and
 * its dtype's typed array. The first part must compile; each line after an `@ts-expect-error` must
 * not (tests/cell-types.test.ts runs tsc on this file without those directives and checks each
 * error; `npm run typecheck` fails if one of the lines stops being an error).
 */
import { cell } from "../../generated/lstm.js";
import type { Cell } from "../../src/runtime/types.js";

const T = 3, B = 2;
const params = cell.initParams(1);
const x = new Float32Array(T * B * 8);
const trace = cell.forward(params, { x }, { T, B, initial: { c: new Float32Array(B * 16) } });
const last: Float32Array = trace.final.h;
const grads = cell.createGrads();
const back = cell.backward(params, trace, { outputs: { h: trace.outputs.h } }, grads);
const dx: Float32Array = back.inputs.x;
const owned = cell.forward(params, { x }, { T, B, into: { outputs: { h: new Float32Array(T * B * 16) }, final: { c: new Float32Array(B * 16) } } });
cell.backward(params, owned, {}, grads, { into: { inputs: { x: new Float32Array(T * B * 8) }, initial: { h: new Float32Array(B * 16) } } });
const state = cell.createState(B);
cell.step(params, { x: new Float32Array(B * 8) }, state);
/** A cell with its own type is still a `Cell`: code written for any cell takes it. */
const describe = (c: Cell): string => `${c.name}: ${c.params.length} params`;
describe(cell);
export const used = [last, dx, describe];

// @ts-expect-error a misspelt input
cell.forward(params, { xx: x }, { T, B });
// @ts-expect-error a missing param
cell.forward({ Wf: params.Wf, Uf: params.Uf }, { x }, { T, B });
// @ts-expect-error a typed array of the wrong dtype (the cell is float32)
cell.forward(params, { x: new Float64Array(T * B * 8) }, { T, B });
// @ts-expect-error an initial state the cell does not have
cell.createState(B, { hh: new Float32Array(B * 16) });
// @ts-expect-error an output the cell does not have
export const y = trace.outputs.y;
// @ts-expect-error gradients of the wrong dtype
cell.backward(params, trace, {}, { ...grads, Wf: new Float64Array(128) });
// @ts-expect-error an output array of the wrong dtype for into
cell.forward(params, { x }, { T, B, into: { outputs: { h: new Float64Array(T * B * 16) } } });
