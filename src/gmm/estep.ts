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

/** Entries of a packed d×d lower triangle (row by row: (0,0), (1,0), (1,1), (2,0), …). */
export function triangleSize(d: number): number {
  return (d * (d + 1)) / 2;
}

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
  /** k log-probabilities, then exp(lp − max), of one row. */
  readonly lp: Float64Array;
  /** k values log w_c − ½(d log 2π + log det Σ_c) of the model being evaluated. */
  readonly base: Float64Array;
  /** The model's precision factors packed as the pass reads them: L⁻¹ lower triangles, or ½/σ² per feature. */
  readonly factors: Float64Array;
  /** d differences x − μ_c, for the looped kernels. */
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
  const kernel = passKernel(d, stats.diagonal);
  return kernel(X, n, k, g.means, factors, base, work.lp, work.diff, stats.nk, stats.s1, stats.s2);
}

// ---------------------------------------------------------------- pass kernels

/**
 * A pass is compiled once per (d, diagonal) from the source below. For d ≤ UNROLL_MAX_D the
 * per-component work is written out term by term with the row held in locals: V8 then keeps
 * it in registers and drops the index arithmetic and short inner loops, which makes EM 1.5–2.5×
 * faster than the same arithmetic in nested loops. Larger d gets the loops.
 */
type PassKernel = (
  X: Float64Array,
  n: number,
  k: number,
  means: Float64Array,
  factors: Float64Array,
  base: Float64Array,
  lp: Float64Array,
  diff: Float64Array,
  nk: Float64Array,
  s1: Float64Array,
  s2: Float64Array,
) => number;

const UNROLL_MAX_D = 16;

/**
 * A responsibility below e^-40 ≈ 4e-18 of its row's largest is below double precision of the
 * row sum (≥ 1), so it is dropped without calling exp or touching that component's sums.
 */
const NEGLIGIBLE_LOG_RATIO = -40;

const kernels = new Map<string, PassKernel>();

function passKernel(d: number, diagonal: boolean): PassKernel {
  const key = `${d}:${diagonal}`;
  let kernel = kernels.get(key);
  if (kernel === undefined) {
    const params = ['X', 'n', 'k', 'means', 'F', 'base', 'lp', 'diff', 'nk', 's1', 's2'];
    kernel = new Function(...params, passSource(d, diagonal, d <= UNROLL_MAX_D)) as PassKernel;
    kernels.set(key, kernel);
  }
  return kernel;
}

/**
 * The pass, for one d. Per row: log-probabilities of every component (tracking the largest),
 * exp(lp − max) with the largest exactly 1, then each responsibility r = e/sum added into
 * n_c, s1 and s2. The row log-likelihoods max + log(sum) are summed as Σ max + log Π sum:
 * each sum lies in [1, k], so the product is logged once every few hundred rows.
 */
function passSource(d: number, diagonal: boolean, unrolled: boolean): string {
  const T = diagonal ? d : triangleSize(d);
  const body = diagonal ? diagonalTerms(d, unrolled) : fullTerms(d, unrolled);
  return `
    let maxes = 0, product = 1, logs = 0;
    for (let i = 0; i < n; i++) {
      const xo = i * ${d};
      ${unrolled ? range(d, (a) => `const x${a} = X[xo + ${a}];`) : ''}
      let max = -Infinity, top = 0;
      for (let c = 0; c < k; c++) {
        const mo = c * ${d}, fo = c * ${T};
        let m = 0;
        ${body.mahalanobis}
        const v = base[c] - m;
        lp[c] = v;
        if (v > max) { max = v; top = c; }
      }
      let sum = 0;
      for (let c = 0; c < k; c++) {
        const t = lp[c] - max;
        const e = c === top ? 1 : t < ${NEGLIGIBLE_LOG_RATIO} ? 0 : Math.exp(t);
        lp[c] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let c = 0; c < k; c++) {
        const r = lp[c] * inv;
        if (r === 0) continue;
        nk[c] += r;
        const mo = c * ${d}, qo = c * ${T};
        ${body.scatter}
      }
      maxes += max;
      product *= sum;
      if (product > 1e250) { logs += Math.log(product); product = 1; }
    }
    return (maxes + logs + Math.log(product)) / n;`;
}

function range(d: number, line: (a: number) => string): string {
  return Array.from({ length: d }, (_, a) => line(a)).join('\n');
}

/**
 * Full and tied: m = ½‖L⁻¹(x − μ)‖² with F the packed L⁻¹, and the full lower-triangle scatter.
 * Unrolled, differences are recomputed from the row's locals rather than stored.
 */
function fullTerms(d: number, unrolled: boolean): { mahalanobis: string; scatter: string } {
  if (!unrolled) {
    const diffs = 'for (let a = 0; a < ' + d + '; a++) diff[a] = X[xo + a] - means[mo + a];';
    return {
      mahalanobis: `${diffs}
        for (let a = 0, q = fo; a < ${d}; a++) {
          let y = 0;
          for (let b = 0; b <= a; b++) y += F[q++] * diff[b];
          m += y * y;
        }
        m *= 0.5;`,
      scatter: `${diffs}
        for (let a = 0, q = qo; a < ${d}; a++) {
          const ra = r * diff[a];
          s1[mo + a] += ra;
          for (let b = 0; b <= a; b++) s2[q++] += ra * diff[b];
        }`,
    };
  }
  let q = 0;
  const rows = range(d, (a) => {
    const terms = range(a + 1, (b) => `F[fo + ${q++}] * t${b}`).split('\n').join(' + ');
    return `{ const y = ${terms}; m += y * y; }`;
  });
  q = 0;
  const scatter = range(d, (a) => {
    const adds = range(a + 1, (b) => `s2[qo + ${q++}] += ra * u${b};`).split('\n').join(' ');
    return `{ const ra = r * u${a}; s1[mo + ${a}] += ra; ${adds} }`;
  });
  return {
    mahalanobis: `${range(d, (a) => `const t${a} = x${a} - means[mo + ${a}];`)}
      ${rows}
      m *= 0.5;`,
    scatter: `${range(d, (a) => `const u${a} = x${a} - means[mo + ${a}];`)}
      ${scatter}`,
  };
}

/** Diag and spherical: m = Σ_a F_a (x_a − μ_a)² with F = ½/σ², and the diagonal scatter. */
function diagonalTerms(d: number, unrolled: boolean): { mahalanobis: string; scatter: string } {
  if (!unrolled) {
    return {
      mahalanobis: `for (let a = 0; a < ${d}; a++) { const t = X[xo + a] - means[mo + a]; m += F[fo + a] * t * t; }`,
      scatter: `for (let a = 0; a < ${d}; a++) {
          const u = X[xo + a] - means[mo + a], ru = r * u;
          s1[mo + a] += ru;
          s2[qo + a] += ru * u;
        }`,
    };
  }
  return {
    mahalanobis: range(d, (a) => `{ const t = x${a} - means[mo + ${a}]; m += F[fo + ${a}] * t * t; }`),
    scatter: range(d, (a) => `{ const u = x${a} - means[mo + ${a}], ru = r * u; s1[mo + ${a}] += ru; s2[qo + ${a}] += ru * u; }`),
  };
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
