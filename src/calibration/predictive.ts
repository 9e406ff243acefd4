/**
 * A gamma tail for the null that allows for the noise of the B replicates it is fitted to.
 * A threshold read off a gamma whose parameters are plugged in from B replicates is exceeded
 * more often than asked on average (the survival function is convex in the threshold: a
 * threshold that is sometimes low costs more than one sometimes high gains). Predictive
 * instead: a new X ~ Gamma(k, θ) and the replicates' mean x̄ ~ Gamma(Bk, θ/B) are independent,
 * so X/x̄ ~ F(2k, 2Bk) whatever θ, and P(X > x̄·f) = P(F(2k, 2Bk) > f) exactly; the scale's
 * noise is gone. The shape k, from the replicates' moments, is noisy too: the predictive tail
 * averages over it, log k̂ ~ N(log k, 2(k + 1)/(kB)) (the delta method for the moment estimator
 * under the gamma), by five-point Gauss–Hermite quadrature. Deterministic; B → ∞ gives the
 * plug-in gamma back.
 *
 * @example
 * predictiveUpperQuantile({ mean: 1, shape: 5, n: 200 }, 1e-4) // a little above the Gamma(5, 0.2) quantile
 */

import { upperQuantile } from '../math/upper-quantile.js';
import { fSurvival } from './beta.js';
import { fitGammaMoments } from './gamma.js';

/** The replicates' mean, the moment estimate of the gamma's shape, and how many replicates. */
export interface PredictiveGamma {
  mean: number;
  shape: number;
  n: number;
}

/** Probabilists' Gauss–Hermite rule, five points: ∫ f(z) φ(z) dz ≈ Σ wᵢ f(zᵢ). */
const HERMITE_Z = [-2.8569700138728056, -1.3556261799742659, 0, 1.3556261799742659, 2.8569700138728056];
const HERMITE_W = [0.011257411327720691, 0.2220759220056126, 0.5333333333333333, 0.2220759220056126, 0.011257411327720691];

/** The mean and moment shape of a sample; undefined without spread. */
export function fitPredictiveGamma(x: ArrayLike<number>): PredictiveGamma | undefined {
  const g = fitGammaMoments(x);
  return g === undefined ? undefined : { mean: g.shape * g.scale, shape: g.shape, n: x.length };
}

/** The sd of log k̂ for the moment estimator of a gamma's shape from n draws (delta method). */
export function logShapeSd(shape: number, n: number): number {
  return Math.sqrt((2 * (shape + 1)) / (shape * n));
}

/**
 * P(X > x) for a new X from the gamma the sample came from, allowing for the noise of the
 * sample's mean (exactly, through the F) and, unless `shapeSpread` is false, of its shape.
 */
export function predictiveSurvival(g: PredictiveGamma, x: number, shapeSpread = true): number {
  if (x <= 0) return 1;
  const f = x / g.mean;
  if (!shapeSpread) return fSurvival(2 * g.shape, 2 * g.n * g.shape, f);
  const s = logShapeSd(g.shape, g.n);
  let p = 0;
  for (let i = 0; i < HERMITE_Z.length; i++) {
    const k = g.shape * Math.exp(s * HERMITE_Z[i]!);
    p += HERMITE_W[i]! * fSurvival(2 * k, 2 * g.n * k, f);
  }
  return p;
}

/** The x with predictiveSurvival(g, x) = tail. */
export function predictiveUpperQuantile(g: PredictiveGamma, tail: number, shapeSpread = true): number {
  return g.mean * upperQuantile((f) => predictiveSurvival(g, f * g.mean, shapeSpread), tail);
}
