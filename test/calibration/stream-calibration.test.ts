import { describe, expect, it } from 'vitest';
import { calibratedThreshold, thresholdLevel } from '../../src/calibration/config.js';
import { effectiveTests, nullFromJson, nullToJson } from '../../src/calibration/null.js';
import { StreamCalibration } from '../../src/calibration/stream-calibration.js';
import { gaussian } from '../../src/gmm/model.js';

const mixture = { components: { min: 1, max: 1 }, covarianceType: 'full' as const, nInit: 1, maxIter: 100, tol: 1e-3, regCovar: 1e-6 };
const settings = { windowSamples: 200, referenceSamples: 1000, mixture, estimator: { method: 'auto' as const, targetStderr: 0.005 }, seed: 's' };

describe('StreamCalibration', () => {
  it('bootstraps in slices, then gives p-values, quantiles and calibrated thresholds', async () => {
    const c = new StreamCalibration({ replicates: 40 });
    expect(c.status).toBe('none');
    let yields = 0;
    const p = c.start(gaussian([0, 0], [1, 0.5, 0.5, 1]), undefined, settings, () => {
      yields++;
      return Promise.resolve();
    });
    expect(c.status).toBe('running');
    await p;
    expect(c.status).toBe('ready');
    expect(yields).toBeGreaterThan(40 * 3); // never one long block
    expect(c.pValue('js', 0)).toBe(1);
    expect(c.pValue('js', 10)).toBeCloseTo(1 / 41, 15);
    const ctx = { evaluationIntervalSeconds: 10, raiseAfter: 3, windowRecords: 200 };
    const warn = c.thresholdNats('js', { falseAlarmsPerDay: 1 }, ctx)!;
    const crit = c.thresholdNats('js', { meanDaysBetweenFalseAlarms: 365 }, ctx)!;
    expect(warn.level).toBeCloseTo(10 / 86400, 15);
    expect(crit.nats).toBeGreaterThan(warn.nats);
    expect(warn.nats).toBeGreaterThan(c.null!.values.js[39]!); // beyond every replicate
    expect(c.thresholdNats('js', 0.05, ctx)).toBeUndefined();
    const v = c.view({ js: 10 }, { js: { warning: { pvalue: 0.01 } } }, ctx);
    expect(Object.keys(v.quantiles.js!)).toEqual(['0.5', '0.95', '0.99']);
    expect(v.thresholds.js!.warning!.level).toBe(0.01);
  });

  it('keeps a null across a snapshot, and redoes it for another window size', async () => {
    const a = new StreamCalibration({ replicates: 20 });
    const n = (await a.start(gaussian([0], [1]), undefined, settings, () => Promise.resolve()))!;
    const kept = nullFromJson(JSON.parse(JSON.stringify(nullToJson(n))))!;
    const b = new StreamCalibration();
    expect(b.adopt(kept, 200)).toBe(true);
    expect(Array.from(b.null!.values.kl_ref_win)).toEqual(Array.from(n.values.kl_ref_win));
    expect(b.null!.effectiveMeasures).toBe(n.effectiveMeasures);
    expect(new StreamCalibration().adopt(kept, 500)).toBe(false);
  });

  it('a reset discards a bootstrap still running', async () => {
    const c = new StreamCalibration({ replicates: 20 });
    const p = c.start(gaussian([0], [1]), undefined, settings, () => Promise.resolve());
    c.reset();
    expect(await p).toBeUndefined();
    expect(c.null).toBeUndefined();
    expect(c.status).toBe('none');
  });
});

describe('effective number of measures', () => {
  it('is 1 for identical columns and M for independent ones', () => {
    const x = Array.from({ length: 200 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    const y = Array.from({ length: 200 }, (_, i) => Math.sin(i * 78.233) * 12345.678 % 1);
    expect(effectiveTests([x, x, x])).toBeCloseTo(1, 10);
    expect(effectiveTests([x, y])).toBeGreaterThan(1.8);
  });
});

describe('threshold config', () => {
  it('accepts nats and the calibrated forms, and nothing else', () => {
    expect(thresholdLevel.parse(0.05)).toBe(0.05);
    expect(calibratedThreshold.parse({ falseAlarmsPerDay: 1 })).toEqual({ falseAlarmsPerDay: 1 });
    expect(calibratedThreshold.parse({ pvalue: 0.001 })).toEqual({ pvalue: 0.001 });
    expect(thresholdLevel.safeParse({ pvalue: 0.7 }).success).toBe(false);
    expect(thresholdLevel.safeParse({ falseAlarms: 1 }).success).toBe(false);
    expect(thresholdLevel.safeParse(-1).success).toBe(false);
  });
});

describe('a window with fewer rows than the null', () => {
  it('scales thresholds up by (1/rows + 1/N) / (1/W + 1/N) and withholds p-values', async () => {
    const { nullScale } = await import('../../src/calibration/null.js');
    const n = { replicates: 10, windowSamples: 500, referenceSamples: 5000, effectiveMeasures: 1, values: {} as never };
    expect(nullScale(n, 500)).toBe(1);
    expect(nullScale(n, 250)).toBeCloseTo((1 / 250 + 1 / 5000) / (1 / 500 + 1 / 5000), 14);
    expect(nullScale({ ...n, referenceSamples: 0 }, 100)).toBeCloseTo(5, 14);
    const c = new StreamCalibration({ replicates: 20 });
    await c.start(gaussian([0], [1]), undefined, settings, () => Promise.resolve());
    const ctx = { evaluationIntervalSeconds: 10, raiseAfter: 3, windowRecords: 200 };
    const full = c.thresholdNats('js', { pvalue: 0.01 }, ctx)!.nats;
    expect(c.thresholdNats('js', { pvalue: 0.01 }, { ...ctx, rows: 100 })!.nats).toBeCloseTo(full * nullScale(c.null!, 100), 14);
    expect(c.view({ js: 0.1 }, {}, { ...ctx, rows: 100 }).pValues).toEqual({});
    expect(c.view({ js: 0.1 }, {}, { ...ctx, rows: 200 }).pValues.js).toBeDefined();
  });
});
