import { randomUUID } from 'node:crypto';
import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import type { StreamRetention } from '../../stream/monitor.js';
import type { MuteChange } from '../../stream/mute-change.js';
import type { ReferenceSnapshot } from '../../stream/snapshot.js';
import type { SourceLogger } from '../source.js';
import { createTopicServed } from './admin.js';
import { CheckpointReader, checkpointMessages, type Checkpoint, type ReplayOffset } from './checkpoint-format.js';
import { KafkaSourceError } from './errors.js';
import { partitionKey } from './partitions.js';

/** What the consumer reads and restores of the monitor across restarts. */
export interface RestorableState {
  retention(): StreamRetention[];
  restoreReference(snapshot: ReferenceSnapshot): boolean;
  /** Adopts an operator's mute decision kept by an earlier owner, when it is newer than the stream's own. */
  restoreMute(change: MuteChange): boolean;
  /** Calls `listener` after each operator decision (re-baseline, mute, unmute): it is checkpointed at once. */
  onDecision?(listener: () => void): void;
}

export type { Checkpoint, ReplayOffset } from './checkpoint-format.js';

/**
 * The checkpoint topic, after Kafka Streams' changelog topics: compacted, one key per stream
 * (its reference, its operator's latest mute decision) and per partition (the oldest offset any
 * window still holds); checkpoint-format.ts has the keys and values. The windows
 * themselves are never copied: the input topic is their changelog, and a restart replays it
 * from those offsets.
 */
