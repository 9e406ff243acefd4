import { partitionKey } from './partitions.js';

/** A partition's next offset (the first record not yet covered). */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** Where to seek a partition when the group assigns it. */
export interface Seek extends PartitionOffset {
  /** Up to here (the group's committed offset) the records are a replay. */
  until: number;
  /** A replay an earlier session of this process left unfinished. */
  resumed: boolean;
}

/**
 * Where each partition stands in this process: the next offset the monitor has not been given
 * (applied), the next offset the group has committed, and, after a restart, up to where
 * records are a replay. Offsets are numbers: exact below 2^53, which no partition nears.
 */
export class PartitionProgress {
  /** Per partition: where the checkpoint says to replay from. */
  retained = new Map<string, number>();
  private readonly replayUntil = new Map<string, number>();
  private readonly seen = new Set<string>();
  private readonly appliedTo = new Map<string, number>();
  private readonly committedTo = new Map<string, PartitionOffset>();
  /** Resumes partitions paused while others replay. */
  private readonly held: (() => void)[] = [];
  /** Scale-out: partitions just assigned whose streams are being restored; their records wait. */
  private readonly pending = new Set<string>();
  /**
   * Without scale-out: partitions the group gave this process and then took away. Another member
   * reads them now, from the group's committed offset; this process can never commit them
   * again, so they take no part in `settled()`, and nothing of them is committed or checkpointed.
   */
  private readonly revoked = new Set<string>();
  /**
   * Revoked partitions that came back: their records below this offset are in the windows
   * already (they stay there after a revocation), so a redelivery of them is not applied twice.
   */
  private readonly appliedBefore = new Map<string, number>();

