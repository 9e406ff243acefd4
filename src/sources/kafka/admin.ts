import type { Admin } from 'kafkajs';
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

/** Creates `topic` with the broker's defaults unless it exists. */
export async function ensureTopic(admin: Admin, topic: string): Promise<boolean> {
  if ((await admin.listTopics()).includes(topic)) return false;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic }] });
  return true;
}
