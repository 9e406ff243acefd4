// A configured topic that does not exist yet: klaxon starts anyway, says it is not ready,
// and consumes the topic from its beginning once it appears.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, kafkaBrokers, uniqueTopic, waitFor } from '../support/kafka.js';
import { config, metric, produce, records, runApp, type RunningApp } from './helpers.js';

let brokers: string[];
let running: RunningApp | undefined;

beforeAll(async () => {
  brokers = await kafkaBrokers();
}, 300_000);

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('kafka source: a topic that does not exist yet', () => {
  it('waits for it, then reads it from the beginning even with fromBeginning false', async () => {
    const topic = uniqueTopic('late');
    running = await runApp(config({ brokers, topics: [topic], groupId: `${topic}-g`, checkpointTopic: null, fromBeginning: false }));
    const base = `http://127.0.0.1:${running.app.httpPort}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    expect(running.logs.some((l) => l.msg === 'waiting for kafka topics that do not exist yet')).toBe(true);

    await createTopic(brokers, topic, 1);
    // Produced before klaxon subscribes: a new topic holds nothing old, so none of it is skipped.
    await produce(brokers, topic, records('late', 0, 400));
    await waitFor(async () => metric(await running!.scrape(), 'klaxon_records_total{stream="x"}') === 400, {
      timeoutMs: 30_000,
      what: 'the 400 records of the late topic',
    });
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, { what: 'ready once consuming' });
  }, 60_000);
});
