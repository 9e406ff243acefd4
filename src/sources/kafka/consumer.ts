import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { KafkaSourceConfig } from '../../config/types.js';
import { createKafkaMetrics, type KafkaMetrics } from '../../metrics/kafka.js';
import { decimal } from '../../math/decimal.js';
import type { Clock } from '../../stream/clock.js';
import { backoffMs } from '../pacer.js';
import type { BatchSink, Source, SourceLogger } from '../source.js';
import { Checkpointer, CheckpointStore, type RestorableState } from './checkpoint.js';
import { clampToLogStart, ensureTopic, groupOffsets, topicsPresent } from './admin.js';
import { CLIENT_RETRY, createKafka, describeConnection } from './client.js';
import { DeadLetterProducer, type Rejection } from './dead-letter.js';
import { isRetriable, KafkaSourceError } from './errors.js';
import { LagTracker } from './lag.js';
import { partitionKey } from './partitions.js';
import { PartitionProgress } from './progress.js';
import { kafkaRecord, Timestamps, type KafkaRecord } from './record.js';

/** Timings; the defaults suit production, tests shorten them. */
export interface KafkaTuning {
  /** How long a fetch waits for data on the broker (kafkajs `maxWaitTimeInMs`); also bounds a clean stop. */
  maxWaitMs: number;
  /** How often to look for configured topics that do not exist yet. */
  topicPollMs: number;
  /** How often to ask the brokers for high watermarks and committed offsets (lag). */
  lagPollMs: number;
  /** Without a broker response for this long (and no batch in progress) the source reports itself disconnected. */
  staleAfterMs: number;
  /** Records handed to the monitor at a time; heartbeats go in between. */
  chunk: number;
}

export const DEFAULT_TUNING: KafkaTuning = {
  maxWaitMs: 1_000,
  topicPollMs: 5_000,
  lagPollMs: 5_000,
  staleAfterMs: 10_000,
  chunk: 2_000,
};

export interface KafkaSourceDeps {
  clock: Clock;
  logger?: SourceLogger;
  /** Where the Kafka metrics go; default a private registry (nowhere). */
  registry?: Registry;
  /** The monitor, for checkpoints and the restore; without it nothing is checkpointed. */
  state?: RestorableState;
  /** Where the SASL password is read from; default process.env. */
  env?: NodeJS.ProcessEnv;
  tuning?: Partial<KafkaTuning>;
  /**
   * Scale-out: the source reads one topic (the repartition topic) and the streams belong to its
   * partitions. Given, each newly assigned partition's streams are created and restored from
   * the checkpoint topic (then replayed) before its records are applied, and a revoked
   * partition's streams are dropped. Absent: every stream is this instance's.
   */
  owner?: PartitionOwner;
  /**
   * Scale-out: another group whose lag to export beside this one's, polled with it (the
   * routers' group on the source topics: without it a router falling behind would go unseen,
   * the owners' lag on the repartition topic staying low while it starves).
   */
  upstream?: { groupId: string; topics: readonly string[]; fromBeginning: boolean };
}

/** Creates and drops the streams of a partition as the group assigns and revokes it. */
export interface PartitionOwner {
  acquire(partitions: readonly number[]): Promise<void>;
  release(partitions: readonly number[]): void;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(err: unknown): void;
  settled: boolean;
}

function deferred<T>(): Deferred<T> {
  const d = { settled: false } as Deferred<T>;
  d.promise = new Promise<T>((resolve, reject) => {
    d.resolve = (v) => {
      d.settled = true;
      resolve(v);
    };
    d.reject = (err) => {
      d.settled = true;
      reject(err);
    };
  });
  return d;
}

/** How a consumer session ended: topics appeared (start again now), or it crashed for good (back off first). */
type SessionEnd = 'resubscribe' | 'crashed' | 'stopped';

/**
 * Records from Kafka: a consumer group over the configured topics, delivering each batch to
 * the monitor and committing only what the monitor has applied (at-least-once).
 *
 * - Offsets are committed explicitly after the sink resolved and rejected records reached
 *   the dead-letter topic; kafkajs never commits on its own (autoCommit off).
 * - A broker outage is ridden out: kafkajs retries requests, then restarts the consumer
 *   (`restartOnFailure`); anything kafkajs gives up on ends the session and a supervisor starts
 *   a new one after an exponential, jittered backoff. `isConnected()` says which it is.
 * - Within a process every record reaches the monitor once: batches that kafkajs delivers
 *   again after a failed commit or a rebalance are skipped up to what was applied.
 * - Across restarts (checkpointTopic), references are restored and each partition is read
 *   again from the oldest offset a window held, so windows come back as they were; records
 *   below the committed offset are a replay, not counted again (see checkpoint.ts).
 * - Configured topics that do not exist yet are waited for, and consumed from their
 *   beginning once they appear.
 */
