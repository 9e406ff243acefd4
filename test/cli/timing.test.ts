import { describe, expect, it } from 'vitest';
import { timed } from '../../src/cli/timing.js';

describe('timed (--repeat)', () => {
  it('times a single run as it comes, cold', () => {
    let calls = 0;
    const { result } = timed(1, () => ++calls);
    expect(calls).toBe(1);
    expect(result).toBe(1);
  });

  it('warms up untimed before timing n > 1 runs, and returns the last result', () => {
    let calls = 0;
    const { result, msMedian } = timed(3, () => ++calls);
    expect(calls).toBeGreaterThanOrEqual(20 + 3);
    expect(result).toBe(calls);
    expect(msMedian).toBeGreaterThanOrEqual(0);
  });
});
