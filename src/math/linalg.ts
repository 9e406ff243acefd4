/**
 * Small dense linear algebra on row-major Float64Array matrices. Dimensions here are
 * tiny (d ≤ a few dozen), so plain loops beat any library call on the per-sample path.
 */

/**
 * Cholesky factor L (lower, row-major) of the symmetric d×d matrix `a`, written into `out`.
 * Returns false when `a` is not positive definite (a pivot ≤ 0 or not finite).
 */
export function cholesky(a: Float64Array, d: number, out: Float64Array, offsetA = 0, offsetOut = 0): boolean {
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[offsetA + i * d + j]!;
      for (let k = 0; k < j; k++) s -= out[offsetOut + i * d + k]! * out[offsetOut + j * d + k]!;
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return false;
        out[offsetOut + i * d + i] = Math.sqrt(s);
      } else {
        out[offsetOut + i * d + j] = s / out[offsetOut + j * d + j]!;
      }
    }
    for (let j = i + 1; j < d; j++) out[offsetOut + i * d + j] = 0;
  }
  return true;
}

/** Inverse of a lower-triangular d×d matrix (itself lower-triangular), by forward substitution. */
export function invertLower(l: Float64Array, d: number, out: Float64Array, offsetL = 0, offsetOut = 0): void {
  for (let i = 0; i < d * d; i++) out[offsetOut + i] = 0;
  for (let col = 0; col < d; col++) {
    out[offsetOut + col * d + col] = 1 / l[offsetL + col * d + col]!;
    for (let i = col + 1; i < d; i++) {
      let s = 0;
      for (let k = col; k < i; k++) s -= l[offsetL + i * d + k]! * out[offsetOut + k * d + col]!;
      out[offsetOut + i * d + col] = s / l[offsetL + i * d + i]!;
    }
  }
}

/** log det(A) from its Cholesky factor: 2 Σ log L_ii. */
export function logDetFromCholesky(l: Float64Array, d: number, offset = 0): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += Math.log(l[offset + i * d + i]!);
  return 2 * s;
}
