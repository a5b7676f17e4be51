/**
 * The optimizer must never change an answer. The value-level rewrites — simplify's value rules,
 * constant folding, CSE and DCE, with no layout change and no hoisting or deferral — leave every
 * bit of a float64 build as it was: outputs, final states and every gradient, on random cells
 * full of ±0, ±∞, NaN, subnormal and huge constants. (Any NaN equals any NaN; +0 and −0 differ.)
 * One of four files of 500 cells each, so that vitest's forks run them on both cores.
 */
import { it } from "vitest";
import { checkCells } from "./helpers/bitwise.js";

it("simplify, constant folding, CSE and DCE change no bit of a float64 build, forward or backward", () => {
  checkCells("values", "f64", 500, 101);
}, 600_000);
