import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gmmFromJson } from '../../src/gmm/json.js';
import { createGmm, type CovarianceType, type Gmm } from '../../src/gmm/model.js';
import { createRng } from '../../src/math/rng.js';

export interface PairCase {
  name: string;
  dimension: number;
  p: Gmm;
  q: Gmm;
  kl: number;
  klStderr: number;
  js: number;
  jsStderr: number;
  klMethod: string;
}

/** The shared reference pairs (../shared/fixtures relative to the project root). */
export function fixturePairs(): PairCase[] {
  const path = fileURLToPath(new URL('../../../shared/fixtures/gmm-pairs.json', import.meta.url));
  const json = JSON.parse(readFileSync(path, 'utf8')) as { cases: Record<string, unknown>[] };
  return json.cases.map((c) => ({
    name: c.name as string,
    dimension: c.dimension as number,
    p: gmmFromJson(c.p),
    q: gmmFromJson(c.q),
    kl: c.kl as number,
    klStderr: c.kl_stderr as number,
    js: c.js as number,
    jsStderr: c.js_stderr as number,
    klMethod: c.kl_reference_method as string,
  }));
}

/** The acceptance rule: within 4 combined standard errors, plus 1e-6 relative slack. */
export function agreementBound(seEstimate: number, seReference: number, reference: number): number {
  return 4 * Math.sqrt(seEstimate ** 2 + seReference ** 2) + 1e-6 * Math.max(1, Math.abs(reference));
}

/** The accuracy target: a standard error of at most 1% of the value, or 1e-3 nats. */
export const stderrBound = (value: number): number => Math.max(0.01 * Math.abs(value), 1e-3);

/**
 * A random mixture of the given covariance type: means spread ~N(0, 3²), covariances
 * AAᵀ/d + ½I (diagonal, spherical or shared as the type says), weights from 0.2 + U(0, 1).
 */
export function randomMixture(k: number, d: number, type: CovarianceType, seed: string): Gmm {
  const rng = createRng(seed);
  const means = Float64Array.from({ length: k * d }, () => 3 * rng.normal());
  const covariances = new Float64Array(k * d * d);
  const draw = (c: number): void => {
    const A = Float64Array.from({ length: d * d }, () => rng.normal());
    const s = 0.3 + rng.uniform();
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let v = i === j ? 0.5 : 0;
        for (let m = 0; m < d; m++) v += (A[i * d + m]! * A[j * d + m]!) / d;
        covariances[c * d * d + i * d + j] = v;
      }
    }
    if (type === 'diag') for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) if (i !== j) covariances[c * d * d + i * d + j] = 0;
    if (type === 'spherical') {
      for (let i = 0; i < d * d; i++) covariances[c * d * d + i] = 0;
      for (let i = 0; i < d; i++) covariances[c * d * d + i * d + i] = s;
    }
  };
  for (let c = 0; c < k; c++) {
    if (type === 'tied' && c > 0) covariances.copyWithin(c * d * d, 0, d * d);
    else draw(c);
  }
  const raw = Array.from({ length: k }, () => 0.2 + rng.uniform());
  const total = raw.reduce((a, b) => a + b, 0);
  return createGmm({ k, d, weights: raw.map((w) => w / total), means, covariances, covarianceType: type });
}

/** q: p with every mean moved by ~N(0, shift²) and every weight perturbed, so the pair drifts but overlaps. */
export function drifted(p: Gmm, shift: number, seed: string): Gmm {
  const rng = createRng(seed);
  const means = Float64Array.from(p.means, (m) => m + shift * rng.normal());
  const raw = Array.from(p.weights, (w) => w * (0.6 + 0.8 * rng.uniform()));
  const total = raw.reduce((a, b) => a + b, 0);
  const scale = 0.8 + 0.4 * rng.uniform();
  return createGmm({
    k: p.k,
    d: p.d,
    weights: raw.map((w) => w / total),
    means,
    covariances: Float64Array.from(p.covariances, (v) => v * scale),
    covarianceType: p.covarianceType,
  });
}

/** One broad Gaussian: randomMixture's shape near the origin (means / 6), covariance × scale. */
export function broadGaussian(d: number, scale: number, seed: string): Gmm {
  const g = randomMixture(1, d, 'full', seed);
  return createGmm({
    k: 1,
    d,
    weights: [1],
    means: Float64Array.from(g.means, (m) => m / 6),
    covariances: Float64Array.from(g.covariances, (v) => v * scale),
    covarianceType: 'full',
  });
}
