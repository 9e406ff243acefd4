import type { Gmm } from '../gmm/model.js';
import { meanLogLikelihood } from '../gmm/logpdf.js';
import { sample } from '../gmm/sample.js';
import { createRng } from '../math/rng.js';
import { symmetricEigen } from '../math/symmetric-eigen.js';
import { estimate, isUsable, type EstimatorSettings } from '../stream/estimate.js';
import { WindowFitter, type MixtureSettings, type Yield } from '../stream/refit.js';
import { MEASURES, type Measure } from '../stream/view.js';
import { fitPredictiveGamma, predictiveSurvival, predictiveUpperQuantile } from './predictive.js';

/**
 * The no-drift distribution of each divergence, for one reference and window size: what the
 * monitor would measure if the window's data came from the reference itself. A window
 * mixture fitted on W samples is never exactly the reference, so this is never zero, and how
 * far from zero depends on W, K, d and the reference: klaxon measures it rather than guess.
 *
 * Estimated by parametric bootstrap: B times, refit the reference to as many draws of itself
 * as it was fitted on (its own estimation error is part of every live divergence), draw W
 * samples from the reference, fit them as the live path fits a window (the same mixture
 * settings, warm-started from the reference as the first window fit is), and estimate the
 * three divergences between the two as the live path does.
 */
export interface NullDistribution {
  /** Usable replicates (B); each measure has B values, sorted ascending. */
  replicates: number;
  /** Samples per replicate: the rows a live window fit uses. */
  windowSamples: number;
  /** Rows each replicate's reference was refitted on; 0 when the reference was taken as exact. */
  referenceSamples: number;
  values: Record<Measure, Float64Array>;
  /**
   * How many independent tests the three measures amount to under no drift (1 to 3): they
   * rise and fall together, so splitting a level three ways would be needlessly strict.
   * Nyholt's (2004) M_eff = 1 + (M − 1)(1 − Var(λ)/M) from the eigenvalues λ of the
   * replicates' rank-correlation matrix.
   */
  effectiveMeasures: number;
}

export interface NullSettings {
  /** B; 100–200 resolve p-values to 1% and, through the gamma tail, thresholds far beyond. */
  replicates: number;
  windowSamples: number;
  /**
   * Rows the reference itself was fitted on. A fitted reference is off by its own estimation
   * error, which the live divergence includes: each replicate then refits a reference to this
   * many reference draws first, and measures against it. 0 or absent: the reference is
   * taken as exact (a model file).
   */
  referenceSamples?: number;
  mixture: MixtureSettings;
  estimator: EstimatorSettings;
  seed: string;
}

// ---------------------------------------------------------------- bootstrap

/** One replicate: W reference draws, fitted and measured as a live window is; undefined if a step fails. */
async function replicate(
  reference: Gmm,
  referenceLogLik: number | undefined,
  s: NullSettings,
  b: number,
  yieldToLoop: Yield,
): Promise<Record<Measure, number> | undefined> {
  const W = s.windowSamples;
  const d = reference.d;
  const rng = createRng(`${s.seed}:draw:${b}`);
  let ref = reference;
  let refLevel = referenceLogLik;
  const N = s.referenceSamples ?? 0;
  if (N > 0) {
    // The reference as it might have come out of its own data: refitted to N draws of itself
    // (warm-started, so it lands on the same solution rather than another local optimum).
    const R = sample(reference, N, rng).X;
    const refFitter = new WindowFitter(s.mixture);
    refFitter.startFrom(reference, meanLogLikelihood(reference, R, N));
    try {
      const r = await refFitter.refit(R, N, d, `${s.seed}:ref:${b}`, yieldToLoop);
      ref = r.model;
      refLevel = r.meanLogLik;
    } catch {
      return undefined;
    }
    await yieldToLoop();
  }
  const { X } = sample(reference, W, rng);
  const fitter = new WindowFitter(s.mixture);
  // The live path warm-starts the first window fit from the reference, held to the level the
  // reference reached on its own data; without that level, its level on these draws.
  fitter.startFrom(ref, refLevel ?? meanLogLikelihood(ref, X, W));
  let window: Gmm;
  try {
    window = (await fitter.refit(X, W, d, `${s.seed}:fit:${b}`, yieldToLoop)).model;
  } catch {
    return undefined;
  }
  const out = {} as Record<Measure, number>;
  for (const m of MEASURES) {
    await yieldToLoop();
    try {
      const e = estimate(m, ref, window, `${s.seed}:${b}:${m}`, s.estimator);
      if (!isUsable(e) || !Number.isFinite(e.value)) return undefined;
      out[m] = e.value;
    } catch {
      return undefined;
    }
  }
  return out;
}

