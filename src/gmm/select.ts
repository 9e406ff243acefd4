import { fitGmm, type FitOptions, type FitResult } from './fit.js';
import { GmmError, type CovarianceType } from './model.js';

/**
 * The number of components by the Bayesian information criterion, as one would with
 * scikit-learn: fit every K in a range, keep the lowest BIC. This is what `components: auto`
 * runs.
 *
 * @example
 * const best = selectComponents(X, n, 2, { range: [1, 6], seed: 0 });
 * best.model.k; // the K with the lowest BIC; best.scores has the BIC of each K
 */

export interface SelectOptions extends Omit<FitOptions, 'components' | 'warmStart'> {
  /** Smallest and largest K to try, inclusive. */
  range: readonly [number, number];
}

export interface ComponentScore {
  components: number;
  /** Infinity when this K could not be fitted (see `error`). */
  bic: number;
  meanLogLik: number;
  converged: boolean;
  /** Why the fit failed, e.g. a component collapsed; that K is then never chosen. */
  error?: string;
}

export interface SelectResult extends FitResult {
  /** BIC of the chosen model. */
  bic: number;
  /** One entry per K in the range, in increasing K. */
  scores: ComponentScore[];
}

/** Free parameters of a mixture (scikit-learn's `_n_parameters`): covariances by type, means, and k − 1 weights. */
export function countParameters(k: number, d: number, type: CovarianceType): number {
  let cov: number;
  switch (type) {
    case 'full':
      cov = (k * d * (d + 1)) / 2;
      break;
    case 'tied':
      cov = (d * (d + 1)) / 2;
      break;
    case 'diag':
      cov = k * d;
      break;
    case 'spherical':
      cov = k;
      break;
  }
  return cov + k * d + k - 1;
}

/** BIC = −2·n·(mean log-likelihood) + p·ln n, lower is better (scikit-learn's `bic`). */
export function bic(meanLogLik: number, n: number, k: number, d: number, type: CovarianceType): number {
  return -2 * n * meanLogLik + countParameters(k, d, type) * Math.log(n);
}

/**
 * Fits K = range[0] … range[1] (each with the same seed and settings) and returns the fit
 * with the lowest BIC, plus every K's score. A K whose fit fails (a collapsed component) is
 * scored Infinity; if every K fails, the first failure is thrown.
 */
export function selectComponents(X: Float64Array, n: number, d: number, opts: SelectOptions): SelectResult {
  const [kMin, kMax] = opts.range;
  if (!Number.isInteger(kMin) || !Number.isInteger(kMax) || kMin < 1 || kMax < kMin) {
    throw new GmmError(`range must be two integers 1 ≤ min ≤ max, got [${kMin}, ${kMax}]`);
  }
  if (kMax > n) {
    throw new GmmError(`range goes up to ${kMax} components but there are only ${n} rows; lower the range's max or collect more data`);
  }
  const type = opts.covarianceType ?? 'full';
  const { range: _range, ...fitOpts } = opts;
  const scores: ComponentScore[] = [];
  let best: SelectResult | undefined;
  let firstError: unknown;
  for (let k = kMin; k <= kMax; k++) {
    let fit: FitResult;
    try {
      fit = fitGmm(X, n, d, { ...fitOpts, covarianceType: type, components: k });
    } catch (e) {
      if (!(e instanceof GmmError)) throw e;
      firstError ??= e;
      scores.push({ components: k, bic: Infinity, meanLogLik: NaN, converged: false, error: e.message });
      continue;
    }
    const score = bic(fit.meanLogLik, n, k, d, type);
    scores.push({ components: k, bic: score, meanLogLik: fit.meanLogLik, converged: fit.converged });
    if (best === undefined || score < best.bic) best = { ...fit, bic: score, scores };
  }
  if (best === undefined) throw firstError;
  return best;
}
