import { describe, expect, it } from 'vitest';
import { REPLICATES } from '../../src/divergence/auto.js';
import { DivergenceError, js, kl, METHODS, type DivergenceMethod } from '../../src/divergence/index.js';
import { quadratureJs, quadratureKl, type QuadratureSettings } from '../../src/divergence/quadrature.js';
import { createGmm, gaussian, type Gmm } from '../../src/gmm/model.js';
import { createRng } from '../../src/math/rng.js';
import { randomMixture } from './support.js';

describe('exact Gaussian KL', () => {
  it('matches the closed form computed by hand (1-D)', () => {
    // KL(N(0,1) ‖ N(1,4)) = ½(1/4 + 1/4 − 1 + ln 4) = ln 2 − 1/4.
    const r = kl(gaussian([0], [1]), gaussian([1], [4]));
    expect(r.method).toBe('exact');
    expect(r.value).toBeCloseTo(Math.LN2 - 0.25, 14);
    expect(r.stderr).toBe(0);
  });

  it('matches the closed form computed by hand (2-D, full covariance)', () => {
    // Σp = I, Σq = [[2,1],[1,2]] (det 3, inverse [[2,−1],[−1,2]]/3), Δμ = (1, 0):
    // ½(tr(Σq⁻¹) + ΔᵀΣq⁻¹Δ − 2 + ln 3) = ½(4/3 + 2/3 − 2 + ln 3) = ½ ln 3.
    const r = kl(gaussian([0, 0], [1, 0, 0, 1]), gaussian([1, 0], [2, 1, 1, 2]));
    expect(r.value).toBeCloseTo(0.5 * Math.log(3), 14);
  });

  it('the samplers agree with it', () => {
    const p = gaussian([0, 0, 0], [1, 0.3, 0, 0.3, 1, 0, 0, 0, 2]);
    const q = gaussian([0.5, -0.2, 0.1], [1.5, 0, 0, 0, 1, 0.2, 0, 0.2, 1.5]);
    const exact = kl(p, q).value;
    for (const method of ['qmc', 'stratified', 'monte-carlo'] as const) {
      const r = kl(p, q, { method, seed: 3 });
      expect(Math.abs(r.value - exact)).toBeLessThanOrEqual(4 * r.stderr + 1e-9);
    }
  });

  it('refuses mixtures with several components', () => {
    const p = randomMixture(2, 2, 'full', 'e1');
    expect(() => kl(p, p, { method: 'exact' })).toThrow(DivergenceError);
    expect(() => js(p, p, { method: 'exact' })).toThrow(/no closed form/);
  });
});

describe('identical mixtures', () => {
  const methods = METHODS.filter((m) => m !== 'exact') as DivergenceMethod[];
  for (const d of [1, 3]) {
    const p = randomMixture(3, d, 'full', `same-${d}`);
    const copy = createGmm({ ...p, weights: p.weights, means: p.means, covariances: p.covariances });
    for (const method of methods) {
      if (method === 'quadrature' && d !== 1) continue;
      it(`give 0 with no NaN (${method}, d=${d})`, () => {
        for (const r of [kl(p, copy, { method }), js(p, copy, { method })]) {
          expect(Number.isNaN(r.stderr)).toBe(false);
          if (method === 'variational') {
            // Not a sampler: its error bar is the distance to its (loose) bounds.
            expect(r.value).toBeLessThanOrEqual(1e-15);
            expect(r.bounds![0]).toBe(0);
          } else {
            expect(r.value).toBe(0);
            expect(r.stderr).toBe(0);
          }
        }
      });
    }
  }
});

