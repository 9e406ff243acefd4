import { describe, expect, it } from 'vitest';
import { integrate, type BatchIntegrand } from '../../src/math/gauss-kronrod.js';
import { normalQuantile } from '../../src/math/normal-quantile.js';
import { createRng } from '../../src/math/rng.js';
import { ScrambledSobol, SOBOL_MAX_DIMENSION, sobolStorageWords } from '../../src/math/sobol.js';
import { symmetricEigen } from '../../src/math/symmetric-eigen.js';

/** The numerical building blocks the divergences stand on. */

describe('normalQuantile (AS 241)', () => {
  it('matches known quantiles to ~1e-15', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 14);
    expect(normalQuantile(0.025)).toBeCloseTo(-1.959963984540054, 14);
    expect(normalQuantile(0.8413447460685429)).toBeCloseTo(1, 13);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 12);
    expect(normalQuantile(1e-300)).toBeCloseTo(-37.0471, 3);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(Number.isNaN(normalQuantile(NaN))).toBe(true);
  });

  it('is monotone across its region boundaries', () => {
    let prev = -Infinity;
    for (let i = 1; i < 20000; i++) {
      const z = normalQuantile(i / 20000);
      expect(z).toBeGreaterThan(prev);
      prev = z;
    }
  });
});

describe('ScrambledSobol', () => {
  it('the first 2^m points of a randomisation stratify every coordinate and pair (0,1) perfectly', () => {
    const d = 6;
    const m = 8;
    const n = 2 ** m;
    const s = new ScrambledSobol(d, createRng(1));
    const U = new Float64Array(n * d);
    s.nextUniforms(n, U);
    for (let j = 0; j < d; j++) {
      const seen = new Set<number>();
      for (let i = 0; i < n; i++) seen.add(Math.floor(U[i * d + j]! * n));
      expect(seen.size).toBe(n);
    }
    // Dimensions 1 and 2 form a (0, m, 2)-net: one point in every 2^a × 2^(m−a) box.
    for (let a = 0; a <= m; a++) {
      const boxes = new Set<number>();
      for (let i = 0; i < n; i++) boxes.add(Math.floor(U[i * d]! * 2 ** a) * 2 ** (m - a) + Math.floor(U[i * d + 1]! * 2 ** (m - a)));
      expect(boxes.size).toBe(n);
    }
  });

  it('is uniform on average over randomisations, and different seeds differ', () => {
    const d = 3;
    let mean = 0;
    const reps = 200;
    for (let r = 0; r < reps; r++) {
      const U = new Float64Array(d);
      new ScrambledSobol(d, createRng(`u${r}`)).nextUniforms(1, U);
      mean += U[0]! / reps;
      expect(U[0]).toBeGreaterThan(0);
      expect(U[0]).toBeLessThan(1);
    }
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / reps));
    const a = new Float64Array(4);
    const b = new Float64Array(4);
    new ScrambledSobol(4, createRng(1)).nextUniforms(1, a);
    new ScrambledSobol(4, createRng(2)).nextUniforms(1, b);
    expect(a).not.toEqual(b);
  });

  it('integrates a smooth function far better than i.i.d. points', () => {
    // E[Σ z_j²] = d under N(0, I): spread of 32 randomisations of 512 points.
    const d = 4;
    const n = 512;
    const est = (sobol: boolean, seed: number): number => {
      const Z = new Float64Array(n * d);
      const rng = createRng(seed);
      if (sobol) new ScrambledSobol(d, rng).nextNormals(n, Z);
      else for (let i = 0; i < n * d; i++) Z[i] = rng.normal();
      let s = 0;
      for (let i = 0; i < n * d; i++) s += Z[i]! ** 2;
      return s / n;
    };
    const spread = (sobol: boolean): number => {
      const v = Array.from({ length: 32 }, (_, r) => est(sobol, r));
      const m = v.reduce((a, b) => a + b) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
    };
    expect(spread(true)).toBeLessThan(spread(false) / 5);
  });

  it('rejects dimensions it has no direction numbers for, and storage too small for d', () => {
    expect(() => new ScrambledSobol(SOBOL_MAX_DIMENSION + 1, createRng(1))).toThrow(RangeError);
    expect(() => new ScrambledSobol(0, createRng(1))).toThrow(RangeError);
    expect(() => new ScrambledSobol(3, createRng(1), new Uint32Array(sobolStorageWords(3) - 1))).toThrow(RangeError);
  });

  it('gives the same points in shared storage as in its own, whatever the storage held', () => {
    const d = 5;
    const words = sobolStorageWords(d);
    const shared = new Uint32Array(3 * words).fill(0xdeadbeef);
    const own = [1, 2, 3].map((seed) => new ScrambledSobol(d, createRng(seed)));
    const pooled = [1, 2, 3].map((seed, r) => new ScrambledSobol(d, createRng(seed), shared.subarray(r * words, (r + 1) * words)));
    for (let round = 0; round < 2; round++) {
      own.forEach((s, r) => {
        const a = new Float64Array(100 * d);
        const b = new Float64Array(100 * d);
        s.nextNormals(100, a);
        pooled[r]!.nextNormals(100, b);
        expect(b).toEqual(a);
      });
      // A fresh randomisation reuses the storage: still the same draws as without sharing.
      for (const s of [...own, ...pooled]) s.rerandomise();
    }
  });

  it('reseeded, continues exactly as a new instance on the new rng', () => {
    const d = 6;
    const used = new ScrambledSobol(d, createRng(1));
    used.nextNormals(300, new Float64Array(300 * d));
    used.reseed(createRng(2));
    const fresh = new ScrambledSobol(d, createRng(2));
    const a = new Float64Array(500 * d);
    const b = new Float64Array(500 * d);
    fresh.nextNormals(500, a);
    used.nextNormals(500, b);
    expect(b).toEqual(a);
  });
});

