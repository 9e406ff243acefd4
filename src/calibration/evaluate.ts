import { createGmm, type Gmm } from '../gmm/model.js';
import { sample } from '../gmm/sample.js';
import { createRng, type Rng } from '../math/rng.js';
import { median } from '../math/median.js';
import { estimate, type EstimatorSettings } from '../stream/estimate.js';
import { HysteresisDetector } from '../stream/hysteresis.js';
import { fitFresh, WindowFitter, type MixtureSettings } from '../stream/refit.js';
import { MEASURES, type Measure } from '../stream/view.js';
import { ksBonferroni } from './ks.js';
import { bootstrapNull, nullThreshold, type NullDistribution } from './null.js';
import { perEvaluationLevel } from './rate.js';

/**
 * `klaxon evaluate`: how often klaxon's calibrated alerts fire without drift, and how soon
 * they fire after it, side by side with two baselines on the very same windows — per-feature
 * two-sample Kolmogorov–Smirnov with Bonferroni correction, and a fixed KL threshold.
 *
 * Per dimension d: a true two-mode mixture T; a reference fitted to N_ref draws of T as the
 * live path fits one (so the reference carries its own estimation error, which the bootstrap
 * null does not know about: the honest case); its bootstrap null; then
 * - false alarms: `nullEvaluations` independent windows of W draws of T, each fitted and
 *   measured as live; the per-evaluation rate of each detector at level α, and the raise rate
 *   of a hysteresis alert whose level comes from a false-alarm rate (`rate.ts`);
 * - drift: per scenario, `runs` seeded streams with a full window of T before the onset and
 *   the drifted source after; every `step` records the window is refitted (warm start, as
 *   live) and each detector tested at the same level α; delay = records after the onset.
 */

export interface EvaluateSettings {
  dims: number[];
  windowSamples: number;
  referenceSamples: number;
  replicates: number;
  nullEvaluations: number;
  alpha: number;
  /** Target raises per evaluation for the hysteresis check, and its raiseAfter. */
  rateTarget: number;
  raiseAfter: number;
  /**
   * The live-like check of the rate conversion: one long no-drift stream, evaluated every
   * `overlapStep` records on overlapping windows (warm-chained fits, as live), with the
   * monitor's default hysteresis (`overlapRaiseAfter`) and a target of `overlapRateTarget`
   * false raises per evaluation.
   */
  overlapEvaluations: number;
  overlapStep: number;
  overlapRaiseAfter: number;
  overlapRateTarget: number;
  runs: number;
  step: number;
  horizon: number;
  fixedKlNats: number;
  seed: string;
  mixture: MixtureSettings;
  estimator: EstimatorSettings;
}

export const DEFAULT_EVALUATE: EvaluateSettings = {
  dims: [1, 2, 4, 8],
  windowSamples: 500,
  referenceSamples: 5000,
  replicates: 200,
  nullEvaluations: 1000,
  alpha: 0.01,
  rateTarget: 0.005,
  raiseAfter: 2,
  overlapEvaluations: 1500,
  overlapStep: 100,
  overlapRaiseAfter: 3,
  overlapRateTarget: 0.005,
  runs: 40,
  step: 50,
  horizon: 2000,
  fixedKlNats: 0.2,
  seed: 'evaluate',
  mixture: { components: { min: 2, max: 3 }, covarianceType: 'full', nInit: 1, maxIter: 100, tol: 1e-3, regCovar: 1e-6 },
  estimator: { method: 'auto', targetStderr: 0.005 },
};

export const DETECTORS = ['klaxon', 'ks_bonferroni', 'fixed_kl'] as const;
export type Detector = (typeof DETECTORS)[number];

