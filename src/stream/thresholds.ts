import type { StreamCalibration, CalibrationContext } from '../calibration/stream-calibration.js';
import type { ThresholdSpec } from '../calibration/rate.js';
import type { StreamConfig } from '../config/types.js';
import { MEASURES, SEVERITIES, type Measure, type Severity } from './view.js';

/** Calibrated thresholds per measure and severity, where the configuration has them (rates or p-values). */
export type CalibratedSpecs = Partial<Record<Measure, Partial<Record<Severity, ThresholdSpec>>>>;

export function calibratedSpecs(config: StreamConfig): CalibratedSpecs {
  return config.calibratedThresholds ?? {};
}

/** Rows a window fit uses, which the null must be computed for. */
export function windowRows(config: StreamConfig): number {
  return Math.min(config.window.size, config.fit.maxSamples);
}

/**
 * Seconds between evaluations of a stream whose data keeps coming: an evaluation waits for a
 * window fit it has not seen, so a refit interval longer than the evaluation interval sets the
 * pace. False alarms per day and the stale-stream rule count evaluations at this cadence.
 */
export function evaluationCadenceSeconds(config: StreamConfig): number {
  return Math.max(config.evaluationIntervalSeconds, config.refitIntervalSeconds);
}

/** What turns a calibrated spec into nats for a window now holding `windowSize` vectors. */
export function calibrationContext(config: StreamConfig, windowSize: number): CalibrationContext {
  return {
    evaluationIntervalSeconds: evaluationCadenceSeconds(config),
    raiseAfter: config.hysteresis.raiseAfter,
    windowRecords: windowRows(config),
    // A window still filling up is noisier than the null's: its thresholds scale up.
    rows: Math.min(windowSize, config.fit.maxSamples),
  };
}

/** Per measure, this severity's threshold in nats: calibrated where configured and the null is in, else as configured. */
export function thresholdsFor(
  sev: Severity,
  config: StreamConfig,
  calibration: StreamCalibration,
  windowSize: number,
): Partial<Record<Measure, number>> {
  const specs = calibratedSpecs(config);
  const calibrated = MEASURES.filter((m) => specs[m]?.[sev] !== undefined);
  const out: Partial<Record<Measure, number>> = {};
  for (const m of MEASURES) {
    const spec = specs[m]?.[sev];
    const t = spec === undefined ? undefined : calibration.thresholdNats(m, spec, calibrationContext(config, windowSize), calibrated.length)?.nats;
    const nats = t ?? config.thresholds[m]?.[sev];
    if (nats !== undefined) out[m] = nats;
  }
  return out;
}

/**
 * A threshold in nats that more than this share of no-drift windows reach is inside the noise
 * of the window fit: with 200 replicates, 10 of them.
 */
const NOISY_SHARE = 0.05;

export interface ThresholdProblem {
  measure: Measure;
  severity: Severity;
  nats: number;
  /** Share of the null's no-drift windows at or above the threshold. */
  noDriftShare?: number;
  /** The warning threshold, where it is above the critical one (`nats`). */
  warningNats?: number;
}

/**
 * What the null says of the thresholds in force, once it is in: thresholds that windows without
 * drift often reach (a fixed size in nats can be, with many fields or a small window), and
 * warnings above criticals (a calibrated warning can land above a fixed critical).
 */
export function thresholdProblems(config: StreamConfig, calibration: StreamCalibration): ThresholdProblem[] {
  const rows = windowRows(config);
  const bySeverity = { warning: thresholdsFor('warning', config, calibration, rows), critical: thresholdsFor('critical', config, calibration, rows) };
  const out: ThresholdProblem[] = [];
  for (const measure of MEASURES) {
    for (const severity of SEVERITIES) {
      const nats = bySeverity[severity][measure];
      const share = nats === undefined ? undefined : calibration.pValue(measure, nats);
      if (nats !== undefined && share !== undefined && share > NOISY_SHARE) out.push({ measure, severity, nats, noDriftShare: share });
    }
    const warning = bySeverity.warning[measure];
    const critical = bySeverity.critical[measure];
    if (warning !== undefined && critical !== undefined && warning > critical) out.push({ measure, severity: 'critical', nats: critical, warningNats: warning });
  }
  return out;
}
