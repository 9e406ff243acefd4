import { describe, expect, it } from 'vitest';
import { SlidingWindow } from '../../src/stream/window.js';

const rows = (w: SlidingWindow): number[][] => {
  const flat = Array.from(w.toArray());
  return Array.from({ length: w.size }, (_, i) => flat.slice(i * w.dimension, (i + 1) * w.dimension));
};

describe('SlidingWindow, count bound', () => {
  it('keeps the most recent `capacity` vectors, oldest first', () => {
    const w = new SlidingWindow({ dimension: 1, capacity: 3 });
    for (const x of [1, 2, 3, 4]) w.push([x], 0);
    expect(Array.from(w.toArray())).toEqual([2, 3, 4]);
  });

  it('wraps multi-dimensional rows intact, many times over', () => {
    const w = new SlidingWindow({ dimension: 2, capacity: 4 });
    for (let i = 0; i < 11; i++) w.push([i, -i], i);
    expect(rows(w)).toEqual([
      [7, -7],
      [8, -8],
      [9, -9],
      [10, -10],
    ]);
  });

  it('reads a vector at an offset and copies it (the caller may reuse its buffer)', () => {
    const w = new SlidingWindow({ dimension: 2, capacity: 2 });
    const buf = new Float64Array([9, 1, 2]);
    w.push(buf, 0, 1);
    buf[1] = 5;
    expect(Array.from(w.toArray())).toEqual([1, 2]);
  });

  it('changes version on every push', () => {
    const w = new SlidingWindow({ dimension: 1, capacity: 2 });
    const v0 = w.version;
    w.push([1], 0);
    expect(w.version).toBeGreaterThan(v0);
  });

  it('samples evenly across the window, oldest first, all of it when small', () => {
    const w = new SlidingWindow({ dimension: 2, capacity: 10 });
    for (let i = 0; i < 13; i++) w.push([i, -i], 0); // holds 3..12, wrapped
    const out = new Float64Array(20);
    expect(w.sample(5, out)).toBe(5);
    expect(Array.from(out.subarray(0, 10))).toEqual([3, -3, 5, -5, 7, -7, 9, -9, 11, -11]);
    expect(w.sample(50, out)).toBe(10);
    expect(Array.from(out.subarray(0, 4))).toEqual([3, -3, 4, -4]);
  });

  it('refuses impossible shapes', () => {
    expect(() => new SlidingWindow({ dimension: 0, capacity: 1 })).toThrow(/dimension/);
    expect(() => new SlidingWindow({ dimension: 1, capacity: 0 })).toThrow(/capacity/);
    expect(() => new SlidingWindow({ dimension: 1, capacity: 1, maxAgeMs: 0 })).toThrow(/maxAgeMs/);
  });
});

describe('SlidingWindow, time bound', () => {
  it('evicts by the newest event time as data arrives', () => {
    const w = new SlidingWindow({ dimension: 1, capacity: 100, maxAgeMs: 1000 });
    for (let t = 0; t <= 3000; t += 500) w.push([t], t);
    // Newest 3000: anything older than 2000 is gone.
    expect(Array.from(w.toArray())).toEqual([2000, 2500, 3000]);
  });

  it('drops a late vector that is already older than the bound', () => {
    const w = new SlidingWindow({ dimension: 1, capacity: 10, maxAgeMs: 1000 });
    w.push([1], 5000);
    expect(w.push([2], 3000)).toBe(false);
    expect(w.push([3], 4500)).toBe(true);
    expect(Array.from(w.toArray())).toEqual([1, 3]);
  });

  it('expires by wall time when the stream goes quiet', () => {
    const w = new SlidingWindow({ dimension: 1, capacity: 10, maxAgeMs: 1000 });
    w.push([1], 0);
    w.push([2], 600);
    expect(w.expire(900)).toBe(0);
    expect(w.expire(1500)).toBe(1);
    expect(Array.from(w.toArray())).toEqual([2]);
    expect(w.expire(10_000)).toBe(1);
    expect(w.size).toBe(0);
  });

  it('applies both bounds: whichever is tighter wins', () => {
    const w = new SlidingWindow({ dimension: 1, capacity: 2, maxAgeMs: 10_000 });
    for (let t = 0; t < 5; t++) w.push([t], t);
    expect(Array.from(w.toArray())).toEqual([3, 4]);
  });

  it('keeps order across the wrap after time evictions', () => {
    const w = new SlidingWindow({ dimension: 1, capacity: 4, maxAgeMs: 2500 });
    for (let t = 0; t < 20; t++) {
      w.push([t], t * 1000);
      const got = Array.from(w.toArray());
      const want = [];
      for (let s = Math.max(0, t - 3); s <= t; s++) if (s * 1000 >= t * 1000 - 2500) want.push(s);
      expect(got).toEqual(want);
    }
  });
});

describe('SlidingWindow.pushRows', () => {
  /** The window's vectors, its oldest position per lane, its version and what pushRows returned. */
  const state = (w: SlidingWindow, offered: number): unknown => {
    const oldest = new Map<number, number>();
    w.oldestPositions(oldest);
    return { data: Array.from(w.toArray()), oldest: [...oldest], version: w.version, size: w.size, offered };
  };

  it.each([
    ['count bound', { dimension: 2, capacity: 7 }],
    ['age bound', { dimension: 2, capacity: 50, maxAgeMs: 30 }],
  ])('does what push and tagNewest do a vector at a time (%s)', (_, options) => {
    const one = new SlidingWindow(options);
    const many = new SlidingWindow(options);
    let t = 0;
    for (let round = 0; round < 12; round++) {
      const count = 1 + ((round * 5) % 9);
      const first = round % 3;
      const rows = Float64Array.from({ length: 2 * (first + count) }, (_, i) => round * 100 + i);
      const verdicts = Uint8Array.from({ length: first + count }, (_, i) => ((i + round) % 4 === 0 ? 2 : 0));
      // Late timestamps now and then (too old for the age bound), untagged origins now and then.
      const times = Float64Array.from({ length: count }, (_, i) => (i % 5 === 4 ? t - 40 : (t += 3)));
      const lanes = Int32Array.from({ length: count }, (_, i) => (round > 4 && i % 3 === 1 ? -1 : (round + i) % 2));
      const positions = Float64Array.from({ length: count }, (_, i) => 1000 * round + i);
      let offered = 0;
      for (let i = 0; i < count; i++) {
        if (verdicts[first + i] !== 0) continue;
        offered++;
        if (one.push(rows, times[i]!, (first + i) * 2) && lanes[i]! >= 0) one.tagNewest(lanes[i]!, positions[i]!);
      }
      expect(state(many, many.pushRows(rows, first, count, verdicts, times, lanes, positions))).toEqual(state(one, offered));
    }
  });
});
