/**
 * For tests in which the group moves a partition between two members while a batch is applied
 * (commit-handover, revoke-checkpoint): their hooks and topic, a member that records every
 * offset it gets, the checkpoint topic's offsets, and the move itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll } from 'vitest';
import type { KafkaSourceConfig } from '../../src/config/types.js';
import { KafkaSource, type KafkaSourceDeps } from '../../src/sources/kafka/consumer.js';
import { partitionKey } from '../../src/sources/kafka/partitions.js';
import type { KafkaRecord } from '../../src/sources/kafka/record.js';
import type { SourceRecord } from '../../src/sources/source.js';
import { systemClock } from '../../src/stream/clock.js';
import { createTopic, kafkaBrokers, uniqueTopic, waitFor } from '../support/kafka.js';
import { config, kafkaClient, loadCheckpoint, produce, records } from './helpers.js';

/** Streams that hold nothing: each checkpoint names exactly the offsets the member had committed. */
export const EMPTY_STATE = { retention: () => [], restoreReference: () => false, restoreMute: () => false };

/** A member: every offset its sink got, per partition, and the messages it warned with. */
export function member(cfg: KafkaSourceConfig, clientId: string, deps: Partial<KafkaSourceDeps> = {}) {
  const got = new Map<number, number[]>();
  const warnings: string[] = [];
  const logger = { info: () => undefined, error: () => undefined, warn: (_: object, msg?: string) => void warnings.push(msg ?? '') };
  const source = new KafkaSource({ ...cfg, clientId }, { clock: systemClock, logger, tuning: { lagPollMs: 1_000, topicPollMs: 1_000 }, ...deps });
  const record = (batch: SourceRecord[]): void => {
    for (const r of batch as KafkaRecord[]) {
      const offsets = got.get(r.partition) ?? [];
      offsets.push(Number(r.offset));
      got.set(r.partition, offsets);
    }
  };
  return { source, got, record, warnings };
}

/**
 * The hooks of a handover test file: the brokers, known before its tests, and a `member` that
 * is stopped after each test.
 */
export function useMembers(): { readonly brokers: string[]; member: typeof member } {
  let brokers: string[] = [];
  const sources: KafkaSource[] = [];
  beforeAll(async () => {
    brokers = await kafkaBrokers();
  }, 300_000);
  afterEach(async () => {
    await Promise.allSettled(sources.splice(0).map((s) => s.stop()));
  });
  return {
    get brokers(): string[] {
      return brokers;
    },
    member(cfg, clientId, deps) {
      const m = member(cfg, clientId, deps);
      sources.push(m.source);
      return m;
    },
  };
}

/** A new topic of two partitions holding 100 records each, and a Kafka source config for group `<topic>-g`. */
export async function twoPartitions(brokers: string[], prefix: string): Promise<{ topic: string; groupId: string; source: KafkaSourceConfig }> {
  const topic = uniqueTopic(prefix);
  const groupId = `${topic}-g`;
  await createTopic(brokers, topic, 2);
  await produce(brokers, topic, records(prefix, 0, 100), { partition: 0 });
  await produce(brokers, topic, records(prefix, 100, 100), { partition: 1 });
  const cfg = config({ brokers, topics: [topic], groupId });
  if (cfg.source.type !== 'kafka') throw new Error('kafka config expected');
  return { topic, groupId, source: cfg.source };
}

/** Where the checkpoint topic says each of the topic's partitions replays from. */
export async function checkpointed(brokers: string[], groupId: string, topic: string, partitions: number[]): Promise<(number | undefined)[]> {
  const { offsets } = await loadCheckpoint(brokers, `${groupId}.checkpoint`, groupId);
  return partitions.map((p) => offsets.get(partitionKey(topic, p)));
}

async function groupState(brokers: string[], groupId: string): Promise<string | undefined> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    return (await admin.describeGroups([groupId])).groups[0]?.state;
  } finally {
    await admin.disconnect();
  }
}

export type Member = ReturnType<typeof member>;

/**
 * Starts `a`, recording its batches. On a's first batch of partition 1 from offset 100 on (the
 * records produced after the first 200), `b` joins from inside it (`joinDuringBatch`): these
 * records are applied in a, a's batch fails before its commit, and the rejoin gives partition 1
 * to b. `bJoined` waits for that, once the test has produced those records.
 */
export async function startJoiningMidBatch(brokers: string[], groupId: string, a: Member, b: Member): Promise<{ bJoined: () => Promise<void> }> {
  let bStarting: Promise<void> | undefined;
  let joining = false;
  await a.source.start(async (batch) => {
    a.record(batch);
    const first = batch[0] as KafkaRecord;
    if (!joining && first.partition === 1 && Number(first.offset) >= 100) {
      joining = true;
      bStarting = (await joinDuringBatch(brokers, groupId, () => b.source.start(async (records) => b.record(records)))).started;
    }
  });
  return {
    async bJoined() {
      await waitFor(() => bStarting !== undefined, { what: 'a applying the 10 new records of partition 1' });
      await bStarting;
    },
  };
}

/**
 * From inside a member's batch: starts the other member and returns once the first one's next
 * heartbeat (every 2 s) must fail with REBALANCE_IN_PROGRESS, before the batch is committed.
 * The rejoin then gives the other member its share. Resolves to the other member's start.
 */
async function joinDuringBatch(brokers: string[], groupId: string, start: () => Promise<void>): Promise<{ started: Promise<void> }> {
  const started = start();
  const since = Date.now();
  await waitFor(async () => (await groupState(brokers, groupId)) === 'PreparingRebalance', { what: 'the group rebalancing for the new member' });
  await sleep(Math.max(0, 2_500 - (Date.now() - since)));
  return { started };
}
