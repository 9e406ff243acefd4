import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/math/rng.js';
import { HysteresisDetector } from '../../src/stream/hysteresis.js';

/** Indices where the alert raises and clears, feeding `xs` one at a time. */
function transitions(det: HysteresisDetector, xs: number[]): { raised: number[]; cleared: number[] } {
  const raised: number[] = [];
  const cleared: number[] = [];
  xs.forEach((x, i) => {
    const was = det.driftDetected;
    if (det.update(x).driftDetected !== was) (det.driftDetected ? raised : cleared).push(i);
  });
  return { raised, cleared };
}

describe('HysteresisDetector', () => {
  it('raises after raiseAfter consecutive values at or over the threshold, clears after clearAfter under', () => {
    const det = new HysteresisDetector({ threshold: 1, raiseAfter: 2, clearAfter: 2 });
    expect([0, 2, 2, 0, 2, 0, 0].map((x) => det.update(x).driftDetected)).toEqual([false, false, true, true, true, true, false]);
  });

  it('counts a value equal to the threshold as over', () => {
    const det = new HysteresisDetector({ threshold: 0.5, raiseAfter: 1, clearAfter: 1 });
    expect(det.update(0.5).driftDetected).toBe(true);
  });

  it('ignores NaN: it neither raises nor clears nor breaks a run', () => {
    const det = new HysteresisDetector({ threshold: 1, raiseAfter: 3, clearAfter: 3 });
    expect(transitions(det, [2, NaN, 2, NaN, 2]).raised).toEqual([4]);
  });

  it('detects at exact indices on a seeded stream (River style)', () => {
    const rng = createRng(7);
    // Noise around 0.6, a shift to 1.4 from index 40 to 69.
    const xs = Array.from({ length: 100 }, (_, i) => (i >= 40 && i < 70 ? 1.4 : 0.6) + 0.3 * rng.normal());
    const det = new HysteresisDetector({ threshold: 1, raiseAfter: 3, clearAfter: 3 });
    const got = transitions(det, xs);
    // Independent check of the definition: a raise at i means xs[i-2..i] ≥ 1 while cleared.
    for (const i of got.raised) expect(xs.slice(i - 2, i + 1).every((x) => x >= 1)).toBe(true);
    for (const i of got.cleared) expect(xs.slice(i - 2, i + 1).every((x) => x < 1)).toBe(true);
    expect(got).toEqual({ raised: [42], cleared: [72] });
  });

  it('resets its state in one place, keeping its hyperparameters', () => {
    const det = new HysteresisDetector({ threshold: 1, raiseAfter: 1, clearAfter: 5 });
    det.update(3);
    expect(det.driftDetected).toBe(true);
    expect(det.reset().driftDetected).toBe(false);
    expect([det.threshold, det.raiseAfter, det.clearAfter]).toEqual([1, 1, 5]);
  });

  it('rejects run lengths that are not positive integers', () => {
    expect(() => new HysteresisDetector({ raiseAfter: 0 })).toThrow(/raiseAfter/);
    expect(() => new HysteresisDetector({ clearAfter: 1.5 })).toThrow(/clearAfter/);
  });
});
