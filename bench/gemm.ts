/**
 * The register-blocked matrix product the hand-fused contestant is built on.
 *
 * Every operand is a strided view of a flat typed array — element (r, c) of A is
 * `a[aOff + r*aRs + c*aCs]` — so transposed operands and column blocks of a bigger matrix (the x
 * and h halves of a fused gate matrix) cost nothing. The product always accumulates: C += A·B.
 *
 * Tiles: 4×4 accumulators (16 values kept in registers, one B element loaded at a time so V8's
 * allocator keeps them out of memory), a 4×1 strip for leftover columns, and for leftover rows
 * (the B = 1 matrix-vector case) 1×8 and 1×1 strips.
 */

export type Real = Float32Array | Float64Array;

/** C[M×N] (row-major, leading dimension ldc, from cOff) += A[M×K] · B[K×N]. */
export function gemm(
  M: number, N: number, K: number,
  a: Real, aOff: number, aRs: number, aCs: number,
  b: Real, bOff: number, bRs: number, bCs: number,
  c: Real, cOff: number, ldc: number,
): void {
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const n4 = N - (N % 4);
    tile4x4(i, n4, K, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc);
    for (let j = n4; j < N; j++) strip4x1(i, j, K, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc);
  }
  for (; i < M; i++) row1xN(i, N, K, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc);
}

/** Rows i..i+3, columns 0..n4-1 (n4 a multiple of 4), in 4×4 tiles. */
function tile4x4(
  i: number, n4: number, K: number,
  a: Real, aOff: number, aRs: number, aCs: number,
  b: Real, bOff: number, bRs: number, bCs: number,
  c: Real, cOff: number, ldc: number,
): void {
  const aR2 = 2 * aRs, aR3 = 3 * aRs, bC2 = 2 * bCs, bC3 = 3 * bCs;
  for (let j = 0; j < n4; j += 4) {
    let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
    let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
    let pa = aOff + i * aRs, pb = bOff + j * bCs;
    for (let k = 0; k < K; k++) {
      const a0 = a[pa], a1 = a[pa + aRs], a2 = a[pa + aR2], a3 = a[pa + aR3];
      let v = b[pb];
      c00 += a0 * v; c10 += a1 * v; c20 += a2 * v; c30 += a3 * v;
      v = b[pb + bCs];
      c01 += a0 * v; c11 += a1 * v; c21 += a2 * v; c31 += a3 * v;
      v = b[pb + bC2];
      c02 += a0 * v; c12 += a1 * v; c22 += a2 * v; c32 += a3 * v;
      v = b[pb + bC3];
      c03 += a0 * v; c13 += a1 * v; c23 += a2 * v; c33 += a3 * v;
      pa += aCs;
      pb += bRs;
    }
    let pc = cOff + i * ldc + j;
    c[pc] += c00; c[pc + 1] += c01; c[pc + 2] += c02; c[pc + 3] += c03; pc += ldc;
    c[pc] += c10; c[pc + 1] += c11; c[pc + 2] += c12; c[pc + 3] += c13; pc += ldc;
    c[pc] += c20; c[pc + 1] += c21; c[pc + 2] += c22; c[pc + 3] += c23; pc += ldc;
    c[pc] += c30; c[pc + 1] += c31; c[pc + 2] += c32; c[pc + 3] += c33;
  }
}

/** Rows i..i+3 of one column j. */
function strip4x1(
  i: number, j: number, K: number,
  a: Real, aOff: number, aRs: number, aCs: number,
  b: Real, bOff: number, bRs: number, bCs: number,
  c: Real, cOff: number, ldc: number,
): void {
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  let pa = aOff + i * aRs, pb = bOff + j * bCs;
  for (let k = 0; k < K; k++) {
    const v = b[pb];
    c0 += a[pa] * v; c1 += a[pa + aRs] * v; c2 += a[pa + 2 * aRs] * v; c3 += a[pa + 3 * aRs] * v;
    pa += aCs;
    pb += bRs;
  }
  const pc = cOff + i * ldc + j;
  c[pc] += c0; c[pc + ldc] += c1; c[pc + 2 * ldc] += c2; c[pc + 3 * ldc] += c3;
}

/** One row i (a vector–matrix product): 8 columns at a time, then one at a time. */
function row1xN(
  i: number, N: number, K: number,
  a: Real, aOff: number, aRs: number, aCs: number,
  b: Real, bOff: number, bRs: number, bCs: number,
  c: Real, cOff: number, ldc: number,
): void {
  const rowA = aOff + i * aRs, rowC = cOff + i * ldc;
  let j = 0;
  for (; j + 8 <= N; j += 8) {
    let c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
    let pa = rowA, pb = bOff + j * bCs;
    for (let k = 0; k < K; k++) {
      const v = a[pa];
      c0 += v * b[pb]; c1 += v * b[pb + bCs]; c2 += v * b[pb + 2 * bCs]; c3 += v * b[pb + 3 * bCs];
      c4 += v * b[pb + 4 * bCs]; c5 += v * b[pb + 5 * bCs]; c6 += v * b[pb + 6 * bCs]; c7 += v * b[pb + 7 * bCs];
      pa += aCs;
      pb += bRs;
    }
    const pc = rowC + j;
    c[pc] += c0; c[pc + 1] += c1; c[pc + 2] += c2; c[pc + 3] += c3;
    c[pc + 4] += c4; c[pc + 5] += c5; c[pc + 6] += c6; c[pc + 7] += c7;
  }
  for (; j < N; j++) {
    let acc = 0, pa = rowA, pb = bOff + j * bCs;
    for (let k = 0; k < K; k++) {
      acc += a[pa] * b[pb];
      pa += aCs;
      pb += bRs;
    }
    c[rowC + j] += acc;
  }
}

/** The textbook triple loop, the oracle `--check` compares `gemm` with. */
export function gemmNaive(
  M: number, N: number, K: number,
  a: Real, aOff: number, aRs: number, aCs: number,
  b: Real, bOff: number, bRs: number, bCs: number,
  c: Real, cOff: number, ldc: number,
): void {
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += a[aOff + i * aRs + k * aCs] * b[bOff + k * bRs + j * bCs];
      c[cOff + i * ldc + j] += acc;
    }
}
