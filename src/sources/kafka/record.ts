import type { KafkaMessage } from 'kafkajs';
import type { SourceRecord } from '../source.js';

/** A Kafka message as the monitor sees it, with the message itself for a dead letter. */
export interface KafkaRecord extends SourceRecord {
  value: Buffer;
  partition: number;
  offset: string;
  timestampMs: number;
  message: KafkaMessage;
}

const EMPTY = Buffer.alloc(0);

/**
 * The message's create (or log-append) time is the record's event time, so a replay stamps
 * it alike. Offsets are compared as numbers, exact below 2^53 (no partition gets near).
 */
export function kafkaRecord(topic: string, partition: number, m: KafkaMessage): KafkaRecord {
  return { topic, partition, offset: m.offset, value: m.value ?? EMPTY, timestampMs: Number(m.timestamp), message: m };
}
