import type { Gmm } from '../gmm/model.js';
import { cholesky, logDetFromCholesky } from '../math/linalg.js';
import { logSumExp } from '../math/logsumexp.js';
import { componentKl } from './exact.js';
import type { DivergenceResult } from './types.js';

/**
 * Closed-form estimates from pairwise Gaussian terms, O((K_p + K_q)²) of them.
 *
 * Hershey & Olsen's variational approximation (ICASSP 2007):
 *   D_var(f‖g) = Σ_a π_a log( Σ_α π_α e^{−KL(f_a‖f_α)} / Σ_b ω_b e^{−KL(f_a‖g_b)} ).
 * It is the difference of two variational upper bounds on cross-entropies,
 *   H(f_a, g) ≤ H(f_a) − log Σ_b ω_b e^{−KL(f_a‖g_b)},
 * and Jensen's inequality gives the matching lower bounds H(f_a, g) ≥ −log Σ_b ω_b z_ab with
 * z_ab = ∫ f_a g_b = N(μ_a; μ_b, Σ_a + Σ_b). Upper minus lower, taken the two ways round,
 * brackets KL(f‖g) = H(f, g) − H(f) (the bounds of Durrieu, Thiran & Kelly, ICASSP 2012),
 * and D_var always lies between them. Cheap, deterministic, biased: a first look, not a
 * measurement.
 */

interface Part {
  g: Gmm;
  c: number;
  /** log of its weight in the mixture at hand. */
  logW: number;
}

function parts(g: Gmm, scale = 1): Part[] {
  const out: Part[] = [];
  for (let c = 0; c < g.k; c++) if (g.weights[c]! > 0) out.push({ g, c, logW: Math.log(g.weights[c]! * scale) });
  return out;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** log ∫ N_a N_b = log N(μ_a; μ_b, Σ_a + Σ_b). */
function logOverlap(a: Part, b: Part): number {
  const d = a.g.d;
  const S = new Float64Array(d * d);
  const aOff = a.c * d * d;
  const bOff = b.c * d * d;
  for (let i = 0; i < d * d; i++) S[i] = a.g.covariances[aOff + i]! + b.g.covariances[bOff + i]!;
  const L = new Float64Array(d * d);
  cholesky(S, d, L);
  let maha = 0;
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let v = a.g.means[a.c * d + i]! - b.g.means[b.c * d + i]!;
    for (let k = 0; k < i; k++) v -= L[i * d + k]! * y[k]!;
    y[i] = v / L[i * d + i]!;
    maha += y[i]! * y[i]!;
  }
  return -0.5 * (d * LOG_2PI + logDetFromCholesky(L, d) + maha);
}

/** Differential entropy of one component: ½ log det(2πe Σ). */
const entropy = (a: Part): number => 0.5 * a.g.d - a.g.logNorm[a.c]!;

interface Bracketed {
  value: number;
  lower: number;
  upper: number;
  terms: number;
}

/** D_var(f‖g) with its bracket, for mixtures given as parts. */
function variationalKl(f: Part[], g: Part[]): Bracketed {
  let value = 0;
  let upper = 0;
  let lower = 0;
  const selfKl = new Float64Array(f.length);
  const selfOverlap = new Float64Array(f.length);
  const crossKl = new Float64Array(g.length);
  const crossOverlap = new Float64Array(g.length);
  for (const a of f) {
    const wa = Math.exp(a.logW);
    f.forEach((al, i) => {
      selfKl[i] = al.logW - componentKl(a.g, a.c, al.g, al.c);
      selfOverlap[i] = al.logW + logOverlap(a, al);
    });
    g.forEach((b, i) => {
      crossKl[i] = b.logW - componentKl(a.g, a.c, b.g, b.c);
      crossOverlap[i] = b.logW + logOverlap(a, b);
    });
    const sKl = logSumExp(selfKl);
    const cKl = logSumExp(crossKl);
    value += wa * (sKl - cKl);
    upper += wa * (entropy(a) - cKl + logSumExp(selfOverlap));
    lower += wa * (-logSumExp(crossOverlap) - entropy(a) + sKl);
  }
  return { value, lower: Math.max(0, lower), upper, terms: 2 * f.length * (f.length + g.length) };
}

function result(b: Bracketed, cap: number): DivergenceResult {
  const lower = Math.min(cap, b.lower);
  const upper = Math.min(cap, b.upper);
  const value = Math.min(upper, Math.max(lower, b.value));
  return {
    value,
    stderr: Math.max(upper - value, value - lower),
    method: 'variational',
    samples: 0,
    evaluations: b.terms,
    bounds: [lower, upper],
  };
}

export function variationalKlResult(p: Gmm, q: Gmm): DivergenceResult {
  return result(variationalKl(parts(p), parts(q)), Infinity);
}

/** JS = ½ KL(p‖m) + ½ KL(q‖m) with m = ½(p + q), each term approximated and bracketed. */
export function variationalJsResult(p: Gmm, q: Gmm): DivergenceResult {
  const m = [...parts(p, 0.5), ...parts(q, 0.5)];
  const a = variationalKl(parts(p), m);
  const b = variationalKl(parts(q), m);
  return result(
    {
      value: 0.5 * (a.value + b.value),
      lower: 0.5 * (a.lower + b.lower),
      upper: 0.5 * (a.upper + b.upper),
      terms: a.terms + b.terms,
    },
    Math.LN2,
  );
}
