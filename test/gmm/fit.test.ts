import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitGmm, type FitOptions } from '../../src/gmm/fit.js';
import { gmmFromJson, gmmToJson } from '../../src/gmm/json.js';
import { logDensity, meanLogLikelihood } from '../../src/gmm/logpdf.js';
import { COVARIANCE_TYPES, createGmm, GmmError, type CovarianceType, type Gmm } from '../../src/gmm/model.js';
import { sample } from '../../src/gmm/sample.js';
import { createRng } from '../../src/math/rng.js';

interface FitCase {
  name: string;
  components: number;
  covariance_type: CovarianceType;
  data: number[][];
  sklearn_mean_loglik_train: number;
}

const FIXTURE = new URL('../../../shared/fixtures/fit-cases.json', import.meta.url);
// The acceptance cases: a missing fixture file fails the suite, it never skips it.
const fixtures: FitCase[] = (JSON.parse(readFileSync(FIXTURE, 'utf8')) as { cases: FitCase[] }).cases;

function rows(data: number[][]): { X: Float64Array; n: number; d: number } {
  return { X: Float64Array.from(data.flat()), n: data.length, d: data[0]!.length };
}

/** Three well-separated 2-D components; covariances shaped by `type`. */
function knownMixture(type: CovarianceType): Gmm {
  const full = [
    [1.0, 0.3, 0.3, 0.5],
    [0.4, -0.1, -0.1, 0.8],
    [0.6, 0.2, 0.2, 1.2],
  ];
  const cov = (c: number): number[] => {
    const m = full[c]!;
    switch (type) {
      case 'full':
        return m;
      case 'tied':
        return full[0]!;
      case 'diag':
        return [m[0]!, 0, 0, m[3]!];
      case 'spherical':
        return [m[0]!, 0, 0, m[0]!];
    }
  };
  return createGmm({
    k: 3,
    d: 2,
    weights: [0.5, 0.3, 0.2],
    means: [-6, 0, 0, 6, 6, -3],
    covariances: [0, 1, 2].flatMap(cov),
    covarianceType: type,
  });
}

/** For each true component, the index of the fitted component with the nearest mean. */
function matchComponents(truth: Gmm, fitted: Gmm): number[] {
  const { d } = truth;
  return Array.from({ length: truth.k }, (_, c) => {
    let best = -1;
    let bestDist = Infinity;
    for (let j = 0; j < fitted.k; j++) {
      let s = 0;
      for (let a = 0; a < d; a++) s += (truth.means[c * d + a]! - fitted.means[j * d + a]!) ** 2;
      if (s < bestDist) {
        bestDist = s;
        best = j;
      }
    }
    return best;
  });
}

describe('fitGmm against scikit-learn (../shared/fixtures/fit-cases.json)', () => {
  // nInit: 10, as scikit-learn's reference (its best of 10 initialisations).
  it.each(fixtures.map((c) => [c.name, c] as const))(
    '%s: best of nInit=10 reaches scikit-learn’s best mean log-likelihood within 0.01 nats',
    (_name, c) => {
      const { X, n, d } = rows(c.data);
      const fit = fitGmm(X, n, d, { components: c.components, covarianceType: c.covariance_type, nInit: 10, seed: 0 });
      expect(fit.converged).toBe(true);
      expect(fit.meanLogLik).toBeGreaterThanOrEqual(c.sklearn_mean_loglik_train - 0.01);
      // The score reported is the returned model's own.
      expect(fit.meanLogLik).toBeCloseTo(meanLogLikelihood(fit.model, X, n), 9);
    },
  );
});

describe('fitGmm recovers a known mixture from its own samples', () => {
  it.each(COVARIANCE_TYPES.map((t) => [t]))('%s', (type) => {
    const truth = knownMixture(type);
    const { X } = sample(truth, 20_000, createRng(`truth-${type}`));
    const { model, converged } = fitGmm(X, 20_000, 2, { components: 3, covarianceType: type, seed: 1 });
    expect(converged).toBe(true);
    expect(model.covarianceType).toBe(type);
    const match = matchComponents(truth, model);
    expect(new Set(match).size).toBe(3);
    for (let c = 0; c < 3; c++) {
      const j = match[c]!;
      expect(Math.abs(model.weights[j]! - truth.weights[c]!)).toBeLessThan(0.02);
      for (let a = 0; a < 2; a++) expect(Math.abs(model.means[j * 2 + a]! - truth.means[c * 2 + a]!)).toBeLessThan(0.05);
      for (let e = 0; e < 4; e++) {
        expect(Math.abs(model.covariances[j * 4 + e]! - truth.covariances[c * 4 + e]!)).toBeLessThan(0.06);
      }
    }
  });
});