export const SCENARIOS = ['shift_0.25sd', 'shift_0.5sd', 'shift_1sd', 'variance_x1.5', 'new_mode_10pct', 'weight_change', 'gradual_1sd'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface FalseAlarms {
  evaluations: number;
  /** Per detector: evaluations that fired at level α (fixed_kl: at its nats threshold). */
  fired: Record<Detector, number>;
  /** The binomial 99% interval of the count for a true rate α. */
  interval99: [number, number];
  /** Raises of the rate-configured hysteresis alert (klaxon), and what the target predicts. */
  raises: number;
  raisesExpected: number;
  raisesInterval99: [number, number];
  raiseLevel: number;
  overlapping: {
    evaluations: number;
    level: number;
    /** Evaluations over the level (marginal rate; should be near `level`), and alert raises (should be at most the target). */
    exceedances: number;
    exceedancesInterval99: [number, number];
    raises: number;
    raisesTarget: number;
  };
}

export interface DriftResult {
  scenario: Scenario;
  runs: number;
  /** Per detector: runs detected within the horizon, and the median delay in records of those. */
  detected: Record<Detector, number>;
  medianDelay: Record<Detector, number | undefined>;
}

export interface DimensionResult {
  d: number;
  components: number;
  nullQuantiles: Record<Measure, { q50: number; q95: number; q99: number }>;
  thresholds: Record<Measure, number>;
  effectiveMeasures: number;
  falseAlarms: FalseAlarms;
  drifts: DriftResult[];
  seconds: number;
}

export interface EvaluateResult {
  settings: Omit<EvaluateSettings, 'mixture' | 'estimator'> & { mixture: MixtureSettings; estimator: EstimatorSettings };
  dims: DimensionResult[];
}

// ---------------------------------------------------------------- sources

/** The true source in d dimensions: two modes 3 sd apart along feature 0, weights 0.6/0.4, unit covariance. */
export function trueModel(d: number): Gmm {
  const means = new Float64Array(2 * d);
  means[0] = -1.2;
  means[d] = 1.8;
  return createGmm({ k: 2, d, weights: [0.6, 0.4], means, covariances: identities(2, d, 1), covarianceType: 'full' });
}

function identities(k: number, d: number, v: number): Float64Array {
  const c = new Float64Array(k * d * d);
  for (let j = 0; j < k; j++) for (let a = 0; a < d; a++) c[j * d * d + a * d + a] = v;
  return c;
}

/** The marginal standard deviation of feature 0 under T: 1 within a mode, plus the spread of the modes. */
function sd0(t: Gmm): number {
  let m = 0;
  let s = 0;
  for (let c = 0; c < t.k; c++) m += t.weights[c]! * t.means[c * t.d]!;
  for (let c = 0; c < t.k; c++) s += t.weights[c]! * (t.covariances[c * t.d * t.d]! + (t.means[c * t.d]! - m) ** 2);
  return Math.sqrt(s);
}

function withMeans(t: Gmm, shift: number): Gmm {
  const means = Float64Array.from(t.means);
  for (let c = 0; c < t.k; c++) means[c * t.d] = means[c * t.d]! + shift;
  return createGmm({ k: t.k, d: t.d, weights: t.weights, means, covariances: t.covariances, covarianceType: 'full' });
}

/** The drifted source of a scenario, at `progress` ∈ [0, 1] of a gradual drift (1 for abrupt ones). */
function drifted(t: Gmm, s: Scenario, progress: number): Gmm {
  const d = t.d;
  const sd = sd0(t);
  switch (s) {
    case 'shift_0.25sd':
      return withMeans(t, 0.25 * sd);
    case 'shift_0.5sd':
      return withMeans(t, 0.5 * sd);
    case 'shift_1sd':
      return withMeans(t, sd);
    case 'gradual_1sd':
      return withMeans(t, progress * sd);
    case 'variance_x1.5':
      return createGmm({ k: t.k, d, weights: t.weights, means: t.means, covariances: t.covariances.map((v) => v * 1.5), covarianceType: 'full' });
    case 'weight_change':
      return createGmm({ k: t.k, d, weights: [0.4, 0.6], means: t.means, covariances: t.covariances, covarianceType: 'full' });
    case 'new_mode_10pct': {
      // A third mode between the two, off to the side where d ≥ 2; in 1-D past the right mode.
      const means = new Float64Array(3 * d);
      means.set(t.means);
      if (d === 1) means[2] = 5;
      else {
        means[2 * d] = 0.3;
        means[2 * d + 1] = 3;
      }
      const weights = [0.9 * t.weights[0]!, 0.9 * t.weights[1]!, 0.1];
      return createGmm({ k: 3, d, weights, means, covariances: identities(3, d, 1), covarianceType: 'full' });
    }
  }
}

/** n shuffled draws (sample() groups rows by component; a stream interleaves them). */
export function draws(g: Gmm, n: number, rng: Rng): Float64Array {
  const { X } = sample(g, n, rng);
  const d = g.d;
  const tmp = new Float64Array(d);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    tmp.set(X.subarray(i * d, i * d + d));
    X.copyWithin(i * d, j * d, j * d + d);
    X.set(tmp, j * d);
  }
  return X;
}

