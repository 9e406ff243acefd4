import type { Gmm } from './model.js';
import { PASS_PARAMETERS, passLayout, passSource, triangleSize } from './pass-source.js';

/**
 * The E-step, fused with the sums the M-step needs: one pass over the data computes each
 * row's responsibilities (in log space, normalised with log-sum-exp) and adds them straight
 * into per-component sufficient statistics, so no n×k responsibility matrix is stored and
 * the data is read once per EM iteration instead of three times.
 *
 * The sums are taken about `shift`, the means of the model being evaluated. The M-step's new
 * mean is shift + s1/n_c and its covariance s2/n_c − δδᵀ with δ = s1/n_c: near convergence δ
 * is tiny, so this is as exact as scikit-learn's two-pass centred sums, and it stays exact
 * for data far from the origin.
 */

/** Per-component sums for the M-step, reused across iterations. */
export interface SufficientStats {
  readonly k: number;
  readonly d: number;
  /** Diagonal statistics only (the diag and spherical types). */
  readonly diagonal: boolean;
  /** k soft counts Σ_i r_ic. */
  readonly nk: Float64Array;
  /** k×d centres the sums are taken about. */
  readonly shift: Float64Array;
  /** k×d sums Σ_i r_ic (x_i − shift_c). */
  readonly s1: Float64Array;
  /**
   * Σ_i r_ic (x_i − shift_c)(x_i − shift_c)ᵀ per component: packed lower triangles (k × d(d+1)/2)
   * or, when `diagonal`, only the diagonals (k×d).
   */
  readonly s2: Float64Array;
}

export function createStats(k: number, d: number, diagonal: boolean): SufficientStats {
  return {
    k,
    d,
    diagonal,
    nk: new Float64Array(k),
    shift: new Float64Array(k * d),
    s1: new Float64Array(k * d),
    s2: new Float64Array(k * (diagonal ? d : triangleSize(d))),
  };
}

function reset(stats: SufficientStats, shift: Float64Array): void {
  stats.nk.fill(0);
  stats.s1.fill(0);
  stats.s2.fill(0);
  stats.shift.set(shift);
}

/** Scratch for one pass, allocated once per fit. */
export interface PassWork {
  /** k log-probabilities, then exp(lp − max), of one row (layouts that loop over components). */
  readonly lp: Float64Array;
  /** k values log w_c − ½(d log 2π + log det Σ_c) of the model being evaluated. */
  readonly base: Float64Array;
  /** The model's precision factors packed as the pass reads them: L⁻¹ lower triangles, or ½/σ² per feature. */
  readonly factors: Float64Array;
  /** d differences x − μ_c of one row (the fully looped layout). */
  readonly diff: Float64Array;
}

export function createPassWork(k: number, d: number, diagonal: boolean): PassWork {
  return {
    lp: new Float64Array(k),
    base: new Float64Array(k),
    factors: new Float64Array(k * (diagonal ? d : triangleSize(d))),
    diff: new Float64Array(d),
  };
}

/**
 * One pass over X (n×d): returns the mean log-likelihood of `g` and fills `stats` about g's
 * means. With `stats.diagonal`, only the diagonals of g's factors are read (diag, spherical).
 */
export function expectation(g: Gmm, X: Float64Array, n: number, stats: SufficientStats, work: PassWork): number {
  const { k, d, precisionCholesky: P } = g;
  reset(stats, g.means);
  const { factors, base } = work;
  for (let c = 0; c < k; c++) {
    base[c] = g.logWeights[c]! + g.logNorm[c]!;
    const po = c * d * d;
    if (stats.diagonal) {
      for (let a = 0; a < d; a++) factors[c * d + a] = 0.5 * P[po + a * d + a]! * P[po + a * d + a]!;
    } else {
      let q = c * triangleSize(d);
      for (let a = 0; a < d; a++) for (let b = 0; b <= a; b++) factors[q++] = P[po + a * d + b]!;
    }
  }
  const kernel = passKernel(k, d, stats.diagonal);
  return kernel(X, n, g.means, factors, base, work.lp, work.diff, stats.nk, stats.s1, stats.s2);
}

// ---------------------------------------------------------------- pass kernels

type PassKernel = (
  X: Float64Array,
  n: number,
  means: Float64Array,
  factors: Float64Array,
  base: Float64Array,
  lp: Float64Array,
  diff: Float64Array,
  nk: Float64Array,
  s1: Float64Array,
  s2: Float64Array,
) => number;

/**
 * One compiled pass per shape, written for it by pass-source.ts. The first pass of a new
 * shape pays a one-off compile (about 0.1 s for d = 8, K = 5 on a busy 2-core machine).
 */
const kernels = new Map<string, PassKernel>();

function passKernel(k: number, d: number, diagonal: boolean): PassKernel {
  const key = `${k}:${d}:${diagonal}`;
  let kernel = kernels.get(key);
  if (kernel === undefined) {
    const source = passSource(k, d, diagonal, passLayout(k, d, diagonal));
    kernel = new Function(...PASS_PARAMETERS, source) as PassKernel;
    kernels.set(key, kernel);
  }
  return kernel;
}

// ---------------------------------------------------------------- hard assignments

/** Sufficient statistics of a hard partition (k-means labels as one-hot responsibilities), about `centers`. */
export function statsFromLabels(X: Float64Array, n: number, labels: Int32Array, centers: Float64Array, stats: SufficientStats): void {
  const { d, nk, s1, s2, diagonal } = stats;
  const T = diagonal ? d : triangleSize(d);
  reset(stats, centers);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    nk[c]!++;
    const xo = i * d;
    const mo = c * d;
    let q = c * T;
    for (let a = 0; a < d; a++) {
      const ta = X[xo + a]! - centers[mo + a]!;
      s1[mo + a]! += ta;
      if (diagonal) {
        s2[q++]! += ta * ta;
        continue;
      }
      for (let b = 0; b <= a; b++) s2[q++]! += ta * (X[xo + b]! - centers[mo + b]!);
    }
  }
}
