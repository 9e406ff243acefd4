import type { Admin } from 'kafkajs';
import type { KafkaMetrics } from '../../metrics/kafka.js';
import { partitionKey } from './partitions.js';

/**
 * Consumer lag per partition: the high watermark minus the group's committed offset. Updated
 * after every commit with the batch's own high watermark (free), and every lagPollMs from the
 * admin client, so that a consumer stuck in a slow batch, or one that gets nothing, still
 * shows its lag growing. Both only ever move forward: a batch fetched before newer records
 * arrived must not report their lag as gone.
 */
export class LagTracker {
  /** Next offsets the group has committed, as this consumer knows them. */
  private readonly committed = new Map<string, number>();
  /** The highest high watermark seen. */
  private readonly highs = new Map<string, number>();

  constructor(
    private readonly metrics: KafkaMetrics,
    private readonly groupId: string,
  ) {}

  /** After a commit (next offset); `high` is the batch's high watermark. */
  update(topic: string, partition: number, committed: number, high: number): void {
    const k = partitionKey(topic, partition);
    this.set(topic, partition, this.raise(this.highs, k, high) - this.raise(this.committed, k, committed));
  }

  private raise(map: Map<string, number>, key: string, value: number): number {
    const known = map.get(key);
    if (known !== undefined && known >= value) return known;
    map.set(key, value);
    return value;
  }

  /** Asks the brokers for every partition of `topics`: high watermarks and the group's commits. */
  async poll(admin: Admin, topics: readonly string[], fromBeginning: boolean): Promise<void> {
    if (topics.length === 0) return;
    const groups = await admin.fetchOffsets({ groupId: this.groupId, topics: [...topics] });
    for (const topic of topics) {
      const commits = groups.find((g) => g.topic === topic)?.partitions ?? [];
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const k = partitionKey(topic, p.partition);
        // A log never shrinks: a high watermark below one seen is another log under the same name
        // (the topic deleted and created again) or a truncated one. Without forgetting, the
        // old numbers would stand until the new log passed them (a group's only tracker that
        // sees no batches, the routers', would show a stuck router at no lag).
        if (Number(p.high) < (this.highs.get(k) ?? -Infinity)) this.forget(topic, p.partition);
        const remote = Number(commits.find((c) => c.partition === p.partition)?.offset ?? -1);
        let committed = remote >= 0 ? this.raise(this.committed, k, remote) : this.committed.get(k);
        // Nothing committed yet: the group will start from the beginning, or from the end.
        committed ??= Number(fromBeginning ? p.low : p.high);
        this.set(topic, p.partition, this.raise(this.highs, k, Number(p.high)) - committed);
      }
    }
  }

  /** The partition's log was replaced or truncated: its offsets start over, below what was seen. */
  forget(topic: string, partition: number): void {
    const k = partitionKey(topic, partition);
    this.committed.delete(k);
    this.highs.delete(k);
  }

  private set(topic: string, partition: number, lag: number): void {
    this.metrics.lag(topic, partition, Math.max(0, lag));
  }
}
