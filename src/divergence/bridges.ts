import { cholesky, invertLower, logDetFromCholesky } from '../math/linalg.js';
import { gaussian, type Gmm } from '../gmm/model.js';

/**
 * Bridges for JS between nearly disjoint mixtures. When every component of p is far from
 * every component of q, JS is a hair under ln 2 and what is missing sits in the saddles
 * between them: a few standard deviations from both ends, rare under every component of m,
 * so no stratum's points reach it and the error bar cannot know (one Gaussian against eight
 * others 7–13 units away in d = 12: a third of the estimates beyond 4 standard errors).
 * A bridge is a Gaussian centred on such a saddle: the normalised √(N_c N_t), whose precision
 * is the average of the two and whose peak is where their product is largest. The sampler
 * adds one stratum per bridge and counts the bridges in the balance heuristic's partition of
 * unity, so the saddle is sampled where it is, and no stratum sees it as a rare event.
 *
 * The same holds when the components that do meet are twins, a component kept from p to q:
 * f is then nearly constant over each component (~0 over a twin of the same weight, ~ln 2
 * over a component without a twin), and the strata's spread comes from nothing but the
 * saddles they miss. Keeping one mode and moving another 10 units away (d = 8) gave
 * JS = ln 2 / 2 − 1.8e-7 with standard errors of 4e-10: 32 of 60 estimates beyond 4 of them;
 * two modes 10 units apart whose weights went from ½, ½ to 0.7, 0.3: 17 of 40. Twins get no
 * bridge (m covers them); the far pairs do.
 */

/**
 * Mixtures count as nearly disjoint when no pair of components, one from each, has a
 * Bhattacharyya coefficient above this (twins aside). Every fixture and bench pair has a
 * pair between this and TWIN_OVERLAP; the nearly disjoint pairs that missed had none above 0.004.
 */
export const DISJOINT_OVERLAP = 0.01;
/**
 * A pair of components this alike (Bhattacharyya coefficient above it; a mean shift of
 * 0.09 sd) counts as one component unchanged from p to q. Its spread then no longer hides
 * a missed saddle: with the twin shifted 0.05 sd, 1 of 40 estimates landed beyond 4 standard
 * errors, with 0.09–0.15 sd none of 60 (d = 8, the far mode 7–8 units away, no bridges).
 */
export const TWIN_OVERLAP = 0.999;
/** Bridges whose saddle holds less of m than this (½√(w_c w_t)·BC, nats at most) are left out. */
const NEGLIGIBLE_MASS = 1e-12;

export interface Bridge {
  gaussian: Gmm;
  /** ½√(w_c w_t)·BC: a rough size of what the saddle holds, for the sampler's defensive share. */
  mass: number;
}

/**
 * The bridges between p and q when they are nearly disjoint, twins aside; none otherwise.
 * Mixtures that overlap usually show it at the first pair or two, so the look stops at the
 * first one that does: every estimate asks. Identical mixtures (every component the twin
 * of one with the same weight) get none: JS is 0 there, and exactly so.
 */
export function bridges(p: Gmm, q: Gmm, measure: 'kl' | 'js' = 'js'): Bridge[] {
  const far: { c: number; t: number; bc: number }[] = [];
  const twinP = new Uint8Array(p.k);
  const twinQ = new Uint8Array(q.k);
  let alike = true;
  for (let c = 0; c < p.k; c++) {
    if (!(p.weights[c]! > 0)) continue;
    for (let t = 0; t < q.k; t++) {
      if (!(q.weights[t]! > 0)) continue;
      const bc = bhattacharyya(p, c, q, t);
      if (bc > TWIN_OVERLAP) {
        twinP[c] = 1;
        twinQ[t] = 1;
        if (p.weights[c] !== q.weights[t]) alike = false;
      } else if (bc < DISJOINT_OVERLAP) far.push({ c, t, bc });
      else return [];
    }
  }
  const twinned = (g: Gmm, twin: Uint8Array): boolean => Array.from(g.weights).every((w, c) => !(w > 0) || twin[c] === 1);
  if (alike && twinned(p, twinP) && twinned(q, twinQ)) return [];
  // KL only where every component of p has a twin: its matched term then pairs each with its
  // twin and leaves nothing but the saddles. With a component of p that has none, that
  // component's residual dwarfs what a saddle holds (one mode moved 10 units away, d = 8:
  // bridged, the standard error went from ~1e-7 to 4e-2 on 25.4).
  if (measure === 'kl' && !twinned(p, twinP)) return [];
  return far
    .map(({ c, t, bc }) => ({ c, t, mass: 0.5 * Math.sqrt(p.weights[c]! * q.weights[t]!) * bc }))
    .filter((x) => x.mass > NEGLIGIBLE_MASS)
    .map(({ c, t, mass }) => ({ gaussian: saddle(p, c, q, t), mass }));
}