const noYield: Yield = () => Promise.resolve();

/**
 * The null distribution of `reference` for windows of `s.windowSamples`, yielding to the event
 * loop between fits and estimates so that ingestion never stalls behind it. Seeded: the same
 * inputs give the same null. `onReplicate(done, total)` reports progress.
 */
export async function bootstrapNull(
  reference: Gmm,
  referenceLogLik: number | undefined,
  s: NullSettings,
  yieldToLoop: Yield = noYield,
  onReplicate?: (done: number, total: number) => void,
): Promise<NullDistribution> {
  if (!(Number.isInteger(s.replicates) && s.replicates >= 10)) throw new RangeError(`replicates must be an integer ≥ 10, got ${s.replicates}`);
  const cols = Object.fromEntries(MEASURES.map((m) => [m, [] as number[]])) as Record<Measure, number[]>;
  let failures = 0;
  for (let b = 0; b < s.replicates; b++) {
    const r = await replicate(reference, referenceLogLik, s, b, yieldToLoop);
    if (r === undefined) failures++;
    else for (const m of MEASURES) cols[m].push(r[m]);
    onReplicate?.(b + 1, s.replicates);
    await yieldToLoop();
  }
  const B = s.replicates - failures;
  if (B < Math.max(10, s.replicates / 2)) throw new Error(`null bootstrap: ${failures} of ${s.replicates} replicates failed to fit`);
  const values = Object.fromEntries(MEASURES.map((m) => [m, Float64Array.from(cols[m]).sort()])) as Record<Measure, Float64Array>;
  return { replicates: B, windowSamples: s.windowSamples, referenceSamples: s.referenceSamples ?? 0, values, effectiveMeasures: effectiveTests(MEASURES.map((m) => cols[m])) };
}

