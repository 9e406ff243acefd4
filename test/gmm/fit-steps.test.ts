import { describe, expect, it } from 'vitest';
import { createPassWork, createStats, expectation, statsFromLabels } from '../../src/gmm/estep.js';
import { kmeans } from '../../src/gmm/kmeans.js';
import { weightedLogProb } from '../../src/gmm/logpdf.js';
import { COVARIANCE_TYPES, createGmm, type CovarianceType, type Gmm } from '../../src/gmm/model.js';
import { createMStepWork, estimateGaussianParameters } from '../../src/gmm/mstep.js';
import { passLayout, triangleSize } from '../../src/gmm/pass-source.js';
import { createRng } from '../../src/math/rng.js';

/** A random k-component mixture in d dimensions: well-conditioned covariances AAᵀ/d + ½I (diagonal if asked). */
function randomMixture(k: number, d: number, diagonal: boolean, seed: string): Gmm {
  const rng = createRng(seed);
  const means = Float64Array.from({ length: k * d }, () => 3 * rng.normal());
  const covariances = new Float64Array(k * d * d);
  for (let c = 0; c < k; c++) {
    const A = Float64Array.from({ length: d * d }, () => rng.normal());
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        if (diagonal && i !== j) continue;
        let s = i === j ? 0.5 : 0;
        for (let m = 0; m < d; m++) s += (A[i * d + m]! * A[j * d + m]!) / d;
        covariances[c * d * d + i * d + j] = s;
      }
    }
  }
  const raw = Array.from({ length: k }, () => 0.2 + rng.uniform());
  const total = raw.reduce((a, b) => a + b, 0);
  return createGmm({ k, d, weights: raw.map((w) => w / total), means, covariances, covarianceType: diagonal ? 'diag' : 'full' });
}

/** Responsibilities and log-likelihood the obvious way, from the shared log-density. */
function reference(g: Gmm, X: Float64Array, n: number): { resp: Float64Array; meanLogLik: number } {
  const { k } = g;
  const resp = weightedLogProb(g, X, n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, resp[i * k + c]!);
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(resp[i * k + c]! - max);
    const lse = max + Math.log(s);
    for (let c = 0; c < k; c++) resp[i * k + c] = Math.exp(resp[i * k + c]! - lse);
    total += lse;
  }
  return { resp, meanLogLik: total / n };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  for (let j = 0; j < expected.length; j++) {
    expect(Math.abs(actual[j]! - expected[j]!)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected[j]!)));
  }
}

describe('E-step pass', () => {
  // Shapes in every layout the pass is compiled in: unrolled, features written out, loops.
  const shapes = [
    ...[1, 2, 5, 17].flatMap((d) => [false, true].map((diagonal) => [3, d, diagonal] as const)),
    [8, 17, false] as const,
    [30, 40, true] as const,
    [2, 40, false] as const,
  ];

  it('the shapes above cover every layout', () => {
    const layouts = new Set(shapes.map(([k, d, diagonal]) => passLayout(k, d, diagonal)));
    expect([...layouts].sort()).toEqual(['features', 'loops', 'unrolled']);
  });

  it.each(shapes)('k=%i d=%i diagonal=%s: log-likelihood and sufficient statistics match the direct computation', (k, d, diagonal) => {
    const n = 500;
    const g = randomMixture(k, d, diagonal, `pass-${d}-${diagonal}`);
    const rng = createRng(`x-${d}`);
    const X = Float64Array.from({ length: n * d }, () => 4 * rng.normal());
    const stats = createStats(k, d, diagonal);
    const got = expectation(g, X, n, stats, createPassWork(k, d, diagonal));
    const { resp, meanLogLik } = reference(g, X, n);
    expect(got).toBeCloseTo(meanLogLik, 10);

    const T = diagonal ? d : triangleSize(d);
    const nk = new Float64Array(k);
    const s1 = new Float64Array(k * d);
    const s2 = new Float64Array(k * T);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        const r = resp[i * k + c]!;
        nk[c]! += r;
        let q = c * T;
        for (let a = 0; a < d; a++) {
          const ta = X[i * d + a]! - g.means[c * d + a]!;
          s1[c * d + a]! += r * ta;
          if (diagonal) s2[q++]! += r * ta * ta;
          else for (let b = 0; b <= a; b++) s2[q++]! += r * ta * (X[i * d + b]! - g.means[c * d + b]!);
        }
      }
    }
    expectClose(stats.nk, nk);
    expectClose(stats.s1, s1);
    expectClose(stats.s2, s2);
    expectClose(stats.shift, g.means, 0);
  });

  it('a row far from every component still gets finite responsibilities summing to one', () => {
    const g = randomMixture(2, 2, false, 'far');
    const X = Float64Array.from([1e4, -1e4]);
    const stats = createStats(2, 2, false);
    const ll = expectation(g, X, 1, stats, createPassWork(2, 2, false));
    expect(ll).toBeCloseTo(reference(g, X, 1).meanLogLik, 6);
    expect(stats.nk[0]! + stats.nk[1]!).toBeCloseTo(1, 12);
  });
});

