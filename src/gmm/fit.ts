import { createRng, type Rng, type Seed } from '../math/rng.js';
import { kmeans } from './kmeans.js';
import { createPassWork, createStats, expectation, statsFromLabels, type PassWork, type SufficientStats } from './estep.js';
import { COVARIANCE_TYPES, createGmm, GmmError, type CovarianceType, type Gmm } from './model.js';
import { createMStepWork, estimateGaussianParameters, type MStepWork } from './mstep.js';

/**
 * Expectation–maximisation for a Gaussian mixture, following scikit-learn's GaussianMixture:
 * a k-means++ start, EM until the mean log-likelihood per sample moves less than `tol`, the
 * best of `nInit` starts; M-steps per covariance type in mstep.ts, the fused E-step pass in
 * estep.ts. On large inputs the start is found on a seeded subsample (see `initRows`). A warm
 * start skips the initialisation: on unchanged data it converges after one M-step. Settings
 * live in FitOptions, fitted results in FitResult.
 *
 * @example
 * const { model, converged } = fitGmm(X, n, 2, { components: 3, seed: 42 });
 */

export interface FitOptions {
  components: number;
  /** Default 'full'; with `warmStart`, defaults to the warm model's type. */
  covarianceType?: CovarianceType;
  /** Independent k-means starts; the fit with the best log-likelihood wins. Default 1. */
  nInit?: number;
  /** EM iterations (M-steps) at most; 0 returns the start as it is. Default 100. */
  maxIter?: number;
  /** Convergence threshold on the change of the mean log-likelihood per sample. Default 1e-3. */
  tol?: number;
  /** Added to every covariance diagonal so no component can become singular. Default 1e-6. */
  regCovar?: number;
  /** Seeds the k-means initialisation. Default 0. */
  seed?: Seed;
  /** Start EM from these parameters instead of k-means (one start, `nInit` ignored). */
  warmStart?: Gmm;
}

export interface FitResult {
  model: Gmm;
  /** Mean log-likelihood per sample of `model` on the training rows. */
  meanLogLik: number;
  /** EM iterations (M-steps) that produced `model`, for the best start. */
  iterations: number;
  converged: boolean;
}

interface Settings {
  k: number;
  type: CovarianceType;
  nInit: number;
  maxIter: number;
  tol: number;
  regCovar: number;
  seed: Seed;
  warmStart: Gmm | undefined;
}

/** Buffers shared by every start of one fit: EM allocates nothing per row, only each new model's small arrays. */
interface Work {
  stats: SufficientStats;
  pass: PassWork;
  mstep: MStepWork;
}

/** Fits a k-component mixture to X (n×d, row-major). Throws GmmError on bad input or a collapsed component. */
export function fitGmm(X: Float64Array, n: number, d: number, opts: FitOptions): FitResult {
  const s = resolveSettings(X, n, d, opts);
  const diagonal = s.type === 'diag' || s.type === 'spherical';
  const work: Work = {
    stats: createStats(s.k, d, diagonal),
    pass: createPassWork(s.k, d, diagonal),
    mstep: createMStepWork(s.k, d),
  };
  if (s.warmStart) return runEm(X, n, s.warmStart, s, work);
  const rng = createRng(s.seed);
  let best: FitResult | undefined;
  for (let t = 0; t < s.nInit; t++) {
    const result = runEm(X, n, initialModel(X, n, d, s, rng, work), s, work);
    if (best === undefined || result.meanLogLik > best.meanLogLik) best = result;
  }
  return best!;
}

// ---------------------------------------------------------------- validation

function fail(message: string): never {
  throw new GmmError(message);
}

