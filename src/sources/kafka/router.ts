import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type Consumer, type EachBatchPayload, type Kafka, type Message, type Producer } from 'kafkajs';
import type { KafkaSourceConfig, StreamConfig } from '../../config/types.js';
import { Decoder, type RejectReason } from '../../stream/decode.js';
import { backoffMs } from '../pacer.js';
import type { SourceLogger } from '../source.js';
import { createTopicServed, ensureTopic, topicsPresent } from './admin.js';
import { CLIENT_RETRY } from './client.js';
import { DeadLetterProducer, type Rejection } from './dead-letter.js';
import { kafkaRecord, Timestamps, type KafkaRecord } from './record.js';

/** A routed message carries up to this many vectors of one stream (a chunk of source records). */
const VECTORS_PER_MESSAGE = 500;

/**
 * The partition of the repartition topic a stream's vectors go to: FNV-1a (32 bit) of its
 * name, modulo the partition count. Router and owners use this one function, so the owner of
 * a partition knows which streams it holds without reading it.
 */
export function streamPartition(stream: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < stream.length; i++) {
    h ^= stream.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

export interface RouterDeps {
  kafka: Kafka;
  streams: readonly StreamConfig[];
  /** Counts a rejection (the monitor's `klaxon_records_rejected_total`). */
  countRejected(reason: RejectReason): void;
  logger?: SourceLogger;
  maxWaitMs?: number;
}

/**
 * Stage 1 of scale-out, on every instance (group `<groupId>.router`): reads the source topics,
 * decodes each record into one vector per stream it feeds, and produces, per stream and chunk
 * of source records, one message `{"s": stream, "v": [vectors], "t": [their timestamps]}` keyed
 * by the stream's name to partition `streamPartition(stream, P)` of the repartition topic (one
 * message per vector would multiply the messages by the streams a record feeds; kafkajs spends
 * microseconds on each). Rejects are counted and dead-lettered here, as the single-instance
 * consumer does. Source offsets are committed only after the broker acknowledged the vectors
 * (and the letters): at-least-once, a crash re-routes what it had not committed.
 */
export class KafkaRouter {
  /** The routers' consumer group, beside the owners' `groupId`. */
  static groupOf(groupId: string): string {
    return `${groupId}.router`;
  }

  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private deadLetters: DeadLetterProducer | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly abort = new AbortController();
  private partitions = 0;

  /** The repartition topic's partition count, known once started. */
  get partitionCount(): number {
    return this.partitions;
  }
  private readonly decoder: Decoder;
  /** Filled by the decoder for the chunk being routed: per stream, its vectors and their timestamps. */
  private pending = new Map<number, { v: number[][]; t: number[] }>();
  private out: Message[] = [];
  private rejections: Rejection[] = [];
  private readonly names: string[];
  private readonly timestamps = new Timestamps();

  constructor(
    private readonly config: KafkaSourceConfig & { scaleOut: { topic: string; partitions: number } },
    private readonly deps: RouterDeps,
  ) {
    const names = deps.streams.map((s) => s.name);
    this.names = names;
    this.decoder = new Decoder(deps.streams, {
      vector: (target, v, record) => {
        let group = this.pending.get(target);
        if (group === undefined) this.pending.set(target, (group = { v: [], t: [] }));
        group.v.push(Array.from(v));
        group.t.push((record as KafkaRecord).timestampMs);
        if (group.v.length >= VECTORS_PER_MESSAGE) this.flush(target);
      },
      reject: (reason, target, record) => {
        this.deps.countRejected(reason);
        if (this.deadLetters) this.rejections.push({ record: record as KafkaRecord, reason, stream: target < 0 ? undefined : names[target] });
      },
    });
  }

  /** One message for the stream's vectors so far: `{"s": stream, "v": [[...], ...], "t": [ms, ...]}`. */
  private flush(target: number): void {
    const group = this.pending.get(target);
    if (group === undefined || group.v.length === 0) return;
    this.pending.delete(target);
    const stream = this.names[target]!;
    this.out.push({
      key: stream,
      partition: streamPartition(stream, this.partitions),
      timestamp: String(group.t[group.t.length - 1]),
      value: JSON.stringify({ s: stream, v: group.v, t: group.t }),
    });
  }

  /** Creates the repartition topic unless it exists, then routes until `stop()`. */
  async start(): Promise<void> {
    // Instances started together race to create the topics: retry what a half-created topic refuses.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.setup();
        break;
      } catch (err) {
        if (attempt >= 8) throw err;
        this.deps.logger?.warn({ err, attempt }, 'kafka router setup failed; retrying');
        await sleep(backoffMs(attempt, 300, 5_000));
      }
    }
    this.loop = this.supervise();
  }

  private async setup(): Promise<void> {
    const { kafka } = this.deps;
    const { topic, partitions } = this.config.scaleOut;
    const admin = kafka.admin({ retry: CLIENT_RETRY });
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(topic)) {
        await createTopicServed(admin, { topic, numPartitions: partitions });
      }
      this.partitions = (await admin.fetchTopicOffsets(topic)).length;
      if (this.partitions !== partitions) {
        this.deps.logger?.warn({ topic, partitions: this.partitions, configured: partitions }, 'the repartition topic has another partition count; using it');
      }
      if (this.config.deadLetterTopic) {
        await ensureTopic(admin, this.config.deadLetterTopic).catch((err: unknown) => this.deps.logger?.warn({ err }, 'cannot create the dead-letter topic'));
        this.deadLetters ??= new DeadLetterProducer(kafka, this.config.deadLetterTopic);
      }
    } finally {
      await admin.disconnect();
    }
    this.producer ??= kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await this.producer.connect();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.consumer?.disconnect().catch(() => undefined);
    await this.loop;
    await Promise.allSettled([this.producer?.disconnect(), this.deadLetters?.close()]);
  }

  private async supervise(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        await this.session();
        return;
      } catch (err) {
        if (this.stopping) return;
        failures++;
        this.deps.logger?.warn({ err, failures }, 'kafka router session failed; restarting');
        await sleep(backoffMs(failures, 500, 30_000), undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }

  /** One consumer; resolves when stopped, rejects when it crashed for good. */
  private async session(): Promise<void> {
    const { kafka } = this.deps;
    const admin = kafka.admin({ retry: CLIENT_RETRY });
    await admin.connect();
    let topics: string[];
    try {
      for (;;) {
        topics = (await topicsPresent(admin, this.config.topics)).present;
        if (topics.length > 0 || this.stopping) break;
        await sleep(2_000, undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    } finally {
      await admin.disconnect();
    }
    if (this.stopping) return;
    const consumer = kafka.consumer({
      groupId: KafkaRouter.groupOf(this.config.groupId),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.deps.maxWaitMs ?? 1_000,
      sessionTimeout: this.config.sessionTimeoutSeconds * 1000,
      heartbeatInterval: Math.min(3_000, (this.config.sessionTimeoutSeconds * 1000) / 3),
      retry: CLIENT_RETRY,
    });
    this.consumer = consumer;
    const crashed = new Promise<void>((_, reject) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) reject(payload.error);
      });
    });
    const stopped = new Promise<void>((resolve) => this.abort.signal.addEventListener('abort', () => resolve()));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: this.config.fromBeginning });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.route(p) });
      await Promise.race([crashed, stopped]);
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  }

  private async route(p: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = p.batch;
    const chunk = 2_000;
    for (let i = 0; i < messages.length && p.isRunning() && !p.isStale(); i += chunk) {
      const slice = messages.slice(i, i + chunk);
      this.out = [];
      this.rejections = [];
      for (const m of slice) this.decoder.decode(kafkaRecord(topic, partition, m, this.timestamps));
      for (const target of [...this.pending.keys()]) this.flush(target);
      const out = this.out;
      const rejections = this.rejections;
      if (out.length > 0) await this.producer!.send({ topic: this.config.scaleOut.topic, acks: -1, messages: out });
      if (rejections.length > 0) await this.deadLetters!.sendUntilWritten(rejections, this.abort.signal, this.deps.logger);
      const last = slice[slice.length - 1]!.offset;
      p.resolveOffset(last);
      await p.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: String(Number(last) + 1) }] }] });
      await p.heartbeat();
    }
  }
}