export class KafkaSource implements Source {
  readonly name = 'kafka';
  private readonly config: KafkaSourceConfig;
  private readonly deps: KafkaSourceDeps;
  private readonly tuning: KafkaTuning;
  private readonly metrics: KafkaMetrics;
  private readonly lag: LagTracker;
  private readonly upstreamLag: LagTracker | undefined;
  private kafka: Kafka | undefined;
  private deadLetters: DeadLetterProducer | undefined;
  private store: CheckpointStore | undefined;
  private checkpointer: Checkpointer | undefined;

  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly abort = new AbortController();

  private joined = false;
  private lastResponseMs = -Infinity;
  private inBatch = false;
  /** The last `eachBatch` kafkajs started (settled once it returned, its checkpoint included). */
  private lastBatch: Promise<void> = Promise.resolve();
  private lastCheckpointMs = -Infinity;
  private checkpointing = false;
  /** An operator decision came in: the next chance writes a checkpoint, whatever the interval. */
  private decisionPending = false;
  /** The checkpoint write in progress, or the last one (settled). */
  private checkpointWrite: Promise<void> = Promise.resolve();
  private restored = false;
  private firstLook = true;
  /** Topics missing at start: once they appear they are read from their beginning. */
  private readonly lateTopics = new Set<string>();

  private readonly progress = new PartitionProgress();
  private readonly timestamps = new Timestamps();
  /** The current session joined its group: a crash after that starts the backoff afresh. */
  private joinedThisSession = false;
  /** Scale-out: the partitions (of the one topic) this instance owns, pending ones included. */
  private readonly owned = new Set<number>();

  constructor(config: KafkaSourceConfig, deps: KafkaSourceDeps) {
    this.config = config;
    this.deps = deps;
    this.tuning = { ...DEFAULT_TUNING, ...deps.tuning };
    this.metrics = createKafkaMetrics(deps.registry ?? new Registry(), () => this.isConnected());
    this.lag = new LagTracker(this.metrics, config.groupId);
    this.upstreamLag = deps.upstream && new LagTracker(this.metrics, deps.upstream.groupId);
    // An operator's decision is checkpointed at once (or right after the batch in progress):
    // waiting for the periodic checkpoint, it was lost with a killed process, and under
    // scale-out to the stream's next owner. Written only while a session is in its group:
    // before that the restore may not have run (this instance's older state could go over
    // newer entries), and after a stop or between sessions the partitions may be another
    // member's. A decision made then waits for the next session's first checkpoint (stopped
    // for good, the state directory keeps it).
    deps.state?.onDecision?.(() => {
      if (this.stopping) return;
      this.decisionPending = true;
      if (this.joined) void this.checkpoint(false);
    });
  }

  async start(sink: BatchSink): Promise<void> {
    if (this.loop) throw new KafkaSourceError('the kafka source is already started', { retriable: false });
    const { logger } = this.deps;
    // Builds the SASL settings now: a missing password fails the start, not the first connect.
    const kafka = createKafka(this.config, { env: this.deps.env, logger, retry: CLIENT_RETRY });
    this.kafka = kafka;
    if (this.config.deadLetterTopic) this.deadLetters = new DeadLetterProducer(kafka, this.config.deadLetterTopic);
    if (this.config.checkpointTopic && this.deps.state) {
      this.store = new CheckpointStore(kafka, this.config.checkpointTopic, this.config.groupId, logger);
      this.checkpointer = new Checkpointer(this.store, this.deps.state, logger);
    }
    logger?.info(describeConnection(this.config), 'kafka source starting');
    const first = deferred<void>();
    this.loop = this.supervise(sink, first);
    await first.promise;
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.loop;
    this.stopping = true;
    this.abort.abort();
    await this.loop;
    await Promise.allSettled([this.deadLetters?.close(), this.store?.close()]);
  }

  isConnected(): boolean {
    if (!this.joined) return false;
    return this.inBatch || this.deps.clock.now() - this.lastResponseMs < this.tuning.staleAfterMs;
  }