export class CheckpointStore {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly groupId: string,
    private readonly logger?: SourceLogger,
  ) {
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  }

  /**
   * Creates the topic (one partition, compacted) unless it exists; warns when an existing one
   * is not compacted. Asks before creating, so a pre-created topic needs no Create permission.
   */
  async ensureTopic(admin: Admin): Promise<void> {
    if (!(await admin.listTopics()).includes(this.topic)) {
      await createTopicServed(admin, { topic: this.topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] });
      this.logger?.info({ topic: this.topic }, 'created the checkpoint topic (compacted)');
      return;
    }
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2 /* TOPIC */, name: this.topic, configNames: ['cleanup.policy'] }],
      });
      const policy = resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue;
      if (policy !== undefined && !policy.includes('compact')) {
        this.logger?.warn(
          { topic: this.topic, policy },
          'the checkpoint topic is not compacted: old checkpoints will be deleted by time, not kept per key; set cleanup.policy=compact',
        );
      }
    } catch (err) {
      this.logger?.warn({ topic: this.topic, err }, 'cannot read the checkpoint topic configuration (DescribeConfigs); not checking its cleanup policy');
    }
  }

  /**
   * Reads the whole topic, up to the end it has now. kafkajs consumes only in groups, so this
   * joins a throwaway group that commits nothing, and deletes it after.
   */
  async load(admin: Admin, timeoutMs = 60_000): Promise<Checkpoint> {
    const reader = new CheckpointReader(this.topic);
    const ends = new Map<number, bigint>();
    for (const p of await admin.fetchTopicOffsets(this.topic)) {
      if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
    }
    if (ends.size === 0) return reader.checkpoint();

    const groupId = `${this.groupId}.checkpoint-restore.${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
    let timer: NodeJS.Timeout | undefined;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: this.topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new KafkaSourceError(`reading the checkpoint topic ${this.topic} took over ${timeoutMs} ms`, { retriable: true })),
          timeoutMs,
        );
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              for (const m of batch.messages) {
                const key = m.key?.toString('utf8');
                try {
                  reader.read(key, m.value);
                } catch (err) {
                  this.logger?.warn({ topic: this.topic, key, err }, 'skipping an unreadable checkpoint entry');
                }
                const end = ends.get(batch.partition);
                if (end !== undefined && BigInt(m.offset) + 1n >= end) ends.delete(batch.partition);
              }
              if (ends.size === 0) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return reader.checkpoint();
  }

  /** Writes the entries in one produce request (one record batch: all of it or none), acknowledged by all in-sync replicas. */
  async write(references: readonly ReferenceSnapshot[], offsets: ReadonlyMap<string, ReplayOffset>, mutes: readonly MuteChange[] = []): Promise<void> {
    if (!this.connected) {
      await this.producer.connect();
      this.connected = true;
    }
    const messages = checkpointMessages(references, offsets, mutes);
    if (messages.length > 0) await this.producer.send({ topic: this.topic, acks: -1, messages });
  }

  async close(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }
}

/**
 * Decides what each checkpoint holds, and restores from the last one. A checkpoint is taken
 * right after an offset commit, from the state at exactly the committed offsets, and written
 * after it: so the offsets it names are never newer than what the group has committed, and a
 * replay from them up to the committed offsets rebuilds the windows the crashed run had.
 */
export class Checkpointer {
  /** Per stream, the reference (by creation time) the topic is known to hold. */
  private readonly kept = new Map<string, number>();
  /** Per stream, the mute decision (by the time it was made) the topic is known to hold. */
  private readonly keptMutes = new Map<string, number>();
  /** The offsets last written, to skip a checkpoint that would change nothing. */
  private lastOffsets = '';

  constructor(
    private readonly store: CheckpointStore,
    private readonly state: RestorableState,
    private readonly logger?: SourceLogger,
  ) {}

  /** Restores the references; returns the replay offsets by partition. */
  restore(checkpoint: Checkpoint): Map<string, number> {
    for (const snap of checkpoint.references) {
      if (this.state.restoreReference(snap)) this.kept.set(snap.stream, snap.createdAtMs);
    }
    // Refused ones (the stream's own decision is as new or newer, or it is not owned here) are not
    // marked kept: the stream's own is written with the next checkpoint.
    let mutes = 0;
    for (const change of checkpoint.mutes) {
      if (this.state.restoreMute(change)) {
        this.keptMutes.set(change.stream, change.changedAtMs);
        mutes++;
      }
    }
    if (checkpoint.references.length > 0 || checkpoint.mutes.length > 0 || checkpoint.offsets.size > 0) {
      this.logger?.info(
        { topic: this.store.topic, references: this.kept.size, mutes, partitions: checkpoint.offsets.size },
        'restored from the checkpoint topic',
      );
    }
    return checkpoint.offsets;
  }

  /**
   * Writes the references and mute decisions not yet kept and, for every partition in
   * `committed` (next offsets), where a replay must start: the oldest record in any window, or
   * of the data of a reference not yet kept; the committed offset itself when no stream holds
   * any of its records.
   */
  async write(committed: ReadonlyMap<string, { topic: string; partition: number; offset: number }>): Promise<boolean> {
    const retention = this.state.retention();
    const references: ReferenceSnapshot[] = [];
    const mutes: MuteChange[] = [];
    const offsets = new Map<string, ReplayOffset>([...committed].map(([k, v]) => [k, { ...v, committed: v.offset }]));
    const hold = (topic: string, partition: number, offset: number): void => {
      const o = offsets.get(partitionKey(topic, partition));
      // A partition with nothing committed by this process has nothing to replay yet.
      if (o !== undefined && offset < o.offset) o.offset = offset;
    };
    for (const s of retention) {
      const ref = s.reference;
      if (ref !== undefined && this.kept.get(s.stream) !== ref.createdAtMs) references.push(ref);
      if (s.mute !== undefined && this.keptMutes.get(s.stream) !== s.mute.changedAtMs) mutes.push(s.mute);
      for (const p of s.window) hold(p.topic, p.partition, p.offset);
      // A reference written now is kept from now: its data need not be replayable any more.
      if (ref === undefined) for (const p of s.referenceFrom) hold(p.topic, p.partition, p.offset);
    }
    const key = JSON.stringify([...offsets.values()]);
    if (references.length === 0 && mutes.length === 0 && key === this.lastOffsets) return false;
    await this.store.write(references, offsets, mutes);
    for (const r of references) this.kept.set(r.stream, r.createdAtMs);
    for (const m of mutes) this.keptMutes.set(m.stream, m.changedAtMs);
    this.lastOffsets = key;
    return true;
  }
}
