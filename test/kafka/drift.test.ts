// End to end on the real broker: records with a known shift, produced into Kafka, move the
// divergence metrics of an in-process klaxon and raise its drift alert; offsets are committed.
import { describe, expect, it } from 'vitest';
import { createTopic, uniqueTopic, waitFor } from '../support/kafka.js';
import { committed, config, metric, produce, records, useKafkaApp } from './helpers.js';

const kafka = useKafkaApp();

describe('kafka source: drift end to end', () => {
  it('moves the divergence metrics and raises the alert on a known shift; commits every record', async () => {
    const { brokers } = kafka;
    const topic = uniqueTopic('drift');
    const groupId = `${topic}-g`;
    await createTopic(brokers, topic, 2);
    // Reference and a calm window: N(0, 1).
    await produce(brokers, topic, records('drift', 0, 1_000, 0));
    const running = await kafka.run(config({ brokers, topics: [topic], groupId, checkpointTopic: null }));
    const { scrape } = running;

    await waitFor(async () => metric(await scrape(), 'klaxon_drift_alert{stream="x",severity="warning"}') === 0, {
      timeoutMs: 30_000,
      what: 'stream x evaluated, calm',
    });
    const calm = metric(await scrape(), 'klaxon_divergence_nats{stream="x",measure="kl_ref_win"}')!;
    expect(calm).toBeLessThan(0.1);

    // A 1.5 sd shift of x: KL = 1.5²/2 ≈ 1.1 nats, over the critical threshold.
    await produce(brokers, topic, records('drift', 1_000, 1_000, 1.5));
    await waitFor(async () => metric(await scrape(), 'klaxon_drift_alert{stream="x",severity="critical"}') === 1, {
      timeoutMs: 30_000,
      what: 'the critical alert on x',
    });
    const text = await scrape();
    expect(metric(text, 'klaxon_divergence_nats{stream="x",measure="kl_ref_win"}')).toBeGreaterThan(0.6);
    expect(metric(text, 'klaxon_records_total{stream="x"}')).toBe(2_000);
    expect(metric(text, 'klaxon_records_total{stream="pair"}')).toBe(2_000);
    expect(metric(text, 'klaxon_kafka_connected')).toBe(1);
    await waitFor(async () => (await committed(brokers, groupId, topic)) === 2_000, { what: 'all 2000 offsets committed' });
  }, 90_000);
});
