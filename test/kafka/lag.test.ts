// A slow consumer: its lag grows, is exported per partition, and drains once it catches up.
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KafkaSource } from '../../src/sources/kafka/consumer.js';
import { systemClock } from '../../src/stream/clock.js';
import { createTopic, kafkaBrokers, uniqueTopic, waitFor } from '../support/kafka.js';
import { config, metric, produce, records } from './helpers.js';

let brokers: string[];
let source: KafkaSource | undefined;

beforeAll(async () => {
  brokers = await kafkaBrokers();
}, 300_000);

afterEach(async () => {
  await source?.stop();
  source = undefined;
});

describe('kafka source: consumer lag', () => {
  it('exports klaxon_kafka_consumer_lag per partition: growing while the sink is slow, zero once it catches up', async () => {
    const topic = uniqueTopic('lag');
    await createTopic(brokers, topic, 2);
    await produce(brokers, topic, records('lag', 0, 4_000));
    const registry = new Registry();
    const cfg = config({ brokers, topics: [topic], groupId: `${topic}-g`, checkpointTopic: null });
    if (cfg.source.type !== 'kafka') throw new Error('kafka config expected');
    source = new KafkaSource(cfg.source, { clock: systemClock, registry, tuning: { lagPollMs: 200, chunk: 50 } });
    let slow = true;
    let consumed = 0;
    await source.start(async (batch) => {
      consumed += batch.length;
      if (slow) await sleep(100); // 500 records/s at most
    });
    const lag = async (): Promise<number> => {
      const text = await registry.metrics();
      return [0, 1].reduce((sum, p) => sum + (metric(text, `klaxon_kafka_consumer_lag{topic="${topic}",partition="${p}"}`) ?? NaN), 0);
    };
    await waitFor(async () => (await lag()) > 2_000, { what: 'a lag over 2000 records on both partitions' });
    const before = await lag();
    await produce(brokers, topic, records('lag', 4_000, 2_000));
    await waitFor(async () => (await lag()) > before, { what: 'the lag to grow with new records' });

    slow = false;
    await waitFor(async () => consumed === 6_000 && (await lag()) === 0, { timeoutMs: 30_000, what: 'all consumed, the lag drained' });
  }, 90_000);
});
