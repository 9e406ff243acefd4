// The partition bookkeeping of scale-out, without a broker: a newly assigned partition waits
// until its streams are restored, replays up to the last owner's commit, and a revoked one is
// forgotten so that a later assignment starts afresh.
import { describe, expect, it } from 'vitest';
import { partitionKey } from '../../src/sources/kafka/partitions.js';
import { PartitionProgress } from '../../src/sources/kafka/progress.js';

const k = (p: number): string => partitionKey('r', p);

describe('PartitionProgress ownership', () => {
  it('holds a pending partition, replays it once ready, and settles after the replay', () => {
    const progress = new PartitionProgress();
    let resumed = 0;
    progress.pend(k(0));
    expect(progress.mustHold(k(0))).toBe(true);
    expect(progress.settled()).toBe(false);
    progress.hold(() => resumed++);
    progress.ready('r', 0, { from: 2, until: 10 });
    expect(progress.replayResume(k(0))).toBe(2);
    expect(resumed).toBe(1);
    expect(progress.mustHold(k(0))).toBe(false);
    expect(progress.replayEnd(k(0))).toBe(10);
    expect(progress.toCommit(k(0))).toBeUndefined();
    expect(progress.applied('r', 0, 10)).toBe(true);
    expect(progress.settled()).toBe(true);
    expect(progress.committedOffsets.get(k(0))?.offset).toBe(10);
  });

  it('forgets a revoked partition: nothing of it is committed or checkpointed, and a new assignment starts afresh', () => {
    const progress = new PartitionProgress();
    progress.pend(k(1));
    progress.ready('r', 1);
    progress.applied('r', 1, 5);
    progress.committed('r', 1, 5);
    progress.forget(k(1));
    expect(progress.next(k(1))).toBe(-1);
    expect(progress.committedOffsets.has(k(1))).toBe(false);
    expect(progress.settled()).toBe(true);
  });
});