  // ---------------------------------------------------------------- supervision

  /**
   * Runs consumer sessions until stopped. Resolves `first` once the first session consumes,
   * waits for its topics, or fails retriably; rejects it when the first failure is final
   * (a refused login, say), so that a misconfiguration fails the start.
   */
  private async supervise(sink: BatchSink, first: Deferred<void>): Promise<void> {
    const log = this.deps.logger;
    let failures = 0;
    while (!this.stopping) {
      let end: SessionEnd;
      this.joinedThisSession = false;
      try {
        end = await this.session(sink, first);
        failures = end === 'resubscribe' ? 0 : failures + 1;
      } catch (err) {
        const retriable = isRetriable(err);
        if (!retriable && !first.settled) {
          first.reject(new KafkaSourceError(`kafka: ${(err as Error).message}`, { retriable: false, cause: err }));
          return;
        }
        failures = this.joinedThisSession ? 1 : failures + 1;
        end = 'crashed';
        if (!this.stopping) (retriable ? log?.warn : log?.error)?.call(log, { err, failures }, 'kafka consumer session failed');
      } finally {
        this.setJoined(false);
      }
      if (!first.settled) first.resolve();
      if (this.stopping || end === 'resubscribe') continue;
      const wait = backoffMs(failures, 500, 30_000);
      log?.warn({ failures, retryInMs: Math.round(wait) }, 'restarting the kafka consumer after a backoff');
      this.metrics.restarted();
      await sleep(wait, undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
  }

  private setJoined(up: boolean): void {
    this.joined = up;
  }

  /** One consumer, from connect to crash, resubscription or stop. */
  private async session(sink: BatchSink, first: Deferred<void>): Promise<SessionEnd> {
    const kafka = this.kafka!;
    const log = this.deps.logger;
    const admin = kafka.admin({ retry: CLIENT_RETRY });
    await admin.connect();
    let consumer: Consumer | undefined;
    let subscribed: readonly string[] = [];
    const ended = deferred<SessionEnd>();
    const stopped = (): void => ended.resolve('stopped');
    this.abort.signal.addEventListener('abort', stopped);
    let watcher: Promise<void> | undefined;
    try {
      await this.prepare(admin);
      const topics = await this.awaitTopics(admin, first);
      if (topics === undefined) return 'stopped';
      subscribed = topics;

      consumer = kafka.consumer({
        groupId: this.config.groupId,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: this.tuning.maxWaitMs,
        sessionTimeout: this.config.sessionTimeoutSeconds * 1000,
        heartbeatInterval: Math.min(3_000, (this.config.sessionTimeoutSeconds * 1000) / 3),
        retry: {
          ...CLIENT_RETRY,
          restartOnFailure: async (err) => {
            log?.warn({ err }, 'kafka consumer crashed; kafkajs restarts it');
            this.metrics.restarted();
            return true;
          },
        },
      });
      this.progress.newConsumer();
      // Scale-out: what this process owned may have moved on elsewhere meanwhile; take it afresh.
      if (this.deps.owner && this.owned.size > 0) this.revoke([...this.owned]);
      const committed = this.progress.retained.size > 0 ? await groupOffsets(admin, this.config.groupId, topics) : new Map<string, number>();
      this.observe(consumer, ended, first, committed, admin);
      await consumer.connect();
      const early = topics.filter((t) => !this.lateTopics.has(t));
      const late = topics.filter((t) => this.lateTopics.has(t));
      if (early.length > 0) await consumer.subscribe({ topics: early, fromBeginning: this.config.fromBeginning });
      if (late.length > 0) await consumer.subscribe({ topics: late, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => {
          const run = this.eachBatch(payload, sink, consumer!);
          this.lastBatch = run.catch(() => undefined);
          return run;
        },
      });
      watcher = this.watch(admin, topics, ended);
      return await ended.promise;
    } finally {
      this.abort.signal.removeEventListener('abort', stopped);
      if (consumer && this.stopping) {
        // Stopping: batches kafkajs hands over from now on are not applied (nor resolved), so
        // they would be fetched again and again until the group is left. kafkajs refuses to
        // pause while it is between a crash and its own restart; nothing is fetched then anyway.
        try {
          consumer.pause(subscribed.map((topic) => ({ topic })));
        } catch (err) {
          log?.warn({ err }, 'could not pause the kafka consumer before stopping');
        }
      }
      ended.resolve('stopped'); // ends the watcher
      await watcher;
      const finalCheckpoint = (): Promise<void> => this.checkpoint(true).catch((err: unknown) => log?.warn({ err }, 'final checkpoint failed'));
      if (consumer && this.stopping) {
        // The last checkpoint goes out while this member still holds its partitions: leaving
        // first let a member that took them over at once restore the checkpoint before it, and
        // lose a re-baseline or mute made since. The batch in progress stops at its chunk's end
        // and commits (eachBatch); a checkpoint already being written (an operator decision's)
        // ends first, or this one would be skipped and the store closed under it.
        await this.lastBatch;
        await this.checkpointWrite;
        await finalCheckpoint();
      }
      if (consumer) {
        // Waits for a batch in progress (a session ending otherwise): it finishes its chunk and commits.
        await consumer.disconnect().catch((err: unknown) => log?.warn({ err }, 'kafka consumer did not disconnect cleanly'));
      } else if (this.stopping) await finalCheckpoint();
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Once per process: the checkpoint topic and the restore; every session: the dead-letter topic. */
  private async prepare(admin: Admin): Promise<void> {
    if (this.store && !this.restored && this.deps.owner) {
      await this.store.ensureTopic(admin); // streams are restored as their partitions are assigned
      this.restored = true;
    }
    if (this.store && !this.restored) {
      await this.store.ensureTopic(admin);
      const offsets = this.checkpointer!.restore(await this.store.load(admin));
      this.progress.retained = await clampToLogStart(admin, this.config.topics, offsets);
      this.restored = true;
    }
    if (this.deadLetters) {
      const topic = this.deadLetters.topic;
      await ensureTopic(admin, topic).catch((err: unknown) => {
        this.deps.logger?.warn({ err, topic }, 'cannot create the dead-letter topic; create it, or rejected records block the consumer');
      });
    }
  }

  /** The configured topics that exist, waiting until at least one does. Undefined when stopped meanwhile. */
  private async awaitTopics(admin: Admin, first: Deferred<void>): Promise<string[] | undefined> {
    let warned = '';
    for (;;) {
      const { present, missing } = await topicsPresent(admin, this.config.topics);
      // Missing at the first look: read from the beginning once created (nothing in it is old).
      if (this.firstLook) for (const t of missing) this.lateTopics.add(t);
      this.firstLook = false;
      if (missing.length > 0 && missing.join() !== warned) {
        warned = missing.join();
        this.deps.logger?.warn({ missing }, 'waiting for kafka topics that do not exist yet');
      }
      if (present.length > 0) return present;
      if (!first.settled) first.resolve();
      await sleep(this.tuning.topicPollMs, undefined, { signal: this.abort.signal }).catch(() => undefined);
      if (this.stopping) return undefined;
    }
  }

  /** Lag every lagPollMs; the missing topics every topicPollMs, resubscribing when one appears. */
  private async watch(admin: Admin, subscribed: readonly string[], ended: Deferred<SessionEnd>): Promise<void> {
    const missing = (): string[] => this.config.topics.filter((t) => !subscribed.includes(t));
    let nextLag = 0;
    let nextTopics = this.deps.clock.now() + this.tuning.topicPollMs;
    const tick = Math.min(this.tuning.lagPollMs, this.tuning.topicPollMs);
    const wake = new AbortController();
    void ended.promise.then(() => wake.abort());
    while (!ended.settled) {
      const now = this.deps.clock.now();
      try {
        if (now >= nextLag) {
          nextLag = now + this.tuning.lagPollMs;
          await this.lag.poll(admin, subscribed, this.config.fromBeginning);
          const upstream = this.deps.upstream;
          if (upstream && this.upstreamLag) await this.upstreamLag.poll(admin, (await topicsPresent(admin, upstream.topics)).present, upstream.fromBeginning);
        }
        await this.checkpoint(false);
        if (missing().length > 0 && now >= nextTopics) {
          nextTopics = now + this.tuning.topicPollMs;
          const appeared = (await topicsPresent(admin, missing())).present;
          if (appeared.length > 0) {
            this.deps.logger?.info({ topics: appeared }, 'kafka topics appeared; resubscribing');
            ended.resolve('resubscribe');
          }
        }
      } catch (err) {
        this.deps.logger?.warn({ err }, 'kafka metadata poll failed');
      }
      await sleep(tick, undefined, { signal: wake.signal }).catch(() => undefined);
    }
  }

  private observe(
    consumer: Consumer,
    ended: Deferred<SessionEnd>,
    first: Deferred<void>,
    groupOffsets: ReadonlyMap<string, number>,
    admin: Admin,
  ): void {
    const log = this.deps.logger;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (this.deps.owner) this.reassigned(consumer, admin, payload.memberAssignment);
      // Inside the event, before kafkajs' first fetch: the seeks take effect from the start.
      else for (const seek of this.progress.assigned(payload.memberAssignment, groupOffsets)) {
        const { topic, partition, offset, until, resumed } = seek;
        log?.info({ topic, partition, from: offset, to: until, resumed }, 'replaying to rebuild the windows');
        consumer.seek({ topic, partition, offset: String(offset) });
      }
      this.setJoined(true);
      this.joinedThisSession = true;
      this.lastResponseMs = this.deps.clock.now();
      log?.info({ groupId: payload.groupId, assignment: payload.memberAssignment }, 'joined the kafka consumer group');
      if (!this.deps.owner) void this.warnIfShared(admin, payload.groupId);
      if (!first.settled) first.resolve();
    });
    // Any broker response proves the connection; FETCH does not (kafkajs emits it after a failed fetch too).
    consumer.on(consumer.events.REQUEST, () => {
      this.lastResponseMs = this.deps.clock.now();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.setJoined(false);
      if (!payload.restart) ended.resolve('crashed');
    });
    consumer.on(consumer.events.STOP, () => this.setJoined(false));
  }

  /**
   * Without scale-out every klaxon holds every stream, so two in one group each see only some
   * partitions' records, and both write the same streams' references to the checkpoint topic,
   * overwriting each other. Nothing stops a second one joining; say so where operators look.
   */
  private async warnIfShared(admin: Admin, groupId: string): Promise<void> {
    try {
      const members = (await admin.describeGroups([groupId])).groups[0]?.members.length ?? 0;
      if (members > 1) {
        this.deps.logger?.warn(
          { groupId, members },
          'another consumer shares this kafka group: each klaxon sees only its partitions, and their checkpoints overwrite each other; give each klaxon its own groupId, or use scale-out',
        );
      }
    } catch {
      // Only a warning: the next join asks again.
    }
  }

  // ---------------------------------------------------------------- ownership (scale-out)

  /**
   * A new assignment: revoked partitions' streams are dropped now (their series disappear);
   * new ones wait while their streams are created and restored; kept ones that were replaying
   * carry on from where they were (kafkajs restarts every partition at its committed offset).
   */
  private reassigned(consumer: Consumer, admin: Admin, assignment: Record<string, number[]>): void {
    const topic = this.config.topics[0]!;
    const now = new Set(assignment[topic] ?? []);
    const revoked = [...this.owned].filter((p) => !now.has(p));
    const added = [...now].filter((p) => !this.owned.has(p));
    if (revoked.length > 0) this.revoke(revoked);
    for (const p of now) {
      const key = partitionKey(topic, p);
      if (!added.includes(p) && this.progress.replayEnd(key) >= 0) consumer.seek({ topic, partition: p, offset: String(this.progress.replayResume(key)) });
    }
    if (added.length === 0) return;
    for (const p of added) {
      this.owned.add(p);
      this.progress.pend(partitionKey(topic, p));
    }
    this.deps.logger?.info({ topic, acquired: added, revoked, owned: [...now].sort((a, b) => a - b) }, 'stream partitions reassigned');
    void this.acquire(consumer, admin, added);
  }

  private revoke(partitions: readonly number[]): void {
    const topic = this.config.topics[0]!;
    for (const p of partitions) {
      this.owned.delete(p);
      this.progress.forget(partitionKey(topic, p));
    }
    this.deps.owner!.release(partitions);
    this.deps.logger?.info({ topic, released: partitions }, 'released stream partitions');
  }

  /**
   * Creates the partitions' streams, restores their references from the checkpoint topic, and
   * seeks each partition back to where its windows began, replaying up to the group's
   * committed offset (what the last owner applied). Retries until done or revoked.
   */
  private async acquire(consumer: Consumer, admin: Admin, partitions: readonly number[]): Promise<void> {
    const topic = this.config.topics[0]!;
    const log = this.deps.logger;
    const mine = (): number[] => partitions.filter((p) => this.owned.has(p) && this.progress.isPending(partitionKey(topic, p)));
    for (let attempt = 0; !this.stopping && mine().length > 0; attempt++) {
      try {
        await this.deps.owner!.acquire(mine());
        const checkpoint = this.store ? await this.store.load(admin) : { references: [], mutes: [], offsets: new Map<string, number>() };
        if (this.checkpointer) this.checkpointer.restore(checkpoint);
        const committed = await groupOffsets(admin, this.config.groupId, [topic]);
        const starts = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.low)]));
        for (const p of mine()) {
          const key = partitionKey(topic, p);
          const until = committed.get(key);
          // No checkpoint of the partition yet: its windows may hold anything since the log start.
          const from = Math.max(checkpoint.offsets.get(key) ?? 0, starts.get(p) ?? 0);
          if (until !== undefined && from < until) {
            log?.info({ topic, partition: p, from, to: until }, 'replaying to rebuild the windows of acquired streams');
            consumer.seek({ topic, partition: p, offset: String(from) });
            this.progress.ready(topic, p, { from, until });
          } else {
            // From the committed offset, explicitly: a batch that failed under an earlier ownership
            // can have left a seek behind in kafkajs (redeliverUncommitted), and forget() dropped
            // what was applied, so records committed since would come again as new ones.
            if (until !== undefined) consumer.seek({ topic, partition: p, offset: String(until) });
            this.progress.ready(topic, p);
          }
        }
        return;
      } catch (err) {
        const wait = backoffMs(attempt, 500, 10_000);
        log?.warn({ err, partitions, retryInMs: Math.round(wait) }, 'restoring acquired streams failed; retrying');
        await sleep(wait, undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }

  // ---------------------------------------------------------------- batches

  private async eachBatch(p: EachBatchPayload, sink: BatchSink, consumer: Consumer): Promise<void> {
    const { batch } = p;
    const { topic, partition, messages } = batch;
    // Stopping: nothing more is applied (nor resolved, so the records are read again later).
    if (messages.length === 0 || this.stopping) return;
    const key = partitionKey(topic, partition);
    this.lastResponseMs = this.deps.clock.now();
    // A late batch of a partition this instance no longer owns: another member reads it now.
    if (this.deps.owner ? !this.owned.has(partition) : this.progress.isRevoked(key)) return;
    const high = Number(batch.highWatermark);
    if (high < this.progress.next(key)) {
      // A log never shrinks below what was read from it: this is another log under the same
      // name (the topic deleted and created again) or one truncated (unclean leader election).
      // Its offsets start over, so records at offsets applied before are new; skipped as a
      // redelivery they would be lost. Start the partition afresh.
      this.deps.logger?.warn(
        { topic, partition, applied: this.progress.next(key), highWatermark: high },
        'the partition holds fewer records than were applied from it (topic recreated or truncated); reading it afresh',
      );
      this.progress.forget(key);
      this.lag.forget(topic, partition);
    }
    if (this.progress.mustHold(key)) {
      // Nothing is resolved, so this batch is fetched again on resume.
      this.progress.hold(p.pause());
      return;
    }
    this.inBatch = true;
    try {
      await this.deliver(p, key, sink);
      await this.commit(p, key, topic, partition, high);
    } catch (err) {
      this.redeliverUncommitted(consumer, key, topic, partition, err);
      throw err;
    } finally {
      this.inBatch = false;
    }
    await this.checkpoint(false);
  }

  /** Hands the batch to the monitor a chunk at a time; rejected records go to the dead-letter topic before the offset moves. */
  private async deliver(p: EachBatchPayload, key: string, sink: BatchSink): Promise<void> {
    const { batch } = p;
    const { topic, partition, messages } = batch;
    const replayEnd = this.progress.replayEnd(key);
    const chunk = this.tuning.chunk;
    let i = 0;
    while (i < messages.length && p.isRunning() && !p.isStale() && !this.stopping) {
      const next = this.progress.next(key);
      const records: KafkaRecord[] = [];
      let replay: boolean | undefined;
      let last = '';
      // Records applied before (a redelivery) come first in a batch: only the position moves.
      for (; i < messages.length && decimal(messages[i]!.offset) < next; i++) last = messages[i]!.offset;
      if (i < messages.length && replayEnd < 0) {
        // Not replaying, and offsets only grow: the rest of the batch is new, no offset to compare.
        replay = false;
        const end = Math.min(messages.length, i + chunk);
        for (; i < end; i++) records.push(kafkaRecord(topic, partition, messages[i]!, this.timestamps));
        last = messages[i - 1]!.offset;
      } else {
        for (; i < messages.length && records.length < chunk; i++) {
          const m = messages[i]!;
          const r = decimal(m.offset) < replayEnd;
          if (replay !== undefined && r !== replay) break;
          replay = r;
          records.push(kafkaRecord(topic, partition, m, this.timestamps));
          last = m.offset;
        }
      }
      if (records.length > 0) {
        const rejections: Rejection[] = [];
        const onReject =
          replay || !this.deadLetters
            ? undefined
            : (reason: Rejection['reason'], stream: string | undefined, record: unknown) =>
                void rejections.push({ record: record as KafkaRecord, reason, stream });
        await sink(records, { replay: replay === true, onReject });
        if (rejections.length > 0) {
          await this.deadLetters!.sendUntilWritten(rejections, this.abort.signal, this.deps.logger);
          for (const r of rejections) this.metrics.deadLettered(r.reason, 1);
        }
        if (replay) this.metrics.replayed(records.length);
      }
      if (last !== '') {
        p.resolveOffset(last);
        if (this.progress.applied(topic, partition, decimal(last) + 1)) {
          this.deps.logger?.info({ topic, partition, upTo: replayEnd }, 'windows rebuilt; consuming new records');
        }
      }
      await p.heartbeat();
    }
  }

  /**
   * A batch failed (its commit, a heartbeat between chunks) with records applied but not
   * committed. Unless it rejoins the group, kafkajs fetches on from the last resolved offset:
   * those records would not come again, nothing would commit them while the partition gets
   * no new records, and no checkpoint could be written (`settled()` waits for them). Seeking
   * back to the last applied record has kafkajs deliver it again: deliver() skips it and
   * commit() commits everything applied, retried this way until it succeeds.
   */
  private redeliverUncommitted(consumer: Consumer, key: string, topic: string, partition: number, err: unknown): void {
    if (this.progress.toCommit(key) === undefined) return;
    const offset = this.progress.next(key) - 1;
    this.deps.logger?.info({ err, topic, partition, offset }, 'a batch failed before its offsets were committed; reading on from its last applied record');
    consumer.seek({ topic, partition, offset: String(offset) });
  }

  /** Commits what the monitor has applied beyond the replay, if anything is new. */
  private async commit(p: EachBatchPayload, key: string, topic: string, partition: number, high: number): Promise<void> {
    const offset = this.progress.toCommit(key);
    if (offset === undefined) return;
    await p.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: String(offset) }] }] });
    this.progress.committed(topic, partition, offset);
    this.lag.update(topic, partition, offset, high);
  }

  /**
   * Writes a checkpoint, at most every checkpointIntervalSeconds (`now`, or an operator decision
   * since the last one, skips the wait), and only between batches, with nothing applied left
   * uncommitted and no partition replaying: then the monitor's state is exactly its state at
   * the committed offsets (of the partitions this process owns: a revoked one is neither
   * waited for nor named). Called after each batch, by the watcher (a reference fitted while
   * no records arrive is kept too), on an operator decision and at a stop.
   */
  private async checkpoint(now: boolean): Promise<void> {
    if (!this.checkpointer || this.checkpointing || this.inBatch || !this.progress.settled()) return;
    if (!now && !this.decisionPending && this.deps.clock.now() - this.lastCheckpointMs < this.config.checkpointIntervalSeconds * 1000) return;
    this.lastCheckpointMs = this.deps.clock.now();
    this.checkpointing = true;
    this.checkpointWrite = this.writeCheckpoint(this.checkpointer);
    await this.checkpointWrite;
  }

  private async writeCheckpoint(checkpointer: Checkpointer): Promise<void> {
    const decision = this.decisionPending;
    this.decisionPending = false;
    try {
      // The state is read synchronously, before the first await: no batch can slip in.
      if (await checkpointer.write(this.progress.committedOffsets)) this.metrics.checkpointWritten(Date.now() / 1000);
    } catch (err) {
      this.deps.logger?.warn({ err }, 'checkpoint write failed; the next one will carry it');
      if (decision) this.decisionPending = true;
    } finally {
      this.checkpointing = false;
    }
  }
}