describe('M-step estimators (scikit-learn’s _estimate_gaussian_covariances_*)', () => {
  const n = 400;
  const d = 3;
  const k = 3;
  const rng = createRng('mstep');
  const X = Float64Array.from({ length: n * d }, (_, j) => 100 + (j % d) + rng.normal() * (1 + (j % 3)));
  // Data and models far from the origin; a diagonal model for the diagonal types, whose pass reads only diagonals.
  const models = [false, true].map((diagonal) => {
    const g = randomMixture(k, d, diagonal, 'mstep-model');
    for (let j = 0; j < k * d; j++) g.means[j]! += 100;
    return g;
  });
  const reg = 1e-3;

  /** The estimators written as scikit-learn writes them, from explicit responsibilities. */
  function direct(type: CovarianceType, resp: Float64Array): { weights: number[]; means: number[]; cov: number[] } {
    const nk = Array.from({ length: k }, (_, c) => {
      let s = 10 * Number.EPSILON;
      for (let i = 0; i < n; i++) s += resp[i * k + c]!;
      return s;
    });
    const total = nk.reduce((a, b) => a + b, 0);
    const means = Array.from({ length: k * d }, (_, j) => {
      const c = Math.floor(j / d);
      let s = 0;
      for (let i = 0; i < n; i++) s += resp[i * k + c]! * X[i * d + (j % d)]!;
      return s / nk[c]!;
    });
    const scatter = (c: number, a: number, b: number): number => {
      let s = 0;
      for (let i = 0; i < n; i++) s += resp[i * k + c]! * (X[i * d + a]! - means[c * d + a]!) * (X[i * d + b]! - means[c * d + b]!);
      return s;
    };
    const cov = new Array<number>(k * d * d).fill(0);
    for (let c = 0; c < k; c++) {
      for (let a = 0; a < d; a++) {
        for (let b = 0; b < d; b++) {
          let v: number;
          if (type === 'full') v = scatter(c, a, b) / nk[c]!;
          else if (type === 'tied') v = [0, 1, 2].reduce((s, cc) => s + scatter(cc, a, b), 0) / total;
          else if (a !== b) v = 0;
          else if (type === 'diag') v = scatter(c, a, a) / nk[c]!;
          else v = [0, 1, 2].reduce((s, aa) => s + scatter(c, aa, aa) / nk[c]!, 0) / d;
          cov[c * d * d + a * d + b] = v + (a === b ? reg : 0);
        }
      }
    }
    return { weights: nk.map((v) => v / total), means, cov };
  }

  it.each(COVARIANCE_TYPES.map((t) => [t]))('%s from soft responsibilities', (type) => {
    const diagonal = type === 'diag' || type === 'spherical';
    const g = models[diagonal ? 1 : 0]!;
    const stats = createStats(k, d, diagonal);
    expectation(g, X, n, stats, createPassWork(k, d, diagonal));
    const got = estimateGaussianParameters(stats, type, reg, createMStepWork(k, d));
    const want = direct(type, reference(g, X, n).resp);
    expectClose(got.weights, want.weights, 1e-12);
    expectClose(got.means, want.means, 1e-12);
    expectClose(got.covariances, want.cov, 1e-8);
  });

  it.each(COVARIANCE_TYPES.map((t) => [t]))('%s from hard k-means labels', (type) => {
    const diagonal = type === 'diag' || type === 'spherical';
    const { labels, centers } = kmeans(X, n, d, k, createRng(0));
    const stats = createStats(k, d, diagonal);
    statsFromLabels(X, n, labels, centers, stats);
    const got = estimateGaussianParameters(stats, type, reg, createMStepWork(k, d));
    const resp = new Float64Array(n * k);
    for (let i = 0; i < n; i++) resp[i * k + labels[i]!] = 1;
    const want = direct(type, resp);
    expectClose(got.weights, want.weights, 1e-12);
    expectClose(got.means, want.means, 1e-12);
    expectClose(got.covariances, want.cov, 1e-8);
  });
});

describe('k-means initialisation', () => {
  it('finds well-separated groups, the same for the same seed', () => {
    const rng = createRng('km');
    const centres = [-10, 0, 10];
    const X = Float64Array.from({ length: 300 }, (_, i) => centres[i % 3]! + rng.normal());
    const a = kmeans(X, 300, 1, 3, createRng('seed'));
    const b = kmeans(X, 300, 1, 3, createRng('seed'));
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(Array.from(a.centers).sort((p, q) => p - q).map(Math.round)).toEqual([-10, 0, 10]);
    for (let i = 3; i < 300; i++) expect(a.labels[i]).toBe(a.labels[i % 3]);
  });

  it('keeps every cluster non-empty when rows repeat', () => {
    const X = Float64Array.from([0, 0, 0, 0, 0, 0, 5, 9]);
    const { labels } = kmeans(X, 8, 1, 3, createRng(1));
    expect(new Set(labels).size).toBe(3);
  });
});
