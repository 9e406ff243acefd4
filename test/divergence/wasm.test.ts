import { describe, expect, it } from 'vitest';
import { js } from '../../src/divergence/index.js';
import { gmmFromJson } from '../../src/gmm/json.js';
import { createRng } from '../../src/math/rng.js';
import { normalQuantile, normalQuantiles } from '../../src/math/normal-quantile.js';
import { features, forms, isResident, jsStage, klStage, residentViews, wasmExp } from '../../src/math/wasm.js';

/** The samplers' WebAssembly half (assembly/samplers.ts) against plain JavaScript. */

const rng = createRng(11);
const fill = (a: Float64Array): void => {
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
};

describe('features and forms', () => {
  // Odd and even sizes everywhere: two points by two targets, two lanes wide, then the rests.
  for (const [n, d, diagonal, T] of [
    [7, 3, false, 5],
    [8, 4, false, 8],
    [5, 2, true, 3],
    [1, 1, false, 1],
    [37, 8, false, 11],
  ] as const) {
    it(`give c_t + W_t·φ(z) for ${n} points, d = ${d}${diagonal ? ' (diagonal)' : ''}, ${T} targets`, () => {
      const nf = diagonal ? 2 * d : d + (d * (d + 1)) / 2;
      const stride = T + 2;
      const [Z, phi, W, c0, out] = residentViews([n * d, n * nf, T * nf, T, n * stride]) as Float64Array[] as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
      fill(Z);
      fill(W);
      fill(c0);
      out.fill(NaN);
      features(Z, n, d, diagonal, phi);
      forms(phi, n, nf, W, T, c0, out, stride);
      for (let i = 0; i < n; i++) {
        const z = Array.from(Z.subarray(i * d, (i + 1) * d));
        const expected: number[] = [...z];
        for (let a = 0; a < d; a++) {
          if (diagonal) expected.push(z[a]! * z[a]!);
          else for (let b = 0; b <= a; b++) expected.push(z[a]! * z[b]!);
        }
        expect(Array.from(phi.subarray(i * nf, (i + 1) * nf))).toEqual(expected);
        for (let t = 0; t < T; t++) {
          let sum = c0[t]!;
          let size = Math.abs(sum);
          for (let k = 0; k < nf; k++) {
            sum += W[t * nf + k]! * expected[k]!;
            size += Math.abs(W[t * nf + k]! * expected[k]!);
          }
          // Summed in another order: the same to rounding of the terms' magnitudes.
          expect(Math.abs(out[i * stride + t]! - sum)).toBeLessThanOrEqual(4 * Number.EPSILON * size);
        }
        // Columns past T are the caller's: untouched.
        expect(out[i * stride + T]).toBeNaN();
      }
    });
  }

  it('refuse arrays outside the module memory, rather than read whatever is at their offset', () => {
    const phi = new Float64Array(4);
    expect(isResident(phi)).toBe(false);
    const [W, c0, out] = residentViews([4, 1, 1]) as [Float64Array, Float64Array, Float64Array];
    expect(() => forms(phi, 1, 4, W, 1, c0, out, 1)).toThrow(/not in the module memory/);
  });
});

describe('normal quantiles in the module', () => {
  it('give the same numbers in place and through the staging copy, across every region and beyond one staging block', () => {
    const n = 20_000;
    const u = new Float64Array(n).map((_, i) => (i % 3 === 0 ? rng.uniform() : i % 3 === 1 ? rng.uniform() * 1e-3 : 1 - rng.uniform() * 1e-12));
    u[0] = 0;
    u[1] = 1;
    u[2] = 0.075;
    u[3] = 0.925;
    const [resident] = residentViews([n]) as [Float64Array];
    resident.set(u);
    const copied = u.slice();
    normalQuantiles(resident, 0, n);
    normalQuantiles(copied, 0, n);
    expect(Array.from(resident)).toEqual(Array.from(copied));
    for (let i = 4; i < n; i += 97) expect(copied[i]).toBe(normalQuantile(u[i]!));
    expect(copied[0]).toBe(-Infinity);
    expect(copied[1]).toBe(Infinity);
  });

  it('give the two-lane central region the same numbers as one at a time', () => {
    // A central number next to a tail one goes the scalar way; next to another central one, two lanes.
    const [pair] = residentViews([2]) as [Float64Array];
    for (let i = 0; i < 200; i++) {
      const p = 0.08 + 0.84 * rng.uniform();
      pair[0] = p;
      pair[1] = 0.5 + 0.4 * rng.uniform();
      normalQuantiles(pair, 0, 2);
      const twoLanes = pair[0];
      pair[0] = p;
      pair[1] = 1e-5;
      normalQuantiles(pair, 0, 2);
      expect(twoLanes).toBe(pair[0]);
    }
  });

  it('leave the samplers working after the memory grows under their scratch', () => {
    const p = gmmFromJson({ weights: [0.5, 0.5], means: [[0, 0], [3, 1]], covariances: [[[1, 0.2], [0.2, 1]], [[0.5, 0], [0, 2]]], covariance_type: 'full' });
    const q = gmmFromJson({ weights: [1], means: [[1, 0]], covariances: [[[2, 0], [0, 1]]], covariance_type: 'full' });
    const before = js(p, q, { seed: 3 });
    residentViews([6_000_000]);
    expect(js(p, q, { seed: 3 })).toEqual(before);
  });

  it('keep working after the memory grows (views taken again)', () => {
    const [big] = residentViews([4_000_000]) as [Float64Array];
    big[3_999_999] = 0.975;
    normalQuantiles(big, 3_999_999, 4_000_000);
    expect(big[3_999_999]).toBeCloseTo(1.959963984540054, 14);
    expect(normalQuantile(0.025)).toBeCloseTo(-1.959963984540054, 14);
  });
});