// ---------------------------------------------------------------- detectors

interface Context {
  s: EvaluateSettings;
  reference: Gmm;
  refSorted: Float64Array[];
  thresholds: Record<Measure, number>;
}

/** The three detectors' statistics on one window, fitted with `fitter`. */
async function look(ctx: Context, fitter: WindowFitter, X: Float64Array, seed: string): Promise<{ klaxon: boolean; ks: boolean; kl: boolean; klaxonLevel: (alpha: number) => boolean } | undefined> {
  const { s, reference } = ctx;
  const W = s.windowSamples;
  const d = reference.d;
  let window: Gmm;
  try {
    window = (await fitter.refit(X, W, d, seed)).model;
  } catch {
    return undefined;
  }
  const values = {} as Record<Measure, number>;
  for (const m of MEASURES) values[m] = estimate(m, reference, window, `${seed}:${m}`, s.estimator).value;
  const ksP = ksBonferroni(ctx.refSorted, X, W, d);
  return {
    klaxon: MEASURES.some((m) => values[m] >= ctx.thresholds[m]),
    ks: ksP <= s.alpha,
    kl: values.kl_ref_win >= s.fixedKlNats,
    klaxonLevel: (alpha) => MEASURES.some((m) => values[m] >= thresholdCache(ctx, m, alpha)),
  };
}

const cache = new WeakMap<Context, Map<string, number>>();
function thresholdCache(ctx: Context, m: Measure, alpha: number): number {
  let c = cache.get(ctx);
  if (!c) cache.set(ctx, (c = new Map()));
  const key = `${m}:${alpha}`;
  let t = c.get(key);
  if (t === undefined) c.set(key, (t = nullThreshold(ctxNull.get(ctx)!.values[m], alpha / ctxNull.get(ctx)!.effectiveMeasures)));
  return t;
}
const ctxNull = new WeakMap<Context, NullDistribution>();

// ---------------------------------------------------------------- binomial

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i);
  return s;
}

/** The central 99% interval [lo, hi] of Binomial(n, p): P(X < lo) ≤ 0.005 and P(X > hi) ≤ 0.005. */
export function binomialInterval99(n: number, p: number): [number, number] {
  const pmf = (k: number): number => Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
  let lo = 0;
  let cdf = pmf(0);
  while (cdf <= 0.005) cdf += pmf(++lo);
  let hi = lo;
  while (cdf < 0.995) cdf += pmf(++hi);
  return [lo, hi];
}

/** No delay to report when a detector never fired. */
function medianDelay(x: number[]): number | undefined {
  return x.length === 0 ? undefined : median(x);
}

// ---------------------------------------------------------------- the run

export interface Progress {
  (done: number, total: number, what: string): void;
}

/** Units of work, for the progress bar: replicates + null evaluations + drift evaluations. */
export function totalWork(s: EvaluateSettings): number {
  return s.dims.length * (s.replicates + s.nullEvaluations + s.overlapEvaluations + SCENARIOS.length * s.runs * Math.floor(s.horizon / s.step));
}

