import { cholesky, invertLower, logDetFromCholesky } from '../math/linalg.js';

export const COVARIANCE_TYPES = ['full', 'diag', 'spherical', 'tied'] as const;
export type CovarianceType = (typeof COVARIANCE_TYPES)[number];

/**
 * A Gaussian mixture in flat typed arrays, with everything the hot loops need cached.
 * Covariances are stored as full d×d matrices whatever the type, so the math has one
 * layout; `covarianceType` only says how they are constrained (and how they serialise).
 */
export interface Gmm {
  readonly k: number;
  readonly d: number;
  readonly covarianceType: CovarianceType;
  /** k mixing weights, summing to 1. */
  readonly weights: Float64Array;
  readonly logWeights: Float64Array;
  /** k×d, row-major. */
  readonly means: Float64Array;
  /** k×d×d covariance matrices. */
  readonly covariances: Float64Array;
  /** k×d×d lower Cholesky factors L with LLᵀ = Σ. */
  readonly cholesky: Float64Array;
  /** k×d×d lower L⁻¹, so the Mahalanobis term is ‖L⁻¹(x − μ)‖². */
  readonly precisionCholesky: Float64Array;
  /** k values of −½(d log 2π + log det Σ). */
  readonly logNorm: Float64Array;
  /** True when every covariance is diagonal, which allows an O(d) density. */
  readonly diagonal: boolean;
}

/** A mixture that cannot be built or loaded; the message says what is wrong and what to do. */
export class GmmError extends Error {
  override readonly name = 'GmmError';
}

export interface GmmParams {
  weights: ArrayLike<number>;
  /** k×d row-major. */
  means: ArrayLike<number>;
  /** k×d×d full matrices, row-major. */
  covariances: ArrayLike<number>;
  covarianceType: CovarianceType;
  k: number;
  d: number;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** Builds a mixture and its cached factors; throws GmmError if a covariance is not positive definite. */
export function createGmm(p: GmmParams): Gmm {
  const { k, d } = p;
  const weights = Float64Array.from(p.weights);
  const means = Float64Array.from(p.means);
  const covariances = Float64Array.from(p.covariances);
  if (weights.length !== k || means.length !== k * d || covariances.length !== k * d * d) {
    throw new GmmError(`mixture arrays do not match k=${k}, d=${d}`);
  }
  const chol = new Float64Array(k * d * d);
  const prec = new Float64Array(k * d * d);
  const logNorm = new Float64Array(k);
  const logWeights = new Float64Array(k);
  let diagonal = true;
  for (let c = 0; c < k; c++) {
    const off = c * d * d;
    if (!cholesky(covariances, d, chol, off, off)) {
      throw new GmmError(
        `covariance of component ${c} is not positive definite; increase reg_covar, or scale the input data`,
      );
    }
    invertLower(chol, d, prec, off, off);
    logNorm[c] = -0.5 * (d * LOG_2PI + logDetFromCholesky(chol, d, off));
    logWeights[c] = Math.log(weights[c]!);
    for (let i = 0; i < d && diagonal; i++) {
      for (let j = 0; j < i; j++) if (covariances[off + i * d + j] !== 0) diagonal = false;
    }
  }
  return {
    k,
    d,
    covarianceType: p.covarianceType,
    weights,
    logWeights,
    means,
    covariances,
    cholesky: chol,
    precisionCholesky: prec,
    logNorm,
    diagonal,
  };
}

/** A single Gaussian as a one-component mixture. */
export function gaussian(mean: ArrayLike<number>, covariance: ArrayLike<number>): Gmm {
  const d = mean.length;
  return createGmm({ k: 1, d, weights: [1], means: mean, covariances: covariance, covarianceType: 'full' });
}
