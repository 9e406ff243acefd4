import { describe, expect, it } from 'vitest';
import { js, kl } from '../../src/divergence/index.js';
import { COVARIANCE_TYPES } from '../../src/gmm/model.js';
import { createRng } from '../../src/math/rng.js';
import { agreementBound, drifted, randomMixture, stderrBound } from './support.js';

/**
 * A seeded family of pairs nobody tuned for: random K, d ∈ {1, 2, 4, 8}, every covariance
 * type, q either a drifted copy of p or an unrelated mixture. The default method must agree
 * with a long run of the seed's plain Monte Carlo within 4 combined standard errors, and
 * reach its accuracy target.
 */
/**
 * Long enough that the check tests our error bar, not the reference's: at 200,000 draws the
 * reference's own standard error was half of ours, and one estimate 3.4 of our standard
 * errors from the truth (#9 JS, seed 11; none of 300 seeds beyond 4 against 2·10^6 draws)
 * failed on the reference's error in the same direction.
 */
const REFERENCE_DRAWS = 2_000_000;
const rng = createRng('unseen-family');
const family = Array.from({ length: 16 }, (_, i) => {
  const d = [1, 2, 4, 8][i % 4]!;
  const type = COVARIANCE_TYPES[Math.floor(i / 4) % COVARIANCE_TYPES.length]!;
  const kp = 1 + Math.floor(rng.uniform() * 4);
  const p = randomMixture(kp, d, type, `u-p-${i}`);
  const related = i % 2 === 0;
  const q = related ? drifted(p, 0.4, `u-q-${i}`) : randomMixture(1 + Math.floor(rng.uniform() * 4), d, type, `u-q-${i}`);
  return { name: `#${i} d=${d} ${type} K=${p.k}/${q.k} ${related ? 'drifted' : 'unrelated'}`, p, q };
});

describe.each(family)('$name', ({ p, q }) => {
  it('KL: the default agrees with a long plain Monte Carlo, to the accuracy target', () => {
    const ref = kl(p, q, { method: 'monte-carlo', samples: REFERENCE_DRAWS, seed: 'ref' });
    const r = kl(p, q, { seed: 11 });
    expect(Math.abs(r.value - ref.value)).toBeLessThanOrEqual(agreementBound(r.stderr, ref.stderr, ref.value));
    expect(r.stderr).toBeLessThanOrEqual(stderrBound(ref.value));
  });

  it('JS: the default agrees with a long plain Monte Carlo, to the accuracy target', () => {
    const ref = js(p, q, { method: 'monte-carlo', samples: REFERENCE_DRAWS, seed: 'ref' });
    const r = js(p, q, { seed: 11 });
    expect(Math.abs(r.value - ref.value)).toBeLessThanOrEqual(agreementBound(r.stderr, ref.stderr, ref.value));
    expect(r.stderr).toBeLessThanOrEqual(stderrBound(ref.value));
  });
});