export async function runEvaluate(s: EvaluateSettings = DEFAULT_EVALUATE, progress: Progress = () => {}): Promise<EvaluateResult> {
  const total = totalWork(s);
  let done = 0;
  const tick = (what: string, n = 1): void => {
    done += n;
    progress(done, total, what);
  };
  // Let a progress bar paint between units of work.
  const breathe = (): Promise<void> => new Promise((r) => setImmediate(r));
  const dims: DimensionResult[] = [];
  for (const d of s.dims) {
    const t0 = performance.now();
    const T = trueModel(d);
    const rng = createRng(`${s.seed}:d${d}`);
    const refData = draws(T, s.referenceSamples, rng);
    const refFit = await fitFresh(refData, s.referenceSamples, d, s.mixture, `${s.seed}:d${d}:reference`);
    const reference = refFit.model;
    const nullDist = await bootstrapNull(
      reference,
      refFit.meanLogLik,
      { replicates: s.replicates, windowSamples: s.windowSamples, referenceSamples: s.referenceSamples, mixture: s.mixture, estimator: s.estimator, seed: `${s.seed}:d${d}:null` },
      breathe,
      () => tick(`d=${d} null`),
    );
    const refSorted: Float64Array[] = [];
    for (let f = 0; f < d; f++) {
      const col = new Float64Array(s.referenceSamples);
      for (let i = 0; i < s.referenceSamples; i++) col[i] = refData[i * d + f]!;
      refSorted.push(col.sort());
    }
    const thresholds = Object.fromEntries(MEASURES.map((m) => [m, nullThreshold(nullDist.values[m], s.alpha / nullDist.effectiveMeasures)])) as Record<Measure, number>;
    const ctx: Context = { s, reference, refSorted, thresholds };
    ctxNull.set(ctx, nullDist);

    // False alarms: independent no-drift windows, each fitted from the reference as the first live fit is.
    const fired: Record<Detector, number> = { klaxon: 0, ks_bonferroni: 0, fixed_kl: 0 };
    const raiseLevel = perEvaluationLevel({
      falseAlarmsPerDay: s.rateTarget,
      evaluationIntervalSeconds: 86_400,
      raiseAfter: s.raiseAfter,
      recordsPerEvaluation: s.windowSamples,
      windowRecords: s.windowSamples,
    });
    const hyst = new HysteresisDetector({ threshold: 0.5, raiseAfter: s.raiseAfter, clearAfter: 1 });
    let raises = 0;
    let evaluations = 0;
    for (let i = 0; i < s.nullEvaluations; i++) {
      const X = draws(T, s.windowSamples, rng);
      const fitter = new WindowFitter(s.mixture);
      fitter.startFrom(reference, refFit.meanLogLik);
      const r = await look(ctx, fitter, X, `${s.seed}:d${d}:noDrift:${i}`);
      tick(`d=${d} no drift`);
      if (r === undefined) continue;
      evaluations++;
      if (r.klaxon) fired.klaxon++;
      if (r.ks) fired.ks_bonferroni++;
      if (r.kl) fired.fixed_kl++;
      const was = hyst.driftDetected;
      hyst.update(r.klaxonLevel(raiseLevel) ? 1 : 0);
      if (hyst.driftDetected && !was) raises++;
      if (i % 20 === 0) await breathe();
    }
    const nRaise = evaluations;
    const raisesExpected = s.rateTarget * nRaise;

    // The rate conversion live-like: overlapping windows, warm-chained fits, default hysteresis.
    const overlapLevel = perEvaluationLevel({
      falseAlarmsPerDay: s.overlapRateTarget,
      evaluationIntervalSeconds: 86_400,
      raiseAfter: s.overlapRaiseAfter,
      recordsPerEvaluation: s.overlapStep,
      windowRecords: s.windowSamples,
    });
    let overlapExceed = 0;
    let overlapRaises = 0;
    let overlapEvals = 0;
    {
      const W = s.windowSamples;
      const orng = createRng(`${s.seed}:d${d}:overlap`);
      let win = draws(T, W, orng);
      const fitter = new WindowFitter(s.mixture);
      fitter.startFrom(reference, refFit.meanLogLik);
      const det = new HysteresisDetector({ threshold: 0.5, raiseAfter: s.overlapRaiseAfter, clearAfter: 3 });
      for (let i = 0; i < s.overlapEvaluations; i++) {
        const fresh = draws(T, s.overlapStep, orng);
        const next = new Float64Array(W * d);
        next.set(win.subarray(s.overlapStep * d));
        next.set(fresh, (W - s.overlapStep) * d);
        win = next;
        const r = await look(ctx, fitter, win, `${s.seed}:d${d}:overlap:${i}`);
        tick(`d=${d} overlapping`);
        if (i % 20 === 0) await breathe();
        if (r === undefined) continue;
        overlapEvals++;
        const over = r.klaxonLevel(overlapLevel);
        if (over) overlapExceed++;
        const was = det.driftDetected;
        det.update(over ? 1 : 0);
        if (det.driftDetected && !was) overlapRaises++;
      }
    }

    // Drifts.
    const steps = Math.floor(s.horizon / s.step);
    const W = s.windowSamples;
    const drifts: DriftResult[] = [];
    for (const scenario of SCENARIOS) {
      const detected: Record<Detector, number> = { klaxon: 0, ks_bonferroni: 0, fixed_kl: 0 };
      const delays: Record<Detector, number[]> = { klaxon: [], ks_bonferroni: [], fixed_kl: [] };
      for (let run = 0; run < s.runs; run++) {
        const rr = createRng(`${s.seed}:d${d}:${scenario}:${run}`);
        const stream = new Float64Array((W + s.horizon) * d);
        stream.set(draws(T, W, rr));
        for (let j = 0; j < steps; j++) {
          const progressOf = Math.min(1, ((j + 0.5) * s.step) / (4 * W)); // gradual: full shift after 4 windows
          stream.set(draws(drifted(T, scenario, progressOf), s.step, rr), (W + j * s.step) * d);
        }
        const fitter = new WindowFitter(s.mixture);
        fitter.startFrom(reference, refFit.meanLogLik);
        const first: Partial<Record<Detector, number>> = {};
        for (let j = 1; j <= steps; j++) {
          const after = j * s.step;
          const X = stream.slice(after * d, (after + W) * d);
          const r = await look(ctx, fitter, X, `${s.seed}:d${d}:${scenario}:${run}:${j}`);
          if (r !== undefined) {
            if (r.klaxon) first.klaxon ??= after;
            if (r.ks) first.ks_bonferroni ??= after;
            if (r.kl) first.fixed_kl ??= after;
          }
          if (DETECTORS.every((k) => first[k] !== undefined)) {
            tick(`d=${d} ${scenario}`, steps - j + 1);
            break;
          }
          tick(`d=${d} ${scenario}`);
          if (j % 10 === 0) await breathe();
        }
        for (const k of DETECTORS) {
          if (first[k] === undefined) continue;
          detected[k]++;
          delays[k].push(first[k]!);
        }
      }
      drifts.push({
        scenario,
        runs: s.runs,
        detected,
        medianDelay: { klaxon: medianDelay(delays.klaxon), ks_bonferroni: medianDelay(delays.ks_bonferroni), fixed_kl: medianDelay(delays.fixed_kl) },
      });
    }
    const q = (m: Measure, p: number): number => {
      const v = nullDist.values[m];
      const h = (v.length - 1) * p;
      const i = Math.floor(h);
      return v[i]! + (h - i) * ((v[Math.min(v.length - 1, i + 1)] ?? v[i]!) - v[i]!);
    };
    dims.push({
      d,
      components: reference.k,
      nullQuantiles: Object.fromEntries(MEASURES.map((m) => [m, { q50: q(m, 0.5), q95: q(m, 0.95), q99: q(m, 0.99) }])) as DimensionResult['nullQuantiles'],
      thresholds,
      effectiveMeasures: nullDist.effectiveMeasures,
      falseAlarms: {
        evaluations,
        fired,
        interval99: binomialInterval99(evaluations, s.alpha),
        raises,
        raisesExpected,
        raisesInterval99: binomialInterval99(nRaise, s.rateTarget),
        raiseLevel,
        overlapping: {
          evaluations: overlapEvals,
          level: overlapLevel,
          exceedances: overlapExceed,
          exceedancesInterval99: binomialInterval99(overlapEvals, overlapLevel),
          raises: overlapRaises,
          raisesTarget: s.overlapRateTarget * overlapEvals,
        },
      },
      drifts,
      seconds: (performance.now() - t0) / 1000,
    });
  }
  const { mixture, estimator, ...rest } = s;
  return { settings: { ...rest, mixture, estimator }, dims };
}

