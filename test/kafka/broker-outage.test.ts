// The broker goes away mid-stream and comes back: klaxon keeps running, says it is
// disconnected meanwhile, reconnects by itself, and counts every record exactly once.
import { describe, expect, it } from 'vitest';
import { createTopic, startBroker, stopBroker, uniqueTopic, waitFor } from '../support/kafka.js';
import { committed, config, metric, produce, records, useKafkaApp } from './helpers.js';

const kafka = useKafkaApp();

describe('kafka source: broker outage', () => {
  it('rides out a broker stop and start: no record lost or counted twice, the monitor still running', async () => {
    const { brokers } = kafka;
    const topic = uniqueTopic('outage');
    const groupId = `${topic}-g`;
    await createTopic(brokers, topic, 2);
    await produce(brokers, topic, records('outage', 0, 1_000));
    const running = await kafka.run(config({ brokers, topics: [topic], groupId }));
    const { app, scrape } = running;
    const counted = async (): Promise<number | undefined> => metric(await scrape(), 'klaxon_records_total{stream="x"}');
    await waitFor(async () => (await counted()) === 1_000, { what: 'the first 1000 records' });
    await waitFor(() => app.monitor.isReady(), { what: 'ready before the outage' });

    await stopBroker();
    await waitFor(async () => metric(await scrape(), 'klaxon_kafka_connected') === 0 && !app.monitor.isReady(), {
      timeoutMs: 60_000,
      what: 'the source to report the broker gone',
    });
    // Still serving, still evaluating what it has.
    expect((await fetch(`http://127.0.0.1:${app.httpPort}/healthz`)).status).toBe(200);

    await startBroker();
    await produce(brokers, topic, records('outage', 1_000, 1_000));
    await waitFor(async () => (await counted()) === 2_000, { timeoutMs: 90_000, what: 'the 1000 records produced after the restart' });
    await waitFor(() => app.monitor.isReady(), { timeoutMs: 30_000, what: 'ready again' });
    // The restarted broker's group coordinator can take a while to load the offsets topic
    // ("the coordinator is loading" to klaxon's commits and to this check alike: seen past
    // 30 s on a busy 2-core machine); the records are already counted, once each.
    await waitFor(async () => (await committed(brokers, groupId, topic)) === 2_000, { timeoutMs: 90_000, what: 'all offsets committed' });
    const text = await scrape();
    expect(metric(text, 'klaxon_records_total{stream="x"}')).toBe(2_000);
    expect(metric(text, 'klaxon_records_total{stream="pair"}')).toBe(2_000);
    expect(metric(text, 'klaxon_kafka_connected')).toBe(1);
  }, 240_000);
});
