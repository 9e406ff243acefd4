// The lag a tracker exports from the brokers' numbers alone (the routers' group under scale-out
// sees no batches of its own): it moves only forward, except when the log itself starts over.
import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { KafkaMetrics } from '../../src/metrics/kafka.js';
import { LagTracker } from '../../src/sources/kafka/lag.js';

/** An admin client whose topic `src` (one partition) has the given high watermark and committed offset. */
function broker(): { admin: Admin; set(high: number, committed: number | undefined): void } {
  let high = 0;
  let committed: number | undefined;
  const admin = {
    fetchOffsets: async () => [{ topic: 'src', partitions: [{ partition: 0, offset: String(committed ?? -1) }] }],
    fetchTopicOffsets: async () => [{ partition: 0, low: '0', high: String(high), offset: String(high) }],
  } as unknown as Admin;
  return {
    admin,
    set(h, c) {
      high = h;
      committed = c;
    },
  };
}

function tracker(): { lags: number[]; t: LagTracker } {
  const lags: number[] = [];
  const metrics = { lag: (_topic: string, _partition: number, records: number) => void lags.push(records) } as unknown as KafkaMetrics;
  return { lags, t: new LagTracker(metrics, 'g.router') };
}

describe('LagTracker.poll', () => {
  it('never reports records as gone that a newer poll saw, and follows the committed offset', async () => {
    const { lags, t } = tracker();
    const b = broker();
    b.set(1_000, 400);
    await t.poll(b.admin, ['src'], true);
    b.set(1_500, 900);
    await t.poll(b.admin, ['src'], true);
    expect(lags).toEqual([600, 600]);
  });

  it('starts a partition afresh when its log starts over (the topic deleted and created again)', async () => {
    const { lags, t } = tracker();
    const b = broker();
    b.set(1_000, 1_000); // caught up
    await t.poll(b.admin, ['src'], true);
    b.set(800, undefined); // a new log of 800 records; the group has committed nothing on it
    await t.poll(b.admin, ['src'], true);
    b.set(1_200, undefined); // still nothing consumed
    await t.poll(b.admin, ['src'], true);
    // Before: 0, 0, 200 (the old high watermark and commit stood until the new log passed them).
    expect(lags).toEqual([0, 800, 1_200]);
  });
});
