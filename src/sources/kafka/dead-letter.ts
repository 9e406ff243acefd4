import type { IHeaders, Kafka, Message, Producer } from 'kafkajs';
import type { RejectReason } from '../../stream/decode.js';
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
    this.producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
  }

  async send(rejections: readonly Rejection[]): Promise<void> {
    if (rejections.length === 0) return;
    if (!this.connected) {
      await this.producer.connect();
      this.connected = true;
    }
    await this.producer.send({ topic: this.topic, acks: -1, messages: rejections.map(letter) });
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
  return { key: record.message.key, value: record.value, headers, timestamp: record.message.timestamp };
}
