/** The part of the browser workload that compiles a cell at run time (the page that pulls in the compiler). */

import { compile } from "../../src/index.js";
import { forwardBackward, type Numbers } from "./kernel.js";
import { withSameMath } from "./same-math.js";

/** A GRU written the PyTorch way, compiled at run time by `compile()`. */
export const GRU_SOURCE = `
cell gru {
  size I = 4, H = 6
  input x[I]
  state h[H]
  param Wz[H, I], Uz[H, H], bz[H], Wr[H, I], Ur[H, H], br[H], Wn[H, I], Un[H, H], bn[H]
  z = σ(Wz·x + Uz·h + bz)
  r = σ(Wr·x + Ur·h + br)
  n = tanh(Wn·x + r ⊙ (Un·h) + bn)
  h = (1 - z) ⊙ n + z ⊙ h[t-1]
}
`;

/** The GRU of `GRU_SOURCE` compiled in float64 and float32, each forward and backward. */
export function compiledNumbers(): Numbers {
  const numbers: Numbers = {};
  for (const dtype of ["f64", "f32"] as const) {
    const cell = compile(GRU_SOURCE, { path: "gru.cell", dtype, sizes: { H: 5 } });
    for (const [name, values] of Object.entries(forwardBackward(cell, 7))) numbers[`${dtype} ${name}`] = values;
  }
  return numbers;
}

/**
 * `compiledNumbers` with Math.exp, Math.expm1 and Math.tanh replaced (for the call) by functions of
 * + − × ÷ alone, which every engine rounds alike: what the float64 numbers would be if Node's and
 * the browser's V8 rounded those functions the same way — in the test, bit for bit equal.
 */
export function compiledNumbersSameMath(): Numbers {
  return withSameMath(compiledNumbers);
}
