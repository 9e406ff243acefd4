import { DEFAULT_EVALUATE, draws, trueModel } from '../src/calibration/evaluate.js';
import { fitGammaMoments, gammaUpperQuantile } from '../src/calibration/gamma.js';
import { bootstrapNull, nullThreshold, quantileSorted } from '../src/calibration/null.js';
import { fitPredictiveGamma, logShapeSd, predictiveUpperQuantile } from '../src/calibration/predictive.js';
import { median } from '../src/math/median.js';
import { createRng } from '../src/math/rng.js';
import { fitFresh } from '../src/stream/refit.js';
import { MEASURES } from '../src/stream/view.js';

/**
 * How far a calibrated threshold can be trusted in the tail. A stream's null has B = 200
 * replicates; beyond α·B = 10 its threshold comes from a gamma fitted by moments, taken
 * predictively (`nullThreshold`, src/calibration/predictive.ts), and the default JS warning (one false alarm per 30 days) asks for
 * α ≈ 4·10⁻⁶, which no run of `evaluate` can check. Here the bootstrap world is taken as the
 * truth: the same bootstrap is run for a pool of many replicates (the reference and settings
 * of `klaxon evaluate`), and thresholds computed from 200 of them at a time are judged by
 * the share of the pool that exceeds them. That isolates the tail model and B = 200's noise
 * from the bootstrap's own mismatch with the live reference (see BENCHMARKS, evaluate).
 * Beside `nullThreshold` (x̄ times an F(2k, 2Bk) quantile, averaged over the moment shape's
 * noise), on the same draws: the plug-in gamma it replaced (the gamma matched to the
 * replicates' mean and variance, its quantile read as if exact); the predictive rule without
 * the shape's allowance; and an exponential candidate: above the replicates' 80% quantile u,
 * an exponential tail whose scale is the mean excess over u (peaks over a threshold, the
 * generalised Pareto's shape fixed at 0). "On the pool": each tail model fitted to the whole
 * pool, its error without B = 200's noise.
 */

const B = 200;
const SUBSETS = 400;
const ALPHAS = [0.01, 1e-3, 1e-4];
type Rule = 'plug-in gamma (before)' | 'exponential (candidate)' | 'predictive, scale only' | 'predictive (in use)';

/** The candidate's tail: P(X > x) = share·exp(−(x − u)/scale) above the 80% quantile u. */
function exponentialTail(sorted: Float64Array): { u: number; share: number; scale: number } {
  const u = quantileSorted(sorted, 0.8);
  let n = 0;
  let excess = 0;
  for (let i = sorted.length - 1; i >= 0 && sorted[i]! > u; i--) {
    n++;
    excess += sorted[i]! - u;
  }
  return { u, share: n / sorted.length, scale: excess / n };
}

function exponentialQuantile(sorted: Float64Array, alpha: number): number {
  const t = exponentialTail(sorted);
  return t.u + t.scale * Math.log(t.share / alpha);
}

/** The candidate as `nullThreshold` would use it: the replicates where α·B ≥ 10, the tail beyond. */
function exponentialThreshold(sorted: Float64Array, alpha: number): number {
  if (alpha * sorted.length >= 10) return quantileSorted(sorted, 1 - alpha);
  const t = exponentialQuantile(sorted, alpha);
  return alpha < 1 / (sorted.length + 1) ? Math.max(t, sorted[sorted.length - 1]!) : t;
}

/** The plug-in gamma `nullThreshold` used before the predictive one. */
function plugInThreshold(sorted: Float64Array, alpha: number): number {
  if (alpha * sorted.length >= 10) return quantileSorted(sorted, 1 - alpha);
  const g = fitGammaMoments(sorted)!;
  const t = gammaUpperQuantile(g.shape, g.scale, alpha);
  return alpha < 1 / (sorted.length + 1) ? Math.max(t, sorted[sorted.length - 1]!) : t;
}

/** The predictive gamma as `nullThreshold` uses it, but without the shape's allowance. */
function scaleOnlyThreshold(sorted: Float64Array, alpha: number): number {
  if (alpha * sorted.length >= 10) return quantileSorted(sorted, 1 - alpha);
  const t = predictiveUpperQuantile(fitPredictiveGamma(sorted)!, alpha, false);
  return alpha <= 1 / (sorted.length + 1) ? Math.max(t, sorted[sorted.length - 1]!) : t;
}

const RULES: [Rule, (sorted: Float64Array, alpha: number) => number][] = [
  ['plug-in gamma (before)', plugInThreshold],
  ['exponential (candidate)', exponentialThreshold],
  ['predictive, scale only', scaleOnlyThreshold],
  ['predictive (in use)', nullThreshold],
];

/** Each tail model fitted to the whole pool, whatever the pool resolves. */
const POOL_MODEL: Record<Rule, (sorted: Float64Array, alpha: number) => number> = {
  'plug-in gamma (before)': (sorted, alpha) => {
    const g = fitGammaMoments(sorted)!;
    return gammaUpperQuantile(g.shape, g.scale, alpha);
  },
  'exponential (candidate)': exponentialQuantile,
  'predictive, scale only': (sorted, alpha) => predictiveUpperQuantile(fitPredictiveGamma(sorted)!, alpha, false),
  'predictive (in use)': (sorted, alpha) => predictiveUpperQuantile(fitPredictiveGamma(sorted)!, alpha, true),
};

