// Partition bookkeeping of the Kafka source, without a broker: when a partition replays,
// what is committed, when a checkpoint may be taken.
import { describe, expect, it } from 'vitest';
import { partitionKey } from '../../src/sources/kafka/partitions.js';
import { PartitionProgress } from '../../src/sources/kafka/progress.js';

const k0 = partitionKey('t', 0);
const k1 = partitionKey('t', 1);

describe('PartitionProgress', () => {
  it('replays a first assignment from the checkpoint up to the committed offset, once', () => {
    const p = new PartitionProgress();
    p.retained = new Map([[k0, 100], [k1, 50]]);
    const committed = new Map([[k0, 180], [k1, 50]]);
    expect(p.assigned({ t: [0, 1] }, committed)).toEqual([{ topic: 't', partition: 0, offset: 100, until: 180, resumed: false }]);
    expect(p.replayEnd(k0)).toBe(180);
    expect(p.replayEnd(k1)).toBe(-1); // nothing below its committed offset to replay
    expect(p.mustHold(k1)).toBe(true); // new records wait for the replay
    expect(p.toCommit(k0)).toBeUndefined();
    expect(p.settled()).toBe(false);

    // A new session mid-replay carries on from what was applied.
    expect(p.applied('t', 0, 140)).toBe(false);
    expect(p.assigned({ t: [0, 1] }, committed)).toEqual([{ topic: 't', partition: 0, offset: 140, until: 180, resumed: true }]);

    let resumed = 0;
    p.hold(() => void resumed++);
    expect(p.applied('t', 0, 180)).toBe(true); // replay done
    expect(resumed).toBe(1);
    expect(p.mustHold(k1)).toBe(false);
    expect(p.committedOffsets.get(k0)).toEqual({ topic: 't', partition: 0, offset: 180 });
    expect(p.settled()).toBe(true);
    expect(p.assigned({ t: [0, 1] }, committed)).toEqual([]); // seen: no second replay
  });

  it('commits what was applied past the last commit, and is settled only when all of it is committed', () => {
    const p = new PartitionProgress();
    expect(p.assigned({ t: [0] }, new Map())).toEqual([]);
    p.applied('t', 0, 10);
    expect(p.settled()).toBe(false);
    expect(p.toCommit(k0)).toBe(10);
    p.committed('t', 0, 10);
    expect(p.toCommit(k0)).toBeUndefined();
    expect(p.settled()).toBe(true);
    p.applied('t', 0, 5); // a redelivery never moves it back
    expect(p.next(k0)).toBe(10);
  });

  it('settles without a revoked partition, names nothing of it, and counts it again from its first delivery back', () => {
    const p = new PartitionProgress();
    p.assigned({ t: [0, 1] }, new Map());
    p.applied('t', 0, 10);
    p.committed('t', 0, 10);
    p.applied('t', 1, 30);
    p.committed('t', 1, 30);
    p.applied('t', 1, 40); // applied, and the commit failed in the rebalance that takes it away
    expect(p.settled()).toBe(false);

    expect(p.assigned({ t: [0] }, new Map())).toEqual([]);
    expect(p.isRevoked(k1)).toBe(true);
    expect(p.toCommit(k1)).toBeUndefined(); // never committed here again
    expect(p.settled()).toBe(true); // checkpoints go on for partition 0
    expect([...p.committedOffsets.keys()]).toEqual([k0]); // and say nothing of partition 1
    p.applied('t', 0, 20);
    expect(p.settled()).toBe(false);
    p.committed('t', 0, 20);
    expect(p.settled()).toBe(true);

    // Back, from a committed offset unknown here: settled while it gets no record.
    expect(p.assigned({ t: [0, 1] }, new Map([[k1, 30]]))).toEqual([]); // no second replay
    expect(p.isRevoked(k1)).toBe(false);
    expect(p.settled()).toBe(true);
    expect(p.next(k1)).toBe(40); // records below are in the windows: a redelivery is skipped
    p.applied('t', 1, 35); // the first of them redelivered: all 40 are applied, and are committed
    expect(p.toCommit(k1)).toBe(40);
    expect(p.settled()).toBe(false);
    p.committed('t', 1, 40);
    expect(p.settled()).toBe(true);

    // Another member went on meanwhile: it comes back past what was applied here.
    p.assigned({ t: [0] }, new Map());
    p.assigned({ t: [0, 1] }, new Map());
    p.applied('t', 1, 55);
    expect(p.toCommit(k1)).toBe(55);
  });

  it('drops the replay of a partition revoked before it ended, so the others go on', () => {
    const p = new PartitionProgress();
    p.retained = new Map([[k0, 100]]);
    expect(p.assigned({ t: [0, 1] }, new Map([[k0, 180]]))).toHaveLength(1);
    expect(p.mustHold(k1)).toBe(true);
    let resumed = 0;
    p.hold(() => void resumed++);
    p.applied('t', 0, 150);
    expect(p.assigned({ t: [1] }, new Map([[k0, 180]]))).toEqual([]);
    expect(resumed).toBe(1);
    expect(p.replayEnd(k0)).toBe(-1);
    expect(p.mustHold(k1)).toBe(false);
    expect(p.settled()).toBe(true);
    // Back later: read on from the group's committed offset, not replayed again.
    expect(p.assigned({ t: [0, 1] }, new Map([[k0, 180]]))).toEqual([]);
    expect(p.replayEnd(k0)).toBe(-1);
  });
});
