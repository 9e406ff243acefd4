import type { Rng } from '../math/rng.js';
import type { Gmm } from './model.js';

/**
 * x = μ_c + L_c z for each standard-normal row z of Z (n×d), into out (n×d) at row `outRow`.
 * Shared by plain, stratified and quasi-random sampling: they differ only in where z comes from.
 */
export function transformNormals(g: Gmm, c: number, Z: Float64Array, n: number, out: Float64Array, outRow = 0): void {
  const { d, means, cholesky: L } = g;
  const mOff = c * d;
  const lOff = c * d * d;
  for (let i = 0; i < n; i++) {
    const zOff = i * d;
    const xOff = (outRow + i) * d;
    for (let a = 0; a < d; a++) {
      let s = means[mOff + a]!;
      const row = lOff + a * d;
      for (let b = 0; b <= a; b++) s += L[row + b]! * Z[zOff + b]!;
      out[xOff + a] = s;
    }
  }
}

/** n draws from component c, into out (n×d) at row `outRow`. */
export function sampleComponent(g: Gmm, c: number, n: number, rng: Rng, out: Float64Array, outRow = 0): void {
  const Z = new Float64Array(n * g.d);
  for (let i = 0; i < Z.length; i++) Z[i] = rng.normal();
  transformNormals(g, c, Z, n, out, outRow);
}

/** How many of n draws each component gets: one multinomial draw over the weights. */
export function multinomialCounts(weights: Float64Array, n: number, rng: Rng): Int32Array {
  const counts = new Int32Array(weights.length);
  const last = weights.length - 1;
  for (let i = 0; i < n; i++) {
    let u = rng.uniform();
    let c = 0;
    while (c < last && u >= weights[c]!) u -= weights[c++]!;
    counts[c]!++;
  }
  return counts;
}

/** n draws from the mixture (n×d), grouped by component as scikit-learn's `sample` returns them. */
export function sample(g: Gmm, n: number, rng: Rng): { X: Float64Array; labels: Int32Array } {
  const counts = multinomialCounts(g.weights, n, rng);
  const X = new Float64Array(n * g.d);
  const labels = new Int32Array(n);
  let row = 0;
  for (let c = 0; c < g.k; c++) {
    const m = counts[c]!;
    sampleComponent(g, c, m, rng, X, row);
    labels.fill(c, row, row + m);
    row += m;
  }
  return { X, labels };
}
