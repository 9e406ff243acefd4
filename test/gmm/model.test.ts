import { readFileSync } from 'node:fs';
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { gmmFromJson, gmmToJson, type GmmJson } from '../../src/gmm/json.js';
import { logDensity } from '../../src/gmm/logpdf.js';
import { GmmError } from '../../src/gmm/model.js';
import { sample } from '../../src/gmm/sample.js';
import { createRng } from '../../src/math/rng.js';

const pairs = JSON.parse(readFileSync(new URL('../../../shared/fixtures/gmm-pairs.json', import.meta.url), 'utf8')) as {
  cases: Array<{ name: string; p: GmmJson; q: GmmJson }>;
};

/** The mixture density computed the slow, obvious way with ml-matrix, to check the fast path. */
function slowLogDensity(json: GmmJson, x: number[]): number {
  const g = gmmFromJson(json);
  const d = g.d;
  let total = 0;
  for (let c = 0; c < g.k; c++) {
    const cov = new Matrix(d, d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov.set(i, j, (g.covariances[c * d * d + i * d + j]! + g.covariances[c * d * d + j * d + i]!) / 2);
    const chol = new CholeskyDecomposition(cov);
    const diff = Matrix.columnVector(x.map((v, i) => v - g.means[c * d + i]!));
    const y = chol.solve(diff);
    let maha = 0;
    for (let i = 0; i < d; i++) maha += diff.get(i, 0) * y.get(i, 0);
    let logDet = 0;
    for (let i = 0; i < d; i++) logDet += 2 * Math.log(chol.lowerTriangularMatrix.get(i, i));
    total += g.weights[c]! * Math.exp(-0.5 * (d * Math.log(2 * Math.PI) + logDet + maha));
  }
  return Math.log(total);
}

const good: GmmJson = {
  weights: [0.3, 0.7],
  means: [[0, 1], [2, 3]],
  covariances: [
    [[1, 0.2], [0.2, 2]],
    [[0.5, 0], [0, 0.5]],
  ],
  covariance_type: 'full',
};

describe('model JSON', () => {
  it('loads every fixture mixture and round-trips it exactly', () => {
    for (const c of pairs.cases) {
      for (const json of [c.p, c.q]) {
        const back = gmmToJson(gmmFromJson(json));
        expect(back.covariance_type).toBe(json.covariance_type);
        expect(back.means).toEqual(json.means);
        expect(back.covariances).toEqual(json.covariances);
        back.weights.forEach((w, i) => expect(w).toBeCloseTo(json.weights[i]!, 14));
      }
    }
  });

  it('keeps weights that sum to 1 up to rounding bit for bit, so a snapshot reads back as the same model', () => {
    // A fitted model's weights (n_k / n) summed to 0.9999999999999999: renormalising them on
    // every load changed the last bit, and a restored reference was not the one saved.
    const json = { ...good, weights: [0.502353360447755, 0.49764663955224486] };
    const once = gmmToJson(gmmFromJson(json));
    expect(once.weights).toEqual(json.weights);
    expect(gmmToJson(gmmFromJson(once))).toEqual(once);
    // Off by more than rounding (a float32 export), they are still renormalised.
    expect(gmmToJson(gmmFromJson({ ...good, weights: [0.3000001, 0.7] })).weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
  });

  it('loads a float32 export, whose covariances are symmetric only to a rounding step, and writes it back as it came', () => {
    // scikit-learn fitted on float32 data (its entries [1][3] and [3][1], one float32 step apart).
    const lower = -0.04931694641709328;
    const upper = -0.04931693896651268;
    const g = gmmFromJson({ ...good, covariances: [[[1.0371, upper], [lower, 0.9482]], [[1, 0], [0, 1]]] });
    expect(gmmToJson(g).covariances).toEqual([[[1.0371, upper], [lower, 0.9482]], [[1, 0], [0, 1]]]);
    expect(() => gmmFromJson({ ...good, covariances: [[[1.0371, -0.0494], [lower, 0.9482]], [[1, 0], [0, 1]]] })).toThrow('must be symmetric');
  });

  it.each([
    ['weights must sum to 1', { ...good, weights: [0.3, 0.6] }],
    ['weights[0] must not be negative', { ...good, weights: [-0.3, 1.3] }],
    ['means must have length 2', { ...good, means: [[0, 1]] }],
    ['means[1] must have length 2', { ...good, means: [[0, 1], [2]] }],
    ['covariances[1][0][0] must be positive', { ...good, covariances: [[[1, 0], [0, 1]], [[-1, 0], [0, 1]]] }],
    ['not positive definite; increase reg_covar', { ...good, covariances: [[[1, 2], [2, 1]], [[1, 0], [0, 1]]] }],
    ['must be symmetric', { ...good, covariances: [[[1, 0.5], [0.1, 1]], [[1, 0], [0, 1]]] }],
    ['covariance_type must be one of', { ...good, covariance_type: 'banded' }],
    ['means[0][1] must be a number, got null', { ...good, means: [[0, null], [2, 3]] }],
    ['covariance_type "diag" expects covariances shaped (2, 2)', { ...good, covariance_type: 'diag' }],
    ['weights must be an array', { ...good, weights: undefined }],
    ['model must be a JSON object', [1, 2]],
  ])('refuses a model where %s', (message, json) => {
    expect(() => gmmFromJson(json)).toThrow(GmmError);
    expect(() => gmmFromJson(json)).toThrow(message);
  });

  it('refuses NaN and Infinity values', () => {
    expect(() => gmmFromJson({ ...good, means: [[0, NaN], [2, 3]] })).toThrow('means[0][1] must be finite');
    expect(() => gmmFromJson({ ...good, weights: [Infinity, 0.7] })).toThrow('weights[0] must be finite');
  });
});

describe('log-density', () => {
  it('matches the direct ml-matrix computation on every fixture mixture', () => {
    const rng = createRng('logpdf');
    for (const c of pairs.cases) {
      const g = gmmFromJson(c.p);
      const { X } = sample(g, 20, rng);
      const fast = logDensity(g, X, 20);
      for (let i = 0; i < 20; i++) {
        const x = Array.from(X.subarray(i * g.d, (i + 1) * g.d));
        const slow = slowLogDensity(c.p, x);
        if (Number.isFinite(slow)) expect(fast[i]!).toBeCloseTo(slow, 7);
        // Far from every component the direct sum underflows to -Infinity; log space must not.
        expect(Number.isFinite(fast[i]!)).toBe(true);
      }
    }
  });

  it('stays finite far in the tails where exp underflows', () => {
    const g = gmmFromJson({ weights: [1], means: [[0]], covariances: [[[1]]], covariance_type: 'full' });
    const lp = logDensity(g, Float64Array.of(1e3), 1)[0]!;
    expect(lp).toBeCloseTo(-0.5 * Math.log(2 * Math.PI) - 5e5, 6);
  });
});

describe('sampling', () => {
  it('draws with the mixture mean and covariance and is reproducible from the seed', () => {
    const g = gmmFromJson(good);
    const n = 200_000;
    const a = sample(g, n, createRng(7));
    const b = sample(g, n, createRng(7));
    expect(a.X).toEqual(b.X);
    const mean = [0, 0];
    for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) mean[j]! += a.X[i * 2 + j]! / n;
    // Mixture mean 0.3·(0,1) + 0.7·(2,3) = (1.4, 2.4); sd of the sample mean ≈ 1.1/√n ≈ 0.0025.
    expect(mean[0]!).toBeCloseTo(1.4, 1);
    expect(Math.abs(mean[0]! - 1.4)).toBeLessThan(0.0125);
    expect(Math.abs(mean[1]! - 2.4)).toBeLessThan(0.0125);
    const share0 = a.labels.filter((l) => l === 0).length / n;
    expect(Math.abs(share0 - 0.3)).toBeLessThan(5 * Math.sqrt((0.3 * 0.7) / n));
  });
});
