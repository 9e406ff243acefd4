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
  const kernel = passKernel(k, d, stats.diagonal);
  return kernel(X, n, g.means, factors, base, work.lp, work.diff, stats.nk, stats.s1, stats.s2);
}

// ---------------------------------------------------------------- pass kernels

/**
 * A pass is compiled once per shape (k, d, diagonal) from the source below. When the shape
 * is small enough (k × terms per component ≤ UNROLL_TERMS, which covers the monitor's usual
 * d ≤ 16 and a handful of components), every component's work is written out term by term
 * with the row and the log-probabilities held in locals: V8 then keeps them in registers and
 * drops the index arithmetic and the short inner loops, which makes EM 2–3× faster than the
 * same arithmetic in nested loops. Larger shapes get the loops.
 */
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

/** Unrolled functions stay well under V8's limit for optimising a function (about 60 KB of bytecode). */
const UNROLL_TERMS = 1024;

/**
 * A responsibility below e^-40 ≈ 4e-18 of its row's largest is below double precision of the
 * row sum (≥ 1), so it is dropped without calling exp or touching that component's sums.
 */
const NEGLIGIBLE_LOG_RATIO = -40;

const kernels = new Map<string, PassKernel>();

function passKernel(k: number, d: number, diagonal: boolean): PassKernel {
  const key = `${k}:${d}:${diagonal}`;
  let kernel = kernels.get(key);
  if (kernel === undefined) {
    const terms = k * (diagonal ? d : triangleSize(d));
    const source = terms <= UNROLL_TERMS ? unrolledSource(k, d, diagonal) : loopedSource(k, d, diagonal);
    kernel = new Function('X', 'n', 'means', 'F', 'base', 'lp', 'diff', 'nk', 's1', 's2', source) as PassKernel;
    kernels.set(key, kernel);
  }
  return kernel;
}

/*
 * Both sources compute, per row: each component's log-probability (log w + log-normaliser −
 * ½ Mahalanobis, F holding the packed L⁻¹ rows, or ½/σ² per feature when diagonal), the
 * largest, e_c = exp(lp_c − max) with the largest exactly 1, and each responsibility
 * r = e_c / Σe added into n_c, s1 and s2 about the component's mean. The row log-likelihoods
 * max + log Σe are summed as Σ max + log Π Σe: each Σe lies in [1, k], so the product is
 * logged once every few hundred rows instead of once per row.
 */

const ROW_LOGLIK_START = 'let maxes = 0, product = 1, logs = 0;';
const ROW_LOGLIK_ADD = 'maxes += max; product *= sum; if (product > 1e250) { logs += Math.log(product); product = 1; }';
const ROW_LOGLIK_MEAN = 'return (maxes + logs + Math.log(product)) / n;';

function lines(count: number, line: (j: number) => string, separator = '\n'): string {
  return Array.from({ length: count }, (_, j) => line(j)).join(separator);
}

/** Straight-line code for one row: x_a, l_c, e_c are locals; array offsets are literals. */
function unrolledSource(k: number, d: number, diagonal: boolean): string {
  const T = diagonal ? d : triangleSize(d);
  const logProb = (c: number): string => {
    const mo = c * d;
    let q = c * T;
    if (diagonal) {
      return `let l${c}; { let t, m = 0;
        ${lines(d, (a) => `t = x${a} - means[${mo + a}]; m += F[${q++}] * t * t;`)}
        l${c} = base[${c}] - m; }`;
    }
    return `let l${c}; { let y, m = 0;
      ${lines(d, (a) => `const t${a} = x${a} - means[${mo + a}];`)}
      ${lines(d, (a) => `y = ${lines(a + 1, (b) => `F[${q++}] * t${b}`, ' + ')}; m += y * y;`)}
      l${c} = base[${c}] - 0.5 * m; }`;
  };
  const scatter = (c: number): string => {
    const mo = c * d;
    let q = c * T;
    if (diagonal) {
      return lines(d, (a) => `u = x${a} - means[${mo + a}]; ru = r * u; s1[${mo + a}] += ru; s2[${q++}] += ru * u;`);
    }
    return `${lines(d, (a) => `const u${a} = x${a} - means[${mo + a}];`)}
      ${lines(d, (a) => `ru = r * u${a}; s1[${mo + a}] += ru; ${lines(a + 1, (b) => `s2[${q++}] += ru * u${b};`, ' ')}`)}`;
  };
  return `
    ${ROW_LOGLIK_START}
    for (let i = 0; i < n; i++) {
      const xo = i * ${d};
      ${lines(d, (a) => `const x${a} = X[xo + ${a}];`)}
      ${lines(k, logProb)}
      let max = l0;
      ${lines(k - 1, (c) => `if (l${c + 1} > max) max = l${c + 1};`)}
      ${lines(k, (c) => `const e${c} = l${c} === max ? 1 : l${c} - max < ${NEGLIGIBLE_LOG_RATIO} ? 0 : Math.exp(l${c} - max);`)}
      const sum = ${lines(k, (c) => `e${c}`, ' + ')};
      const inv = 1 / sum;
      let r, u, ru;
      ${lines(k, (c) => `if (e${c} !== 0) { r = e${c} * inv; nk[${c}] += r;\n${scatter(c)} }`)}
      ${ROW_LOGLIK_ADD}
    }
    ${ROW_LOGLIK_MEAN}`;
}

/** Loops over components and features, with the row's log-probabilities in `lp` and differences in `diff`. */
function loopedSource(k: number, d: number, diagonal: boolean): string {
  const T = diagonal ? d : triangleSize(d);
  const diffs = `for (let a = 0; a < ${d}; a++) diff[a] = X[xo + a] - means[mo + a];`;
  const mahalanobis = diagonal
    ? `for (let a = 0; a < ${d}; a++) m += F[fo + a] * diff[a] * diff[a];`
    : `for (let a = 0, q = fo; a < ${d}; a++) {
          let y = 0;
          for (let b = 0; b <= a; b++) y += F[q++] * diff[b];
          m += y * y;
        }
        m *= 0.5;`;
  const scatter = diagonal
    ? `for (let a = 0; a < ${d}; a++) { const ru = r * diff[a]; s1[mo + a] += ru; s2[qo + a] += ru * diff[a]; }`
    : `for (let a = 0, q = qo; a < ${d}; a++) {
          const ru = r * diff[a];
          s1[mo + a] += ru;
          for (let b = 0; b <= a; b++) s2[q++] += ru * diff[b];
        }`;
  return `
    ${ROW_LOGLIK_START}
    for (let i = 0; i < n; i++) {
      const xo = i * ${d};
      let max = -Infinity;
      for (let c = 0; c < ${k}; c++) {
        const mo = c * ${d}, fo = c * ${T};
        ${diffs}
        let m = 0;
        ${mahalanobis}
        const v = base[c] - m;
        lp[c] = v;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let c = 0; c < ${k}; c++) {
        const t = lp[c] - max;
        const e = t === 0 ? 1 : t < ${NEGLIGIBLE_LOG_RATIO} ? 0 : Math.exp(t);
        lp[c] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let c = 0; c < ${k}; c++) {
        if (lp[c] === 0) continue;
        const r = lp[c] * inv;
        nk[c] += r;
        const mo = c * ${d}, qo = c * ${T};
        ${diffs}
        ${scatter}
      }
      ${ROW_LOGLIK_ADD}
    }
    ${ROW_LOGLIK_MEAN}`;
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
