// A configured topic that does not exist yet: klaxon starts anyway, says it is not ready,
// and consumes the topic from its beginning once it appears.
import { describe, expect, it } from 'vitest';
import { createTopic, uniqueTopic, waitFor } from '../support/kafka.js';
import { config, metric, produce, records, useKafkaApp } from './helpers.js';

const kafka = useKafkaApp();

describe('kafka source: a topic that does not exist yet', () => {
  it('waits for it, then reads it from the beginning even with fromBeginning false', async () => {
    const { brokers } = kafka;
    const topic = uniqueTopic('late');
    const running = await kafka.run(config({ brokers, topics: [topic], groupId: `${topic}-g`, checkpointTopic: null, fromBeginning: false }));
    const base = `http://127.0.0.1:${running.app.httpPort}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    expect(running.logs.some((l) => l.msg === 'waiting for kafka topics that do not exist yet')).toBe(true);

    await createTopic(brokers, topic, 1);
    // Produced before klaxon subscribes: a new topic holds nothing old, so none of it is skipped.
    await produce(brokers, topic, records('late', 0, 400));
    await waitFor(async () => metric(await running.scrape(), 'klaxon_records_total{stream="x"}') === 400, {
      timeoutMs: 30_000,
      what: 'the 400 records of the late topic',
    });
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, { what: 'ready once consuming' });
  }, 60_000);
});
