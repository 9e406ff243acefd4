import { describe, expect, it } from 'vitest';
import { CLIENT_JS } from '../../src/server/page/client.js';

interface Marginal {
  weights: number[];
  means: number[];
  sds: number[];
}
interface Helpers {
  marginal(model: unknown, i: number): Marginal;
  pdf(m: Marginal, x: number): number;
  densityCurves(
    ref: unknown,
    win: unknown,
    i: number,
    n: number,
  ): { lo: number; hi: number; xs: number[]; reference: number[] | null; window: number[] | null };
  niceTicks(lo: number, hi: number, count: number): number[];
  fmt(v: number | null, digits?: number): string;
  streamState(s: unknown): string;
  isStale(s: unknown, nowMs: number): boolean;
  level(v: number | null, t: unknown): string;
  defaultMeasure(s: unknown): string;
}

// The page script without a document returns its pure helpers.
const page = new Function(`${CLIENT_JS}\nreturn KlaxonPage;`)() as Helpers;

describe('status page helpers', () => {
  it('takes the same marginal from every covariance type', () => {
    const weights = [0.25, 0.75];
    const means = [
      [1, -2],
      [3, 4],
    ];
    const expected = { weights, means: [-2, 4], sds: [Math.sqrt(9), Math.sqrt(16)] };
    expect(
      page.marginal(
        {
          weights,
          means,
          covariance_type: 'full',
          covariances: [
            [
              [1, 0.5],
              [0.5, 9],
            ],
            [
              [2, -1],
              [-1, 16],
            ],
          ],
        },
        1,
      ),
    ).toEqual(expected);
    expect(page.marginal({ weights, means, covariance_type: 'diag', covariances: [[1, 9], [2, 16]] }, 1)).toEqual(expected);
    expect(page.marginal({ weights, means, covariance_type: 'spherical', covariances: [9, 16] }, 1)).toEqual(expected);
    expect(
      page.marginal(
        {
          weights,
          means,
          covariance_type: 'tied',
          covariances: [
            [4, 1],
            [1, 25],
          ],
        },
        1,
      ).sds,
    ).toEqual([5, 5]);
  });

  it('draws a density that integrates to one over its support', () => {
    const model = { weights: [0.3, 0.7], means: [[0], [10]], covariances: [[[1]], [[4]]], covariance_type: 'full' };
    const c = page.densityCurves(model, null, 0, 2001);
    expect(c.lo).toBeCloseTo(-4, 12);
    expect(c.hi).toBeCloseTo(18, 12);
    expect(c.window).toBeNull();
    const dx = (c.hi - c.lo) / 2000;
    const area = c.reference!.reduce((a, y) => a + y * dx, 0);
    expect(area).toBeCloseTo(1, 3);
    const normal = (x: number, m: number, sd: number): number =>
      Math.exp(-0.5 * ((x - m) / sd) ** 2) / (sd * Math.sqrt(2 * Math.PI));
    expect(page.pdf(page.marginal(model, 0), 1)).toBeCloseTo(0.3 * normal(1, 0, 1) + 0.7 * normal(1, 10, 2), 14);
  });

  it('picks round ticks and compact numbers', () => {
    expect(page.niceTicks(0, 0.14, 4)).toEqual([0, 0.05, 0.1]);
    expect(page.niceTicks(-3.2, 17.9, 4)).toEqual([0, 5, 10, 15]);
    expect(page.niceTicks(1, 1, 4)).toEqual([]);
    expect(page.fmt(0.088412)).toBe('0.0884');
    expect(page.fmt(0.0038, 2)).toBe('0.0038');
    expect(page.fmt(12345.6)).toBe('12,346');
    expect(page.fmt(2e-7)).toBe('2.0e-7');
    expect(page.fmt(null)).toBe('—');
    expect(page.fmt(Number.NaN)).toBe('—');
  });

  it('calls a stream stale as the alert rule does: new data, no evaluation for three intervals', () => {
    const s = (windowChangedMs: number | null) => ({ ready: true, evaluationIntervalSeconds: 10, lastEvaluation: { timestampMs: 100_000 }, windowChangedMs });
    expect(page.isStale(s(101_000), 131_000)).toBe(true);
    expect(page.isStale(s(101_000), 129_000)).toBe(false); // within three intervals
    // Quiet since its last evaluation: current, however old.
    expect(page.isStale(s(99_000), 10_000_000)).toBe(false);
    expect(page.isStale(s(null), 10_000_000)).toBe(false);
    expect(page.isStale({ ...s(101_000), ready: false }, 10_000_000)).toBe(false);
  });

  it('reads the state of a stream the way the badges show it', () => {
    expect(page.streamState({ ready: false, phase: 'collecting_reference' })).toBe('collecting');
    expect(page.streamState({ ready: false, phase: 'warming_window' })).toBe('warming');
    expect(page.streamState({ ready: true, alert: { warning: true, critical: true } })).toBe('critical');
    expect(page.streamState({ ready: true, alert: { warning: true, critical: false } })).toBe('warning');
    expect(page.streamState({ ready: true, alert: { warning: false, critical: false } })).toBe('ok');
    expect(page.streamState({ ready: true, muted: true, alert: { warning: false, critical: false } })).toBe('muted');
    expect(page.streamState({ ready: false, muted: true, phase: 'warming_window' })).toBe('warming');
    expect(page.level(0.06, { warning: 0.05, critical: 0.12 })).toBe('warning');
    expect(page.level(0.12, { warning: 0.05, critical: 0.12 })).toBe('critical');
    expect(page.level(0.01, {})).toBe('ok');
    expect(page.defaultMeasure({ thresholds: { kl_win_ref: { warning: 1 } } })).toBe('kl_win_ref');
    expect(page.defaultMeasure({ thresholds: {} })).toBe('js');
  });
});
