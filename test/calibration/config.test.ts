import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/resolve.js';

const one = (raw: Record<string, unknown>, defaults?: Record<string, unknown>) =>
  parseConfig({ ...(defaults ? { defaults } : {}), streams: [{ name: 's', fields: ['x'], ...raw }] }).streams[0]!;

describe('calibrated thresholds in the config', () => {
  it('defaults the JS warning to one false alarm per 30 days, nats as the fallback; critical stays in nats', () => {
    const s = one({});
    expect(s.calibratedThresholds).toEqual({ js: { warning: { meanDaysBetweenFalseAlarms: 30 } } });
    expect(s.thresholds.js).toEqual({ warning: 0.05, critical: 0.1 });
  });

  it('takes rates and p-values per measure and severity, nats as before', () => {
    const s = one({ thresholds: { js: { warning: { falseAlarmsPerDay: 1 }, critical: 0.2 }, kl_ref_win: { warning: { pvalue: 0.001 }, critical: { nats: 0.5 } } } });
    expect(s.calibratedThresholds).toEqual({ js: { warning: { falseAlarmsPerDay: 1 } }, kl_ref_win: { warning: { pvalue: 0.001 } } });
    expect(s.thresholds.js).toEqual({ warning: 0.05, critical: 0.2 });
    expect(s.thresholds.kl_ref_win).toEqual({ warning: 0.2, critical: 0.5 });
  });

  it('a stream setting in nats, or null, turns the calibrated default off; the defaults section applies', () => {
    expect(one({ thresholds: { js: { warning: 0.03, critical: 0.06 } } }).calibratedThresholds).toEqual({});
    expect(one({ thresholds: { js: null } }).calibratedThresholds).toEqual({});
    expect(one({}, { thresholds: { js: { warning: { pvalue: 0.01 } } } }).calibratedThresholds!.js!.warning).toEqual({ pvalue: 0.01 });
  });

  it('rejects a malformed calibrated threshold', () => {
    expect(() => one({ thresholds: { js: { warning: { pvalue: 0.9 } } } })).toThrow(ConfigError);
    expect(() => one({ thresholds: { js: { warning: { falseAlarmsPerWeek: 1 } } } })).toThrow(ConfigError);
  });
});
