import type { Admin } from 'kafkajs';
import type { KafkaMetrics } from '../../metrics/kafka.js';
import { partitionKey } from './partitions.js';

/**
 * Consumer lag per partition: the high watermark minus the group's committed offset. Updated
 * after every batch from the batch's own high watermark (free), and every `intervalMs` from
 * the admin client, so that a consumer stuck in a slow batch, or one that gets nothing,
 * still shows its lag growing.
 */
export class LagTracker {
  /** Next offsets the group has committed, as this consumer knows them. */
  private readonly committed = new Map<string, number>();

  constructor(
    private readonly metrics: KafkaMetrics,
    private readonly groupId: string,
  ) {}

  /** After a commit (next offset), or from a batch: `high` is that batch's high watermark. */
  update(topic: string, partition: number, committed: number, high?: number): void {
    const k = partitionKey(topic, partition);
    const known = this.committed.get(k);
    if (known === undefined || committed > known) this.committed.set(k, committed);
    if (high !== undefined) this.set(topic, partition, high - (this.committed.get(k) ?? committed));
  }

  /** Asks the brokers for every partition of `topics`: high watermarks and the group's commits. */
  async poll(admin: Admin, topics: readonly string[], fromBeginning: boolean): Promise<void> {
    if (topics.length === 0) return;
    const groups = await admin.fetchOffsets({ groupId: this.groupId, topics: [...topics] });
    for (const topic of topics) {
      const commits = groups.find((g) => g.topic === topic)?.partitions ?? [];
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const k = partitionKey(topic, p.partition);
        const remote = commits.find((c) => c.partition === p.partition)?.offset;
        let committed = this.committed.get(k);
        if (remote !== undefined && Number(remote) >= 0 && (committed === undefined || Number(remote) > committed)) {
          committed = Number(remote);
          this.committed.set(k, committed);
        }
        // Nothing committed yet: the group will start from the beginning, or from the end.
        committed ??= Number(fromBeginning ? p.low : p.high);
        this.set(topic, p.partition, Number(p.high) - committed);
      }
    }
  }

  private set(topic: string, partition: number, lag: number): void {
    this.metrics.lag(topic, partition, lag);
  }
}
