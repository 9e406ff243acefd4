import { describe, expect, it } from 'vitest';
import { ks2Samp, ksBonferroni, kolmogorovSurvival, ksPValue } from '../../src/calibration/ks.js';
import { createRng } from '../../src/math/rng.js';

/** D by brute force: the largest gap of the two ECDFs over every sample point. */
function bruteD(a: number[], b: number[]): number {
  const ecdf = (s: number[], x: number): number => s.filter((v) => v <= x).length / s.length;
  return Math.max(...[...a, ...b].map((x) => Math.abs(ecdf(a, x) - ecdf(b, x))));
}

describe('Kolmogorov distribution', () => {
  it('matches tabulated values of Q_KS', () => {
    expect(kolmogorovSurvival(1)).toBeCloseTo(0.26999967167735456, 12);
    expect(kolmogorovSurvival(0.5)).toBeCloseTo(0.9639452436648751, 12);
    // The textbook critical values: 1.36 at 5%, 1.63 at 1%.
    expect(kolmogorovSurvival(1.3581)).toBeCloseTo(0.05, 4);
    expect(kolmogorovSurvival(1.6276)).toBeCloseTo(0.01, 4);
    expect(kolmogorovSurvival(0)).toBe(1);
    expect(kolmogorovSurvival(5)).toBeLessThan(1e-20);
  });
});

describe('two-sample KS', () => {
  it('computes D as the largest ECDF gap, ties included', () => {
    expect(ks2Samp([1, 2, 3, 4], [3, 4, 5, 6]).statistic).toBe(0.5);
    expect(ks2Samp([1, 2, 3], [1, 2, 3]).statistic).toBe(0);
    expect(ks2Samp([0, 0, 1], [0, 1, 1]).statistic).toBeCloseTo(1 / 3, 15);
    const rng = createRng('ks');
    for (let t = 0; t < 20; t++) {
      const a = Array.from({ length: 5 + (t % 7) }, () => Math.round(rng.normal() * 4) / 2);
      const b = Array.from({ length: 3 + (t % 5) }, () => Math.round(rng.normal() * 4) / 2 + 0.5);
      expect(ks2Samp(a, b).statistic).toBeCloseTo(bruteD(a, b), 14);
    }
  });

  it("gives the asymptotic p-value with Stephens' correction (scipy's old method='asymp')", () => {
    // n = m = 100, D = 0.2: λ = (√50 + 0.12 + 0.11/√50)·0.2, Q_KS(λ) = 0.0313766521…
    expect(ksPValue(0.2, 100, 100)).toBeCloseTo(0.03137665215307253, 10);
    // Disjoint samples of 50: D = 1 and p essentially 0; identical ones: p = 1.
    const a = Array.from({ length: 50 }, (_, i) => i);
    expect(ks2Samp(a, a.map((x) => x + 100)).pValue).toBeLessThan(1e-20);
    expect(ks2Samp(a, a).pValue).toBe(1);
  });

  it('holds its level on same-distribution samples, and Bonferroni is per feature', () => {
    const rng = createRng('ks-level');
    let rejected = 0;
    const trials = 400;
    const d = 3;
    const ref: Float64Array[] = [];
    for (let f = 0; f < d; f++) ref.push(Float64Array.from({ length: 1000 }, () => rng.normal()).sort());
    for (let t = 0; t < trials; t++) {
      const X = Float64Array.from({ length: 300 * d }, () => rng.normal());
      if (ksBonferroni(ref, X, 300, d) <= 0.05) rejected++;
    }
    // Level at most 5% (the asymptotic KS is slightly conservative); binomial 99% upper bound 30.
    expect(rejected).toBeLessThanOrEqual(30);
    const shifted = Float64Array.from({ length: 300 * d }, (_, i) => rng.normal() + (i % d === 2 ? 0.5 : 0));
    expect(ksBonferroni(ref, shifted, 300, d)).toBeLessThan(1e-6);
  });
});