describe('numerical range', () => {
  it('data a million units from the origin fits as well as the same data at the origin', () => {
    const { X } = sample(knownMixture('full'), 5000, createRng('offset'));
    const far = X.map((v) => v + 1e6);
    const near = fitGmm(X, 5000, 2, { components: 3, seed: 2 });
    const moved = fitGmm(far, 5000, 2, { components: 3, seed: 2 });
    expect(moved.meanLogLik).toBeCloseTo(near.meanLogLik, 6);
    const match = matchComponents(near.model, { ...moved.model, means: moved.model.means.map((v) => v - 1e6) });
    for (let c = 0; c < 3; c++) {
      for (let e = 0; e < 4; e++) {
        expect(moved.model.covariances[match[c]! * 4 + e]).toBeCloseTo(near.model.covariances[c * 4 + e]!, 6);
      }
    }
  });
});

describe('covariance types', () => {
  const truth = knownMixture('full');
  const { X } = sample(truth, 3000, createRng('types'));

  it.each(COVARIANCE_TYPES.map((t) => [t]))('%s: constrained as the type says and round-trips through the model JSON', (type) => {
    const { model } = fitGmm(X, 3000, 2, { components: 3, covarianceType: type, seed: 0 });
    const cov = (c: number, i: number, j: number): number => model.covariances[c * 4 + i * 2 + j]!;
    for (let c = 0; c < 3; c++) {
      expect(cov(c, 0, 1)).toBe(cov(c, 1, 0));
      if (type === 'diag' || type === 'spherical') expect(cov(c, 0, 1)).toBe(0);
      if (type === 'spherical') expect(cov(c, 0, 0)).toBe(cov(c, 1, 1));
      if (type === 'tied') for (let e = 0; e < 4; e++) expect(model.covariances[c * 4 + e]).toBe(model.covariances[e]);
    }
    const json = gmmToJson(model);
    expect(json.covariance_type).toBe(type);
    const back = gmmFromJson(JSON.parse(JSON.stringify(json)));
    expect(gmmToJson(back)).toEqual(json);
    const probe = Float64Array.from([0, 0, -6, 0, 6, -3, 1e3, 1e3]);
    const a = logDensity(model, probe, 4);
    const b = logDensity(back, probe, 4);
    for (let i = 0; i < 4; i++) expect(b[i]).toBeCloseTo(a[i]!, 10);
  });

  it('a more flexible type never fits the same data worse, at its optimum', () => {
    const ll = (type: CovarianceType): number => fitGmm(X, 3000, 2, { components: 3, covarianceType: type, nInit: 3 }).meanLogLik;
    expect(ll('full')).toBeGreaterThan(ll('diag') - 1e-3);
    expect(ll('diag')).toBeGreaterThan(ll('spherical') - 1e-3);
    expect(ll('full')).toBeGreaterThan(ll('tied') - 1e-3);
  });
});

describe('warm start', () => {
  const truth = knownMixture('full');
  const { X } = sample(truth, 10_000, createRng('warm'));
  const first = fitGmm(X, 10_000, 2, { components: 3, seed: 0, tol: 1e-6, maxIter: 500 });

  it('on unchanged data converges in at most 2 iterations, to the same log-likelihood', () => {
    const warm = fitGmm(X, 10_000, 2, { components: 3, warmStart: first.model });
    expect(warm.converged).toBe(true);
    expect(warm.iterations).toBeLessThanOrEqual(2);
    expect(Math.abs(warm.meanLogLik - first.meanLogLik)).toBeLessThan(1e-3);
    expect(warm.model.covarianceType).toBe('full');
  });

  it('on shifted data moves the means with the data', () => {
    const shifted = X.map((v, j) => v + (j % 2 === 0 ? 1.5 : -0.75));
    const warm = fitGmm(shifted, 10_000, 2, { components: 3, warmStart: first.model });
    expect(warm.converged).toBe(true);
    for (let c = 0; c < 3; c++) {
      expect(warm.model.means[c * 2]! - first.model.means[c * 2]!).toBeCloseTo(1.5, 1);
      expect(warm.model.means[c * 2 + 1]! - first.model.means[c * 2 + 1]!).toBeCloseTo(-0.75, 1);
    }
    expect(warm.meanLogLik).toBeCloseTo(first.meanLogLik, 2);
  });

  it('keeps the warm model’s covariance type unless told otherwise, and refuses a mismatch', () => {
    const diag = fitGmm(X, 10_000, 2, { components: 3, covarianceType: 'diag' });
    expect(fitGmm(X, 10_000, 2, { components: 3, warmStart: diag.model }).model.covarianceType).toBe('diag');
    expect(() => fitGmm(X, 10_000, 2, { components: 3, covarianceType: 'full', warmStart: diag.model })).toThrow(
      /warmStart is 'diag' but covarianceType is 'full'/,
    );
    expect(() => fitGmm(X, 10_000, 2, { components: 2, warmStart: diag.model })).toThrow(/warmStart has 3 components/);
    expect(() => fitGmm(X.subarray(0, 9999), 9999, 1, { components: 3, warmStart: diag.model })).toThrow(/warmStart has d=2/);
  });
});

