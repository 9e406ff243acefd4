// `klaxon produce-demo` writes the demo's drifting records into Kafka; klaxon reading them
// sees every demo field in every message and raises the drift the demo promises.
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/resolve.js';
import { mergeDemoRecords } from '../../src/cli/produce-demo.js';
import { klaxon } from '../support/cli.js';
import { uniqueTopic, waitFor } from '../support/kafka.js';
import { metric, useKafkaApp } from './helpers.js';

const kafka = useKafkaApp();

describe('klaxon produce-demo', () => {
  it('merges a tick’s payment and sensor into one message; a record cut short is the message alone', () => {
    expect(JSON.parse(mergeDemoRecords('{"id":1,"ts":5,"amount":50}', '{"id":2,"ts":5,"x":1,"y":2}'))).toEqual({
      id: 1,
      ts: 5,
      amount: 50,
      x: 1,
      y: 2,
    });
    expect(mergeDemoRecords('{"id":1,"amo', '{"id":2,"x":1}')).toBe('{"id":1,"amo');
    expect(mergeDemoRecords('{"id":1,"amount":5}', '{"id":2,"x')).toBe('{"id":2,"x');
  });

  it('produces drifting records that klaxon consumes into every demo stream and alerts on', async () => {
    const { brokers } = kafka;
    const topic = uniqueTopic('features');
    const r = klaxon(
      ['produce-demo', '--brokers', brokers.join(','), '--topic', topic, '--rate', '4000', '--count', '4000', '--drift-after', '0.5',
        '--malformed-fraction', '0', '--seed', 'pd', '--json'],
      { timeoutMs: 60_000 },
    );
    expect(r.stderr).toContain(`created topic ${topic}`);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { messages: number; beforeDrift: number };
    expect(summary.messages).toBe(4_000);
    expect(summary.beforeDrift).toBeGreaterThan(600);
    expect(summary.beforeDrift).toBeLessThan(3_400);

    const cfg = parseConfig({
      source: { type: 'kafka', brokers, groupId: `${topic}-g`, topics: [topic], fromBeginning: true, checkpointTopic: null },
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      // One burst of records: the window stops moving once it is read, so the final window is
      // evaluated once; one evaluation over the threshold must be enough here.
      defaults: { window: { size: 500 }, evaluationIntervalSeconds: 0.25, hysteresis: { raiseAfter: 1, clearAfter: 2 }, fit: { nInit: 1 } },
      streams: [
        { name: 'payment_amount', topic, fields: ['amount'], components: 1 },
        { name: 'payment_latency', topic, fields: ['latency_ms'] },
        { name: 'sensor_xy', topic, fields: ['x', 'y'] },
        { name: 'temperature', topic, fields: ['temperature'], components: 1 },
      ],
    });
    const running = await kafka.run(cfg);
    const scrape = running.scrape;
    await waitFor(async () => metric(await scrape(), 'klaxon_drift_alert{stream="payment_amount",severity="warning"}') === 1, {
      timeoutMs: 30_000,
      what: 'the drift alert on payment_amount',
    });
    const text = await scrape();
    for (const s of ['payment_amount', 'payment_latency', 'sensor_xy', 'temperature']) {
      expect(metric(text, `klaxon_records_total{stream="${s}"}`), s).toBe(4_000);
    }
    expect(text).not.toContain('klaxon_records_rejected_total{');
  }, 90_000);

  it('writes exactly --count messages, malformed ones among them', async () => {
    const { brokers } = kafka;
    const topic = uniqueTopic('features');
    const r = klaxon(
      ['produce-demo', '--brokers', brokers.join(','), '--topic', topic, '--rate', '4000', '--count', '300', '--malformed-fraction', '0.3', '--seed', 'pd', '--json'],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { messages: number }).messages).toBe(300);
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0)).toBe(300);
    } finally {
      await admin.disconnect();
    }
  }, 90_000);
});