  /**
   * A partition's first assignment in this process replays when the checkpoint says windows
   * held records below the group's committed offset; an assignment in the middle of a replay
   * (a new session) carries it on from where it stopped. Without scale-out, partitions assigned
   * before and missing now are revoked, and revoked ones assigned again come back (see below).
   */
  assigned(assignment: Record<string, number[]>, groupOffsets: ReadonlyMap<string, number>): Seek[] {
    const seeks: Seek[] = [];
    const now = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const key = partitionKey(topic, partition);
        now.add(key);
        if (this.revoked.delete(key)) this.returned(key);
        const until = this.replayUntil.get(key);
        if (until !== undefined) {
          const offset = this.appliedTo.get(key) ?? this.retained.get(key) ?? 0;
          seeks.push({ topic, partition, offset, until, resumed: true });
          continue;
        }
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        const from = this.retained.get(key);
        const committed = groupOffsets.get(key);
        if (from === undefined || committed === undefined || from >= committed) continue;
        this.replayUntil.set(key, committed);
        seeks.push({ topic, partition, offset: from, until: committed, resumed: false });
      }
    }
    for (const key of this.seen) if (!now.has(key) && !this.revoked.has(key)) this.revoke(key);
    return seeks;
  }

  /**
   * Without scale-out: the group took the partition away. Its records stay in the windows until
   * newer ones push them out, but the group's committed offset is the new owner's business now:
   * forget ours, so no checkpoint names the partition (the entry last written while it was ours
   * stays), and drop its replay, which cannot finish here (the partitions it held back go on).
   * A restart could not bring its records back anyway (it need not get the partition); for the
   * partitions still owned, the checkpoint stays exact. Still `seen`: should it come back, the
   * checkpoint this process started from no longer describes its windows: no second replay.
   */
  private revoke(key: string): void {
    this.revoked.add(key);
    this.committedTo.delete(key);
    if (this.replayUntil.delete(key)) this.resumeHeld();
  }

  /**
   * A revoked partition is assigned back. kafkajs reads it from the group's committed offset,
   * which we do not know here: behind what this process applied (nobody committed since), at
   * it, or past it (another member went on). So it counts again only from its next record
   * (`applied`): until then it is not part of `settled()`, which it could otherwise hold up
   * forever while it gets no records, and what it applied before only keeps a redelivery
   * (also of the stale seek a failed batch left behind in kafkajs) from being applied twice.
   */
  private returned(key: string): void {
    const before = this.appliedTo.get(key);
    this.appliedTo.delete(key);
    if (before !== undefined) this.appliedBefore.set(key, before);
  }

  /** Without scale-out: the group assigned the partition before, and not now. */
  isRevoked(key: string): boolean {
    return this.revoked.has(key);
  }

  /** Some partition is replaying: new records elsewhere must wait (the replayed ones are older). */
  mustHold(key: string): boolean {
    return this.pending.has(key) || (this.replayUntil.size > 0 && !this.replayUntil.has(key));
  }

  /** Scale-out: a newly assigned partition waits until its streams are restored (`ready`). */
  pend(key: string): void {
    this.pending.add(key);
  }

  isPending(key: string): boolean {
    return this.pending.has(key);
  }

  /** Scale-out: the partition's streams are restored; it replays from `from` up to `until` when given. */
  ready(topic: string, partition: number, replay?: { from: number; until: number }): void {
    const key = partitionKey(topic, partition);
    if (!this.pending.delete(key)) return;
    this.seen.add(key);
    if (replay !== undefined) {
      this.retained.set(key, replay.from);
      this.replayUntil.set(key, replay.until);
    }
    this.resumeHeld();
  }

  /** Where a replay in progress carries on: the next record not applied, else where it began. */
  replayResume(key: string): number {
    return this.appliedTo.get(key) ?? this.retained.get(key) ?? 0;
  }

  /**
   * What this process knew of the partition no longer holds: in scale-out it went to another
   * instance; or its log was replaced (the topic created again) or truncated.
   */
  forget(key: string): void {
    this.pending.delete(key);
    this.replayUntil.delete(key);
    this.seen.delete(key);
    this.appliedTo.delete(key);
    this.committedTo.delete(key);
    this.retained.delete(key);
    this.revoked.delete(key);
    this.appliedBefore.delete(key);
    this.resumeHeld();
  }

  /** Resumes every held partition; those that must still wait are held again on their next batch. */
  private resumeHeld(): void {
    for (const resume of this.held.splice(0)) resume();
  }

  hold(resume: () => void): void {
    this.held.push(resume);
  }

  /** A new consumer: the pauses belonged to the last one. */
  newConsumer(): void {
    this.held.length = 0;
  }

  /** Below this offset a record is a replay; -1 when the partition is not replaying. */
  replayEnd(key: string): number {
    return this.replayUntil.get(key) ?? -1;
  }

  /** The next offset the monitor has not been given; -1 before the first. */
  next(key: string): number {
    return this.appliedTo.get(key) ?? this.appliedBefore.get(key) ?? -1;
  }

  /**
   * The monitor has every record before `after`. True when that ended the partition's replay:
   * its committed offset is where the last run left it, and once no partition replays, the
   * held ones resume.
   */
  applied(topic: string, partition: number, after: number): boolean {
    const key = partitionKey(topic, partition);
    const before = this.appliedBefore.get(key);
    if (before !== undefined) {
      // The first delivery since the partition came back. What was applied before it left is
      // in the windows: committing it too is true, and is what moves the group past it.
      this.appliedBefore.delete(key);
      this.appliedTo.set(key, Math.max(before, after));
    } else if (after > this.next(key)) this.appliedTo.set(key, after);
    const end = this.replayUntil.get(key);
    if (end === undefined || after < end) return false;
    this.replayUntil.delete(key);
    if (!this.committedTo.has(key)) this.committedTo.set(key, { topic, partition, offset: end });
    if (this.replayUntil.size === 0) for (const resume of this.held.splice(0)) resume();
    return true;
  }

  /** The offset to commit: what was applied, when it is past the commit, not a replay, and the partition is ours. */
  toCommit(key: string): number | undefined {
    const applied = this.appliedTo.get(key);
    if (applied === undefined || this.replayUntil.has(key) || this.revoked.has(key)) return undefined;
    const committed = this.committedTo.get(key);
    return committed === undefined || committed.offset < applied ? applied : undefined;
  }

  committed(topic: string, partition: number, offset: number): void {
    this.committedTo.set(partitionKey(topic, partition), { topic, partition, offset });
  }

  /**
   * Nothing applied is uncommitted and nothing replays: the monitor stands exactly at the
   * committed offsets, in the partitions this process owns. A revoked partition's last records
   * may never be committed by this process; waiting for them would stop every checkpoint.
   */
  settled(): boolean {
    if (this.replayUntil.size > 0 || this.pending.size > 0) return false;
    for (const [key, next] of this.appliedTo) {
      if (!this.revoked.has(key) && this.committedTo.get(key)?.offset !== next) return false;
    }
    return true;
  }

  get committedOffsets(): ReadonlyMap<string, PartitionOffset> {
    return this.committedTo;
  }
}
