import type { Gmm } from '../gmm/model.js';
import { integrate } from '../math/gauss-kronrod.js';
import { softplus } from './kernel.js';
import { DivergenceError, type DivergenceResult } from './types.js';

/**
 * Deterministic 1-D divergences: ∫ p (log p − log q) (KL) or ½∫ p log(p/m) + q log(q/m)
 * (JS) by adaptive Gauss–Kronrod on a partition split at every component's mean and at
 * mean ± multiples of its sd, so far and narrow components (a weight-0.001, variance-1e-4
 * bump hundreds of sd away) are integrated as carefully as the bulk. Densities stay in log
 * space until the integrand is formed, so nothing under- or overflows where it matters.
 */

/** Breakpoints at μ ± these multiples of σ, for every component of either mixture. */
const SD_MULTIPLES = [0, 2, 4.5, 8];
/**
 * Integrate out to this many sd beyond the outermost components: the mass left outside is
 * below 1e-32, negligible even against log-ratios of 1e15.
 */
const SUPPORT_SD = 12;
/** Breakpoints closer than this many (smaller) sds are merged. */
const MERGE_SD = 1;
const ABS_TOL = 1e-10;
const REL_TOL = 1e-9;
const MAX_INTERVALS = 2000;

interface Line {
  /** log w_c + logNorm_c for components with positive weight. */
  base: Float64Array;
  mean: Float64Array;
  /** 1/(σ_c√2), so the exponent is −(y·halfPrec)². */
  halfPrec: Float64Array;
  sd: Float64Array;
  /** Scratch for one point's terms. */
  v: Float64Array;
}

function line(g: Gmm): Line {
  const idx: number[] = [];
  for (let c = 0; c < g.k; c++) if (g.weights[c]! > 0) idx.push(c);
  return {
    base: Float64Array.from(idx, (c) => g.logWeights[c]! + g.logNorm[c]!),
    mean: Float64Array.from(idx, (c) => g.means[c]!),
    halfPrec: Float64Array.from(idx, (c) => g.precisionCholesky[c]! * Math.SQRT1_2),
    sd: Float64Array.from(idx, (c) => g.cholesky[c]!),
    v: new Float64Array(idx.length),
  };
}

/** Terms this far below the largest add less than one ulp to the sum: skip their exp. */
const NEGLIGIBLE = -38;

function logDensity(l: Line, x: number): number {
  const { base, mean, halfPrec, v } = l;
  const k = base.length;
  let max = -Infinity;
  for (let c = 0; c < k; c++) {
    const y = (x - mean[c]!) * halfPrec[c]!;
    const t = base[c]! - y * y;
    v[c] = t;
    if (t > max) max = t;
  }
  if (k === 1) return max;
  let s = 0;
  for (let c = 0; c < k; c++) {
    const t = v[c]! - max;
    if (t > NEGLIGIBLE) s += Math.exp(t);
  }
  return max + Math.log(s);
}

/**
 * Sorted breakpoints over the support of the mixtures in `over`, at every component of
 * `all`: μ ± SD_MULTIPLES·σ. Breakpoints closer than MERGE·σ to the last one kept (σ the
 * smaller of their components' sds) are dropped, so overlapping components do not
 * multiply the work while a narrow component still gets its own fine partition.
 */
function partition(over: Line[], all: Line[]): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of over) {
    for (let c = 0; c < l.mean.length; c++) {
      lo = Math.min(lo, l.mean[c]! - SUPPORT_SD * l.sd[c]!);
      hi = Math.max(hi, l.mean[c]! + SUPPORT_SD * l.sd[c]!);
    }
  }
  const cand: [number, number][] = [];
  for (const l of all) {
    for (let c = 0; c < l.mean.length; c++) {
      const mu = l.mean[c]!;
      const sd = l.sd[c]!;
      for (const m of SD_MULTIPLES) {
        for (const x of m === 0 ? [mu] : [mu - m * sd, mu + m * sd]) if (x > lo && x < hi) cand.push([x, sd]);
      }
    }
  }
  cand.sort((a, b) => a[0] - b[0]);
  const out = [lo];
  let lastSd = Infinity;
  for (const [x, sd] of cand) {
    if (x - out[out.length - 1]! >= MERGE_SD * Math.min(sd, lastSd)) {
      out.push(x);
      lastSd = sd;
    } else if (sd < lastSd) {
      lastSd = sd;
    }
  }
  if (hi - out[out.length - 1]! < MERGE_SD * lastSd && out.length > 1) out.pop();
  out.push(hi);
  return out;
}

function checkLine(p: Gmm, q: Gmm): void {
  if (p.d !== 1 || q.d !== 1) {
    throw new DivergenceError(`method 'quadrature' is for 1-D mixtures, got d=${p.d}; use 'auto' or a sampler`);
  }
}

export function quadratureKl(p: Gmm, q: Gmm): DivergenceResult {
  checkLine(p, q);
  const lp = line(p);
  const lq = line(q);
  const f = (x: number): number => {
    const a = logDensity(lp, x);
    // Where p underflows its share is 0 whatever log q is (which stays finite).
    if (a < -745) return 0;
    return Math.exp(a) * (a - logDensity(lq, x));
  };
  const r = integrate(f, partition([lp], [lp, lq]), { absTol: ABS_TOL, relTol: REL_TOL, maxIntervals: MAX_INTERVALS });
  const components = lp.base.length + lq.base.length;
  return {
    value: Math.max(0, r.value),
    stderr: r.error,
    method: 'quadrature',
    samples: r.evaluations,
    evaluations: r.evaluations * components,
  };
}

export function quadratureJs(p: Gmm, q: Gmm): DivergenceResult {
  checkLine(p, q);
  const lp = line(p);
  const lq = line(q);
  const f = (x: number): number => {
    const a = logDensity(lp, x);
    const b = logDensity(lq, x);
    // log p − log m = ln 2 − softplus(log q − log p), and symmetrically for q.
    let v = 0;
    if (a > -745) v += Math.exp(a) * (Math.LN2 - softplus(b - a));
    if (b > -745) v += Math.exp(b) * (Math.LN2 - softplus(a - b));
    return 0.5 * v;
  };
  const r = integrate(f, partition([lp, lq], [lp, lq]), {
    absTol: ABS_TOL,
    relTol: REL_TOL,
    maxIntervals: MAX_INTERVALS,
  });
  const components = lp.base.length + lq.base.length;
  return {
    value: Math.min(Math.LN2, Math.max(0, r.value)),
    stderr: r.error,
    method: 'quadrature',
    samples: r.evaluations,
    evaluations: r.evaluations * components,
  };
}
