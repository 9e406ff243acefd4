import { describe, expect, it } from 'vitest';
import { DEMO_TOPICS, DemoGenerator, DemoSource } from '../../src/sources/demo.js';
import type { SourceRecord } from '../../src/sources/source.js';
import { ManualClock } from '../../src/stream/clock.js';

const parse = (r: SourceRecord): Record<string, number> => JSON.parse(String(r.value)) as Record<string, number>;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function sample(drifted: boolean, n = 4000): { payments: Record<string, number>[]; sensors: Record<string, number>[] } {
  const g = new DemoGenerator({ seed: 3, driftAtMs: 1000, malformedFraction: 0 });
  const recs = g.batch(n, drifted ? 1000 : 999);
  return {
    payments: recs.filter((r) => r.topic === DEMO_TOPICS.payments).map(parse),
    sensors: recs.filter((r) => r.topic === DEMO_TOPICS.sensors).map(parse),
  };
}

describe('DemoGenerator', () => {
  it('is deterministic for a seed', () => {
    const a = new DemoGenerator({ seed: 1, driftAtMs: 0, malformedFraction: 0.1 }).batch(50, 5);
    const b = new DemoGenerator({ seed: 1, driftAtMs: 0, malformedFraction: 0.1 }).batch(50, 5);
    expect(a).toEqual(b);
    expect(a).toHaveLength(100);
    expect(a.every((r) => r.timestampMs === 5)).toBe(true);
  });

  it('shifts the mean of amount at onset and keeps latency stable', () => {
    const before = sample(false).payments;
    const after = sample(true).payments;
    expect(mean(before.map((p) => p.amount!))).toBeCloseTo(50, 0);
    expect(mean(after.map((p) => p.amount!))).toBeCloseTo(58, 0);
    expect(Math.abs(mean(before.map((p) => p.latency_ms!)) - mean(after.map((p) => p.latency_ms!)))).toBeLessThan(0.6);
  });

  it('grows a new cluster in (x, y) at onset', () => {
    const near = (s: Record<string, number>): boolean => Math.hypot(s.x! + 3, s.y! - 4) < 2;
    expect(sample(false).sensors.filter(near).length).toBeLessThan(10);
    const frac = sample(true).sensors.filter(near).length / 4000;
    expect(frac).toBeGreaterThan(0.22);
    expect(frac).toBeLessThan(0.28);
  });

  it('emits about malformedFraction broken records', () => {
    const recs = new DemoGenerator({ seed: 2, driftAtMs: 0, malformedFraction: 0.05 }).batch(2000, 0);
    const broken = recs.filter((r) => {
      try {
        const o = parse(r);
        return typeof o.amount !== 'number' && typeof o.x !== 'number';
      } catch {
        return true;
      }
    });
    expect(broken.length / recs.length).toBeGreaterThan(0.02);
    expect(broken.length / recs.length).toBeLessThan(0.08);
  });
});

describe('DemoSource', () => {
  it('delivers one batch at a time, each only after the previous one settled, and stop() waits for the in-flight one', async () => {
    const src = new DemoSource({ type: 'demo', seed: 1, rate: 20_000, driftAfterSeconds: 0, malformedFraction: 0 }, new ManualClock(0));
    let inFlight = 0;
    let maxInFlight = 0;
    let batches = 0;
    let release!: () => void;
    const third = new Promise<void>((resolve) => (release = resolve));
    let applied = 0;
    await src.start(async (batch) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      applied += batch.length;
      inFlight--;
      if (++batches === 3) release();
    });
    expect(src.isConnected()).toBe(true);
    await third;
    await src.stop();
    expect(src.isConnected()).toBe(false);
    expect(maxInFlight).toBe(1);
    expect(inFlight).toBe(0);
    expect(applied).toBeGreaterThan(0);
  });

  it('redelivers a batch the sink rejected (at-least-once)', async () => {
    const src = new DemoSource({ type: 'demo', seed: 1, rate: 20_000, driftAfterSeconds: 0, malformedFraction: 0 }, new ManualClock(0));
    const seen: string[] = [];
    let done!: () => void;
    const twice = new Promise<void>((r) => (done = r));
    await src.start(async (batch) => {
      seen.push(String(batch[0]!.value));
      if (seen.length === 1) throw new Error('not now');
      done();
    });
    await twice;
    await src.stop();
    expect(seen[1]).toBe(seen[0]);
  });
});
