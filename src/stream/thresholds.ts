import type { StreamCalibration, CalibrationContext } from '../calibration/stream-calibration.js';
import type { ThresholdSpec } from '../calibration/rate.js';
import type { StreamConfig } from '../config/types.js';
import { MEASURES, type Measure, type Severity } from './view.js';

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
