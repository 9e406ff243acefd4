import type { Measure, Severity } from '../stream/view.js';
import type { FitConfig } from './types.js';

/**
 * Built-in defaults, chosen so that a stream needs only a name and its fields.
 *
 * Thresholds are in nats. For small changes JS ≈ KL/4 (both are ≈ Fisher-metric distances,
 * with factors 1/2 and 1/8), so the KL and JS defaults describe the same amount of drift: a
 * mean shift of about 0.6 standard deviations (KL = δ²/2 ≈ 0.2, JS ≈ 0.05) warns, about 0.9
 * (KL ≈ 0.4, JS ≈ 0.1) is critical. They sit well above the no-drift noise of two fits on a
 * few thousand samples each (≈ parameters / samples, a few hundredths of a nat).
 */
export const DEFAULT_THRESHOLDS: Record<Measure, Record<Severity, number>> = {
  kl_ref_win: { warning: 0.2, critical: 0.4 },
  kl_win_ref: { warning: 0.2, critical: 0.4 },
  js: { warning: 0.05, critical: 0.1 },
};

/**
 * Where a stream configures nothing for the JS warning, it is calibrated against the stream's
 * own no-drift null: one false warning per 30 days per stream ("this moved, beyond the
 * noise"). The nats above apply until the null is computed (seconds after the reference is
 * set). Critical stays a size in nats ("this moved a lot"): a calibrated critical would fire
 * on any drift the warning is sure of, however small.
 */
export const DEFAULT_CALIBRATED_THRESHOLDS: Partial<Record<Measure, Partial<Record<Severity, { meanDaysBetweenFalseAlarms: number }>>>> = {
  js: { warning: { meanDaysBetweenFalseAlarms: 30 } },
};

export const DEFAULT_STREAM = {
  components: { min: 1, max: 5 },
  covarianceType: 'full',
  windowSize: 2000,
  evaluationIntervalSeconds: 10,
  hysteresis: { raiseAfter: 3, clearAfter: 3 },
  fit: { nInit: 3, maxIter: 100, tol: 1e-3, regCovar: 1e-6, maxSamples: 5000 } satisfies FitConfig,
} as const;

/** 200 samples, or 10% of a large window, but never more than the window holds. */
export function defaultMinSamples(windowSize: number): number {
  return Math.min(windowSize, Math.max(200, Math.ceil(0.1 * windowSize)));
}

export const DEFAULT_DEMO = { seed: 'klaxon', rate: 200, driftAfterSeconds: 60, malformedFraction: 0.002 } as const;
export const DEFAULT_HTTP = { host: '0.0.0.0', port: 9464, apiTokenEnv: 'KLAXON_API_TOKEN' } as const;
export const DEFAULT_STATE_DIR = '.klaxon-state';

/** JS never exceeds ln 2; a threshold above it could never fire. */
export const JS_MAX = Math.LN2;
