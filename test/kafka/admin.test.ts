import type { Admin, ITopicConfig } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createTopicServed } from '../../src/sources/kafka/admin.js';

/**
 * A stand-in for kafkajs's Admin with only what createTopicServed uses: the topic is created
 * at once, and its partitions are served after `unknownFor` failing ListOffsets calls (what a
 * freshly started broker answers with for a moment) and `partialFor` calls that see only
 * some of them. The real broker path runs in every Kafka test that creates a topic.
 */
function fakeAdmin(o: { unknownFor: number; partialFor?: number; partitions: number }): { admin: Admin; calls: () => number } {
  let calls = 0;
  const admin = {
    createTopics: async ({ topics }: { topics: ITopicConfig[] }) => topics.length > 0,
    fetchTopicOffsets: async (topic: string) => {
      calls++;
      if (calls <= o.unknownFor) throw Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
      const served = calls <= o.unknownFor + (o.partialFor ?? 0) ? 1 : o.partitions;
      return Array.from({ length: served }, (_, partition) => ({ topic, partition, offset: '0', high: '0', low: '0' }));
    },
  };
  return { admin: admin as unknown as Admin, calls: () => calls };
}

describe('createTopicServed', () => {
  it('waits through UNKNOWN_TOPIC_OR_PARTITION until the new topic is served', async () => {
    const { admin, calls } = fakeAdmin({ unknownFor: 3, partitions: 1 });
    await expect(createTopicServed(admin, { topic: 't' }, { pollMs: 1 })).resolves.toBe(true);
    expect(calls()).toBe(4);
  });

  it('waits until every asked-for partition is served', async () => {
    const { admin, calls } = fakeAdmin({ unknownFor: 1, partialFor: 2, partitions: 3 });
    await expect(createTopicServed(admin, { topic: 't', numPartitions: 3 }, { pollMs: 1 })).resolves.toBe(true);
    expect(calls()).toBe(4);
  });

  it('gives up with the broker’s last answer when the topic is never served', async () => {
    const { admin } = fakeAdmin({ unknownFor: Infinity, partitions: 1 });
    await expect(createTopicServed(admin, { topic: 't' }, { timeoutMs: 30, pollMs: 5 })).rejects.toThrow('does not host this topic-partition');
  });
});
