import { describe, expect, it } from 'vitest';
import { independentLooks, levelOf, perEvaluationLevel } from '../../src/calibration/rate.js';

describe('false-alarm rate to per-evaluation level', () => {
  it('divides the rate among the evaluations of a day', () => {
    expect(perEvaluationLevel({ falseAlarmsPerDay: 1, evaluationIntervalSeconds: 60 })).toBeCloseTo(1 / 1440, 15);
    expect(levelOf({ meanDaysBetweenFalseAlarms: 30 }, { evaluationIntervalSeconds: 10 })).toBeCloseTo(1 / (30 * 8640), 15);
    expect(levelOf({ pvalue: 0.001 }, { evaluationIntervalSeconds: 10 })).toBe(0.001);
    expect(levelOf(0.2, { evaluationIntervalSeconds: 10 })).toBeUndefined();
  });

  it('credits hysteresis only for evaluations on disjoint windows', () => {
    // Overlapping windows (W = 1000, 100 records apart): raiseAfter 3 earns nothing.
    expect(independentLooks(3, 100, 1000)).toBe(1);
    expect(perEvaluationLevel({ falseAlarmsPerDay: 1, evaluationIntervalSeconds: 60, raiseAfter: 3, recordsPerEvaluation: 100, windowRecords: 1000 })).toBeCloseTo(1 / 1440, 15);
    // Disjoint windows: a run of 2 is two independent looks, α² = rate.
    expect(independentLooks(2, 500, 500)).toBe(2);
    expect(perEvaluationLevel({ falseAlarmsPerDay: 0.0025 * 1440, evaluationIntervalSeconds: 60, raiseAfter: 2, recordsPerEvaluation: 500, windowRecords: 500 })).toBeCloseTo(0.05, 12);
  });
});
