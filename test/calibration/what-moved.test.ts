import { describe, expect, it } from 'vitest';
import { componentKl, whatMoved } from '../../src/calibration/what-moved.js';
import { createGmm, gaussian } from '../../src/gmm/model.js';

const two = (w0: number, shift = 0) =>
  createGmm({ k: 2, d: 2, weights: [w0, 1 - w0], means: [-2, 0, 2 + shift, 0], covariances: [1, 0, 0, 1, 1, 0, 0, 1], covarianceType: 'full' });

describe('what moved', () => {
  it('has the closed-form Gaussian KL', () => {
    // KL(N(0, 1) ‖ N(1, 4)) = ½(1/4 + 1/4 − 1 + ln 4)
    expect(componentKl(gaussian([0], [1]), 0, gaussian([1], [4]), 0)).toBeCloseTo(0.5 * (0.25 + 0.25 - 1 + Math.log(4)), 14);
    expect(componentKl(two(0.5), 0, two(0.5), 0)).toBe(0);
  });

  it('names a shifted component', () => {
    const moves = whatMoved(two(0.5), two(0.5, 1));
    expect(moves[0]).toMatchObject({ kind: 'shifted', reference: 1, window: 1 });
    expect(moves[0]!.meanShiftSd!).toBeCloseTo(1, 12);
    expect(moves[1]!.kind).toBe('unchanged');
  });

  it('names a new mode as mass gained, and a vanished one as mass lost', () => {
    const ref = two(0.5);
    const win = createGmm({
      k: 3, d: 2, weights: [0.45, 0.45, 0.1], means: [-2, 0, 2, 0, 0, 6], covariances: [1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1], covarianceType: 'full',
    });
    const gained = whatMoved(ref, win);
    expect(gained[0]).toMatchObject({ kind: 'mass_gained', window: 2, weightWindow: 0.1 });
    expect(gained[0]!.klWinRef).toBeGreaterThan(0.1);
    const lost = whatMoved(win, ref);
    expect(lost[0]).toMatchObject({ kind: 'mass_lost', reference: 2 });
  });

  it('attributes a weight change to the components that lost and gained it', () => {
    const moves = whatMoved(two(0.6), two(0.3));
    const byRef = new Map(moves.map((m) => [m.reference, m]));
    expect(byRef.get(0)!.weightWindow).toBeCloseTo(0.3, 12);
    expect(byRef.get(0)!.klRefWin).toBeGreaterThan(0); // mass the window lacks
    expect(byRef.get(1)!.klWinRef).toBeGreaterThan(0); // mass the window has in excess
  });
});
