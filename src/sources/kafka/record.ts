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
export function kafkaRecord(topic: string, partition: number, m: KafkaMessage, timestamps: Timestamps): KafkaRecord {
  return { topic, partition, offset: m.offset, value: m.value ?? EMPTY, timestampMs: timestamps.read(m.timestamp), message: m };
}

/** Reads timestamps, remembering the last: at any speed worth measuring, consecutive records mostly share their millisecond. */
export class Timestamps {
  private text = '';
  private ms = 0; // decimal('')

  read(text: string): number {
    if (text !== this.text) {
      this.ms = decimal(text);
      this.text = text;
    }
    return this.ms;
  }
}

/**
 * `Number(s)` for the decimal strings kafkajs gives timestamps as, faster: a 13-digit string
 * is no array index, so V8 converts it in its general (slow) path, once per record. Up to 15
 * digits the sum below is exact; anything else (`-1` for no timestamp, say) goes to Number.
 */
export function decimal(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return Number(s);
  let x = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return Number(s);
    x = x * 10 + d;
  }
  return x;
}
