import { COVARIANCE_TYPES, createGmm, GmmError, type CovarianceType, type Gmm } from './model.js';

/** The model JSON: scikit-learn's field names, `covariances` shaped as its `covariances_`. */
export interface GmmJson {
  weights: number[];
  means: number[][];
  covariances: number[] | number[][] | number[][][];
  covariance_type: CovarianceType;
}

/** How far the weights may sum from 1 before we refuse them (float32 exports round). */
const WEIGHT_SUM_TOLERANCE = 1e-6;
/**
 * How far a covariance may be from symmetric, relative to its entry's scale √(a_ii a_jj),
 * before we refuse it: numpy's `allclose` default. scikit-learn keeps float32 for float32
 * data, and its float32 covariances differ from their transpose by a rounding step or two
 * (~1e-8 of the scale); 1e-8 of the entry itself refused them.
 */
const SYMMETRY_TOLERANCE = 1e-5;

function fail(message: string): never {
  throw new GmmError(message);
}

function finiteNumber(v: unknown, where: string): number {
  if (typeof v !== 'number') fail(`${where} must be a number, got ${v === null ? 'null' : typeof v}`);
  if (!Number.isFinite(v)) fail(`${where} must be finite, got ${v}`);
  return v;
}

function array(v: unknown, where: string, length?: number): unknown[] {
  if (!Array.isArray(v)) fail(`${where} must be an array`);
  if (length !== undefined && v.length !== length) fail(`${where} must have length ${length}, got ${v.length}`);
  return v;
}

function numbers(v: unknown, where: string, length?: number): number[] {
  return array(v, where, length).map((x, i) => finiteNumber(x, `${where}[${i}]`));
}

/** Covariances of any type, as k full d×d matrices, row-major. */
function fullCovariances(type: CovarianceType, raw: unknown, k: number, d: number): Float64Array {
  const out = new Float64Array(k * d * d);
  const setMatrix = (c: number, m: unknown, where: string): void => {
    const rows = array(m, where, d);
    for (let i = 0; i < d; i++) {
      const row = numbers(rows[i], `${where}[${i}]`, d);
      for (let j = 0; j < d; j++) out[c * d * d + i * d + j] = row[j]!;
    }
    const o = c * d * d;
    for (let i = 0; i < d; i++) {
      const aii = out[o + i * d + i]!;
      if (aii <= 0) fail(`${where}[${i}][${i}] must be positive (a variance), got ${aii}`);
    }
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < i; j++) {
        const a = out[o + i * d + j]!;
        const b = out[o + j * d + i]!;
        if (Math.abs(a - b) > SYMMETRY_TOLERANCE * Math.sqrt(out[o + i * d + i]! * out[o + j * d + j]!)) {
          fail(`${where} must be symmetric: [${i}][${j}]=${a} but [${j}][${i}]=${b}`);
        }
      }
    }
  };
  const positive = (v: number, where: string): void => {
    if (v <= 0) fail(`${where} must be positive (a variance), got ${v}`);
  };
  switch (type) {
    case 'full': {
      const mats = array(raw, 'covariances', k);
      for (let c = 0; c < k; c++) setMatrix(c, mats[c], `covariances[${c}]`);
      break;
    }
    case 'tied': {
      setMatrix(0, raw, 'covariances');
      for (let c = 1; c < k; c++) out.copyWithin(c * d * d, 0, d * d);
      break;
    }
    case 'diag': {
      const rows = array(raw, 'covariances', k);
      for (let c = 0; c < k; c++) {
        const v = numbers(rows[c], `covariances[${c}]`, d);
        for (let i = 0; i < d; i++) {
          positive(v[i]!, `covariances[${c}][${i}]`);
          out[c * d * d + i * d + i] = v[i]!;
        }
      }
      break;
    }
    case 'spherical': {
      const v = numbers(raw, 'covariances', k);
      for (let c = 0; c < k; c++) {
        positive(v[c]!, `covariances[${c}]`);
        for (let i = 0; i < d; i++) out[c * d * d + i * d + i] = v[c]!;
      }
      break;
    }
  }
  return out;
}

const EXPECTED_SHAPE: Record<CovarianceType, (k: number, d: number) => string> = {
  full: (k, d) => `(${k}, ${d}, ${d})`,
  tied: (_k, d) => `(${d}, ${d})`,
  diag: (k, d) => `(${k}, ${d})`,
  spherical: (k) => `(${k},)`,
};

/** Shape errors are most often a covariance_type that does not match the array: say so. */
function withShapeHint<T>(type: CovarianceType, k: number, d: number, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof GmmError && /must (be an array|be a number|have length)/.test(err.message)) {
      throw new GmmError(`${err.message} (covariance_type "${type}" expects covariances shaped ${EXPECTED_SHAPE[type](k, d)})`);
    }
    throw err;
  }
}

/** Validates model JSON (already parsed) and builds the mixture; every problem is a GmmError naming the field. */
export function gmmFromJson(json: unknown): Gmm {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('model must be a JSON object');
  const o = json as Record<string, unknown>;
  const type = o.covariance_type ?? 'full';
  if (typeof type !== 'string' || !(COVARIANCE_TYPES as readonly string[]).includes(type)) {
    fail(`covariance_type must be one of ${COVARIANCE_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  }
  const weights = numbers(o.weights, 'weights');
  const k = weights.length;
  if (k === 0) fail('weights must not be empty');
  weights.forEach((w, i) => {
    if (w < 0) fail(`weights[${i}] must not be negative, got ${w}`);
  });
  const sum = weights.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) fail(`weights must sum to 1, got ${sum}`);
  const meanRows = array(o.means, 'means', k);
  const first = array(meanRows[0], 'means[0]');
  const d = first.length;
  if (d === 0) fail('means[0] must not be empty');
  const means = new Float64Array(k * d);
  meanRows.forEach((row, c) => means.set(numbers(row, `means[${c}]`, d), c * d));
  const covariances = withShapeHint(type as CovarianceType, k, d, () =>
    fullCovariances(type as CovarianceType, o.covariances, k, d),
  );
  // Renormalise weights that are off by more than rounding (a float32 export); weights that
  // already sum to 1 as closely as k doubles can are kept bit for bit, so a model written
  // out and read back (a snapshot, a checkpoint) is the very same model.
  const exact = Math.abs(sum - 1) <= k * Number.EPSILON;
  return createGmm({
    k,
    d,
    weights: exact ? weights : weights.map((w) => w / sum),
    means,
    covariances,
    covarianceType: type as CovarianceType,
  });
}

/** The mixture as model JSON, covariances shaped for its type as scikit-learn does. */
export function gmmToJson(g: Gmm): GmmJson {
  const { k, d } = g;
  const cov = (c: number, i: number, j: number): number => g.covariances[c * d * d + i * d + j]!;
  const matrix = (c: number): number[][] =>
    Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => cov(c, i, j)));
  const comps = Array.from({ length: k }, (_, c) => c);
  let covariances: GmmJson['covariances'];
  switch (g.covarianceType) {
    case 'full':
      covariances = comps.map(matrix);
      break;
    case 'tied':
      covariances = matrix(0);
      break;
    case 'diag':
      covariances = comps.map((c) => Array.from({ length: d }, (_, i) => cov(c, i, i)));
      break;
    case 'spherical':
      covariances = comps.map((c) => cov(c, 0, 0));
      break;
  }
  return {
    weights: Array.from(g.weights),
    means: comps.map((c) => Array.from(g.means.subarray(c * d, c * d + d))),
    covariances,
    covariance_type: g.covarianceType,
  };
}
