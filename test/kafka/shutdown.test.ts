// A clean stop in the middle of a batch: the chunk in progress finishes, what the monitor got
// is committed, nothing more is delivered, and the group is left.
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { KafkaSource } from '../../src/sources/kafka/consumer.js';
import { systemClock } from '../../src/stream/clock.js';
import { createTopic, kafkaBrokers, uniqueTopic, waitFor } from '../support/kafka.js';
import { committed, config, kafkaClient, produce, records } from './helpers.js';

let brokers: string[];

beforeAll(async () => {
  brokers = await kafkaBrokers();
}, 300_000);

describe('kafka source: graceful stop', () => {
  it('finishes the chunk in progress, commits exactly what was delivered, and leaves the group', async () => {
    const topic = uniqueTopic('stop');
    const groupId = `${topic}-g`;
    await createTopic(brokers, topic, 1);
    await produce(brokers, topic, records('stop', 0, 2_000));
    const cfg = config({ brokers, topics: [topic], groupId, checkpointTopic: null });
    if (cfg.source.type !== 'kafka') throw new Error('kafka config expected');
    const source = new KafkaSource(cfg.source, { clock: systemClock, tuning: { chunk: 100 } });
    let delivered = 0;
    let inSink = false;
    await source.start(async (batch) => {
      inSink = true;
      await sleep(50);
      delivered += batch.length;
      inSink = false;
    });
    await waitFor(() => delivered >= 300 && inSink, { what: 'a chunk in progress' });
    await source.stop();
    const atStop = delivered;
    expect(inSink).toBe(false);
    expect(atStop % 100).toBe(0); // whole chunks only
    expect(atStop).toBeLessThan(2_000);
    expect(await committed(brokers, groupId, topic)).toBe(atStop);
    await sleep(300);
    expect(delivered).toBe(atStop);
    const admin = kafkaClient(brokers).admin();
    await admin.connect();
    const { groups } = await admin.describeGroups([groupId]);
    await admin.disconnect();
    expect(groups[0]?.members ?? []).toHaveLength(0);
  }, 60_000);
});
