/**
 * examples/cells/mingru.cell — minGRU, Feng et al. 2024, "Were RNNs all we needed?" (§3.1), in its
 * sequential mode: the gate and the candidate read the input only.
 *   z = σ(Wz·x + bz)    h̃ = Wh·x + bh    h' = (1 − z) ⊙ h + z ⊙ h̃          output: h
 * Adjoint (dh' includes this step's output gradient):
 *   dz = dh'·(h̃ − h);  dh̃ = dh'·z;  dh = dh'·(1 − z)
 *   da_z = dz·z(1 − z): dWz += da_z·xᵀ, dbz += da_z, dx += Wzᵀ·da_z
 *   dWh += dh̃·xᵀ, dbh += dh̃, dx += Whᵀ·dh̃
 */
import type { ReferenceCell } from "./bptt.js";
import { add, addMatTvec, addOuter, addTo, dSigmoid, matvec, mul, sigmoidV, sub, zeros, type Mat, type Vec } from "./math.js";

interface Cache { x: Vec; h: Vec; z: Vec; ht: Vec }

export function mingruReference(I = 8, H = 16): ReferenceCell<Cache> {
  return {
    name: "mingru", file: "examples/cells/mingru.cell",
    params: [
      { name: "Wz", shape: [H, I] }, { name: "bz", shape: [H] },
      { name: "Wh", shape: [H, I] }, { name: "bh", shape: [H] },
    ],
    inputs: [{ name: "x", shape: [I] }],
    states: [{ name: "h", shape: [H] }],
    outputs: [{ name: "h", shape: [H] }],
    step(p, { x }, { h }) {
      const z = sigmoidV(add(matvec(p["Wz"] as Mat, x!), p["bz"] as Vec));
      const ht = add(matvec(p["Wh"] as Mat, x!), p["bh"] as Vec);
      const hNew = add(mul(z.map((a) => 1 - a), h!), mul(z, ht));
      return { states: { h: hNew }, outputs: { h: hNew }, cache: { x: x!, h: h!, z, ht } };
    },
    back(p, { x, h, z, ht }, dNext, dOut, gp) {
      const dhNew = add(dNext["h"]!, dOut["h"]!);
      const dx = zeros(I);
      const daz = dSigmoid(mul(dhNew, sub(ht, h)), z);
      const dht = mul(dhNew, z);
      addOuter(gp["Wz"] as Mat, daz, x);
      addTo(gp["bz"] as Vec, daz);
      addMatTvec(dx, p["Wz"] as Mat, daz);
      addOuter(gp["Wh"] as Mat, dht, x);
      addTo(gp["bh"] as Vec, dht);
      addMatTvec(dx, p["Wh"] as Mat, dht);
      return { dx: { x: dx }, dPrev: { h: mul(dhNew, z.map((a) => 1 - a)) } };
    },
  };
}
