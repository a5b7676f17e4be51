/**
 * examples/cells/peephole.cell (Gers & Schmidhuber): the LSTM with diagonal peepholes.
 *   f = σ(Wf·x + Uf·h + pf ⊙ c + bf)    i = σ(Wi·x + Ui·h + pi ⊙ c + bi)    g = tanh(Wg·x + Ug·h + bg)
 *   c' = f ⊙ c + i ⊙ g                  o = σ(Wo·x + Uo·h + po ⊙ c' + bo)   h' = o ⊙ tanh(c')
 * (f and i see the previous c, o sees the new c'.)  Outputs: h, c.
 * Adjoint: do = dh'·tanh(c'); da_o = do·o(1 − o); dpo += da_o·c';
 *          dc' += dh'·o·(1 − tanh²c') + da_o·po;
 *          df = dc'·c, di = dc'·g, dg = dc'·i, dc = dc'·f + da_f·pf + da_i·pi; dpf += da_f·c, dpi += da_i·c.
 */
import type { ReferenceCell } from "./bptt.js";
import { gateBack, gateOf } from "./lstm.js";
import { add, addTo, dSigmoid, dTanh, mul, sigmoidV, tanhV, zeros, type Vec } from "./math.js";

interface Cache { x: Vec; h: Vec; c: Vec; f: Vec; i: Vec; g: Vec; o: Vec; cNew: Vec; tc: Vec }

export function peepholeReference(I = 8, H = 16): ReferenceCell<Cache> {
  const v = (p: Record<string, unknown>, n: string) => p[n] as Vec;
  return {
    name: "peephole", file: "examples/cells/peephole.cell",
    params: [
      ...["f", "i"].flatMap((k) => [
        { name: `W${k}`, shape: [H, I] }, { name: `U${k}`, shape: [H, H] }, { name: `p${k}`, shape: [H] }, { name: `b${k}`, shape: [H] },
      ]),
      { name: "Wg", shape: [H, I] }, { name: "Ug", shape: [H, H] }, { name: "bg", shape: [H] },
      { name: "Wo", shape: [H, I] }, { name: "Uo", shape: [H, H] }, { name: "po", shape: [H] }, { name: "bo", shape: [H] },
    ],
    inputs: [{ name: "x", shape: [I] }],
    states: [{ name: "h", shape: [H] }, { name: "c", shape: [H] }],
    outputs: [{ name: "h", shape: [H] }, { name: "c", shape: [H] }],
    step(p, { x }, { h, c }) {
      const f = sigmoidV(add(gateOf(p, "f", x!, h!), mul(v(p, "pf"), c!)));
      const i = sigmoidV(add(gateOf(p, "i", x!, h!), mul(v(p, "pi"), c!)));
      const g = tanhV(gateOf(p, "g", x!, h!));
      const cNew = add(mul(f, c!), mul(i, g));
      const o = sigmoidV(add(gateOf(p, "o", x!, h!), mul(v(p, "po"), cNew)));
      const tc = tanhV(cNew);
      const hNew = mul(o, tc);
      return { states: { h: hNew, c: cNew }, outputs: { h: hNew, c: cNew }, cache: { x: x!, h: h!, c: c!, f, i, g, o, cNew, tc } };
    },
    back(p, { x, h, c, f, i, g, o, cNew, tc }, dNext, dOut, gp) {
      const dhNew = add(dNext["h"]!, dOut["h"]!);
      const dx = zeros(I), dh = zeros(H);
      const dao = dSigmoid(mul(dhNew, tc), o);
      addTo(v(gp, "po"), mul(dao, cNew));
      gateBack(p, gp, "o", dao, x, h, dx, dh);
      const dcNew = add(dNext["c"]!, dOut["c"]!, dTanh(mul(dhNew, o), tc), mul(dao, v(p, "po")));
      const daf = dSigmoid(mul(dcNew, c), f);
      const dai = dSigmoid(mul(dcNew, g), i);
      addTo(v(gp, "pf"), mul(daf, c));
      addTo(v(gp, "pi"), mul(dai, c));
      gateBack(p, gp, "f", daf, x, h, dx, dh);
      gateBack(p, gp, "i", dai, x, h, dx, dh);
      gateBack(p, gp, "g", dTanh(mul(dcNew, i), g), x, h, dx, dh);
      const dc = add(mul(dcNew, f), mul(daf, v(p, "pf")), mul(dai, v(p, "pi")));
      return { dx: { x: dx }, dPrev: { h: dh, c: dc } };
    },
  };
}
