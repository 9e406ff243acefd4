import { logDensity } from '../gmm/logpdf.js';
import type { Gmm } from '../gmm/model.js';
import { sample } from '../gmm/sample.js';
import { createRng, type Seed } from '../math/rng.js';
import { softplus } from './kernel.js';
import type { DivergenceResult } from './types.js';

/**
 * The seed's estimator, kept as the reference baseline: KL(p‖q) as the mean of
 * log p(x) − log q(x) over n i.i.d. draws of p, standard error sd/√n; JS from n draws of
 * each side with log m = logaddexp(log p, log q) − ln 2. No variance reduction on purpose.
 */
export const MONTE_CARLO_SAMPLES = 100_000;

function meanAndVariance(v: Float64Array): [number, number] {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i]!;
  m /= v.length;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i]! - m) ** 2;
  // One draw says nothing of the spread (the public API asks for two).
  return [m, v.length > 1 ? s / (v.length - 1) : Infinity];
}

export function monteCarloKl(p: Gmm, q: Gmm, n = MONTE_CARLO_SAMPLES, seed: Seed = 0): DivergenceResult {
  const { X } = sample(p, n, createRng(seed));
  const lp = logDensity(p, X, n);
  const lq = logDensity(q, X, n);
  for (let i = 0; i < n; i++) lp[i] = lp[i]! - lq[i]!;
  const [mean, variance] = meanAndVariance(lp);
  return {
    value: Math.max(0, mean),
    stderr: Math.sqrt(variance / n),
    method: 'monte-carlo',
    samples: n,
    evaluations: n * (p.k + q.k),
  };
}

/** log p − log m at each row, from log p and log q there: ln 2 − log(1 + q/p), exactly 0 where p = q. */
function logRatioToMixture(lp: Float64Array, lq: Float64Array): Float64Array {
  const out = new Float64Array(lp.length);
  for (let i = 0; i < lp.length; i++) out[i] = Math.LN2 - softplus(lq[i]! - lp[i]!);
  return out;
}

export function monteCarloJs(p: Gmm, q: Gmm, n = MONTE_CARLO_SAMPLES, seed: Seed = 0): DivergenceResult {
  const rng = createRng(seed);
  const fromP = sample(p, n, rng).X;
  const fromQ = sample(q, n, rng).X;
  const [mp, vp] = meanAndVariance(logRatioToMixture(logDensity(p, fromP, n), logDensity(q, fromP, n)));
  const [mq, vq] = meanAndVariance(logRatioToMixture(logDensity(q, fromQ, n), logDensity(p, fromQ, n)));
  const value = 0.5 * (mp + mq);
  return {
    value: Math.min(Math.LN2, Math.max(0, value)),
    stderr: 0.5 * Math.sqrt(vp / n + vq / n),
    method: 'monte-carlo',
    samples: 2 * n,
    evaluations: 2 * n * (p.k + q.k),
  };
}
