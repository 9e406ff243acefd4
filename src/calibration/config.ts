import { z } from 'zod';

/**
 * A threshold as configured, for `config/schema.ts` to accept beside a plain number of nats:
 *
 *   thresholds:
 *     js:
 *       warning: { falseAlarmsPerDay: 1 }          # calibrated against the stream's own null
 *       critical: { meanDaysBetweenFalseAlarms: 365 }
 *     kl_ref_win:
 *       warning: { pvalue: 0.001 }                 # per-evaluation level
 *       critical: 0.4                              # nats, as before ({ nats: 0.4 } too)
 *
 * Rates are per stream and severity; `rate.ts` turns them into a per-evaluation level with
 * the evaluation interval and hysteresis, and the stream's bootstrap null into nats.
 */
const positive = z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' });

export const calibratedThreshold = z.union([
  z.strictObject({ nats: positive }),
  z.strictObject({ pvalue: positive.lt(0.5, { error: 'must be below 0.5' }) }),
  z.strictObject({ falseAlarmsPerDay: positive }),
  z.strictObject({ meanDaysBetweenFalseAlarms: positive }),
]);

/** A severity's threshold: nats, or one of the calibrated forms. */
export const thresholdLevel = z.union([positive, calibratedThreshold]);

export type ThresholdLevel = z.infer<typeof thresholdLevel>;
