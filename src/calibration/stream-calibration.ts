import type { Gmm } from '../gmm/model.js';
import type { EstimatorSettings } from '../stream/estimate.js';
import type { MixtureSettings, Yield } from '../stream/refit.js';
import { MEASURES, SEVERITIES, type Measure, type Severity } from '../stream/view.js';
import { bootstrapNull, empiricalPValue, nullScale, nullThreshold, quantileSorted, type NullDistribution } from './null.js';
import { levelOf, type ThresholdSpec } from './rate.js';

/** The null's quantiles exported as `klaxon_divergence_null_quantile_nats{level}`: bounded labels. */
export const NULL_QUANTILES = [0.5, 0.95, 0.99] as const;

export type CalibrationStatus = 'none' | 'running' | 'ready' | 'failed';

/** What a stream view shows of its calibration. */
export interface CalibrationView {
  status: CalibrationStatus;
  replicates: number;
  windowSamples: number;
  /** Per measure, the empirical p-value of the latest evaluation; absent until both exist. */
  pValues: Partial<Record<Measure, number>>;
  /** Per measure, the null's 0.5/0.95/0.99 quantiles in nats. */
  quantiles: Partial<Record<Measure, Record<string, number>>>;
  /** Per measure and severity, the nats a calibrated threshold resolved to, and its per-evaluation level. */
  thresholds: Partial<Record<Measure, Partial<Record<Severity, { nats: number; level: number }>>>>;
}

export interface CalibrationContext {
  evaluationIntervalSeconds: number;
  raiseAfter: number;
  /** Records per window, and records between evaluations when known (credit for disjoint windows). */
  windowRecords: number;
  /** Rows the current window fit uses, when fewer than the null's: thresholds scale up (`nullScale`), p-values are withheld. */
  rows?: number;
  recordsPerEvaluation?: number;
}

/**
 * A stream's calibration against its own noise: the reference's bootstrap null, computed in
 * the background in event-loop slices when a reference is set (or adopted from the snapshot
 * that kept it), and what follows from it — p-values, null quantiles, and calibrated
 * thresholds in nats. In River's manner: settings fixed at construction, state reset in one
 * place.
 */
export class StreamCalibration {
  readonly replicates: number;
  private _null: NullDistribution | undefined;
  private _status: CalibrationStatus = 'none';
  /** Bumped on reset, so a bootstrap for a replaced reference never lands. */
  private generation = 0;

  constructor(options: { replicates?: number } = {}) {
    this.replicates = options.replicates ?? 200;
  }

  get null(): NullDistribution | undefined {
    return this._null;
  }

  get status(): CalibrationStatus {
    return this._status;
  }

  /** Adopts a null kept with the reference snapshot: a restart does not redo it. */
  adopt(n: NullDistribution, windowSamples: number): boolean {
    if (n.windowSamples !== windowSamples) return false; // for another window size: redo
    this.generation++;
    this._null = n;
    this._status = 'ready';
    return true;
  }

  /**
   * Bootstraps the null of `reference` for windows of `windowSamples` rows; resolves when
   * done (or superseded by a reset). Never throws: a failure leaves status 'failed' and the
   * stream on its thresholds in nats.
   */
  async start(
    reference: Gmm,
    referenceLogLik: number | undefined,
    s: { windowSamples: number; referenceSamples: number; mixture: MixtureSettings; estimator: EstimatorSettings; seed: string },
    yieldToLoop: Yield,
    /** Where the bootstrap runs (the monitor passes its worker thread's); default here, in slices. */
    bootstrap: typeof bootstrapNull = bootstrapNull,
  ): Promise<NullDistribution | undefined> {
    const generation = ++this.generation;
    this._null = undefined;
    this._status = 'running';
    try {
      const n = await bootstrap(reference, referenceLogLik, { ...s, replicates: this.replicates }, yieldToLoop);
      if (generation !== this.generation) return undefined;
      this._null = n;
      this._status = 'ready';
      return n;
    } catch {
      if (generation === this.generation) this._status = 'failed';
      return undefined;
    }
  }

  reset(): void {
    this.generation++;
    this._null = undefined;
    this._status = 'none';
  }

  /** The empirical p-value against the null (for a window of the null's size). */
  pValue(m: Measure, observed: number): number | undefined {
    return this._null ? empiricalPValue(this._null.values[m], observed) : undefined;
  }

  /**
   * The threshold in nats for a calibrated spec, once the null is in; undefined for a spec in
   * nats (the caller has it) or before the null. The per-evaluation level is split among the
   * calibrated measures of the severity — as many ways as the independent tests they amount
   * to (`effectiveMeasures`) — so that their combined level is the target.
   */
  thresholdNats(m: Measure, spec: ThresholdSpec, ctx: CalibrationContext, measuresSharing = 1): { nats: number; level: number } | undefined {
    if (!this._null) return undefined;
    const level = levelOf(spec, ctx);
    if (level === undefined) return undefined;
    const perMeasure = level / Math.max(1, Math.min(measuresSharing, this._null.effectiveMeasures));
    const scale = ctx.rows === undefined ? 1 : nullScale(this._null, ctx.rows);
    return { nats: nullThreshold(this._null.values[m], perMeasure) * scale, level: perMeasure };
  }

  view(
    last: Partial<Record<Measure, number>> | undefined,
    specs: Partial<Record<Measure, Partial<Record<Severity, ThresholdSpec>>>>,
    ctx: CalibrationContext,
  ): CalibrationView {
    const n = this._null;
    const out: CalibrationView = {
      status: this._status,
      replicates: n?.replicates ?? 0,
      windowSamples: n?.windowSamples ?? ctx.windowRecords,
      pValues: {},
      quantiles: {},
      thresholds: {},
    };
    if (!n) return out;
    const full = ctx.rows === undefined || ctx.rows >= n.windowSamples;
    for (const m of MEASURES) {
      const v = last?.[m];
      if (v !== undefined && full) out.pValues[m] = empiricalPValue(n.values[m], v);
      out.quantiles[m] = Object.fromEntries(NULL_QUANTILES.map((q) => [String(q), quantileSorted(n.values[m], q)]));
    }
    for (const sev of SEVERITIES) {
      const calibrated = MEASURES.filter((m) => { const s = specs[m]?.[sev]; return s !== undefined && levelOf(s, ctx) !== undefined; });
      for (const m of calibrated) {
        const t = this.thresholdNats(m, specs[m]![sev]!, ctx, calibrated.length);
        if (t) (out.thresholds[m] ??= {})[sev] = t;
      }
    }
    return out;
  }
}
