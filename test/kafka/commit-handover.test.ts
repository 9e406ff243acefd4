// Scale-out: a batch fails with its records applied but not committed because the group is
// rebalancing, and the rebalance hands the partition to another instance. The records go on
// at the other instance (at-least-once); when the partition comes back later, the first
// instance must read on from the group's committed offset, never from where its failed batch
// left it, or it would take records again as new ones.
import { describe, expect, it } from 'vitest';
import type { KafkaSourceConfig } from '../../src/config/types.js';
import { waitFor } from '../support/kafka.js';
import { EMPTY_STATE, checkpointed, startJoiningMidBatch, twoPartitions, useMembers, type Member } from './handover.js';
import { committed, produce, records } from './helpers.js';

const members = useMembers();

/** An instance in scale-out whose streams hold nothing (a checkpoint names the committed offsets). */
function instance(cfg: KafkaSourceConfig, clientId: string): Member {
  return members.member(cfg, clientId, { state: EMPTY_STATE, owner: { acquire: async () => undefined, release: () => undefined } });
}

describe('kafka source (scale-out): a batch that failed in a rebalance', () => {
  it('does not leave its partition to be read again from the failed batch when it comes back', async () => {
    const { brokers } = members;
    const { topic, groupId, source } = await twoPartitions(brokers, 'handover');
    // The round-robin assigner sorts members by id, which begins with the client id: with both
    // in the group, a has partition 0 and b partition 1.
    const a = instance(source, 'klaxon-a');
    const b = instance(source, 'klaxon-b');

    const { bJoined } = await startJoiningMidBatch(brokers, groupId, a, b);
    await waitFor(async () => (await committed(brokers, groupId, topic)) === 200, { what: 'a committing the first 200 records' });
    // Checkpointed too: b then has nothing to replay, and reads from the committed offset.
    await waitFor(async () => (await checkpointed(brokers, groupId, topic, [1]))[0] === 100, { what: 'a checkpointing partition 1' });
    await produce(brokers, topic, records('handover', 200, 10), { partition: 1 });
    await bJoined();

    // b has partition 1 and reads the 10 records again from the committed offset (at-least-once).
    await waitFor(async () => (await committed(brokers, groupId, topic)) === 210, { what: 'b committing partition 1' });
    expect(b.got.get(1)).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
    expect(b.got.get(0)).toBeUndefined();
    await waitFor(async () => (await checkpointed(brokers, groupId, topic, [1]))[0] === 110, { what: 'b checkpointing partition 1' });

    // b leaves cleanly: partition 1 goes back to a, and a reads on from the committed offset 110.
    await b.source.stop();
    await produce(brokers, topic, records('handover', 210, 10), { partition: 1 });
    await waitFor(async () => (await committed(brokers, groupId, topic)) === 220, { timeoutMs: 60_000, what: 'a committing partition 1 again' });
    expect(a.got.get(0)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(a.got.get(1)).toEqual(Array.from({ length: 120 }, (_, i) => i)); // each offset once
  }, 180_000);
});
