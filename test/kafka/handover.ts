/**
 * For tests in which the group moves a partition between two members while a batch is applied
 * (commit-handover, revoke-checkpoint): a member that records every offset it gets, the
 * checkpoint topic's offsets, and the move itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaSourceConfig } from '../../src/config/types.js';
import { CheckpointStore } from '../../src/sources/kafka/checkpoint.js';
import { KafkaSource, type KafkaSourceDeps } from '../../src/sources/kafka/consumer.js';
import { partitionKey } from '../../src/sources/kafka/partitions.js';
import type { KafkaRecord } from '../../src/sources/kafka/record.js';
import type { SourceRecord } from '../../src/sources/source.js';
import { systemClock } from '../../src/stream/clock.js';
import { waitFor } from '../support/kafka.js';
import { kafkaClient } from './helpers.js';

/** Streams that hold nothing: each checkpoint names exactly the offsets the member had committed. */
export const EMPTY_STATE = { retention: () => [], restoreReference: () => false };

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

/** Where the checkpoint topic says each of the topic's partitions replays from. */
export async function checkpointed(brokers: string[], groupId: string, topic: string, partitions: number[]): Promise<(number | undefined)[]> {
  const kafka = kafkaClient(brokers);
  const admin = kafka.admin();
  await admin.connect();
  const store = new CheckpointStore(kafka, `${groupId}.checkpoint`, groupId);
  try {
    const { offsets } = await store.load(admin);
    return partitions.map((p) => offsets.get(partitionKey(topic, p)));
  } finally {
    await store.close().catch(() => undefined);
    await admin.disconnect();
  }
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

/**
 * From inside a member's batch: starts the other member and returns once the first one's next
 * heartbeat (every 2 s) must fail with REBALANCE_IN_PROGRESS, before the batch is committed.
 * The rejoin then gives the other member its share. Resolves to the other member's start.
 */
export async function joinDuringBatch(brokers: string[], groupId: string, start: () => Promise<void>): Promise<{ started: Promise<void> }> {
  const started = start();
  const since = Date.now();
  await waitFor(async () => (await groupState(brokers, groupId)) === 'PreparingRebalance', { what: 'the group rebalancing for the new member' });
  await sleep(Math.max(0, 2_500 - (Date.now() - since)));
  return { started };
}
