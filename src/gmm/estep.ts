import type { Gmm } from './model.js';

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
  /** k soft counts Σ_i r_ic. */
  readonly nk: Float64Array;
  /** k×d centres the sums are taken about. */
  readonly shift: Float64Array;
  /** k×d sums Σ_i r_ic (x_i − shift_c). */
  readonly s1: Float64Array;
  /** k×d×d lower triangles of Σ_i r_ic (x_i − shift_c)(x_i − shift_c)ᵀ; only diagonals when the pass is diagonal. */
  readonly s2: Float64Array;
}

export function createStats(k: number, d: number): SufficientStats {
  return {
    k,
    d,
    nk: new Float64Array(k),
    shift: new Float64Array(k * d),
    s1: new Float64Array(k * d),
    s2: new Float64Array(k * d * d),
  };
}

function reset(stats: SufficientStats, shift: Float64Array): void {
  stats.nk.fill(0);
  stats.s1.fill(0);
  stats.s2.fill(0);
  stats.shift.set(shift);
}

/**
 * A responsibility below e^-40 ≈ 4e-18 of its row's largest is below double precision of the
 * row sum (≥ 1), so it is dropped without calling exp; most rows then touch one component.
 */
const NEGLIGIBLE_LOG_RATIO = -40;

// ---------------------------------------------------------------- E-step passes

/**
 * One pass over X (n×d): returns the mean log-likelihood of `g` and fills `stats` about
 * g's means. `diagonal` uses only the diagonals of g's factors and accumulates only the
 * diagonal of s2, for the diag and spherical types.
 */
export function expectation(g: Gmm, X: Float64Array, n: number, diagonal: boolean, stats: SufficientStats, work: Float64Array): number {
  reset(stats, g.means);
  return diagonal ? passDiagonal(g, X, n, stats, work) : passFull(g, X, n, stats, work);
}

/** Scratch for `expectation`: k log-probabilities and k×d differences. */
export function createPassWork(k: number, d: number): Float64Array {
  return new Float64Array(k + k * d);
}

// ---------------------------------------------------------------- exp on [-40, 0]

/*
 * Math.exp is a call into the runtime (10–20 ns here) and the E-step makes n·k of them. The
 * responsibilities only ever need exp(t) for t in [-40, 0], which a table-driven reduction
 * gives to 4e-16 relative in a few ns: t = (j/64)·ln 2 + r with |r| ≤ ln2/128, so
 * exp(t) = 2^(-q) · 2^(-m/64) · p(r), with -j = 64q + m and p the degree-6 Taylor polynomial
 * (remainder < 2e-17).
 */
const EXP_STEPS = 64;
const INV_LN2_STEP = EXP_STEPS / Math.LN2;
/** ln2/64 split in a high part exact in j·HI for |j| < 2^12, and the rest (fdlibm's ln2 split). */
const LN2_STEP_HI = 6.93147180369123816490e-1 / EXP_STEPS;
const LN2_STEP_LO = 1.90821492927058770002e-10 / EXP_STEPS;
const EXP_FRACTION = Float64Array.from({ length: EXP_STEPS }, (_, m) => Math.pow(2, -m / EXP_STEPS));
const EXP_WHOLE = Float64Array.from({ length: 64 }, (_, q) => Math.pow(2, -q));

/** exp(t) for NEGLIGIBLE_LOG_RATIO ≤ t ≤ 0. */
function expNonPositive(t: number): number {
  const j = (t * INV_LN2_STEP - 0.5) | 0; // ≤ 0; truncation toward zero rounds to nearest here
  const r = t - j * LN2_STEP_HI - j * LN2_STEP_LO;
  const p = 1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720))))));
  const e = -j;
  return EXP_WHOLE[e >> 6]! * EXP_FRACTION[e & 63]! * p;
}

