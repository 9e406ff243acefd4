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
   * A partition's first assignment in this process replays when the checkpoint says windows
   * held records below the group's committed offset; an assignment in the middle of a replay
   * (a new session) carries it on from where it stopped.
   */
  assigned(assignment: Record<string, number[]>, groupOffsets: ReadonlyMap<string, number>): Seek[] {
    const seeks: Seek[] = [];
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const key = partitionKey(topic, partition);
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
    return seeks;
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

  /** Scale-out: the partition went to another instance; what this process knew of it no longer holds. */
  forget(key: string): void {
    this.pending.delete(key);
    this.replayUntil.delete(key);
    this.seen.delete(key);
    this.appliedTo.delete(key);
    this.committedTo.delete(key);
    this.retained.delete(key);
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
    return this.appliedTo.get(key) ?? -1;
  }

  /**
   * The monitor has every record before `after`. True when that ended the partition's replay:
   * its committed offset is where the last run left it, and once no partition replays, the
   * held ones resume.
   */
  applied(topic: string, partition: number, after: number): boolean {
    const key = partitionKey(topic, partition);
    if (after > this.next(key)) this.appliedTo.set(key, after);
    const end = this.replayUntil.get(key);
    if (end === undefined || after < end) return false;
    this.replayUntil.delete(key);
    if (!this.committedTo.has(key)) this.committedTo.set(key, { topic, partition, offset: end });
    if (this.replayUntil.size === 0) for (const resume of this.held.splice(0)) resume();
    return true;
  }

  /** The offset to commit: what was applied, when it is past the commit and not a replay. */
  toCommit(key: string): number | undefined {
    const applied = this.appliedTo.get(key);
    if (applied === undefined || this.replayUntil.has(key)) return undefined;
    const committed = this.committedTo.get(key);
    return committed === undefined || committed.offset < applied ? applied : undefined;
  }

  committed(topic: string, partition: number, offset: number): void {
    this.committedTo.set(partitionKey(topic, partition), { topic, partition, offset });
  }

  /** Nothing applied is uncommitted and nothing replays: the monitor stands exactly at the committed offsets. */
  settled(): boolean {
    if (this.replayUntil.size > 0 || this.pending.size > 0) return false;
    for (const [key, next] of this.appliedTo) if (this.committedTo.get(key)?.offset !== next) return false;
    return true;
  }

  get committedOffsets(): ReadonlyMap<string, PartitionOffset> {
    return this.committedTo;
  }
}
