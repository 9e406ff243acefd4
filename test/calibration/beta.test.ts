import { describe, expect, it } from 'vitest';
import { betaSurvival, fSurvival, fUpperQuantile, regularizedBeta } from '../../src/calibration/beta.js';
import { gammaUpperQuantile } from '../../src/calibration/gamma.js';

/** Relative closeness, for tails far below toBeCloseTo's absolute digits. */
function expectRel(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

describe('incomplete beta and F', () => {
  it('matches closed forms', () => {
    // Beta(1, b): I_x = 1 − (1 − x)^b; Beta(a, 1): I_x = x^a; symmetric: I_½(a, a) = ½.
    expect(regularizedBeta(1, 7.5, 0.2)).toBeCloseTo(1 - 0.8 ** 7.5, 14);
    expectRel(betaSurvival(1, 300, 0.05), 0.95 ** 300, 1e-12);
    expect(regularizedBeta(3.3, 1, 0.6)).toBeCloseTo(0.6 ** 3.3, 14);
    expect(regularizedBeta(2.7, 2.7, 0.5)).toBeCloseTo(0.5, 14);
    expect(regularizedBeta(40, 40, 0.5)).toBeCloseTo(0.5, 12); // ln B(40, 40) ≈ −55: ~1e-14 from logGamma
    expect(regularizedBeta(2, 3, 0) + betaSurvival(2, 3, 1)).toBe(0);
  });

  it('matches exact binomial sums (integer a, b: I_x(a, b) = P(Bin(a + b − 1, x) ≥ a))', () => {
    // Values from Python's exact rational arithmetic.
    expect(regularizedBeta(5, 7, 0.3)).toBeCloseTo(0.2103046173, 12);
    expect(betaSurvival(5, 7, 0.3)).toBeCloseTo(0.7896953827, 12);
    expectRel(betaSurvival(3, 400, 0.02), 0.012707517367298679, 1e-11);
    expectRel(betaSurvival(6, 1200, 0.015), 0.00028476596869061966, 1e-11);
    expect(regularizedBeta(2, 2, 0.9)).toBeCloseTo(0.972, 14);
    for (const x of [0.001, 0.01, 0.3, 0.9]) expect(regularizedBeta(4.5, 900, x) + betaSurvival(4.5, 900, x)).toBeCloseTo(1, 14);
  });

  it('gives F quantiles: closed form at d1 = 2, exact sums, and the gamma as d2 → ∞', () => {
    // P(F(2, d2) > f) = (1 + 2f/d2)^(−d2/2).
    expectRel(fSurvival(2, 30, 1.7), (1 + 3.4 / 30) ** -15, 1e-12);
    expectRel(fUpperQuantile(2, 30, 1e-5), 15 * (1e-5 ** (-1 / 15) - 1), 1e-10);
    // t² with 10 degrees of freedom is F(1, 10): t₀.₉₇₅ = 2.228138851986274.
    expectRel(fUpperQuantile(1, 10, 0.05), 2.228138851986274 ** 2, 1e-10);
    // Python, exact rational arithmetic and bisection.
    expectRel(fUpperQuantile(10, 400, 1e-4), 3.681197383203815, 1e-10);
    expectRel(fUpperQuantile(6, 1200, 1e-6), 6.468206157651047, 1e-10);
    // F(2k, ∞) is Gamma(k, 1/k).
    expectRel(fUpperQuantile(11, 2e9, 1e-6), gammaUpperQuantile(5.5, 1 / 5.5, 1e-6), 1e-6);
  });
});
