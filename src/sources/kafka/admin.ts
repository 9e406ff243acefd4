import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, ITopicConfig } from 'kafkajs';
import { partitionKey } from './partitions.js';

/** Of `wanted`, the topics that exist and those that do not (yet). */
export async function topicsPresent(admin: Admin, wanted: readonly string[]): Promise<{ present: string[]; missing: string[] }> {
  const existing = new Set(await admin.listTopics());
  return { present: wanted.filter((t) => existing.has(t)), missing: wanted.filter((t) => !existing.has(t)) };
}

/**
 * Replay offsets no older than each partition's log start: records deleted by retention
 * cannot be replayed, and seeking below the log start would reset to the configured end.
 */
export async function clampToLogStart(admin: Admin, topics: readonly string[], offsets: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const topic of (await topicsPresent(admin, topics)).present) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const key = partitionKey(topic, p.partition);
      const from = offsets.get(key);
      if (from !== undefined) out.set(key, Math.max(from, Number(p.low)));
    }
  }
  return out;
}

/** The group's committed (next) offsets by partition; none where it committed nothing. */
export async function groupOffsets(admin: Admin, groupId: string, topics: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
    for (const p of partitions) if (Number(p.offset) >= 0) out.set(partitionKey(topic, p.partition), Number(p.offset));
  }
  return out;
}

/** How long a topic just created may take to be served, and how often to look. */
const SERVED_TIMEOUT_MS = 30_000;
const SERVED_POLL_MS = 100;

/**
 * Creates a topic and returns once every partition of it is served; false when it existed
 * already (not an error: two instances may race to create it). kafkajs's own wait
 * (`waitForLeaders`) retries only LEADER_NOT_AVAILABLE, and a broker that has just started can
 * answer a new topic's metadata with UNKNOWN_TOPIC_OR_PARTITION for a moment, which failed the
 * creation outright (seen on fresh brokers in the tests). So this waits until the topic's
 * partitions answer a ListOffsets request, which needs each one's leader.
 */
export async function createTopicServed(
  admin: Admin,
  spec: ITopicConfig,
  { timeoutMs = SERVED_TIMEOUT_MS, pollMs = SERVED_POLL_MS }: { timeoutMs?: number; pollMs?: number } = {},
): Promise<boolean> {
  const created = await admin.createTopics({ waitForLeaders: false, topics: [spec] });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const partitions = await admin.fetchTopicOffsets(spec.topic);
      if (partitions.length > 0 && (spec.numPartitions === undefined || partitions.length >= spec.numPartitions)) return created;
    } catch (err) {
      if (Date.now() >= deadline) throw err;
    }
    if (Date.now() >= deadline) throw new Error(`topic ${spec.topic} was created but its partitions were not served within ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

/** Creates `topic` with the broker's defaults unless it exists. */
export async function ensureTopic(admin: Admin, topic: string): Promise<boolean> {
  if ((await admin.listTopics()).includes(topic)) return false;
  return createTopicServed(admin, { topic });
}
