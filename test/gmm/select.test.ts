import { describe, expect, it } from 'vitest';
import { fitGmm } from '../../src/gmm/fit.js';
import { createGmm, GmmError } from '../../src/gmm/model.js';
import { sample } from '../../src/gmm/sample.js';
import { bic, countParameters, selectComponents } from '../../src/gmm/select.js';
import { createRng } from '../../src/math/rng.js';

const truth = createGmm({
  k: 3,
  d: 2,
  weights: [0.4, 0.35, 0.25],
  means: [-5, 0, 0, 5, 5, -2],
  covariances: [1, 0.3, 0.3, 0.7, 0.6, 0, 0, 0.6, 0.9, -0.2, -0.2, 0.5],
  covarianceType: 'full',
});
const n = 4000;
const { X } = sample(truth, n, createRng('select'));

describe('countParameters', () => {
  it('counts as scikit-learn’s _n_parameters does', () => {
    // k = 3, d = 2: means 6, weights 2, covariances 9 (full), 6 (diag), 3 (spherical), 3 (tied).
    expect(countParameters(3, 2, 'full')).toBe(17);
    expect(countParameters(3, 2, 'diag')).toBe(14);
    expect(countParameters(3, 2, 'spherical')).toBe(11);
    expect(countParameters(3, 2, 'tied')).toBe(11);
    expect(countParameters(1, 1, 'full')).toBe(2);
  });
});

describe('selectComponents', () => {
  it('picks the true number of components by BIC and scores every K', () => {
    const best = selectComponents(X, n, 2, { range: [1, 6], seed: 0 });
    expect(best.model.k).toBe(3);
    expect(best.scores.map((s) => s.components)).toEqual([1, 2, 3, 4, 5, 6]);
    const lowest = Math.min(...best.scores.map((s) => s.bic));
    expect(best.bic).toBe(lowest);
    for (const s of best.scores) {
      expect(s.bic).toBeCloseTo(-2 * n * s.meanLogLik + countParameters(s.components, 2, 'full') * Math.log(n), 6);
    }
    expect(best.bic).toBeCloseTo(bic(best.meanLogLik, n, 3, 2, 'full'), 9);
  });

  it('returns the same fit as fitGmm for the chosen K with the same settings', () => {
    const best = selectComponents(X, n, 2, { range: [2, 4], covarianceType: 'diag', nInit: 2, seed: 7 });
    const direct = fitGmm(X, n, 2, { components: best.model.k, covarianceType: 'diag', nInit: 2, seed: 7 });
    expect(best.meanLogLik).toBe(direct.meanLogLik);
    expect(Array.from(best.model.means)).toEqual(Array.from(direct.model.means));
    expect(best.model.covarianceType).toBe('diag');
  });

  it('scores a K whose fit collapses as Infinity, with the reason, and never picks it', () => {
    // Three distinct points repeated: without reg_covar, two or three components collapse.
    const Y = Float64Array.from({ length: 60 }, (_, j) => [0, 0, 1, 0, 0, 1][j % 6]!);
    const best = selectComponents(Y, 30, 2, { range: [1, 3], regCovar: 0, seed: 0 });
    expect(best.model.k).toBe(1);
    const collapsed = best.scores.filter((s) => s.error !== undefined);
    expect(collapsed.length).toBeGreaterThan(0);
    for (const s of collapsed) {
      expect(s.bic).toBe(Infinity);
      expect(s.error).toMatch(/increase reg_covar/);
    }
  });

  it('refuses a range it cannot fit, saying what to change', () => {
    expect(() => selectComponents(X.subarray(0, 10), 5, 2, { range: [1, 6] })).toThrow(/only 5 rows; lower the range's max/);
    expect(() => selectComponents(X, n, 2, { range: [3, 2] })).toThrow(/1 ≤ min ≤ max/);
    expect(() => selectComponents(X, n, 2, { range: [0, 2] })).toThrow(GmmError);
  });

  it('throws the first failure when no K can be fitted', () => {
    const same = new Float64Array(20).fill(1);
    expect(() => selectComponents(same, 10, 2, { range: [1, 2], regCovar: 0 })).toThrow(/increase reg_covar/);
  });
});