describe('JS stays within [0, ln 2]', () => {
  it('tends to ln 2 for disjoint, far-apart mixtures, and is never reported above it', () => {
    const far = (shift: number) =>
      createGmm({ k: 2, d: 2, weights: [0.5, 0.5], means: [shift, 0, shift, 3], covariances: [1, 0, 0, 1, 0.5, 0, 0, 0.5], covarianceType: 'full' });
    for (const method of ['auto', 'qmc', 'stratified', 'monte-carlo', 'variational'] as const) {
      const r = js(far(0), far(1e4), { method, seed: 4 });
      expect(r.value).toBeLessThanOrEqual(Math.LN2);
      expect(r.value).toBeGreaterThanOrEqual(Math.LN2 - 1e-9);
      expect(Number.isFinite(r.stderr)).toBe(true);
    }
    const line = js(gaussian([0], [1]), gaussian([1e4], [1]));
    expect(line.value).toBeLessThanOrEqual(Math.LN2);
    expect(line.value).toBeCloseTo(Math.LN2, 9);
  });

  it('stays within range for random pairs and every method', () => {
    for (let i = 0; i < 6; i++) {
      const p = randomMixture(3, 2, 'full', `js-p-${i}`);
      const q = randomMixture(2, 2, 'diag', `js-q-${i}`);
      for (const method of ['auto', 'qmc', 'stratified', 'monte-carlo', 'variational'] as const) {
        const r = js(p, q, { method, seed: i, samples: method === 'auto' ? undefined : 2000 });
        expect(r.value).toBeGreaterThanOrEqual(0);
        expect(r.value).toBeLessThanOrEqual(Math.LN2);
      }
    }
  });
});

describe('KL is finite between any two non-degenerate mixtures', () => {
  it('even when q has no mass near a tiny, narrow component of p far away', () => {
    // 1d-tiny-weight-narrow in 2-D: log q at the far bump is about −4e5.
    const p = createGmm({ k: 2, d: 2, weights: [0.999, 0.001], means: [0, 0, 1000, 0], covariances: [1, 0, 0, 1, 1e-4, 0, 0, 1e-4], covarianceType: 'full' });
    const q = gaussian([0.1, 0], [1.2, 0, 0, 1.2]);
    const r = kl(p, q, { seed: 5 });
    // ≈ 0.001·(1000²/2.4) plus the bulk's small terms.
    expect(Number.isFinite(r.value)).toBe(true);
    expect(r.value).toBeGreaterThan(400);
    expect(r.value).toBeLessThan(430);
    expect(r.stderr).toBeLessThanOrEqual(0.01 * r.value);
  });
});