function integerAtLeast(v: number, min: number, name: string): number {
  if (!Number.isInteger(v) || v < min) fail(`${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

function finiteAtLeastZero(v: number, name: string): number {
  if (!Number.isFinite(v) || v < 0) fail(`${name} must be a finite number ≥ 0, got ${v}`);
  return v;
}

function resolveSettings(X: Float64Array, n: number, d: number, opts: FitOptions): Settings {
  integerAtLeast(n, 1, 'n (the number of rows)');
  integerAtLeast(d, 1, 'd (the number of features)');
  if (X.length !== n * d) {
    fail(`X has ${X.length} values but n×d = ${n}×${d} = ${n * d}; pass X as n rows of d features, row-major`);
  }
  // v·0 is 0 for every finite v and NaN otherwise: one branch-free sum finds whether to look.
  let probe = 0;
  for (let j = 0; j < X.length; j++) probe += X[j]! * 0;
  if (probe !== 0) {
    const j = X.findIndex((v) => !Number.isFinite(v));
    fail(`X[${Math.floor(j / d)}][${j % d}] is ${X[j]}; drop or impute non-finite values before fitting`);
  }
  const k = integerAtLeast(opts.components, 1, 'components');
  if (n < k) {
    fail(`cannot fit ${k} components to ${n} rows: every component needs at least one row; collect more data or lower components`);
  }
  const warm = opts.warmStart;
  const type = opts.covarianceType ?? warm?.covarianceType ?? 'full';
  if (!(COVARIANCE_TYPES as readonly string[]).includes(type)) {
    fail(`covarianceType must be one of ${COVARIANCE_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  }
  if (warm) {
    if (warm.d !== d) fail(`warmStart has d=${warm.d} features but X has d=${d}; warm-start only from a model of the same data`);
    if (warm.k !== k) fail(`warmStart has ${warm.k} components but components=${k}; pass components: warmStart.k`);
    if (warm.covarianceType !== type) {
      fail(`warmStart is '${warm.covarianceType}' but covarianceType is '${type}'; omit covarianceType to keep the warm model's`);
    }
  }
  return {
    k,
    type,
    nInit: integerAtLeast(opts.nInit ?? 1, 1, 'nInit'),
    maxIter: integerAtLeast(opts.maxIter ?? 100, 0, 'maxIter'),
    tol: finiteAtLeastZero(opts.tol ?? 1e-3, 'tol'),
    regCovar: finiteAtLeastZero(opts.regCovar ?? 1e-6, 'regCovar'),
    seed: opts.seed ?? 0,
    warmStart: warm,
  };
}

// ---------------------------------------------------------------- initialisation

/**
 * Rows of the subsample the start is found on. With at least twice as many rows, k-means
 * and then EM run to convergence on a seeded subsample, and only then EM on every row, which
 * from so close a start needs two or three passes instead of up to ten. The full-data EM
 * decides the result and its convergence; the subsample only makes the start cheap. It grows
 * with k·d so every component keeps enough rows to estimate its covariance.
 */
function initRows(k: number, d: number): number {
  return Math.max(1024, 32 * k * d);
}

/** EM on the subsample runs to convergence within this many iterations, whatever `maxIter` allows the fit itself. */
const INIT_MAX_ITER = 100;

/** k-means labels as one-hot responsibilities, then one M-step (scikit-learn's init_params='kmeans'). */
function kmeansModel(X: Float64Array, n: number, d: number, s: Settings, rng: Rng, work: Work): Gmm {
  const { labels, centers } = kmeans(X, n, d, s.k, rng);
  statsFromLabels(X, n, labels, centers, work.stats);
  return mStep(s, work, 'initialisation');
}

function initialModel(X: Float64Array, n: number, d: number, s: Settings, rng: Rng, work: Work): Gmm {
  const m = initRows(s.k, d);
  if (n < 2 * m) return kmeansModel(X, n, d, s, rng, work);
  const sub = subsampleRows(X, n, d, m, rng);
  const start = kmeansModel(sub, m, d, s, rng, work);
  try {
    return runEm(sub, m, start, { ...s, maxIter: INIT_MAX_ITER }, work).model;
  } catch (e) {
    // A component that collapses on the subsample may not on all rows: let the full EM decide.
    if (e instanceof GmmError) return start;
    throw e;
  }
}

/** m rows of X drawn uniformly (with replacement: a repeated row only weighs a little more in the start). */
function subsampleRows(X: Float64Array, n: number, d: number, m: number, rng: Rng): Float64Array {
  const out = new Float64Array(m * d);
  for (let j = 0; j < m; j++) {
    const i = Math.min(n - 1, Math.floor(rng.uniform() * n));
    out.set(X.subarray(i * d, i * d + d), j * d);
  }
  return out;
}

// ---------------------------------------------------------------- EM

/**
 * EM from `start`. Each pass evaluates the current model (its exact mean log-likelihood) and
 * gathers the statistics of its update; EM stops when a pass moves the log-likelihood less
 * than `tol` (scikit-learn's test) and returns the model that pass evaluated, so the score
 * reported is the returned model's own. `iterations` counts the M-steps in that model.
 */
function runEm(X: Float64Array, n: number, start: Gmm, s: Settings, work: Work): FitResult {
  let model = start;
  let previous = -Infinity;
  let iterations = 0;
  for (;;) {
    const meanLogLik = expectation(model, X, n, work.stats, work.pass);
    if (!Number.isFinite(meanLogLik)) {
      fail(`the log-likelihood is ${meanLogLik} after ${iterations} EM iterations; scale the input data`);
    }
    const converged = Math.abs(meanLogLik - previous) < s.tol;
    if (converged || iterations === s.maxIter) return { model, meanLogLik, iterations, converged };
    previous = meanLogLik;
    iterations++;
    model = mStep(s, work, `EM iteration ${iterations}`);
  }
}

function mStep(s: Settings, work: Work, when: string): Gmm {
  const params = estimateGaussianParameters(work.stats, s.type, s.regCovar, work.mstep);
  try {
    return createGmm(params);
  } catch (e) {
    if (!(e instanceof GmmError)) throw e;
    throw new GmmError(`a component collapsed at ${when}: ${e.message}, or fit fewer components`, { cause: e });
  }
}