function ranks(x: number[]): Float64Array {
  const idx = x.map((_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const r = new Float64Array(x.length);
  idx.forEach((i, k) => (r[i] = k));
  return r;
}

/** Nyholt's effective number of tests among the columns, from their Spearman correlations. */
export function effectiveTests(columns: number[][]): number {
  const M = columns.length;
  const n = columns[0]?.length ?? 0;
  if (M < 2 || n < 3) return M;
  const R = columns.map((c) => {
    const r = ranks(c);
    const mean = (n - 1) / 2;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (r[i]! - mean) ** 2;
    return r.map((v) => (v - mean) / Math.sqrt(ss));
  });
  const C = new Float64Array(M * M);
  for (let a = 0; a < M; a++) {
    for (let b = 0; b < M; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += R[a]![i]! * R[b]![i]!;
      C[a * M + b] = s;
    }
  }
  const lambda = symmetricEigen(C, M).values;
  let mean = 0;
  for (const l of lambda) mean += l / M;
  let v = 0;
  for (const l of lambda) v += (l - mean) ** 2 / (M - 1);
  return Math.min(M, Math.max(1, 1 + (M - 1) * (1 - v / M)));
}

// ---------------------------------------------------------------- reading the null

/**
 * The empirical p-value (1 + #{null ≥ observed}) / (B + 1): never 0, exact in level for a
 * null of B exchangeable replicates (Davison & Hinkley 1997, §4.2).
 *
 * @example
 * empiricalPValue(Float64Array.of(1, 2, 3, 4), 2.5) // (1 + 2) / 5 = 0.6
 */
export function empiricalPValue(nullSorted: Float64Array, observed: number): number {
  const B = nullSorted.length;
  if (Number.isNaN(observed)) return NaN;
  // First index with value ≥ observed.
  let lo = 0;
  let hi = B;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (nullSorted[mid]! < observed) lo = mid + 1;
    else hi = mid;
  }
  return (1 + B - lo) / (B + 1);
}

/** The q-quantile of a sorted sample, linearly interpolated (numpy's default). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * Math.min(1, Math.max(0, q));
  const i = Math.floor(h);
  const lo = sorted[i]!;
  const hi = sorted[Math.min(n - 1, i + 1)]!;
  return lo + (h - i) * (hi - lo);
}

/** Below this many expected exceedances among the replicates, the empirical tail is too thin to read. */
const MIN_TAIL_COUNT = 10;

/**
 * The value a measure exceeds with probability `alpha` under no drift: the threshold in nats
 * for a per-evaluation false-alarm level `alpha`. Read off the replicates where they resolve
 * it (α·B ≥ 10); beyond, from a gamma fitted to them by moments, predictively: the tail of a
 * new draw allowing for the noise of the B replicates' mean and shape (predictive.ts; a
 * plug-in gamma from 200 replicates is exceeded 1.1–2.9× as often as asked, BENCHMARKS,
 * tail). Never below the largest replicate when α ≤ 1/(B + 1) (B draws have not gone past a
 * quantile that far out). `nullSorted` must not change afterwards: tail answers are remembered
 * per array.
 */
export function nullThreshold(nullSorted: Float64Array, alpha: number): number {
  const B = nullSorted.length;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie in (0, 1), got ${alpha}`);
  if (alpha * B >= MIN_TAIL_COUNT) return quantileSorted(nullSorted, 1 - alpha);
  let known = tailThresholds.get(nullSorted);
  if (known === undefined) tailThresholds.set(nullSorted, (known = new Map()));
  let t = known.get(alpha);
  if (t === undefined) {
    const g = fitPredictiveGamma(nullSorted);
    const max = nullSorted[B - 1] ?? NaN;
    t = g === undefined ? max : predictiveUpperQuantile(g, alpha);
    if (alpha <= 1 / (B + 1)) t = Math.max(t, max);
    known.set(alpha, t);
  }
  return t;
}

/**
 * Tail thresholds already computed, per null (its sorted replicates, never changed once made)
 * and level: a predictive quantile takes ~0.1 ms of bisection over incomplete betas, and every
 * evaluation asks again for each stream, measure and severity.
 */
const tailThresholds = new WeakMap<Float64Array, Map<number, number>>();

/**
 * A p-value that reaches below 1/(B + 1), the counterpart of `nullThreshold`: for α·B < 10,
 * tailPValue(x) < α exactly when x > nullThreshold(α). Where the tail model gives less than
 * 10/B, its p-value (not below 1/(B + 1) up to the largest replicate, as the threshold is
 * floored there); else the empirical one, not below 10/B. For ranking and thresholds; the
 * exported metric is the empirical one.
 */
export function tailPValue(nullSorted: Float64Array, observed: number): number {
  const B = nullSorted.length;
  const p = empiricalPValue(nullSorted, observed);
  const g = fitPredictiveGamma(nullSorted);
  if (g === undefined || Number.isNaN(observed)) return p;
  let q = predictiveSurvival(g, observed);
  if (observed <= nullSorted[B - 1]!) q = Math.max(q, 1 / (B + 1));
  return q * B < MIN_TAIL_COUNT ? q : Math.max(p, MIN_TAIL_COUNT / B);
}

/**
 * How much larger the no-drift divergences are for a window fitted on `rows` < W rows: to
 * first order a divergence between two fits is a quadratic form in their parameter errors,
 * whose variance goes as 1/rows + 1/N (N the reference's rows), so the null scales by
 * (1/rows + 1/N) / (1/W + 1/N). For a window still filling up, or a time window holding less
 * than its capacity.
 */
export function nullScale(n: NullDistribution, rows: number): number {
  if (!(rows > 0) || rows >= n.windowSamples) return 1;
  const inv = (x: number): number => (x > 0 ? 1 / x : 0);
  return (1 / rows + inv(n.referenceSamples)) / (1 / n.windowSamples + inv(n.referenceSamples));
}

// ---------------------------------------------------------------- JSON

export interface NullJson {
  replicates: number;
  windowSamples: number;
  referenceSamples?: number;
  effectiveMeasures: number;
  values: Record<Measure, number[]>;
}

export function nullToJson(n: NullDistribution): NullJson {
  return {
    replicates: n.replicates,
    windowSamples: n.windowSamples,
    referenceSamples: n.referenceSamples,
    effectiveMeasures: n.effectiveMeasures,
    values: Object.fromEntries(MEASURES.map((m) => [m, Array.from(n.values[m])])) as Record<Measure, number[]>,
  };
}

/** The null from its JSON; undefined when it is not one (an older snapshot, say). */
export function nullFromJson(json: unknown): NullDistribution | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const raw = json as Partial<NullJson>;
  const B = raw.replicates;
  if (!Number.isInteger(B) || !Number.isInteger(raw.windowSamples) || typeof raw.values !== 'object' || raw.values === null) return undefined;
  const values = {} as Record<Measure, Float64Array>;
  for (const m of MEASURES) {
    const col = (raw.values as Record<string, unknown>)[m];
    if (!Array.isArray(col) || col.length !== B || !col.every((v) => typeof v === 'number' && Number.isFinite(v))) return undefined;
    values[m] = Float64Array.from(col as number[]).sort();
  }
  const m = Number(raw.effectiveMeasures);
  const N = Number(raw.referenceSamples);
  return { replicates: B!, windowSamples: raw.windowSamples!, referenceSamples: Number.isInteger(N) && N > 0 ? N : 0, values, effectiveMeasures: m >= 1 && m <= MEASURES.length ? m : MEASURES.length };
}