/** BC(N_a, N_b) = exp(−D_B), D_B = ⅛ΔμᵀΣ̄⁻¹Δμ + ½ log(det Σ̄ / √(det Σ_a det Σ_b)), Σ̄ = (Σ_a + Σ_b)/2. */
export function bhattacharyya(g: Gmm, a: number, h: Gmm, b: number): number {
  const d = g.d;
  const mean = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) mean[i] = 0.5 * (g.covariances[a * d * d + i]! + h.covariances[b * d * d + i]!);
  const L = new Float64Array(d * d);
  if (!cholesky(mean, d, L)) return 0;
  // ‖L⁻¹Δμ‖² by forward substitution.
  const y = new Float64Array(d);
  let quad = 0;
  for (let i = 0; i < d; i++) {
    let v = g.means[a * d + i]! - h.means[b * d + i]!;
    for (let k = 0; k < i; k++) v -= L[i * d + k]! * y[k]!;
    y[i] = v / L[i * d + i]!;
    quad += y[i]! * y[i]!;
  }
  const logDets = logDetFromCholesky(g.cholesky, d, a * d * d) + logDetFromCholesky(h.cholesky, d, b * d * d);
  return Math.exp(-(quad / 8 + 0.5 * (logDetFromCholesky(L, d) - 0.5 * logDets)));
}

/** The normalised √(N_a N_b): precision Λ = (Λ_a + Λ_b)/2, mean Λ⁻¹(Λ_a μ_a + Λ_b μ_b)/2. */
export function saddle(g: Gmm, a: number, h: Gmm, b: number): Gmm {
  const d = g.d;
  // Λ = PᵀP with P = L⁻¹ (precisionCholesky).
  const precision = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  for (const [m, c] of [
    [g, a],
    [h, b],
  ] as const) {
    const P = m.precisionCholesky;
    const off = c * d * d;
    const lambda = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let v = 0;
        for (let k = Math.max(i, j); k < d; k++) v += P[off + k * d + i]! * P[off + k * d + j]!;
        lambda[i * d + j] = v;
      }
    }
    for (let i = 0; i < d; i++) {
      let v = 0;
      for (let j = 0; j < d; j++) v += lambda[i * d + j]! * m.means[c * d + j]!;
      rhs[i] = rhs[i]! + 0.5 * v;
      for (let j = 0; j < d; j++) precision[i * d + j] = precision[i * d + j]! + 0.5 * lambda[i * d + j]!;
    }
  }
  // Σ = Λ⁻¹ = (L_Λ⁻¹)ᵀ L_Λ⁻¹, and μ = Σ·rhs.
  const L = new Float64Array(d * d);
  if (!cholesky(precision, d, L)) throw new Error('bridge precision is not positive definite');
  const inv = new Float64Array(d * d);
  invertLower(L, d, inv);
  const covariance = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let v = 0;
      for (let k = i; k < d; k++) v += inv[k * d + i]! * inv[k * d + j]!;
      covariance[i * d + j] = v;
      covariance[j * d + i] = v;
    }
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let v = 0;
    for (let j = 0; j < d; j++) v += covariance[i * d + j]! * rhs[j]!;
    mean[i] = v;
  }
  return gaussian(mean, covariance);
}