describe('reproducibility and iteration limits', () => {
  const { X } = sample(knownMixture('full'), 6000, createRng('repro'));

  it('the same seed gives the identical model', () => {
    const opts: FitOptions = { components: 3, nInit: 2, seed: 'stream-a' };
    expect(gmmToJson(fitGmm(X, 6000, 2, opts).model)).toEqual(gmmToJson(fitGmm(X, 6000, 2, opts).model));
  });

  it('nInit keeps the best start: never worse than its first start alone', () => {
    const one = fitGmm(X, 6000, 2, { components: 5, seed: 3 });
    const ten = fitGmm(X, 6000, 2, { components: 5, seed: 3, nInit: 10 });
    expect(ten.meanLogLik).toBeGreaterThanOrEqual(one.meanLogLik);
  });

  it('maxIter bounds the EM iterations and reports non-convergence', () => {
    const zero = fitGmm(X, 6000, 2, { components: 3, maxIter: 0 });
    expect(zero.iterations).toBe(0);
    expect(zero.converged).toBe(false);
    expect(zero.meanLogLik).toBeCloseTo(meanLogLikelihood(zero.model, X, 6000), 9);
    const strict = fitGmm(X, 6000, 2, { components: 3, maxIter: 1, tol: 0 });
    expect(strict.iterations).toBe(1);
    expect(strict.converged).toBe(false);
  });

  it('EM continued by warm starts one iteration at a time (as the monitor slices it) ends where one fit does', () => {
    const opts = { components: 3, tol: 1e-6 };
    const whole = fitGmm(X, 6000, 2, { ...opts, seed: 5, maxIter: 500 });
    let r = fitGmm(X, 6000, 2, { ...opts, seed: 5, maxIter: 1 });
    let total = r.iterations;
    while (!r.converged && total < 500) {
      r = fitGmm(X, 6000, 2, { ...opts, warmStart: r.model, maxIter: 1 });
      total += r.iterations;
    }
    expect(r.converged).toBe(true);
    expect(total).toBe(whole.iterations);
    expect(r.meanLogLik).toBeCloseTo(whole.meanLogLik, 9);
  });

  it('fits a single component exactly: the sample mean and (biased) covariance', () => {
    const Y = Float64Array.from([0, 0, 2, 0, 0, 4, 2, 4]);
    const { model } = fitGmm(Y, 4, 2, { components: 1, regCovar: 0 });
    [1, 2].forEach((v, a) => expect(model.means[a]).toBeCloseTo(v, 12));
    [1, 0, 0, 4].forEach((v, e) => expect(model.covariances[e]).toBeCloseTo(v, 12));
  });
});

describe('bad input', () => {
  const X = Float64Array.from([0, 1, 2, 3, 4, 5]);

  it('says what is wrong and what to do', () => {
    expect(() => fitGmm(X, 3, 2, { components: 4 })).toThrow(/cannot fit 4 components to 3 rows.*collect more data or lower components/);
    expect(() => fitGmm(X, 4, 2, { components: 1 })).toThrow(/X has 6 values but n×d = 4×2 = 8/);
    expect(() => fitGmm(Float64Array.from([0, 1, NaN, 3]), 2, 2, { components: 1 })).toThrow(
      /X\[1\]\[0\] is NaN; drop or impute non-finite values/,
    );
    expect(() => fitGmm(Float64Array.from([0, Infinity]), 2, 1, { components: 1 })).toThrow(/X\[1\]\[0\] is Infinity/);
    expect(() => fitGmm(X, 3, 2, { components: 0 })).toThrow(/components must be an integer ≥ 1, got 0/);
    expect(() => fitGmm(X, 3, 2, { components: 1.5 })).toThrow(/components must be an integer/);
    expect(() => fitGmm(X, 3, 2, { components: 1, nInit: 0 })).toThrow(/nInit must be an integer ≥ 1/);
    expect(() => fitGmm(X, 3, 2, { components: 1, tol: -1 })).toThrow(/tol must be a finite number ≥ 0/);
    expect(() => fitGmm(X, 3, 2, { components: 1, regCovar: NaN })).toThrow(/regCovar must be a finite number ≥ 0/);
    expect(() => fitGmm(X, 3, 2, { components: 1, covarianceType: 'banana' as CovarianceType })).toThrow(
      /covarianceType must be one of full, diag, spherical, tied/,
    );
    expect(() => fitGmm(X, 3, 2, { components: 1 })).not.toThrow();
  });

  it('a component that collapses onto one point asks for reg_covar or scaling', () => {
    const same = new Float64Array(20).fill(3);
    let error: unknown;
    try {
      fitGmm(same, 10, 2, { components: 2, regCovar: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GmmError);
    expect((error as Error).message).toMatch(/collapsed.*increase reg_covar, or scale the input data/);
    // The default reg_covar keeps the same data fittable.
    expect(fitGmm(same, 10, 2, { components: 2 }).model.k).toBe(2);
  });

  it('values too large to square are refused with advice', () => {
    const huge = Float64Array.from({ length: 40 }, (_, i) => (i % 2 ? 1e300 : -1e300));
    expect(() => fitGmm(huge, 20, 2, { components: 1 })).toThrow(GmmError);
  });
});
