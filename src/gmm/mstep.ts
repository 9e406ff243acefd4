import type { SufficientStats } from './estep.js';
import { triangleSize } from './pass-source.js';
import type { CovarianceType, GmmParams } from './model.js';

/**
 * The M-step: weights, means and covariances from the E-step's sufficient statistics, one
 * estimator per covariance type as scikit-learn's `_estimate_gaussian_covariances_{full,tied,
 * diag,spherical}`. Covariances are written as full k×d×d matrices (the model's one layout),
 * `regCovar` added to every diagonal.
 */

/** scikit-learn adds 10·eps to every component's mass so an emptied component divides by a positive number. */
const MASS_FLOOR = 10 * Number.EPSILON;

/** Output buffers reused across EM iterations; `createGmm` copies them. */
export interface MStepWork {
  nk: Float64Array;
  weights: Float64Array;
  means: Float64Array;
  covariances: Float64Array;
  /** k×d shifts δ_c = s1_c / n_c of the new means from the old. */
  delta: Float64Array;
}

export function createMStepWork(k: number, d: number): MStepWork {
  return {
    nk: new Float64Array(k),
    weights: new Float64Array(k),
    means: new Float64Array(k * d),
    covariances: new Float64Array(k * d * d),
    delta: new Float64Array(k * d),
  };
}

/** Mixture parameters from sufficient statistics (diagonal statistics for the diag and spherical types). */
export function estimateGaussianParameters(stats: SufficientStats, type: CovarianceType, regCovar: number, work: MStepWork): GmmParams {
  const { k, d } = stats;
  estimateWeightsAndMeans(stats, work);
  switch (type) {
    case 'full':
      estimateCovariancesFull(stats, regCovar, work);
      break;
    case 'tied':
      estimateCovariancesTied(stats, regCovar, work);
      break;
    case 'diag':
      estimateCovariancesDiag(stats, regCovar, work);
      break;
    case 'spherical':
      estimateCovariancesDiag(stats, regCovar, work);
      sphericalFromDiag(d, k, work.covariances);
      break;
  }
  return { k, d, covarianceType: type, weights: work.weights, means: work.means, covariances: work.covariances };
}

// ---------------------------------------------------------------- weights and means

function estimateWeightsAndMeans(stats: SufficientStats, w: MStepWork): void {
  const { k, d, shift, s1 } = stats;
  let total = 0;
  for (let c = 0; c < k; c++) {
    const m = stats.nk[c]! + MASS_FLOOR;
    w.nk[c] = m;
    total += m;
    for (let a = 0; a < d; a++) {
      const delta = s1[c * d + a]! / m;
      w.delta[c * d + a] = delta;
      w.means[c * d + a] = shift[c * d + a]! + delta;
    }
  }
  for (let c = 0; c < k; c++) w.weights[c] = w.nk[c]! / total;
}

// ---------------------------------------------------------------- covariances

/**
 * The scatter about the new mean, (s2_c − n_c δδᵀ) scaled by 1/`scale`, added into the full
 * symmetric matrix at `out[off..]`.
 */
function addScatter(stats: SufficientStats, c: number, nk: number, delta: Float64Array, scale: number, out: Float64Array, off: number): void {
  const { d, s2 } = stats;
  const mo = c * d;
  let q = c * triangleSize(d);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      const v = (s2[q++]! - nk * delta[mo + a]! * delta[mo + b]!) / scale;
      out[off + a * d + b]! += v;
      if (b !== a) out[off + b * d + a]! += v;
    }
  }
}

function addReg(out: Float64Array, off: number, d: number, regCovar: number): void {
  for (let a = 0; a < d; a++) out[off + a * d + a]! += regCovar;
}

function estimateCovariancesFull(stats: SufficientStats, reg: number, w: MStepWork): void {
  const { k, d } = stats;
  w.covariances.fill(0);
  for (let c = 0; c < k; c++) {
    addScatter(stats, c, w.nk[c]!, w.delta, w.nk[c]!, w.covariances, c * d * d);
    addReg(w.covariances, c * d * d, d, reg);
  }
}

/** One covariance shared by all components: the pooled within-component scatter over Σ_c n_c. */
function estimateCovariancesTied(stats: SufficientStats, reg: number, w: MStepWork): void {
  const { k, d } = stats;
  let total = 0;
  for (let c = 0; c < k; c++) total += w.nk[c]!;
  w.covariances.fill(0);
  for (let c = 0; c < k; c++) addScatter(stats, c, w.nk[c]!, w.delta, total, w.covariances, 0);
  addReg(w.covariances, 0, d, reg);
  for (let c = 1; c < k; c++) w.covariances.copyWithin(c * d * d, 0, d * d);
}

/** Per-component variances only; off-diagonals are zero. */
function estimateCovariancesDiag(stats: SufficientStats, reg: number, w: MStepWork): void {
  const { k, d, s2 } = stats;
  w.covariances.fill(0);
  for (let c = 0; c < k; c++) {
    const m = w.nk[c]!;
    for (let a = 0; a < d; a++) {
      const delta = w.delta[c * d + a]!;
      w.covariances[c * d * d + a * d + a] = s2[c * d + a]! / m - delta * delta + reg;
    }
  }
}

/** One variance per component: the mean of its diagonal variances (reg_covar already included). */
function sphericalFromDiag(d: number, k: number, covariances: Float64Array): void {
  for (let c = 0; c < k; c++) {
    const off = c * d * d;
    let s = 0;
    for (let a = 0; a < d; a++) s += covariances[off + a * d + a]!;
    const v = s / d;
    for (let a = 0; a < d; a++) covariances[off + a * d + a] = v;
  }
}
