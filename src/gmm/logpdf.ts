import { logSumExp } from '../math/logsumexp.js';
import type { Gmm } from './model.js';

/**
 * log(w_c) + log N(x_i | μ_c, Σ_c) for every row i of X (n×d, row-major) and component c,
 * written as an n×k row-major matrix. The E-step and every divergence estimator start here.
 */
export function weightedLogProb(g: Gmm, X: Float64Array, n: number, out = new Float64Array(n * g.k)): Float64Array {
  const { k, d, means, precisionCholesky: P, logNorm, logWeights } = g;
  const diff = new Float64Array(d);
  for (let c = 0; c < k; c++) {
    const mOff = c * d;
    const pOff = c * d * d;
    const base = logWeights[c]! + logNorm[c]!;
    for (let i = 0; i < n; i++) {
      const xOff = i * d;
      let m = 0;
      if (g.diagonal) {
        for (let a = 0; a < d; a++) {
          const y = (X[xOff + a]! - means[mOff + a]!) * P[pOff + a * d + a]!;
          m += y * y;
        }
      } else {
        for (let a = 0; a < d; a++) diff[a] = X[xOff + a]! - means[mOff + a]!;
        for (let a = 0; a < d; a++) {
          let y = 0;
          const row = pOff + a * d;
          for (let b = 0; b <= a; b++) y += P[row + b]! * diff[b]!;
          m += y * y;
        }
      }
      out[i * k + c] = base - 0.5 * m;
    }
  }
  return out;
}

/** log p(x_i) for every row of X (n×d). */
export function logDensity(g: Gmm, X: Float64Array, n: number, out = new Float64Array(n)): Float64Array {
  const w = weightedLogProb(g, X, n);
  const k = g.k;
  for (let i = 0; i < n; i++) out[i] = k === 1 ? w[i]! : logSumExp(w, i * k, k);
  return out;
}

/** Mean log-likelihood per sample, the score scikit-learn's `score` reports. */
export function meanLogLikelihood(g: Gmm, X: Float64Array, n: number): number {
  const lp = logDensity(g, X, n);
  let s = 0;
  for (let i = 0; i < n; i++) s += lp[i]!;
  return s / n;
}
