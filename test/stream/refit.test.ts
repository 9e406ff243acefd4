import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/math/rng.js';
import { WindowFitter, type MixtureSettings } from '../../src/stream/refit.js';

const settings = (min: number, max: number): MixtureSettings => ({
  components: { min, max },
  covarianceType: 'full',
  nInit: 2,
  maxIter: 100,
  tol: 1e-3,
  regCovar: 1e-6,
});

/** n 1-D points: each from N(mean, sd²) of one of the clusters, chosen uniformly. */
function data(n: number, clusters: [number, number][], seed: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: n }, () => {
    const [m, s] = clusters[Math.floor(rng.uniform() * clusters.length)]!;
    return m + s * rng.normal();
  });
}

describe('WindowFitter', () => {
  it('fits fresh first, then warm-starts from the last model while the data stays put', async () => {
    const f = new WindowFitter(settings(1, 4));
    const first = await f.refit(data(2000, [[0, 1], [6, 1]], 1), 2000, 1, 's');
    expect(first.kind).toBe('initial');
    expect(first.model.k).toBe(2);
    for (let i = 2; i < 6; i++) {
      const r = await f.refit(data(2000, [[0, 1], [6, 1]], i), 2000, 1, 's');
      expect(r.kind).toBe('warm');
      expect(r.model.k).toBe(2);
      // A warm start from a good model needs only a few EM passes.
      expect(r.iterations).toBeLessThanOrEqual(5);
    }
  });

  it('reinitialises when the warm fit degrades (a new mode), choosing K afresh', async () => {
    const f = new WindowFitter(settings(1, 4));
    expect((await f.refit(data(2000, [[0, 1]], 1), 2000, 1, 's')).model.k).toBe(1);
    // A second, far mode: one Gaussian stretched over both loses far more than 0.1 nat per sample.
    const r = await f.refit(data(2000, [[0, 1], [12, 1]], 2), 2000, 1, 's');
    expect(r).toMatchObject({ kind: 'reinit', reason: 'degraded' });
    expect(r.model.k).toBe(2);
    // And the next refit is warm again, from the new model.
    expect((await f.refit(data(2000, [[0, 1], [12, 1]], 3), 2000, 1, 's')).kind).toBe('warm');
  });

  it('reinitialises when a component collapses or EM fails', async () => {
    const f = new WindowFitter(settings(2, 2));
    expect((await f.refit(data(2000, [[0, 1], [50, 1]], 1), 2000, 1, 's')).model.k).toBe(2);
    // The far mode vanishes: its component is left with no rows.
    const r = await f.refit(data(2000, [[0, 1]], 2), 2000, 1, 's');
    expect(r.kind).toBe('reinit');
    expect(['collapsed', 'failed']).toContain(r.reason);
    expect(Math.min(...r.model.weights)).toBeGreaterThan(0.05);
  });

  it('can start from the reference: the first refit is then warm, and still reinitialises on a new mode', async () => {
    const ref = await new WindowFitter(settings(1, 4)).refit(data(2000, [[0, 1]], 1), 2000, 1, 'ref');
    const f = new WindowFitter(settings(1, 4));
    f.startFrom(ref.model, ref.meanLogLik);
    expect((await f.refit(data(2000, [[0, 1]], 2), 2000, 1, 's')).kind).toBe('warm');
    const g = new WindowFitter(settings(1, 4));
    g.startFrom(ref.model, ref.meanLogLik);
    expect(await g.refit(data(2000, [[0, 1], [12, 1]], 3), 2000, 1, 's')).toMatchObject({ kind: 'reinit', reason: 'degraded' });
  });

  it('keeps the warm model when the data moved but it still explains it best', async () => {
    const f = new WindowFitter(settings(1, 1), { degradeNats: 0.01 });
    await f.refit(data(2000, [[0, 1]], 1), 2000, 1, 's');
    // Wider data: the log-likelihood drops (a reinit is tried) but K=1 warm and fresh agree.
    const r = await f.refit(data(2000, [[0, 2]], 2), 2000, 1, 's');
    expect(r.kind).toBe('reinit');
    expect(Math.sqrt(r.model.covariances[0]!)).toBeCloseTo(2, 0);
  });
});
