import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { KafkaSourceConfig } from '../../config/types.js';
import { createKafkaMetrics, type KafkaMetrics } from '../../metrics/kafka.js';
import type { Clock } from '../../stream/clock.js';
import { backoffMs } from '../pacer.js';
import type { BatchSink, Source, SourceLogger } from '../source.js';
import { Checkpointer, CheckpointStore, type RestorableState } from './checkpoint.js';
import { CLIENT_RETRY, createKafka, describeConnection } from './client.js';
import { DeadLetterProducer, type Rejection } from './dead-letter.js';
import { isRetriable, KafkaSourceError } from './errors.js';
import { LagTracker } from './lag.js';
import { partitionKey } from './partitions.js';
import { kafkaRecord, type KafkaRecord } from './record.js';

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
  private kafka: Kafka | undefined;
  private deadLetters: DeadLetterProducer | undefined;
  private store: CheckpointStore | undefined;
  private checkpointer: Checkpointer | undefined;

  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly abort = new AbortController();
  private consumer: Consumer | undefined;

  private joined = false;
  private lastResponseMs = -Infinity;
  private inBatch = false;
  private lastCheckpointMs = -Infinity;
  private checkpointing = false;
  private restored = false;
  private firstLook = true;
  /** Topics missing at start: once they appear they are read from their beginning. */
  private readonly lateTopics = new Set<string>();

  /** Per partition: where the checkpoint says to replay from. */
  private retained = new Map<string, number>();
  /** Resumes partitions paused while others replay. */
  private readonly held: (() => void)[] = [];
  /** Per partition: records below this offset are a replay (the group had committed them). */
  private readonly replayUntil = new Map<string, number>();
  /** Partitions this process has been assigned at some point. */
  private readonly seen = new Set<string>();
  /** Per partition: the next offset the monitor has not yet been given. */
  private readonly applied = new Map<string, number>();
  /** Per partition: the next offset the group has committed (from this process). */
  private readonly committed = new Map<string, { topic: string; partition: number; offset: number }>();

  constructor(config: KafkaSourceConfig, deps: KafkaSourceDeps) {
    this.config = config;
    this.deps = deps;
    this.tuning = { ...DEFAULT_TUNING, ...deps.tuning };
    this.metrics = createKafkaMetrics(deps.registry ?? new Registry(), () => this.isConnected());
    this.lag = new LagTracker(this.metrics, config.groupId);
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
      try {
        end = await this.session(sink, first);
        if (end === 'resubscribe') failures = 0;
        else failures++;
      } catch (err) {
        const retriable = isRetriable(err);
        if (!retriable && !first.settled) {
          first.reject(new KafkaSourceError(`kafka: ${(err as Error).message}`, { retriable: false, cause: err }));
          return;
        }
        failures++;
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
    const ended = deferred<SessionEnd>();
    const stopped = (): void => ended.resolve('stopped');
    this.abort.signal.addEventListener('abort', stopped);
    let watcher: Promise<void> | undefined;
    try {
      await this.prepare(admin);
      const topics = await this.awaitTopics(admin, first);
      if (topics === undefined) return 'stopped';

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
      this.consumer = consumer;
      this.held.length = 0; // pauses belonged to the last consumer
      this.observe(consumer, ended, first, await this.groupOffsets(admin, topics));
      await consumer.connect();
      const early = topics.filter((t) => !this.lateTopics.has(t));
      const late = topics.filter((t) => this.lateTopics.has(t));
      if (early.length > 0) await consumer.subscribe({ topics: early, fromBeginning: this.config.fromBeginning });
      if (late.length > 0) await consumer.subscribe({ topics: late, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.eachBatch(payload, sink),
      });
      watcher = this.watch(admin, topics, ended);
      return await ended.promise;
    } finally {
      this.abort.signal.removeEventListener('abort', stopped);
      ended.resolve('stopped'); // ends the watcher
      await watcher;
      if (consumer) {
        // Waits for the batch in progress: it finishes its chunk and commits (see eachBatch).
        await consumer.disconnect().catch((err: unknown) => log?.warn({ err }, 'kafka consumer did not disconnect cleanly'));
        this.consumer = undefined;
      }
      if (this.stopping) await this.checkpoint(true).catch((err: unknown) => log?.warn({ err }, 'final checkpoint failed'));
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Once per process: the checkpoint topic and the restore; every session: the dead-letter topic. */
  private async prepare(admin: Admin): Promise<void> {
    if (this.store && !this.restored) {
      await this.store.ensureTopic(admin);
      this.retained = await this.clampToLogStart(admin, this.checkpointer!.restore(await this.store.load(admin)));
      this.restored = true;
    }
    if (this.deadLetters) {
      const topic = this.deadLetters.topic;
      if (!(await admin.listTopics()).includes(topic)) {
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic }] }).catch((err: unknown) => {
          this.deps.logger?.warn({ err, topic }, 'cannot create the dead-letter topic; create it, or rejected records block the consumer');
        });
      }
    }
  }

  /**
   * Replay offsets no older than each partition's log start: records deleted by retention
   * cannot be replayed, and seeking below the log start would reset to the configured end.
   */
  private async clampToLogStart(admin: Admin, offsets: Map<string, number>): Promise<Map<string, number>> {
    const existing = new Set(await admin.listTopics());
    const topics = this.config.topics.filter((t) => existing.has(t));
    const out = new Map<string, number>();
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const key = partitionKey(topic, p.partition);
        const from = offsets.get(key);
        if (from !== undefined) out.set(key, Math.max(from, Number(p.low)));
      }
    }
    return out;
  }

  /** The configured topics that exist, waiting until at least one does. Undefined when stopped meanwhile. */
  private async awaitTopics(admin: Admin, first: Deferred<void>): Promise<string[] | undefined> {
    let warned = '';
    for (;;) {
      const existing = new Set(await admin.listTopics());
      const present = this.config.topics.filter((t) => existing.has(t));
      const missing = this.config.topics.filter((t) => !existing.has(t));
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
        }
        await this.checkpoint(false);
        if (missing().length > 0 && now >= nextTopics) {
          nextTopics = now + this.tuning.topicPollMs;
          const existing = new Set(await admin.listTopics());
          const appeared = missing().filter((t) => existing.has(t));
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

  private observe(consumer: Consumer, ended: Deferred<SessionEnd>, first: Deferred<void>, groupOffsets: ReadonlyMap<string, number>): void {
    const log = this.deps.logger;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.replayAssigned(payload.memberAssignment, groupOffsets);
      this.setJoined(true);
      this.lastResponseMs = this.deps.clock.now();
      log?.info({ groupId: payload.groupId, assignment: payload.memberAssignment }, 'joined the kafka consumer group');
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

  // ---------------------------------------------------------------- batches

  private async eachBatch(p: EachBatchPayload, sink: BatchSink): Promise<void> {
    const { batch } = p;
    const { topic, partition, messages } = batch;
    if (messages.length === 0) return;
    const key = partitionKey(topic, partition);
    this.lastResponseMs = this.deps.clock.now();
    if (this.replayUntil.size > 0 && !this.replayUntil.has(key)) {
      // New records wait until every replay is done: the replayed ones are older, and windows
      // must take them first. Nothing is resolved, so this batch is fetched again on resume.
      this.held.push(p.pause());
      return;
    }
    this.inBatch = true;
    try {
      await this.deliver(p, key, sink);
      await this.commit(p, key, topic, partition, Number(batch.highWatermark));
    } finally {
      this.inBatch = false;
    }
    await this.checkpoint(false);
  }

  /**
   * On the first assignment of a partition in this process: when the checkpoint says windows
   * held records below the group's committed offset, seek back to them. Up to the committed
   * offset they are a replay. Runs inside kafkajs' GROUP_JOIN event, before its first fetch.
   */
  private replayAssigned(assignment: Record<string, number[]>, groupOffsets: ReadonlyMap<string, number>): void {
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const key = partitionKey(topic, partition);
        if (this.replayUntil.has(key)) {
          // A new session in the middle of a replay: carry on from where it stopped.
          const from = this.applied.get(key) ?? this.retained.get(key) ?? 0;
          this.consumer!.seek({ topic, partition, offset: String(from) });
          continue;
        }
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        const from = this.retained.get(key);
        const until = groupOffsets.get(key);
        if (from === undefined || until === undefined || from >= until) continue;
        this.replayUntil.set(key, until);
        this.deps.logger?.info({ topic, partition, from, to: until }, 'replaying to rebuild the windows');
        this.consumer!.seek({ topic, partition, offset: String(from) });
      }
    }
  }

  /** The group's committed offsets (next offsets; none where it committed nothing). */
  private async groupOffsets(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (this.retained.size === 0) return out;
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId: this.config.groupId, topics: [...topics] })) {
      for (const p of partitions) if (Number(p.offset) >= 0) out.set(partitionKey(topic, p.partition), Number(p.offset));
    }
    return out;
  }

  /** Hands the batch to the monitor a chunk at a time; rejected records go to the dead-letter topic before the offset moves. */
  private async deliver(p: EachBatchPayload, key: string, sink: BatchSink): Promise<void> {
    const { batch } = p;
    const { topic, partition, messages } = batch;
    const replayEnd = this.replayUntil.get(key) ?? -1;
    let i = 0;
    while (i < messages.length && p.isRunning() && !p.isStale()) {
      const next = this.applied.get(key) ?? -1;
      const records: KafkaRecord[] = [];
      let replay: boolean | undefined;
      let last = '';
      for (; i < messages.length && records.length < this.tuning.chunk; i++) {
        const m = messages[i]!;
        const offset = Number(m.offset);
        if (offset < next) {
          last = m.offset; // applied before (a redelivery): only the position moves
          continue;
        }
        const r = offset < replayEnd;
        if (replay !== undefined && r !== replay) break;
        replay = r;
        records.push(kafkaRecord(topic, partition, m));
        last = m.offset;
      }
      if (records.length > 0) {
        const rejections: Rejection[] = [];
        const onReject =
          replay || !this.deadLetters
            ? undefined
            : (reason: Rejection['reason'], stream: string | undefined, record: unknown) =>
                void rejections.push({ record: record as KafkaRecord, reason, stream });
        await sink(records, { replay: replay === true, onReject });
        if (rejections.length > 0) await this.deadLetter(rejections);
        if (replay) this.metrics.replayed(records.length);
      }
      if (last !== '') {
        p.resolveOffset(last);
        const after = Number(last) + 1;
        if (after > next) this.applied.set(key, after);
        if (replayEnd >= 0 && after >= replayEnd && this.replayUntil.delete(key)) {
          // The group had committed up to here: the state now stands where the last run left it.
          if (!this.committed.has(key)) this.committed.set(key, { topic, partition, offset: replayEnd });
          if (this.replayUntil.size === 0) for (const resume of this.held.splice(0)) resume();
          this.deps.logger?.info({ topic, partition, upTo: replayEnd }, 'windows rebuilt; consuming new records');
        }
      }
      await p.heartbeat();
    }
  }

  /** Commits what the monitor has applied beyond the replay, if anything is new. */
  private async commit(p: EachBatchPayload, key: string, topic: string, partition: number, high: number): Promise<void> {
    const applied = this.applied.get(key);
    if (applied === undefined || this.replayUntil.has(key)) return;
    const known = this.committed.get(key);
    if (known === undefined || known.offset < applied) {
      await p.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: String(applied) }] }] });
      this.committed.set(key, { topic, partition, offset: applied });
    }
    this.lag.update(topic, partition, applied, high);
  }

  /**
   * Retries until the letters are written, holding the partition meanwhile: nothing is
   * committed past a record that is neither applied nor dead-lettered. When stopping, gives up
   * and leaves the batch uncommitted, to be read again.
   */
  private async deadLetter(rejections: Rejection[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deadLetters!.send(rejections);
        const byReason = new Map<string, number>();
        for (const r of rejections) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
        for (const [reason, n] of byReason) this.metrics.deadLettered(reason, n);
        return;
      } catch (err) {
        if (this.stopping) {
          throw new KafkaSourceError('cannot write to the dead-letter topic; the batch stays uncommitted and will be read again', {
            retriable: true,
            cause: err,
          });
        }
        const wait = backoffMs(attempt, 200, 5_000);
        this.deps.logger?.warn({ err, attempt, retryInMs: Math.round(wait) }, 'dead-letter write failed; retrying');
        await sleep(wait, undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }

  /**
   * Writes a checkpoint, at most every checkpointIntervalSeconds (`now` skips the wait), and
   * only between batches, with nothing applied left uncommitted and no partition replaying:
   * then the monitor's state is exactly its state at the committed offsets. Called after each
   * batch and by the watcher (a reference fitted while no records arrive is kept too).
   */
  private async checkpoint(now: boolean): Promise<void> {
    if (!this.checkpointer || this.checkpointing || this.inBatch || this.replayUntil.size > 0) return;
    if (!now && this.deps.clock.now() - this.lastCheckpointMs < this.config.checkpointIntervalSeconds * 1000) return;
    for (const [key, next] of this.applied) {
      const c = this.committed.get(key);
      if (c === undefined || c.offset !== next) return;
    }
    this.lastCheckpointMs = this.deps.clock.now();
    this.checkpointing = true;
    try {
      // The state is read synchronously, before the first await: no batch can slip in.
      if (await this.checkpointer.write(this.committed)) this.metrics.checkpointWritten(Date.now() / 1000);
    } catch (err) {
      this.deps.logger?.warn({ err }, 'checkpoint write failed; the next one will carry it');
    } finally {
      this.checkpointing = false;
    }
  }
}
