import type { CalibrationView } from '../calibration/stream-calibration.js';
import type { Move } from '../calibration/what-moved.js';
import type { ThresholdProblem } from './thresholds.js';
import type { GmmJson } from '../gmm/json.js';

/**
 * What the outside world (metrics, HTTP, status page) may read of the monitor. The stream
 * layer implements it; `metrics/` and `server/` only ever see these read-only views.
 */

export const MEASURES = ['kl_ref_win', 'kl_win_ref', 'js'] as const;
export type Measure = (typeof MEASURES)[number];

export const SEVERITIES = ['warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One divergence estimate in nats, with its standard error and the estimator that made it. */
export interface Estimate {
  value: number;
  stderr: number;
  method: string;
}

export type StreamPhase =
  /** Collecting the first records that will become the reference. */
  | 'collecting_reference'
  /** Reference set; the window has fewer than the minimum samples. */
  | 'warming_window'
  /** Evaluated at least once; divergences are meaningful. */
  | 'ready';

export interface Evaluation {
  timestampMs: number;
  divergences: Record<Measure, Estimate>;
}

export interface StreamView {
  name: string;
  topic: string | undefined;
  fields: string[];
  dimension: number;
  phase: StreamPhase;
  /** True once the stream has a reference and an evaluation; until then nothing is exported but this. */
  ready: boolean;
  windowSamples: number;
  referenceSamples: number;
  recordsTotal: number;
  /** Seconds between evaluations while data comes (the refit interval if longer: see evaluationCadenceSeconds). */
  evaluationIntervalSeconds: number;
  lastEvaluation: Evaluation | undefined;
  /**
   * When the scheduler last found the window changed (ms since the epoch, to its tick); an
   * evaluation before that has not seen the window as it is. Absent from views that know none.
   */
  windowChangedMs?: number | undefined;
  /** Thresholds in nats per measure; a measure without a threshold is absent. */
  thresholds: Partial<Record<Measure, Partial<Record<Severity, number>>>>;
  /** Current alert state per severity, after hysteresis; false while the stream is muted. */
  alert: Record<Severity, boolean>;
  /**
   * An operator muted the stream: it is still evaluated and its divergences exported, but its
   * alerts are held off until `mutedUntilMs`. Absent (as false) from views that know no mutes.
   */
  muted?: boolean;
  /** When the mute ends, in ms since the epoch; undefined when not muted. */
  mutedUntilMs?: number | undefined;
  /** When the current reference was set (fitted, loaded or re-baselined), in ms since the epoch; undefined without one. */
  referenceTimestampMs?: number | undefined;
  reference: GmmJson | undefined;
  window: GmmJson | undefined;
  /** Recent evaluations, oldest first, bounded in length. */
  history: Evaluation[];
  /**
   * The stream against its own no-drift noise: the bootstrap null's status, p-values of the
   * last evaluation, null quantiles, calibrated thresholds. Absent from views that know none.
   */
  calibration?: CalibrationView;
  /** Which components account for the divergence, largest first; absent before a window mixture. */
  whatMoved?: Move[];
  /**
   * Thresholds the null says would page without drift (inside the fit's noise, or a warning
   * above the critical); absent where there are none, or no null yet.
   */
  thresholdProblems?: ThresholdProblem[];
}

export interface RejectCount {
  source: string;
  reason: string;
  count: number;
}

export interface MonitorView {
  streams(): StreamView[];
  stream(name: string): StreamView | undefined;
  rejects(): RejectCount[];
  /** Source connected and every stream initialised. */
  isReady(): boolean;
}

/** Timings the monitor reports as they happen, for the duration histograms. */
export interface MonitorObserver {
  refitSeconds(seconds: number): void;
  evaluationSeconds(seconds: number): void;
}