/** Replicates in the pool per d: α is read only where the pool expects ≥ 10 exceedances. */
const POOLS: [number, number][] = [
  [2, 100_000],
  [4, 100_000],
  [8, 20_000],
];

export async function benchNullTail(log: (line: string) => void): Promise<void> {
  const s = DEFAULT_EVALUATE;
  log(`thresholds from ${B} replicates (as a stream's null) judged against a pool of the same bootstrap; ${SUBSETS} draws of ${B} per cell`);
  log('per cell: realised exceedance / α, mean over the draws (median, 90th percentile); then the median threshold over the pool\'s own (1 − α)-quantile: above 1 costs detection');
  log('');
  log(`| d | pool | measure | tail | ${ALPHAS.map((a) => `α = ${a}`).join(' | ')} | on the pool, at the α read |`);
  log(`|---|---:|---|---|${ALPHAS.map(() => '---|').join('')}---|`);
  for (const [d, pool] of POOLS) {
    const t0 = performance.now();
    const T = trueModel(d);
    const rng = createRng(`${s.seed}:d${d}`);
    const refData = draws(T, s.referenceSamples, rng);
    const ref = await fitFresh(refData, s.referenceSamples, d, s.mixture, `${s.seed}:d${d}:reference`);
    const nul = await bootstrapNull(ref.model, ref.meanLogLik, {
      replicates: pool,
      windowSamples: s.windowSamples,
      referenceSamples: s.referenceSamples,
      mixture: s.mixture,
      estimator: s.estimator,
      seed: `${s.seed}:d${d}:null`,
    });
    const shapeNoise: string[] = [];
    for (const m of MEASURES) {
      const sorted = nul.values[m];
      const N = sorted.length;
      const read = ALPHAS.filter((alpha) => N * alpha >= 10);
      for (const [rule, threshold] of RULES) {
        const pick = createRng(`tail:d${d}:${m}`); // the same draws of 200 for every rule
        const cells = read.map((alpha) => {
          const ratios: number[] = [];
          const thresholds: number[] = [];
          for (let r = 0; r < SUBSETS; r++) {
            // A fresh array each draw: nullThreshold remembers its answers per array.
            const sub = new Float64Array(B);
            for (let i = 0; i < B; i++) sub[i] = sorted[Math.floor(pick.uniform() * N)]!;
            sub.sort();
            const t = threshold(sub, alpha);
            thresholds.push(t);
            ratios.push(exceedance(sorted, t) / alpha);
          }
          const mean = ratios.reduce((acc, x) => acc + x, 0) / ratios.length;
          const height = median(thresholds) / quantileSorted(sorted, 1 - alpha);
          return `${mean.toFixed(2)}× (${median(ratios).toFixed(2)}, ${quantileSorted(Float64Array.from(ratios).sort(), 0.9).toFixed(2)}), ${height.toFixed(2)}`;
        });
        const onPool = read.map((alpha) => `${(exceedance(sorted, POOL_MODEL[rule](sorted, alpha)) / alpha).toFixed(2)}×`);
        const unread = ALPHAS.length - read.length;
        log(`| ${d} | ${N.toLocaleString('en-US')} | ${m} | ${rule} | ${[...cells, ...Array<string>(unread).fill('not read')].join(' | ')} | ${onPool.join(', ')} |`);
      }
      shapeNoise.push(`${m} ${shapeSpread(sorted, createRng(`tail:d${d}:${m}`))}`);
    }
    log(`<!-- d = ${d}: K = ${ref.model.k}, ${((performance.now() - t0) / 1000).toFixed(0)} s; shape on the pool, sd of log k̂ over the draws of 200 vs the allowance's: ${shapeNoise.join('; ')} -->`);
  }
}

/** The pool's moment shape, and the sd of log k̂ over draws of B (the first α's draws) against the gamma's delta method. */
function shapeSpread(sorted: Float64Array, pick: ReturnType<typeof createRng>): string {
  const N = sorted.length;
  const logs: number[] = [];
  const sub = new Float64Array(B);
  for (let r = 0; r < SUBSETS; r++) {
    for (let i = 0; i < B; i++) sub[i] = sorted[Math.floor(pick.uniform() * N)]!;
    logs.push(Math.log(fitGammaMoments(sub)!.shape));
  }
  const mean = logs.reduce((acc, x) => acc + x, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((acc, x) => acc + (x - mean) ** 2, 0) / (logs.length - 1));
  const k = fitGammaMoments(sorted)!.shape;
  return `k ${k.toFixed(1)}, ${sd.toFixed(3)} vs ${logShapeSd(k, B).toFixed(3)}`;
}

/** The share of a sorted sample above t. */
function exceedance(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return (sorted.length - lo) / sorted.length;
}
