// Malformed records end in the dead-letter topic, one letter per rejection, with headers
// saying why and where from; the counts on /metrics match; offsets are committed after.
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADERS as H } from '../../src/sources/kafka/dead-letter.js';
import { createTopic, uniqueTopic, waitFor } from '../support/kafka.js';
import { committed, config, metric, produce, readAll, records, useKafkaApp } from './helpers.js';

const kafka = useKafkaApp();

describe('kafka source: dead letters', () => {
  it('writes each rejection to the dead-letter topic with reason, origin and stream headers, and counts it', async () => {
    const { brokers } = kafka;
    const topic = uniqueTopic('dlq-in');
    const deadLetterTopic = uniqueTopic('dlq-out');
    const groupId = `${topic}-g`;
    await createTopic(brokers, topic, 1);
    const good = records('dlq', 0, 300);
    const bad = [
      { value: '{"x": 1, "pair": ', key: 'k-json' }, // invalid_json: rejects the record (1 letter)
      { value: '[1, 2, 3]', key: 'k-array' }, // not_object (1 letter)
      { value: '{"x": 2}', key: 'k-pair', headers: { trace: 't-1' } }, // missing_field for stream pair only
      { value: '{"x": "abc", "pair": {"a": 1, "b": "NaN"}}', key: 'k-both' }, // not_numeric for x, not_finite for pair
      { value: null, key: 'k-null' }, // a tombstone: invalid_json (1 letter)
    ];
    // Good records around the bad ones, so the bad ones sit at known offsets 150..154.
    await produce(brokers, topic, [...good.slice(0, 150), ...bad, ...good.slice(150)]);

    const running = await kafka.run(config({ brokers, topics: [topic], groupId, deadLetterTopic, checkpointTopic: null }));
    await waitFor(async () => (await committed(brokers, groupId, topic)) === 305, { what: 'all 305 offsets committed' });

    const letters = await readAll(brokers, deadLetterTopic, 6);
    expect(letters).toHaveLength(6);
    const summary = letters
      .map((l) => [l.key, l.headers[H.reason], l.headers[H.stream] ?? '-', l.headers[H.offset], l.headers[H.topic], l.headers[H.partition]].join(' '))
      .sort();
    expect(summary).toEqual(
      [
        `k-array not_object - 151 ${topic} 0`,
        `k-both not_finite pair 153 ${topic} 0`,
        `k-both not_numeric x 153 ${topic} 0`,
        `k-json invalid_json - 150 ${topic} 0`,
        `k-null invalid_json - 154 ${topic} 0`,
        `k-pair missing_field pair 152 ${topic} 0`,
      ].sort(),
    );
    // The record travels unchanged, its own headers too.
    expect(letters.find((l) => l.key === 'k-json')!.value).toBe('{"x": 1, "pair": ');
    expect(letters.find((l) => l.key === 'k-pair')!.headers.trace).toBe('t-1');
    // A tombstone stays one (null), not an empty value.
    expect(letters.find((l) => l.key === 'k-null')!.value).toBeNull();

    const text = await running.scrape();
    for (const [reason, n] of [['invalid_json', 2], ['not_object', 1], ['missing_field', 1], ['not_numeric', 1], ['not_finite', 1]] as const) {
      expect(metric(text, `klaxon_records_rejected_total{source="kafka",reason="${reason}"}`), reason).toBe(n);
      expect(metric(text, `klaxon_kafka_dead_letters_total{reason="${reason}"}`), reason).toBe(n);
    }
    expect(metric(text, 'klaxon_records_total{stream="x"}')).toBe(301); // 300 good + {"x": 2}
    expect(metric(text, 'klaxon_records_total{stream="pair"}')).toBe(300);
  }, 90_000);
});