describe('inputs', () => {
  it('a dimension mismatch is a clear error', () => {
    const p = gaussian([0, 0], [1, 0, 0, 1]);
    const q = gaussian([0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(() => kl(p, q)).toThrow(/dimension mismatch: p has d=2, q has d=3/);
    expect(() => js(p, q)).toThrow(DivergenceError);
  });

  it('quadrature is 1-D only; a budget needs a clock; samples must be a positive integer', () => {
    const p = gaussian([0, 0], [1, 0, 0, 1]);
    expect(() => kl(p, p, { method: 'quadrature' })).toThrow(/1-D/);
    expect(() => kl(p, p, { budgetMs: 5 })).toThrow(/now/);
    expect(() => kl(p, p, { samples: 0 })).toThrow(/samples/);
    expect(() => kl(p, p, { method: 'bogus' as DivergenceMethod })).toThrow(/method must be one of/);
  });
});

describe('reproducibility', () => {
  const p = randomMixture(3, 4, 'full', 'r-p');
  const q = randomMixture(4, 4, 'full', 'r-q');
  for (const method of ['auto', 'qmc', 'stratified', 'monte-carlo'] as const) {
    it(`${method}: the same seed gives a bit-identical result, another seed another draw`, () => {
      const a = kl(p, q, { method, seed: 'abc' });
      const b = kl(p, q, { method, seed: 'abc' });
      const c = kl(p, q, { method, seed: 'abd' });
      expect(b).toEqual(a);
      expect(Object.is(a.value, b.value) && Object.is(a.stderr, b.stderr)).toBe(true);
      expect(c.value).not.toBe(a.value);
      const j1 = js(p, q, { method, seed: 7 });
      const j2 = js(p, q, { method, seed: 7 });
      expect(j2).toEqual(j1);
    });
  }
});

describe('time budget', () => {
  it('stops early when the injected clock says the budget is spent, with an honest error bar', () => {
    const p = randomMixture(4, 4, 'full', 'b-p');
    const q = randomMixture(4, 4, 'full', 'b-q');
    let t = 0;
    // A fake clock: every reading advances 10 ms, so a 15 ms budget allows almost nothing.
    const now = (): number => (t += 10);
    const short = kl(p, q, { seed: 1, targetStderr: 2e-4, budgetMs: 15, now });
    const full = kl(p, q, { seed: 1, targetStderr: 2e-4 });
    expect(full.stderr).toBeLessThanOrEqual(2e-4);
    expect(short.samples).toBeLessThan(full.samples);
    expect(short.stderr).toBeGreaterThan(full.stderr);
    expect(Math.abs(short.value - full.value)).toBeLessThanOrEqual(4 * Math.hypot(short.stderr, full.stderr));
  });
});

describe('fixed sample sizes', () => {
  it('samples sets the work for the samplers', () => {
    const p = randomMixture(3, 2, 'full', 's-p');
    const q = randomMixture(3, 2, 'full', 's-q');
    const mc = kl(p, q, { method: 'monte-carlo', samples: 5000 });
    expect(mc.samples).toBe(5000);
    expect(mc.evaluations).toBe(5000 * 6);
    for (const method of ['qmc', 'stratified'] as const) {
      const r = kl(p, q, { method, samples: 6000 });
      // Per-stratum sizes round up: at most a few points per randomisation and stratum over.
      expect(r.samples).toBeGreaterThanOrEqual(6000);
      expect(r.samples).toBeLessThanOrEqual(6000 + 3 * REPLICATES * 4);
    }
  });
});

describe('1-D quadrature on pairs nobody tuned for', () => {
  it('matches a far finer quadrature to 1e-7 (far, narrow, tiny-weight components, means at 1e6)', () => {
    const fine: QuadratureSettings = {
      sdMultiples: [0, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 7, 8, 10],
      supportSd: 20,
      mergeSd: 0,
      absTol: 1e-14,
      relTol: 1e-13,
      maxIntervals: 20_000,
    };
    const rng = createRng('line-family');
    const mixture = (): Gmm => {
      const k = 1 + Math.floor(rng.uniform() * 5);
      const scale = 10 ** (rng.uniform() * 4 - 2);
      const offset = rng.uniform() < 0.2 ? 1e6 : 0;
      const means = Array.from({ length: k }, () => offset + scale * 3 * rng.normal() * (rng.uniform() < 0.1 ? 300 : 1));
      const variances = Array.from({ length: k }, () => (scale * 10 ** (rng.uniform() * 3 - 1.5)) ** 2);
      const raw = Array.from({ length: k }, () => (rng.uniform() < 0.15 ? 1e-4 : 0.2 + rng.uniform()));
      const total = raw.reduce((a, b) => a + b, 0);
      return createGmm({ k, d: 1, weights: raw.map((w) => w / total), means, covariances: variances, covarianceType: 'full' });
    };
    for (let i = 0; i < 30; i++) {
      const p = mixture();
      const q = mixture();
      const a = kl(p, q);
      const b = js(p, q);
      expect(a.method).toBe(p.k === 1 && q.k === 1 ? 'exact' : 'quadrature');
      const ka = quadratureKl(p, q, fine).value;
      expect(Math.abs(a.value - ka)).toBeLessThanOrEqual(1e-7 * Math.max(1, ka));
      expect(Math.abs(b.value - quadratureJs(p, q, fine).value)).toBeLessThanOrEqual(1e-7);
    }
  });
});
