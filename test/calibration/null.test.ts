import { describe, expect, it } from 'vitest';
import { binomialInterval99, DEFAULT_EVALUATE, runEvaluate } from '../../src/calibration/evaluate.js';
import { bootstrapNull, empiricalPValue, nullFromJson, nullThreshold, nullToJson, quantileSorted, tailPValue } from '../../src/calibration/null.js';
import { createGmm } from '../../src/gmm/model.js';
import type { MixtureSettings } from '../../src/stream/refit.js';
import { createRng } from '../../src/math/rng.js';

const mixture: MixtureSettings = { components: { min: 2, max: 2 }, covarianceType: 'full', nInit: 1, maxIter: 100, tol: 1e-3, regCovar: 1e-6 };
const reference = createGmm({ k: 2, d: 2, weights: [0.6, 0.4], means: [-1.2, 0, 1.8, 0], covariances: [1, 0, 0, 1, 1, 0.3, 0.3, 1], covarianceType: 'full' });

describe('p-values and quantiles of the null', () => {
  it('computes the empirical p-value (1 + #{null ≥ x}) / (B + 1)', () => {
    const n = Float64Array.of(1, 2, 3, 4);
    expect(empiricalPValue(n, 2.5)).toBe(3 / 5);
    expect(empiricalPValue(n, 2)).toBe(4 / 5); // ties count as at least as extreme
    expect(empiricalPValue(n, 0)).toBe(1);
    expect(empiricalPValue(n, 10)).toBe(1 / 5); // never 0
    expect(quantileSorted(n, 0.5)).toBe(2.5);
    expect(quantileSorted(n, 1)).toBe(4);
  });

  it('reads thresholds off the replicates where they resolve them, from the gamma tail beyond', () => {
    const n = Float64Array.from({ length: 1000 }, (_, i) => (i + 0.5) / 1000); // ≈ U(0, 1)
    expect(nullThreshold(n, 0.1)).toBeCloseTo(0.9, 2);
    const far = nullThreshold(n, 1e-6);
    expect(far).toBeGreaterThanOrEqual(n[999]!); // never below the largest replicate
    expect(tailPValue(n, far)).toBeLessThan(1 / 1001);
    expect(nullThreshold(n, 1e-4)).toBeLessThan(nullThreshold(n, 1e-6));
  });

  it('gives tail p-values below α exactly beyond the α threshold', () => {
    // A gamma-ish null of 200: χ²₁₁/1000 by summing squared normals.
    const rng = createRng('tail-consistency');
    const n = Float64Array.from({ length: 200 }, () => {
      let s = 0;
      for (let i = 0; i < 11; i++) s += rng.normal() ** 2;
      return s / 1000;
    }).sort();
    const alphas = [0.049, 0.02, 0.01, 1 / 201, 0.004, 1e-3, 1e-4, 1e-6];
    const xs = [...Array.from(n), ...alphas.flatMap((a) => [nullThreshold(n, a) * (1 - 1e-9), nullThreshold(n, a) * (1 + 1e-9)])];
    for (const a of alphas) for (const x of xs) expect([a, x, tailPValue(n, x) < a]).toEqual([a, x, x > nullThreshold(n, a)]);
  });

  it('remembers tail thresholds per null and level, giving what a fresh computation gives', () => {
    const rng = createRng('tail-memo');
    const n = Float64Array.from({ length: 200 }, () => rng.normal() ** 2 + rng.normal() ** 2).sort();
    const first = [1e-3, 1e-5].map((a) => nullThreshold(n, a));
    expect(first[0]).toBeLessThan(first[1]!);
    // The same levels again, and on a copy (nothing remembered for it yet): the same numbers.
    expect([1e-3, 1e-5].map((a) => nullThreshold(n, a))).toEqual(first);
    expect([1e-3, 1e-5].map((a) => nullThreshold(Float64Array.from(n), a))).toEqual(first);
    // Another null is not answered from this one's memory.
    expect(nullThreshold(Float64Array.from(n, (x) => 2 * x), 1e-3)).toBeCloseTo(2 * first[0]!, 9);
  });

  it('is seeded, and survives JSON', async () => {
    const s = { replicates: 12, windowSamples: 300, referenceSamples: 1000, mixture, estimator: { method: 'auto' as const, targetStderr: 0.005 }, seed: 'n' };
    const a = await bootstrapNull(reference, undefined, s);
    const b = await bootstrapNull(reference, undefined, s);
    expect(a.replicates).toBe(12);
    expect(Array.from(a.values.js)).toEqual(Array.from(b.values.js));
    for (const m of ['kl_ref_win', 'kl_win_ref', 'js'] as const) expect(a.values[m][0]!).toBeGreaterThan(0);
    const back = nullFromJson(JSON.parse(JSON.stringify(nullToJson(a))))!;
    expect(back.replicates).toBe(12);
    expect(Array.from(back.values.kl_win_ref)).toEqual(Array.from(a.values.kl_win_ref));
    expect(nullFromJson({ replicates: 2, windowSamples: 3, values: { js: [1] } })).toBeUndefined();
  });
});

describe('calibration end to end (seeded)', () => {
  it('holds the false-alarm level without drift and detects a 0.5 sd shift within a window', async () => {
    const alpha = 0.05;
    const r = await runEvaluate({
      ...DEFAULT_EVALUATE,
      dims: [2],
      windowSamples: 300,
      referenceSamples: 2000,
      replicates: 100,
      nullEvaluations: 300,
      alpha,
      rateTarget: 0.02,
      overlapEvaluations: 300,
      overlapStep: 50,
      overlapRateTarget: 0.02,
      runs: 4,
      step: 50,
      horizon: 600,
      seed: 'test',
    });
    const [d] = r.dims;
    const f = d!.falseAlarms;
    const [lo, hi] = binomialInterval99(f.evaluations, alpha);
    // A broken calibration shows up on either side: too many false alarms, or none at all.
    expect(f.fired.klaxon).toBeGreaterThanOrEqual(lo);
    expect(f.fired.klaxon).toBeLessThanOrEqual(hi);
    // The rate-derived hysteresis alert stays within its target's bound.
    expect(f.raises).toBeLessThanOrEqual(f.raisesInterval99[1]);
    // On overlapping windows the marginal level holds too, and raises stay under the target's bound.
    const o = f.overlapping;
    expect(o.exceedances).toBeLessThanOrEqual(3 * o.exceedancesInterval99[1]); // correlated looks: wider than binomial
    expect(o.raises).toBeLessThanOrEqual(binomialInterval99(o.evaluations, 0.02)[1]);
    const shift = d!.drifts.find((x) => x.scenario === 'shift_0.5sd')!;
    expect(shift.detected.klaxon).toBe(4);
    expect(shift.medianDelay.klaxon!).toBeLessThanOrEqual(300);
  }, 60_000);

  it('has a central 99% binomial interval', () => {
    expect(binomialInterval99(1000, 0.01)).toEqual([3, 19]);
  });
});
