import { describe, expect, it } from 'vitest';
import { js } from '../../src/divergence/index.js';
import { agreementBound, broadGaussian, randomMixture } from './support.js';

/**
 * Nearly disjoint mixtures in d = 16: eight components against one Gaussian six times as
 * wide. JS is within 5e-4 of ln 2, and what is missing comes from thin overlaps that are rare
 * under the broad component. Before the JS strata shared points out by density and kept a
 * defensive share of the allocation, 3 of these 16 seeds landed 5.1–7.5 combined standard
 * errors from a long plain Monte Carlo (and 4 more 3.2–3.7); now all 16 are within 2.1.
 * Rare-region misses are rarer, not gone: see BENCHMARKS.md, accuracy.
 */
const p = randomMixture(8, 16, 'full', 'disjoint-p');
const q = broadGaussian(16, 6, 'disjoint-q');

describe('JS of nearly disjoint mixtures (d = 16, K = 8 against 1)', () => {
  const ref = js(p, q, { method: 'monte-carlo', samples: 1_000_000, seed: 'ref' });

  it.each(Array.from({ length: 16 }, (_, i) => i + 1))('seed %i agrees with a long plain Monte Carlo', (seed) => {
    const r = js(p, q, { seed });
    expect(Math.abs(r.value - ref.value)).toBeLessThanOrEqual(agreementBound(r.stderr, ref.stderr, ref.value));
  });
});