/** Turns the k log-probabilities at lp[0..k) into responsibilities in place; returns log Σ exp. */
function normalise(lp: Float64Array, k: number): number {
  let max = -Infinity;
  for (let c = 0; c < k; c++) if (lp[c]! > max) max = lp[c]!;
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const t = lp[c]! - max;
    const e = t < NEGLIGIBLE_LOG_RATIO ? 0 : expNonPositive(t);
    lp[c] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let c = 0; c < k; c++) lp[c]! *= inv;
  return max + Math.log(sum);
}

function passFull(g: Gmm, X: Float64Array, n: number, stats: SufficientStats, work: Float64Array): number {
  const { k, d, means, precisionCholesky: P, logWeights, logNorm } = g;
  const { nk, s1, s2 } = stats;
  const dd = d * d;
  const lp = work; // lp[0..k), diffs at k + c·d
  let total = 0;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    for (let c = 0; c < k; c++) {
      const mo = c * d;
      const to = k + mo;
      for (let a = 0; a < d; a++) work[to + a] = X[xo + a]! - means[mo + a]!;
      const po = c * dd;
      let m = 0;
      for (let a = 0; a < d; a++) {
        const row = po + a * d;
        let y = 0;
        for (let b = 0; b <= a; b++) y += P[row + b]! * work[to + b]!;
        m += y * y;
      }
      lp[c] = logWeights[c]! + logNorm[c]! - 0.5 * m;
    }
    total += normalise(lp, k);
    for (let c = 0; c < k; c++) {
      const r = lp[c]!;
      if (r === 0) continue;
      nk[c]! += r;
      const to = k + c * d;
      const so = c * d;
      const qo = c * dd;
      for (let a = 0; a < d; a++) {
        const ra = r * work[to + a]!;
        s1[so + a]! += ra;
        const row = qo + a * d;
        for (let b = 0; b <= a; b++) s2[row + b]! += ra * work[to + b]!;
      }
    }
  }
  return total / n;
}

function passDiagonal(g: Gmm, X: Float64Array, n: number, stats: SufficientStats, work: Float64Array): number {
  const { k, d, means, precisionCholesky: P, logWeights, logNorm } = g;
  const { nk, s1, s2 } = stats;
  const dd = d * d;
  const lp = work;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    for (let c = 0; c < k; c++) {
      const mo = c * d;
      const to = k + mo;
      const po = c * dd;
      let m = 0;
      for (let a = 0; a < d; a++) {
        const t = X[xo + a]! - means[mo + a]!;
        work[to + a] = t;
        const y = t * P[po + a * d + a]!;
        m += y * y;
      }
      lp[c] = logWeights[c]! + logNorm[c]! - 0.5 * m;
    }
    total += normalise(lp, k);
    for (let c = 0; c < k; c++) {
      const r = lp[c]!;
      if (r === 0) continue;
      nk[c]! += r;
      const to = k + c * d;
      const so = c * d;
      const qo = c * dd;
      for (let a = 0; a < d; a++) {
        const t = work[to + a]!;
        const rt = r * t;
        s1[so + a]! += rt;
        s2[qo + a * d + a]! += rt * t;
      }
    }
  }
  return total / n;
}

// ---------------------------------------------------------------- hard assignments

/** Sufficient statistics of a hard partition (k-means labels as one-hot responsibilities), about `centers`. */
export function statsFromLabels(
  X: Float64Array,
  n: number,
  labels: Int32Array,
  centers: Float64Array,
  diagonal: boolean,
  stats: SufficientStats,
): void {
  const { d, nk, s1, s2 } = stats;
  const dd = d * d;
  reset(stats, centers);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    nk[c]!++;
    const xo = i * d;
    const mo = c * d;
    const qo = c * dd;
    for (let a = 0; a < d; a++) {
      const ta = X[xo + a]! - centers[mo + a]!;
      s1[mo + a]! += ta;
      const row = qo + a * d;
      if (diagonal) {
        s2[row + a]! += ta * ta;
        continue;
      }
      for (let b = 0; b <= a; b++) s2[row + b]! += ta * (X[xo + b]! - centers[mo + b]!);
    }
  }
}
