// Without scale-out: the group revokes a partition whose last applied records are not yet
// committed (here a second member joins while a batch is being applied, and the rebalance
// fails its commit). This process can never commit that partition again, yet checkpoints must
// go on for the partitions it still owns; what it writes must say nothing of the revoked one
// (another member reads it now); and when the partition comes back, it is read on from the
// group's committed offset, without a record applied twice, and checkpointed again.
import { describe, expect, it } from 'vitest';
import type { KafkaSourceConfig } from '../../src/config/types.js';
import { groupOffsets } from '../../src/sources/kafka/admin.js';
import { partitionKey } from '../../src/sources/kafka/partitions.js';
import { waitFor } from '../support/kafka.js';
import { EMPTY_STATE, checkpointed as checkpointedOf, startJoiningMidBatch, twoPartitions, useMembers, type Member } from './handover.js';
import { kafkaClient, produce, records } from './helpers.js';

const members = useMembers();

/** A klaxon without scale-out; with `checkpoints`, its streams hold nothing (a checkpoint names the committed offsets). */
function instance(cfg: KafkaSourceConfig, clientId: string, checkpoints: boolean): Member {
  return members.member(cfg, clientId, checkpoints ? { state: EMPTY_STATE } : {});
}

/** Where the checkpoint topic says partitions 0 and 1 replay from. */
const checkpointed = (groupId: string, topic: string): Promise<(number | undefined)[]> => checkpointedOf(members.brokers, groupId, topic, [0, 1]);

/** The group's committed offsets of partitions 0 and 1. */
async function committedOf(groupId: string, topic: string): Promise<(number | undefined)[]> {
  const admin = kafkaClient(members.brokers).admin();
  await admin.connect();
  try {
    const offsets = await groupOffsets(admin, groupId, [topic]);
    return [0, 1].map((p) => offsets.get(partitionKey(topic, p)));
  } finally {
    await admin.disconnect();
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('kafka source: a partition revoked with records applied but not committed', () => {
  it('keeps checkpointing the partitions it still owns, claims nothing of the revoked one, and takes it back cleanly', async () => {
    const { brokers } = members;
    const { topic, groupId, source } = await twoPartitions(brokers, 'revoke');
    // The round-robin assigner sorts members by id, which begins with the client id: with both
    // in the group, a has partition 0 and b partition 1. Only a writes the checkpoint topic.
    const a = instance(source, 'klaxon-a', true);
    const b = instance(source, 'klaxon-b', false);

    const { bJoined } = await startJoiningMidBatch(brokers, groupId, a, b);
    await waitFor(async () => (await committedOf(groupId, topic)).join() === '100,100', { what: 'a committing the first 200 records' });
    await waitFor(async () => (await checkpointed(groupId, topic)).join() === '100,100', { what: 'a checkpointing both partitions' });

    // a applies offsets 100-109 of partition 1 and loses the partition before committing them.
    await produce(brokers, topic, records('revoke', 200, 10), { partition: 1 });
    await bJoined();
    // b reads them again from the committed offset (at-least-once) and commits them.
    await waitFor(async () => (await committedOf(groupId, topic)).join() === '100,110', { what: 'b committing partition 1' });
    expect(b.got.get(1)).toEqual(range(100, 110));
    // Each was told that it shares its group (checkpoints of one klaxon per group only).
    for (const x of [a, b]) await waitFor(() => x.warnings.some((w) => w.startsWith('another consumer shares this kafka group')), { what: 'the shared-group warning' });

    // New records on the partition a still owns: committed, and checkpointed again. On the
    // code before the fix no checkpoint came any more: partition 1's applied offset 110 could
    // never be committed by a, so a never counted as settled.
    await produce(brokers, topic, records('revoke', 210, 10), { partition: 0 });
    await waitFor(async () => (await committedOf(groupId, topic)).join() === '110,110', { what: 'a committing partition 0' });
    await waitFor(async () => (await checkpointed(groupId, topic))[0] === 110, {
      timeoutMs: 15_000,
      what: 'a checkpointing partition 0 after partition 1 was revoked',
    });
    // Partition 1's entry is still the one a wrote while it owned it: nothing newer is claimed.
    expect((await checkpointed(groupId, topic))[1]).toBe(100);
    expect(b.got.get(0)).toBeUndefined();

    // b leaves: partition 1 comes back to a, which reads on from the group's committed offset
    // (not from its failed batch: offsets 100-109 are applied once in a), commits and checkpoints it.
    await b.source.stop();
    await produce(brokers, topic, records('revoke', 220, 10), { partition: 1 });
    await waitFor(async () => (await committedOf(groupId, topic)).join() === '110,120', { timeoutMs: 60_000, what: 'a committing partition 1 again' });
    await waitFor(async () => (await checkpointed(groupId, topic)).join() === '110,120', { what: 'a checkpointing partition 1 again' });
    expect(a.got.get(0)).toEqual(range(0, 110));
    expect(a.got.get(1)).toEqual(range(0, 120));
  }, 180_000);
});
