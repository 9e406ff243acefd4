import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { SourceRecord } from '../source.js';

/** A Kafka message as the monitor sees it, plus what a dead letter must carry over. */
export interface KafkaRecord extends SourceRecord {
  value: Buffer;
  partition: number;
  offset: string;
  timestampMs: number;
  key: Buffer | null;
  headers: IHeaders | undefined;
}

const EMPTY = Buffer.alloc(0);

/** The message's create (or log-append) time is the record's event time, so a replay stamps it alike. */
export function kafkaRecord(topic: string, partition: number, m: KafkaMessage): KafkaRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    value: m.value ?? EMPTY,
    timestampMs: Number(m.timestamp),
    key: m.key,
    headers: m.headers,
  };
}