describe("the module's exp", () => {
  const ulps = (a: number, b: number): number => Math.abs(a - b) / 2 ** (Math.floor(Math.log2(Math.abs(b))) - 52);

  it('is within 2 ulp of Math.exp where the samplers call it and across the normal range', () => {
    let worst = 0;
    for (let i = 0; i < 200_000; i++) {
      const x = i % 2 === 0 ? -38 * rng.uniform() : -708 + 1417 * rng.uniform();
      worst = Math.max(worst, ulps(wasmExp(x), Math.exp(x)));
    }
    expect(worst).toBeLessThanOrEqual(2);
    expect(wasmExp(0)).toBe(1);
    expect(wasmExp(-Infinity)).toBe(0);
    expect(wasmExp(Infinity)).toBe(Infinity);
    expect(wasmExp(-800)).toBe(0);
    expect(Number.isNaN(wasmExp(NaN))).toBe(true);
  });
});

describe("JS's per-point stage", () => {
  /** The integrand straight from its definition, in plain JavaScript. */
  function direct(v: number[], w: number[], tp: number, ownShare: number, pivot: number | null, sideP: boolean) {
    const p = v.slice(0, tp).reduce((a, x) => a + Math.exp(x), 0);
    const q = v.slice(tp).reduce((a, x) => a + Math.exp(x), 0);
    const r = p / (p + q);
    const g = Math.LN2 + (r > 0 ? r * Math.log(r) : 0) + (r < 1 ? (1 - r) * Math.log(1 - r) : 0);
    const weighted = v.reduce((a, x) => a + Math.exp(x), 0);
    const unweighted = v.reduce((a, x, k) => a + Math.exp(x) / w[k]!, 0);
    const share = (weighted * ownShare) / unweighted;
    return { f: pivot === null ? g : pivot + (g - pivot) * share, plain: Math.LN2 + Math.log(sideP ? r : 1 - r) };
  }

  for (const pivot of [null, 0.3]) {
    for (const sideP of [true, false]) {
      it(`gives w·F and the seed's integrand as their definitions do (${sideP ? 'p' : 'q'} side, ${pivot === null ? 'no pivot' : 'pivot'})`, () => {
        const n = 9;
        const t = 5;
        const tp = 2;
        const mixWeights = [0.3, 0.7, 0.2, 0.5, 0.3];
        const [L, perTarget, weight, f, plain, firsts] = residentViews([n * t, 4 * t, n, n, n, 2 * n]) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
        perTarget.fill(0);
        mixWeights.forEach((w, k) => (perTarget[3 * t + k] = 1 / w));
        for (let i = 0; i < n * t; i++) L[i] = -3 * rng.uniform() - (i % 7 === 0 ? 20 : 0);
        for (let i = 0; i < n; i++) weight[i] = 0.5 + rng.uniform();
        const ownShare = 1 / mixWeights[sideP ? 0 : 3]!;
        jsStage(L, n, t, tp, t, perTarget, ownShare, pivot, pivot ?? 0, sideP, false, weight, f, plain, firsts);
        for (let i = 0; i < n; i++) {
          const want = direct(Array.from(L.subarray(i * t, (i + 1) * t)), mixWeights, tp, ownShare, pivot, sideP);
          expect(f[i]! / weight[i]!).toBeCloseTo(want.f, 13);
          expect(plain[i]).toBeCloseTo(want.plain, 12);
        }
      });
    }
  }
});

describe("KL's per-point stage", () => {
  for (const withMatched of [false, true]) {
    it(`gives w·(log p − log q${withMatched ? ' − the matched term' : ''}) as the definitions do`, () => {
      const n = 9;
      const t = 5;
      const tp = 2;
      const pairing = [3, 4];
      const [L, perTarget, weight, f, plain, matchedOut, firsts, gamma] = residentViews([n * t, 5 * t, n, n, n, n, 2 * n, t]) as [
        Float64Array,
        Float64Array,
        Float64Array,
        Float64Array,
        Float64Array,
        Float64Array,
        Float64Array,
        Float64Array,
      ];
      perTarget.fill(0);
      pairing.forEach((j, k) => (perTarget[4 * t + k] = j));
      for (let i = 0; i < n * t; i++) L[i] = -3 * rng.uniform() - (i % 7 === 0 ? 20 : 0);
      for (let i = 0; i < n; i++) weight[i] = 0.5 + rng.uniform();
      matchedOut.fill(NaN);
      klStage(L, n, t, tp, t, perTarget, withMatched ? Int32Array.from(pairing) : null, 1, false, 1, 0, 0, weight, f, plain, withMatched ? matchedOut : undefined, firsts, gamma);
      for (let i = 0; i < n; i++) {
        const v = Array.from(L.subarray(i * t, (i + 1) * t));
        const p = v.slice(0, tp).reduce((a, x) => a + Math.exp(x), 0);
        const q = v.slice(tp).reduce((a, x) => a + Math.exp(x), 0);
        const lr = Math.log(p) - Math.log(q);
        // Σ_k γ_k (v_k − v_π(k)), γ_k = w_k N_k / p.
        const h = pairing.reduce((a, j, k) => a + (Math.exp(v[k]!) / p) * (v[k]! - v[j]!), 0);
        expect(plain[i]).toBeCloseTo(lr, 13);
        expect(f[i]! / weight[i]!).toBeCloseTo(withMatched ? lr - h : lr, 13);
        if (withMatched) expect(matchedOut[i]).toBeCloseTo(h, 13);
        else expect(matchedOut[i]).toBeNaN();
      }
    });
  }
});