// ---------------------------------------------------------------- the table

function fmtDelay(v: number | undefined): string {
  return v === undefined ? '—' : String(v);
}

/** The result as Markdown tables. */
export function formatEvaluate(r: EvaluateResult): string {
  const s = r.settings;
  const lines: string[] = [];
  lines.push(
    `W=${s.windowSamples} records per window, reference fitted on ${s.referenceSamples}, K ${s.mixture.components.min}–${s.mixture.components.max} (${s.mixture.covarianceType}), ` +
      `null B=${s.replicates}; level α=${s.alpha} per evaluation (klaxon: α/M_eff per measure, M_eff the effective number of measures from the null; KS: Bonferroni over d features); fixed KL(ref‖win) ≥ ${s.fixedKlNats} nats.`,
  );
  lines.push('');
  lines.push('### False alarms without drift (independent windows)');
  lines.push('');
  lines.push('| d | K | M_eff | evaluations | klaxon | KS+Bonferroni | fixed KL | 99% interval for α | hysteresis raises (raiseAfter ' + s.raiseAfter + ', level) | target rate ' + s.rateTarget + '/eval: expected, 99% interval | null JS q50 / q95 / q99 (nats) |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const d of r.dims) {
    const f = d.falseAlarms;
    const pct = (x: number): string => `${x} (${((100 * x) / f.evaluations).toFixed(1)}%)`;
    const nq = d.nullQuantiles.js;
    lines.push(
      `| ${d.d} | ${d.components} | ${d.effectiveMeasures.toFixed(2)} | ${f.evaluations} | ${pct(f.fired.klaxon)} | ${pct(f.fired.ks_bonferroni)} | ${pct(f.fired.fixed_kl)} | [${f.interval99[0]}, ${f.interval99[1]}] | ${f.raises} (α=${f.raiseLevel.toFixed(3)}) | ${f.raisesExpected.toFixed(1)}, [${f.raisesInterval99[0]}, ${f.raisesInterval99[1]}] | ${nq.q50.toFixed(4)} / ${nq.q95.toFixed(4)} / ${nq.q99.toFixed(4)} |`,
    );
  }
  lines.push('');
  lines.push(
    `### The rate conversion on overlapping windows (live-like: an evaluation every ${s.overlapStep} records, W=${s.windowSamples}, warm-chained fits, raiseAfter ${s.overlapRaiseAfter}, target ${s.overlapRateTarget} false raises per evaluation)`,
  );
  lines.push('');
  lines.push('| d | evaluations | per-evaluation level | evaluations over it (99% interval if independent) | raises | target (upper bound) |');
  lines.push('|---|---|---|---|---|---|');
  for (const d of r.dims) {
    const o = d.falseAlarms.overlapping;
    lines.push(
      `| ${d.d} | ${o.evaluations} | ${o.level.toFixed(4)} | ${o.exceedances} ([${o.exceedancesInterval99[0]}, ${o.exceedancesInterval99[1]}]) | ${o.raises} | ≤ ${o.raisesTarget.toFixed(1)} |`,
    );
  }
  lines.push('');
  lines.push(`### Detection: runs detected of ${s.runs} within ${s.horizon} records, median delay in records after onset (evaluated every ${s.step})`);
  lines.push('');
  lines.push('| d | scenario | klaxon | KS+Bonferroni | fixed KL |');
  lines.push('|---|---|---|---|---|');
  for (const d of r.dims) {
    for (const x of d.drifts) {
      const cell = (k: Detector): string => `${x.detected[k]}/${x.runs}, ${fmtDelay(x.medianDelay[k])}`;
      lines.push(`| ${d.d} | ${x.scenario} | ${cell('klaxon')} | ${cell('ks_bonferroni')} | ${cell('fixed_kl')} |`);
    }
  }
  lines.push('');
  lines.push(`Time per dimension: ${r.dims.map((d) => `d=${d.d} ${d.seconds.toFixed(1)} s`).join(', ')}.`);
  return lines.join('\n');
}
