import { describe, expect, it } from 'vitest';
import { fitGammaMoments, gammaSurvival, gammaUpperQuantile, logGamma } from '../../src/calibration/gamma.js';

describe('gamma tail', () => {
  it('matches closed forms and χ² tables', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(gammaSurvival(1, 1, 2)).toBeCloseTo(Math.exp(-2), 14);
    // χ²_k is Gamma(k/2, 2): the 5% and 0.1% critical values of χ²_3 and χ²_10.
    expect(gammaSurvival(1.5, 2, 7.814727903)).toBeCloseTo(0.05, 9);
    expect(gammaSurvival(5, 2, 29.58829845)).toBeCloseTo(0.001, 9);
    expect(gammaUpperQuantile(1.5, 2, 0.05)).toBeCloseTo(7.814727903, 6);
    expect(gammaUpperQuantile(5, 2, 1e-6)).toBeCloseTo(gammaUpperQuantile(5, 1, 1e-6) * 2, 8);
  });

  it('fits by moments', () => {
    const g = fitGammaMoments([1, 2, 3])!;
    // mean 2, variance 1: shape 4, scale 0.5
    expect(g.shape).toBeCloseTo(4, 12);
    expect(g.scale).toBeCloseTo(0.5, 12);
    expect(fitGammaMoments([1, 1, 1])).toBeUndefined();
  });
});
