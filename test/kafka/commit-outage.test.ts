// The broker stops right after the monitor applied the last records of a partition, so the
// batch fails for real (a connection error from its heartbeat or its commit) and kafkajs
// carries on by itself, without rejoining; the broker comes back and no record follows.
// Those offsets must still be committed, and a checkpoint written after.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { KafkaSource } from '../../src/sources/kafka/consumer.js';
import { systemClock } from '../../src/stream/clock.js';
import { createTopic, kafkaBrokers, startBroker, stopBroker, uniqueTopic, waitFor } from '../support/kafka.js';
import { committed, config, metric, produce, records } from './helpers.js';

let brokers: string[];

beforeAll(async () => {
  brokers = await kafkaBrokers();
}, 300_000);

describe('kafka source: the broker stops before a commit', () => {
  it('commits the applied records once the broker is back, with no new record, then checkpoints', async () => {
    const topic = uniqueTopic('commit-outage');
    const groupId = `${topic}-g`;
    await createTopic(brokers, topic, 1);
    await produce(brokers, topic, records('commit-outage', 0, 1_000));
    const cfg = config({ brokers, topics: [topic], groupId });
    if (cfg.source.type !== 'kafka') throw new Error('kafka config expected');
    const registry = new Registry();
    const logs: { msg: string; [k: string]: unknown }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    // No streams: a checkpoint holds the committed offsets only.
    const state = { retention: () => [], restoreReference: () => false, restoreMute: () => false };
    const source = new KafkaSource(cfg.source, { clock: systemClock, registry, logger, state, tuning: { lagPollMs: 1_000, topicPollMs: 1_000 } });
    let delivered = 0;
    let stoppedAtS: number | undefined;
    try {
      await source.start(async (batch) => {
        delivered += batch.length;
        // The last chunk is in the monitor; its heartbeat and commit come next, to a broker that is gone.
        if (delivered === 1_000 && stoppedAtS === undefined) {
          await stopBroker();
          stoppedAtS = Date.now() / 1000;
        }
      });
      await waitFor(() => stoppedAtS !== undefined, { timeoutMs: 60_000, what: 'the broker stopped after the last chunk' });
      await startBroker();
      await waitFor(async () => (await committed(brokers, groupId, topic)) === 1_000, { timeoutMs: 90_000, what: 'all 1000 offsets committed' });
      await waitFor(async () => (metric(await registry.metrics(), 'klaxon_kafka_last_checkpoint_timestamp_seconds') ?? 0) >= stoppedAtS!, {
        timeoutMs: 30_000,
        what: 'a checkpoint after the outage',
      });
      expect(delivered).toBe(1_000);
    } catch (err) {
      console.log(logs.map((l) => JSON.stringify(l)).join('\n'));
      throw err;
    } finally {
      await source.stop();
    }
  }, 240_000);
});
