import type { Rng } from '../math/rng.js';

/**
 * K-means as the EM initialiser, the way scikit-learn's GaussianMixture starts: greedy
 * k-means++ seeding, then Lloyd iterations until the centres stop moving. Only the labels
 * are used afterwards (one-hot responsibilities), so the quality of the partition matters
 * more than the centres themselves.
 */

export interface KMeansOptions {
  /** Lloyd iterations at most; scikit-learn's KMeans allows 300, a partition settles far sooner. */
  maxIter?: number;
  /** Relative tolerance on the total squared centre shift, scaled by the mean feature variance (scikit-learn's). */
  tol?: number;
}

export interface KMeansResult {
  /** k×d, row-major. */
  centers: Float64Array;
  /** n labels in [0, k). */
  labels: Int32Array;
  /** Sum of squared distances of every row to its centre. */
  inertia: number;
  iterations: number;
}

// ---------------------------------------------------------------- seeding

/** Squared Euclidean distance between row i of X and row j of C. */
function sqDist(X: Float64Array, i: number, C: Float64Array, j: number, d: number): number {
  let s = 0;
  const xo = i * d;
  const co = j * d;
  for (let a = 0; a < d; a++) {
    const t = X[xo + a]! - C[co + a]!;
    s += t * t;
  }
  return s;
}

/**
 * Greedy k-means++ (Arthur & Vassilvitskii; scikit-learn's `_kmeans_plusplus`): each new
 * centre is the best of 2 + ⌊ln k⌋ candidates drawn with probability ∝ D(x)², the one that
 * lowers the potential most. Writes k×d centres into `centers`.
 */
export function kmeansPlusPlus(X: Float64Array, n: number, d: number, k: number, rng: Rng, centers: Float64Array): void {
  const trials = 2 + Math.floor(Math.log(k));
  const closest = new Float64Array(n);
  const candidate = new Float64Array(n);
  const best = new Float64Array(n);
  let first = Math.floor(rng.uniform() * n);
  if (first >= n) first = n - 1;
  centers.set(X.subarray(first * d, first * d + d), 0);
  let potential = 0;
  for (let i = 0; i < n; i++) {
    closest[i] = sqDist(X, i, centers, 0, d);
    potential += closest[i]!;
  }
  for (let c = 1; c < k; c++) {
    let bestPotential = Infinity;
    let bestId = -1;
    for (let t = 0; t < trials; t++) {
      const id = potential > 0 ? drawProportional(closest, n, rng.uniform() * potential) : Math.floor(rng.uniform() * n);
      const xo = id * d;
      let pot = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        const io = i * d;
        for (let a = 0; a < d; a++) {
          const u = X[io + a]! - X[xo + a]!;
          s += u * u;
        }
        const m = s < closest[i]! ? s : closest[i]!;
        candidate[i] = m;
        pot += m;
      }
      if (pot < bestPotential) {
        bestPotential = pot;
        bestId = id;
        best.set(candidate);
      }
    }
    centers.set(X.subarray(bestId * d, bestId * d + d), c * d);
    closest.set(best);
    potential = bestPotential;
  }
}

/** The index where the running sum of `w` first exceeds `u` (inverse-CDF draw), clamped to a positive weight. */
function drawProportional(w: Float64Array, n: number, u: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += w[i]!;
    if (acc > u && w[i]! > 0) return i;
  }
  // Rounding left u just above the total: take the last row with any weight.
  for (let i = n - 1; i >= 0; i--) if (w[i]! > 0) return i;
  return n - 1;
}

// ---------------------------------------------------------------- Lloyd iterations

/** Assigns every row to its nearest centre; returns the inertia and whether any label changed. */
function assign(
  X: Float64Array,
  n: number,
  d: number,
  k: number,
  centers: Float64Array,
  labels: Int32Array,
  dist: Float64Array,
): { inertia: number; changed: boolean } {
  let inertia = 0;
  let changed = false;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    let best = Infinity;
    let arg = 0;
    for (let c = 0, co = 0; c < k; c++, co += d) {
      let s = 0;
      for (let a = 0; a < d; a++) {
        const t = X[xo + a]! - centers[co + a]!;
        s += t * t;
      }
      if (s < best) {
        best = s;
        arg = c;
      }
    }
    if (labels[i] !== arg) {
      labels[i] = arg;
      changed = true;
    }
    dist[i] = best;
    inertia += best;
  }
  return { inertia, changed };
}

/**
 * New centres as the means of their rows. An empty cluster takes the row farthest from its
 * own centre (as scikit-learn relocates them), so k-means always returns k non-empty groups
 * when there are at least k distinct rows.
 */
function updateCenters(
  X: Float64Array,
  n: number,
  d: number,
  k: number,
  labels: Int32Array,
  dist: Float64Array,
  centers: Float64Array,
  counts: Float64Array,
): void {
  centers.fill(0);
  counts.fill(0);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    counts[c]!++;
    const xo = i * d;
    const co = c * d;
    for (let a = 0; a < d; a++) centers[co + a]! += X[xo + a]!;
  }
  for (let c = 0; c < k; c++) {
    if (counts[c]! > 0) continue;
    let far = -1;
    let farDist = -1;
    for (let i = 0; i < n; i++) {
      if (dist[i]! > farDist && counts[labels[i]!]! > 1) {
        farDist = dist[i]!;
        far = i;
      }
    }
    if (far < 0) continue;
    const from = labels[far]!;
    const xo = far * d;
    for (let a = 0; a < d; a++) {
      centers[from * d + a]! -= X[xo + a]!;
      centers[c * d + a] = X[xo + a]!;
    }
    counts[from]!--;
    counts[c] = 1;
    labels[far] = c;
    dist[far] = 0;
  }
  for (let c = 0; c < k; c++) {
    const m = counts[c]!;
    if (m > 0) for (let a = 0; a < d; a++) centers[c * d + a]! /= m;
  }
}

/** Mean of the per-feature variances of X, the scale of scikit-learn's k-means tolerance. */
function meanVariance(X: Float64Array, n: number, d: number): number {
  let total = 0;
  for (let a = 0; a < d; a++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += X[i * d + a]!;
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const t = X[i * d + a]! - mean;
      v += t * t;
    }
    total += v / n;
  }
  return total / d;
}

/**
 * k-means++ seeding then Lloyd iterations, stopping when no label changes or the total
 * squared centre shift falls below `tol` × the mean feature variance.
 */
export function kmeans(X: Float64Array, n: number, d: number, k: number, rng: Rng, opts: KMeansOptions = {}): KMeansResult {
  const maxIter = opts.maxIter ?? 100;
  const tol = (opts.tol ?? 1e-4) * meanVariance(X, n, d);
  const centers = new Float64Array(k * d);
  const previous = new Float64Array(k * d);
  const labels = new Int32Array(n).fill(-1);
  const dist = new Float64Array(n);
  const counts = new Float64Array(k);
  kmeansPlusPlus(X, n, d, k, rng, centers);
  let { inertia } = assign(X, n, d, k, centers, labels, dist);
  let iterations = 0;
  while (iterations < maxIter) {
    iterations++;
    previous.set(centers);
    updateCenters(X, n, d, k, labels, dist, centers, counts);
    const step = assign(X, n, d, k, centers, labels, dist);
    inertia = step.inertia;
    if (!step.changed) break;
    let shift = 0;
    for (let j = 0; j < k * d; j++) {
      const t = centers[j]! - previous[j]!;
      shift += t * t;
    }
    if (shift <= tol) break;
  }
  return { centers, labels, inertia, iterations };
}
