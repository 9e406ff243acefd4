import { describe, expect, it } from 'vitest';
import { js, kl } from '../../src/divergence/index.js';
import { gaussian } from '../../src/gmm/model.js';
import { fixturePairs } from './support.js';

/** Hershey & Olsen's approximation: cheap, biased, and bracketed by bounds that hold for the truth. */
const pairs = fixturePairs();

describe('variational approximation', () => {
  it.each(pairs)('$name: lies within its bounds, and so does the reference value', (c) => {
    for (const [r, ref, se] of [
      [kl(c.p, c.q, { method: 'variational' }), c.kl, c.klStderr],
      [js(c.p, c.q, { method: 'variational' }), c.js, c.jsStderr],
    ] as const) {
      const [lo, hi] = r.bounds!;
      expect(r.method).toBe('variational');
      expect(r.samples).toBe(0);
      expect(lo).toBeLessThanOrEqual(r.value);
      expect(r.value).toBeLessThanOrEqual(hi);
      expect(ref).toBeGreaterThanOrEqual(lo - 4 * se - 1e-9);
      expect(ref).toBeLessThanOrEqual(hi + 4 * se + 1e-9);
      expect(r.stderr).toBeCloseTo(Math.max(hi - r.value, r.value - lo), 12);
    }
  });

  it('is exact for two single Gaussians, and 0 for identical mixtures', () => {
    const p = gaussian([0, 1], [1, 0.2, 0.2, 2]);
    const q = gaussian([1, -1], [2, 0, 0, 1]);
    expect(kl(p, q, { method: 'variational' }).value).toBeCloseTo(kl(p, q, { method: 'exact' }).value, 12);
    const c = pairs.find((x) => x.name === '1d-identical')!;
    expect(kl(c.p, c.q, { method: 'variational' }).value).toBe(0);
  });

  it('is sensible: ranks the fixture pairs as the references do, roughly', () => {
    // Not a measurement, but it should track the truth: within a factor of 3 on pairs that
    // are neither nearly identical nor dominated by a far, tiny component.
    for (const c of pairs.filter((x) => x.kl > 0.05 && x.name !== '1d-tiny-weight-narrow')) {
      const v = kl(c.p, c.q, { method: 'variational' }).value;
      expect(v).toBeGreaterThan(c.kl / 3);
      expect(v).toBeLessThan(c.kl * 3);
    }
  });
});
