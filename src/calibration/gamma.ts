/**
 * The gamma distribution as a tail model for divergences under no drift. A divergence between
 * a mixture and its own refit on W samples is, to first order, a quadratic form in the
 * parameter errors — a weighted sum of χ²'s — which a gamma matches in mean and variance
 * (Satterthwaite's approximation). It extrapolates the null beyond what B replicates resolve.
 *
 * @example
 * gammaSurvival(1, 1, 2) // e^{-2} = 0.1353…
 */

import { upperQuantile } from '../math/upper-quantile.js';

/** ln Γ(x), Lanczos (g = 7, n = 9), good to ~1e-15 for x > 0. */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a) (Numerical Recipes §6.2). */
export function upperRegularizedGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const lead = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    // Series for P(a, x).
    let ap = a;
    let sum = 1 / a;
    let del = sum;
    for (let n = 0; n < 1000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lead));
  }
  // Continued fraction for Q(a, x) (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(lead) * h);
}

/** P(X ≥ x) for X ~ Gamma(shape, scale). */
export function gammaSurvival(shape: number, scale: number, x: number): number {
  return upperRegularizedGamma(shape, x / scale);
}

/** The x with P(X ≥ x) = tail, X ~ Gamma(shape, scale). */
export function gammaUpperQuantile(shape: number, scale: number, tail: number): number {
  return scale * upperQuantile((x) => upperRegularizedGamma(shape, x), tail);
}

/** Shape and scale matching the sample's mean and variance; undefined without spread. */
export function fitGammaMoments(x: ArrayLike<number>): { shape: number; scale: number } | undefined {
  const n = x.length;
  if (n < 2) return undefined;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (x[i]! - mean) ** 2;
  const variance = ss / (n - 1);
  if (!(mean > 0 && variance > 0)) return undefined;
  return { shape: (mean * mean) / variance, scale: variance / mean };
}
