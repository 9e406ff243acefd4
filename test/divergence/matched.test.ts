import { describe, expect, it } from 'vitest';
import { kl } from '../../src/divergence/index.js';
import { exactKl } from '../../src/divergence/exact.js';
import { COVARIANCE_TYPES } from '../../src/gmm/model.js';
import { drifted, randomMixture } from './support.js';

/**
 * KL's matched term (kernel.ts `matchedTerm`, stratified.ts `chooseMatched`). Between two
 * single Gaussians the term is the whole integrand, so what the sampler returns is its closed
 * form mean alone: it must be the exact KL, with no sampling error left.
 */
describe('KL sampled with the matched term', () => {
  it.each(COVARIANCE_TYPES)('single %s Gaussians: the closed-form mean is the exact KL', (type) => {
    const p = randomMixture(1, 4, type, `m-p-${type}`);
    const q = drifted(p, 0.7, `m-q-${type}`);
    const exact = exactKl(p, q).value;
    for (const method of ['qmc', 'stratified'] as const) {
      const r = kl(p, q, { method, seed: 3 });
      expect(r.value).toBeCloseTo(exact, 10);
      expect(r.stderr).toBeLessThan(1e-9);
    }
  });
});
