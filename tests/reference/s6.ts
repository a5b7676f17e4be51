/**
 * examples/cells/s6.cell — a diagonal selective state-space cell in the style of Mamba's S6 (Gu &
 * Dao 2023, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces", Algorithm 2), one
 * step of the recurrence, with the discretization written out: zero-order hold for A, Euler for B.
 *   Δ = softplus(W_dt·x + b_dt) [D]   B = W_B·x [N]   C = W_C·x [N]   A = −exp(A_log) [D, N]
 *   h' = exp(Δ ⊙ A) ⊙ h + (Δ ⊙ x) Bᵀ   (Δ ⊙ A scales row d of A by Δ_d)
 *   y = h'·C + D_skip ⊙ x
 * State h[D, N]; output y. W_dt is a full [D, D] matrix (Mamba's is low rank, dt_rank × D).
 * Adjoint (dh' from the next step, dy this step's output gradient), with E = exp(Δ ⊙ A), s = Δ ⊙ x:
 *   dh' += dy Cᵀ;  dC = h'ᵀ dy;  dD_skip += dy ⊙ x;  dx = dy ⊙ D_skip
 *   dh = dh' ⊙ E;  dE = dh' ⊙ h;  ds = dh'·B;  dB = dh'ᵀ s
 *   dΔ_d = Σ_n dE·E·A + ds ⊙ x;  dA_log = dE ⊙ E ⊙ Δ ⊙ A;  dx += ds ⊙ Δ
 *   d(W_dt·x + b_dt) = dΔ ⊙ σ(W_dt·x + b_dt);  then the products' adjoints.
 */
import { asNamed, matOf, type ReferenceCell } from "./bptt.js";
import { add, addMatTvec, addOuter, addTo, matvec, sigmoid, softplus, zeros, type Mat, type Vec } from "./math.js";

interface Cache { x: Vec; h: Mat; pre: Vec; dt: Vec; B: Vec; C: Vec; A: Mat; E: Mat; s: Vec; hNew: Mat }

export function s6Reference(D = 4, N = 3): ReferenceCell<Cache> {
  return {
    name: "s6", file: "examples/cells/s6.cell",
    params: [
      { name: "W_dt", shape: [D, D] }, { name: "b_dt", shape: [D] },
      { name: "W_B", shape: [N, D] }, { name: "W_C", shape: [N, D] },
      { name: "A_log", shape: [D, N] }, { name: "D_skip", shape: [D] },
    ],
    inputs: [{ name: "x", shape: [D] }],
    states: [{ name: "h", shape: [D, N] }],
    outputs: [{ name: "y", shape: [D] }],
    step(p, named, states) {
      const x = named["x"]!, h = matOf(states["h"]);
      const pre = add(matvec(p["W_dt"] as Mat, x), p["b_dt"] as Vec);
      const dt = pre.map(softplus);
      const B = matvec(p["W_B"] as Mat, x), C = matvec(p["W_C"] as Mat, x);
      const A = (p["A_log"] as Mat).map((row) => row.map((l) => -Math.exp(l)));
      const E = A.map((row, d) => row.map((a) => Math.exp(dt[d]! * a)));
      const s = dt.map((v, d) => v * x[d]!);
      const hNew = h.map((row, d) => row.map((hv, n) => E[d]![n]! * hv + s[d]! * B[n]!));
      const Dskip = p["D_skip"] as Vec;
      const y = matvec(hNew, C).map((v, d) => v + Dskip[d]! * x[d]!);
      return { states: { h: asNamed(hNew) }, outputs: { y }, cache: { x, h, pre, dt, B, C, A, E, s, hNew } };
    },
    back(p, { x, h, pre, dt, B, C, A, E, s, hNew }, dNext, dOut, gp) {
      const dy = dOut["y"]!;
      const dh = matOf(dNext["h"]).map((row) => row.slice());
      addOuter(dh, dy, C);
      const dC = zeros(N);
      addMatTvec(dC, hNew, dy);
      const Dskip = p["D_skip"] as Vec;
      addTo(gp["D_skip"] as Vec, dy.map((v, d) => v * x[d]!));
      const dx = dy.map((v, d) => v * Dskip[d]!);
      const dB = zeros(N);
      addMatTvec(dB, dh, s);
      const ds = matvec(dh, B);
      const gAlog = gp["A_log"] as Mat;
      const ddt = dt.map((_, d) => {
        let acc = ds[d]! * x[d]!;
        for (let n = 0; n < N; n++) {
          const dLogE = dh[d]![n]! * h[d]![n]! * E[d]![n]!; // d(Δ_d·A_dn)
          acc += dLogE * A[d]![n]!;
          gAlog[d]![n]! += dLogE * dt[d]! * A[d]![n]!;
        }
        return acc;
      });
      addTo(dx, ds.map((v, d) => v * dt[d]!));
      const dpre = ddt.map((v, d) => v * sigmoid(pre[d]!));
      addOuter(gp["W_dt"] as Mat, dpre, x);
      addTo(gp["b_dt"] as Vec, dpre);
      addMatTvec(dx, p["W_dt"] as Mat, dpre);
      addOuter(gp["W_B"] as Mat, dB, x);
      addMatTvec(dx, p["W_B"] as Mat, dB);
      addOuter(gp["W_C"] as Mat, dC, x);
      addMatTvec(dx, p["W_C"] as Mat, dC);
      return { dx: { x: dx }, dPrev: { h: asNamed(dh.map((row, d) => row.map((g, n) => g * E[d]![n]!))) } };
    },
  };
}
