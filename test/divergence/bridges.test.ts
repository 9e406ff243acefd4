import { describe, expect, it } from 'vitest';
import { bhattacharyya, bridges, saddle } from '../../src/divergence/bridges.js';
import { createGmm, gaussian } from '../../src/gmm/model.js';
import { randomMixture } from './support.js';

describe('bridges between nearly disjoint mixtures', () => {
  it('Bhattacharyya coefficient: 1 for a Gaussian with itself, exp(−μ²/8) for unit variances μ apart', () => {
    const g = gaussian([0.3, -1], [2, 0.5, 0.5, 1]);
    expect(bhattacharyya(g, 0, g, 0)).toBeCloseTo(1, 12);
    const a = gaussian([0], [1]);
    const b = gaussian([3], [1]);
    expect(bhattacharyya(a, 0, b, 0)).toBeCloseTo(Math.exp(-9 / 8), 12);
    // Different variances: BC = √(2σ₁σ₂/(σ₁² + σ₂²)) at equal means.
    const c = gaussian([0], [4]);
    expect(bhattacharyya(a, 0, c, 0)).toBeCloseTo(Math.sqrt((2 * 1 * 2) / (1 + 4)), 12);
  });

  it('the saddle Gaussian is the normalised √(N_a N_b): midway for equal covariances, each one itself', () => {
    const a = gaussian([0, 0], [1, 0.3, 0.3, 2]);
    const b = gaussian([4, -2], [1, 0.3, 0.3, 2]);
    const s = saddle(a, 0, b, 0);
    expect(Array.from(s.means)).toEqual([expect.closeTo(2, 12), expect.closeTo(-1, 12)]);
    Array.from(s.covariances).forEach((v, i) => expect(v).toBeCloseTo(a.covariances[i]!, 12));
    const self = saddle(a, 0, a, 0);
    Array.from(self.means).forEach((v, i) => expect(v).toBeCloseTo(a.means[i]!, 12));
  });

  it('only nearly disjoint pairs get any: none for overlapping mixtures, one per pair of far components', () => {
    const p = randomMixture(3, 4, 'full', 'bridges-p');
    expect(bridges(p, p)).toEqual([]);
    const far = createGmm({ k: 1, d: 4, weights: [1], means: [40, 40, 40, 40], covariances: Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0)), covarianceType: 'full' });
    // 40 units apart in each of 4 coordinates: the saddles hold nothing worth sampling.
    expect(bridges(p, far)).toEqual([]);
    const near = createGmm({ ...far, k: 1, d: 4, weights: [1], means: [6, 6, 6, 6], covariances: far.covariances, covarianceType: 'full' });
    // 12 units apart: every pair is far (BC < 0.01), and the nearer ones still hold something.
    const found = bridges(p, near);
    expect(found.length).toBeGreaterThan(0);
    expect(found.length).toBeLessThanOrEqual(3);
    for (const b of found) expect(b.mass).toBeGreaterThan(1e-12);
  });

  it('twins (a component unchanged from p to q) do not stand in the way, but get no bridge themselves', () => {
    const d = 3;
    const eye = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const twoModes = (second: number[], first = [0, 0, 0]) =>
      createGmm({ k: 2, d, weights: [0.5, 0.5], means: [...first, ...second], covariances: [...eye, ...eye], covarianceType: 'full' });
    const p = twoModes([10, 0, 0]);
    // One mode kept, the other moved 10 units: bridges between the far pairs only (A–C, B–A; B–C is 14 apart).
    const moved = bridges(p, twoModes([0, 10, 0]));
    expect(moved.length).toBeGreaterThanOrEqual(2);
    for (const b of moved) expect(bhattacharyya(b.gaussian, 0, p, 0) < 0.999 || bhattacharyya(b.gaussian, 0, p, 1) < 0.999).toBe(true);
    // Every component a twin of one with the same weight: identical mixtures, nothing to
    // bridge (and JS stays exactly 0). With other weights, f moves between the modes: bridged.
    expect(bridges(p, p)).toEqual([]);
    const reweighted = createGmm({ k: 2, d, weights: [0.7, 0.3], means: p.means, covariances: p.covariances, covarianceType: 'full' });
    expect(bridges(p, reweighted).length).toBe(2);
    // KL takes them only where every component of p has a twin.
    expect(bridges(p, reweighted, 'kl').length).toBe(2);
    expect(bridges(p, twoModes([0, 10, 0]), 'kl')).toEqual([]);
    // The kept mode nudged 0.2 sd (BC 0.995): it overlaps, so no bridges at all.
    expect(bridges(p, twoModes([0, 10, 0], [0.2, 0, 0]))).toEqual([]);
    // Nudged 0.05 sd (BC 0.9997): still a twin.
    expect(bridges(p, twoModes([0, 10, 0], [0.05, 0, 0])).length).toBe(moved.length);
  });
});
