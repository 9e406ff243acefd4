// A topic deleted and created again under the same name while klaxon runs: its offsets start
// over at 0. Records at offsets klaxon had already applied in the old topic are new records
// all the same, and must be applied, not skipped as a redelivery.
import { describe, expect, it } from 'vitest';
import { createTopic, uniqueTopic, waitFor } from '../support/kafka.js';
import { config, kafkaClient, metric, produce, records, useKafkaApp } from './helpers.js';

const kafka = useKafkaApp();

describe('kafka source: a topic deleted and created again', () => {
  it('applies the new topic’s records, though their offsets were applied before in the old one', async () => {
    const { brokers } = kafka;
    const topic = uniqueTopic('recreated');
    await createTopic(brokers, topic, 1);
    await produce(brokers, topic, records('recreated', 0, 100));
    const running = await kafka.run(config({ brokers, topics: [topic], groupId: `${topic}-g`, checkpointTopic: null }));
    const total = async (): Promise<number | undefined> => metric(await running.scrape(), 'klaxon_records_total{stream="x"}');
    await waitFor(async () => (await total()) === 100, { timeoutMs: 30_000, what: 'the old topic’s 100 records' });

    const admin = kafkaClient(brokers).admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topic] });
      await waitFor(async () => !(await admin.listTopics()).includes(topic), { what: 'the topic gone' });
    } finally {
      await admin.disconnect();
    }
    await createTopic(brokers, topic, 1);
    await produce(brokers, topic, records('recreated', 100, 30));
    // Offsets 0-29 again: below the 100 klaxon applied from the old topic.
    await waitFor(async () => (await total()) === 130, { timeoutMs: 60_000, what: 'the new topic’s 30 records' });
    expect(running.logs.some((l) => String(l.msg).startsWith('the partition holds fewer records than were applied'))).toBe(true);
  }, 120_000);
});
