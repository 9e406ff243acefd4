/**
 * The regularized incomplete beta function and the F distribution built on it: the tail of a
 * ratio of two independent gammas with a common scale. `predictive.ts` uses it for a tail that
 * allows for the noise in the replicates' mean.
 *
 * @example
 * betaSurvival(1, 3, 0.5) // P(Beta(1, 3) > 0.5) = 0.5³ = 0.125
 */

import { upperQuantile } from '../math/upper-quantile.js';
import { logGamma } from './gamma.js';

/** Continued fraction for I_x(a, b) (Numerical Recipes §6.4, modified Lentz); converges fast for x < (a + 1)/(a + b + 2). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 100_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** x^a (1 − x)^b / (a·B(a, b)), the continued fraction's prefactor, in logs. */
function logFront(a: number, b: number, x: number): number {
  return a * Math.log(x) + b * Math.log1p(-x) - (logGamma(a) + logGamma(b) - logGamma(a + b)) - Math.log(a);
}

/** I_x(a, b) = P(Beta(a, b) ≤ x), the regularized incomplete beta function. */
export function regularizedBeta(a: number, b: number, x: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`a and b must be positive, got ${a}, ${b}`);
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x < (a + 1) / (a + b + 2)) return Math.min(1, Math.exp(logFront(a, b, x)) * betaContinuedFraction(a, b, x));
  return Math.max(0, 1 - Math.exp(logFront(b, a, 1 - x)) * betaContinuedFraction(b, a, 1 - x));
}

/** 1 − I_x(a, b) = P(Beta(a, b) > x), computed directly so a small tail keeps its relative precision. */
export function betaSurvival(a: number, b: number, x: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`a and b must be positive, got ${a}, ${b}`);
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  if (x < (a + 1) / (a + b + 2)) return Math.max(0, 1 - Math.exp(logFront(a, b, x)) * betaContinuedFraction(a, b, x));
  return Math.min(1, Math.exp(logFront(b, a, 1 - x)) * betaContinuedFraction(b, a, 1 - x));
}

/** P(F > f) for F ~ F(d1, d2), the ratio (χ²_{d1}/d1)/(χ²_{d2}/d2). */
export function fSurvival(d1: number, d2: number, f: number): number {
  if (f <= 0) return 1;
  return betaSurvival(d1 / 2, d2 / 2, (d1 * f) / (d1 * f + d2));
}

/**
 * The f with P(F > f) = tail for F ~ F(d1, d2), by bisection on f (the survival is monotone;
 * called rarely).
 */
export function fUpperQuantile(d1: number, d2: number, tail: number): number {
  return upperQuantile((f) => fSurvival(d1, d2, f), tail);
}
