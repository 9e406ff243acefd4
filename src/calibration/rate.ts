/**
 * From a false-alarm rate people can reason about ("one false alarm per 30 days") to the
 * per-evaluation level each evaluation's test runs at.
 *
 * The monitor looks many times: every evaluation interval, on windows that overlap. An alert
 * is raised after `raiseAfter` consecutive evaluations over the threshold, so every false
 * raise begins with an evaluation over it, and the raise rate per evaluation is at most the
 * per-evaluation level α. That bound holds however strongly overlapping windows correlate
 * consecutive evaluations, which is why it is the default. Hysteresis earns more only where
 * it provably can: evaluations m = ⌈W/s⌉ apart (W the window, s records between evaluations)
 * share no records, so a run of r exceedances contains 1 + ⌊(r − 1)/m⌋ evaluations on
 * disjoint, independent windows, and under no drift its probability is at most
 * α^(1 + ⌊(r − 1)/m⌋). Solving that bound for the target rate gives α.
 *
 * @example
 * perEvaluationLevel({ falseAlarmsPerDay: 1, evaluationIntervalSeconds: 60 }) // 1/1440
 */

export const SECONDS_PER_DAY = 86_400;

export interface RateTarget {
  /** Expected false raises per day, per stream and severity. */
  falseAlarmsPerDay: number;
  evaluationIntervalSeconds: number;
  /** Consecutive evaluations over the threshold that raise the alert. Default 1. */
  raiseAfter?: number;
  /** Records between evaluations and records per window, when known: the credit for disjoint windows. */
  recordsPerEvaluation?: number;
  windowRecords?: number;
}

/** How many evaluations of a run of `raiseAfter` lie on pairwise disjoint windows. */
export function independentLooks(raiseAfter: number, recordsPerEvaluation?: number, windowRecords?: number): number {
  if (!(recordsPerEvaluation! > 0 && windowRecords! > 0)) return 1;
  const m = Math.ceil(windowRecords! / recordsPerEvaluation!);
  return 1 + Math.floor((Math.max(1, raiseAfter) - 1) / m);
}

/** The per-evaluation level α for a target false-alarm rate; in (0, 0.5]. */
export function perEvaluationLevel(t: RateTarget): number {
  if (!(t.falseAlarmsPerDay > 0)) throw new RangeError(`falseAlarmsPerDay must be positive, got ${t.falseAlarmsPerDay}`);
  if (!(t.evaluationIntervalSeconds > 0)) throw new RangeError(`evaluationIntervalSeconds must be positive, got ${t.evaluationIntervalSeconds}`);
  const perEvaluation = Math.min(1, (t.falseAlarmsPerDay * t.evaluationIntervalSeconds) / SECONDS_PER_DAY);
  const looks = independentLooks(t.raiseAfter ?? 1, t.recordsPerEvaluation, t.windowRecords);
  return Math.min(0.5, perEvaluation ** (1 / looks));
}

/**
 * A threshold as configured: nats, a per-evaluation p-value level, or a false-alarm rate
 * (per day, or as the mean time between false alarms).
 */
export type ThresholdSpec =
  | number
  | { nats: number }
  | { pvalue: number }
  | { falseAlarmsPerDay: number }
  | { meanDaysBetweenFalseAlarms: number };

/** The per-evaluation level a calibrated spec asks for; undefined for a threshold in nats. */
export function levelOf(spec: ThresholdSpec, ctx: Omit<RateTarget, 'falseAlarmsPerDay'>): number | undefined {
  if (typeof spec === 'number' || 'nats' in spec) return undefined;
  if ('pvalue' in spec) return spec.pvalue;
  const perDay = 'falseAlarmsPerDay' in spec ? spec.falseAlarmsPerDay : 1 / spec.meanDaysBetweenFalseAlarms;
  return perEvaluationLevel({ ...ctx, falseAlarmsPerDay: perDay });
}

/** The default for a stream with no thresholds: calibrated, one false warning per 30 days, one false critical per year. */
export const DEFAULT_CALIBRATED: Record<'warning' | 'critical', ThresholdSpec> = {
  warning: { meanDaysBetweenFalseAlarms: 30 },
  critical: { meanDaysBetweenFalseAlarms: 365 },
};
