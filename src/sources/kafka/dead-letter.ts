import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type IHeaders, type Kafka, type Message, type Producer } from 'kafkajs';
import type { RejectReason } from '../../stream/decode.js';
import { backoffMs } from '../pacer.js';
import type { SourceLogger } from '../source.js';
import { KafkaSourceError } from './errors.js';
import type { KafkaRecord } from './record.js';

/** One rejection to dead-letter: the record, why, and the stream it failed (none when it failed them all). */
export interface Rejection {
  record: KafkaRecord;
  reason: RejectReason;
  stream: string | undefined;
}

/** Header names on a dead letter; values are UTF-8 strings. */
export const DEAD_LETTER_HEADERS = {
  reason: 'klaxon.reason',
  topic: 'klaxon.topic',
  partition: 'klaxon.partition',
  offset: 'klaxon.offset',
  stream: 'klaxon.stream',
} as const;

/**
 * Writes rejected records, unchanged (key, value, original headers), to the dead-letter topic
 * with headers saying why and where from. One letter per rejection: a record that fails two
 * streams is two letters, matching `klaxon_records_rejected_total`. `send` resolves only once
 * the broker has them (acks from all in-sync replicas), so the consumer commits after.
 */
export class DeadLetterProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    readonly topic: string,
  ) {
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: false });
  }

  async send(rejections: readonly Rejection[]): Promise<void> {
    if (rejections.length === 0) return;
    if (!this.connected) {
      await this.producer.connect();
      this.connected = true;
    }
    await this.producer.send({ topic: this.topic, acks: -1, messages: rejections.map(letter) });
  }

  /**
   * Retries until the letters are written, holding the caller (and its partition) meanwhile:
   * nothing may be committed past a record that is neither applied nor dead-lettered. Once
   * `signal` aborts (a stop), gives up with an error, leaving the batch uncommitted.
   */
  async sendUntilWritten(rejections: readonly Rejection[], signal: AbortSignal, logger?: SourceLogger): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.send(rejections);
        return;
      } catch (err) {
        if (signal.aborted) {
          throw new KafkaSourceError('cannot write to the dead-letter topic; the batch stays uncommitted and will be read again', {
            retriable: true,
            cause: err,
          });
        }
        const wait = backoffMs(attempt, 200, 5_000);
        logger?.warn({ err, topic: this.topic, attempt, retryInMs: Math.round(wait) }, 'dead-letter write failed; retrying');
        await sleep(wait, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }
}

function letter({ record, reason, stream }: Rejection): Message {
  const headers: IHeaders = {
    ...record.message.headers,
    [DEAD_LETTER_HEADERS.reason]: reason,
    [DEAD_LETTER_HEADERS.topic]: record.topic,
    [DEAD_LETTER_HEADERS.partition]: String(record.partition),
    [DEAD_LETTER_HEADERS.offset]: record.offset,
  };
  if (stream !== undefined) headers[DEAD_LETTER_HEADERS.stream] = stream;
  // The message's own value: a tombstone stays null (the record's value is an empty Buffer then).
  return { key: record.message.key, value: record.message.value, headers, timestamp: record.message.timestamp };
}
