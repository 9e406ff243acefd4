import type { CalibrationView } from '../calibration/stream-calibration.js';
import type { Move } from '../calibration/what-moved.js';
import type { ThresholdProblem } from '../stream/thresholds.js';
import type { GmmJson } from '../gmm/json.js';
import type { Evaluation, Measure, Severity, StreamPhase, StreamView } from '../stream/view.js';

/**
 * The JSON of `GET /api/streams` (an array of these) and `GET /api/streams/{name}`: a copy
 * of the stream view with every non-finite number as `null` (JSON has no NaN or Infinity,
 * and a reader should not have to guess what a silently dropped field meant).
 */
export interface StreamJson {
  name: string;
  topic: string | null;
  fields: string[];
  dimension: number;
  phase: StreamPhase;
  ready: boolean;
  windowSamples: number | null;
  referenceSamples: number | null;
  recordsTotal: number | null;
  evaluationIntervalSeconds: number | null;
  lastEvaluation: EvaluationJson | null;
  /** When the window was last seen to change (ms since the epoch); an evaluation before it is behind. */
  windowChangedMs: number | null;
  thresholds: Partial<Record<Measure, Partial<Record<Severity, number | null>>>>;
  alert: Record<Severity, boolean>;
  muted: boolean;
  mutedUntilMs: number | null;
  referenceTimestampMs: number | null;
  reference: GmmJson | null;
  window: GmmJson | null;
  history: EvaluationJson[];
  /** Present where the monitor calibrates: null status, p-values, null quantiles, calibrated thresholds (non-finite as null). */
  calibration?: CalibrationView;
  /** Present once there is a window mixture: which components account for the divergence, largest first. */
  whatMoved?: Move[];
  /** Present where the null says a threshold would page without drift (inside the noise, or a warning above the critical). */
  thresholdProblems?: ThresholdProblem[];
}

export interface EstimateJson {
  value: number | null;
  stderr: number | null;
  method: string;
}

export interface EvaluationJson {
  timestampMs: number | null;
  divergences: Partial<Record<Measure, EstimateJson>>;
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** A copy of plain data with every non-finite number as null. */
function finiteDeep<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? null : x))) as T;
}

function evaluationJson(e: Evaluation): EvaluationJson {
  const divergences: EvaluationJson['divergences'] = {};
  for (const [measure, est] of Object.entries(e.divergences) as [Measure, Evaluation['divergences'][Measure]][]) {
    divergences[measure] = { value: finite(est.value), stderr: finite(est.stderr), method: est.method };
  }
  return { timestampMs: finite(e.timestampMs), divergences };
}

export function streamJson(s: StreamView): StreamJson {
  const thresholds: StreamJson['thresholds'] = {};
  for (const [measure, bySeverity] of Object.entries(s.thresholds) as [Measure, Partial<Record<Severity, number>>][]) {
    const t: Partial<Record<Severity, number | null>> = {};
    for (const [severity, v] of Object.entries(bySeverity) as [Severity, number][]) t[severity] = finite(v);
    thresholds[measure] = t;
  }
  return {
    name: s.name,
    topic: s.topic ?? null,
    fields: [...s.fields],
    dimension: s.dimension,
    phase: s.phase,
    ready: s.ready,
    windowSamples: finite(s.windowSamples),
    referenceSamples: finite(s.referenceSamples),
    recordsTotal: finite(s.recordsTotal),
    evaluationIntervalSeconds: finite(s.evaluationIntervalSeconds),
    lastEvaluation: s.lastEvaluation ? evaluationJson(s.lastEvaluation) : null,
    windowChangedMs: s.windowChangedMs === undefined ? null : finite(s.windowChangedMs),
    thresholds,
    alert: { warning: s.alert.warning, critical: s.alert.critical },
    muted: s.muted === true,
    mutedUntilMs: s.muted === true && s.mutedUntilMs !== undefined ? finite(s.mutedUntilMs) : null,
    referenceTimestampMs: s.referenceTimestampMs === undefined ? null : finite(s.referenceTimestampMs),
    reference: s.reference ?? null,
    window: s.window ?? null,
    history: s.history.map(evaluationJson),
    ...(s.calibration === undefined ? {} : { calibration: finiteDeep(s.calibration) }),
    ...(s.whatMoved === undefined ? {} : { whatMoved: finiteDeep(s.whatMoved) }),
    ...(s.thresholdProblems === undefined ? {} : { thresholdProblems: finiteDeep(s.thresholdProblems) }),
  };
}