describe('integrate (Gauss–Kronrod 7/15)', () => {
  const batch =
    (g: (x: number) => number): BatchIntegrand =>
    (xs, n, out) => {
      for (let i = 0; i < n; i++) out[i] = g(xs[i]!);
    };

  it('integrates a narrow Gaussian bump far from the bulk, given breakpoints near it', () => {
    const g = (x: number): number =>
      Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI) + (0.001 * Math.exp(-0.5 * ((x - 1000) / 0.01) ** 2)) / (0.01 * Math.sqrt(2 * Math.PI));
    const r = integrate(batch(g), [-40, -2, 0, 2, 40, 999.9, 1000, 1000.1, 1040], { absTol: 1e-13, relTol: 1e-12, maxIntervals: 500 });
    expect(r.value).toBeCloseTo(1.001, 12);
    expect(r.error).toBeLessThan(1e-11);
  });

  it('refines until the tolerance is met', () => {
    const r = integrate(batch((x) => Math.sin(x) ** 2), [0, Math.PI * 20], { absTol: 1e-12, relTol: 1e-12, maxIntervals: 1000 });
    expect(r.value).toBeCloseTo(Math.PI * 10, 10);
    expect(r.intervals).toBeGreaterThan(1);
  });
});

describe('symmetricEigen', () => {
  it('diagonalises a random symmetric matrix: A V = V Λ, VᵀV = I, values descending', () => {
    const n = 7;
    const rng = createRng('eig');
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A[i * n + j] = A[j * n + i] = rng.normal();
    const { values, vectors: V } = symmetricEigen(A, n);
    for (let k = 1; k < n; k++) expect(values[k]).toBeLessThanOrEqual(values[k - 1]!);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += A[i * n + j]! * V[j * n + k]!;
        expect(av).toBeCloseTo(values[k]! * V[i * n + k]!, 10);
        let vv = 0;
        for (let j = 0; j < n; j++) vv += V[j * n + i]! * V[j * n + k]!;
        expect(vv).toBeCloseTo(i === k ? 1 : 0, 12);
      }
    }
  });
});
