// An offset commit that fails once, right after the monitor applied the last records of an
// idle partition: klaxon must still commit them, without new records arriving, and then
// checkpoint again. A checkpoint is only written while everything applied is committed, so a
// commit that is never retried would also stop every checkpoint of every partition.
//
// The broker is real; the failure is injected into kafkajs's OffsetCommit request (the one
// commit that covers the last record, once), as the broker would answer it.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createTopic, uniqueTopic, waitFor } from '../support/kafka.js';
import { committed, config, metric, produce, records, useKafkaApp } from './helpers.js';

const kafka = useKafkaApp();

// The same module instances kafkajs itself uses (CommonJS, loaded by Node, not inlined by vitest).
const require = createRequire(import.meta.url);
const Broker = require('kafkajs/src/broker/index.js') as { prototype: { offsetCommit(request: OffsetCommit): Promise<unknown> } };
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode(code: number): Error };

interface OffsetCommit {
  groupId: string;
  topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
}

/** Makes the group's first commit of `offset` for partition 0 of `topic` fail with the protocol error `code`; returns the undo. */
function failCommitOnce(groupId: string, topic: string, offset: number, code: number, failed: () => void): () => void {
  const original = Broker.prototype.offsetCommit;
  let done = false;
  Broker.prototype.offsetCommit = function (this: unknown, request: OffsetCommit) {
    const hit = request.groupId === groupId && request.topics.some((t) => t.topic === topic && t.partitions.some((p) => p.partition === 0 && Number(p.offset) === offset));
    if (hit && !done) {
      done = true;
      failed();
      return Promise.reject(createErrorFromCode(code));
    }
    return original.call(this, request);
  };
  return () => {
    Broker.prototype.offsetCommit = original;
  };
}

describe('kafka source: a failed offset commit', () => {
  // REQUEST_TIMED_OUT and GROUP_LOAD_IN_PROGRESS (Kafka's COORDINATOR_LOAD_IN_PROGRESS, from a
  // restarted broker) are retriable errors kafkajs answers by fetching on from where it was;
  // NOT_COORDINATOR_FOR_GROUP (the coordinator moved) makes it rejoin the group and fetch
  // from the committed offset again.
  it.each([
    ['REQUEST_TIMED_OUT', 7],
    ['GROUP_LOAD_IN_PROGRESS', 14],
    ['NOT_COORDINATOR_FOR_GROUP', 16],
  ])('is retried on an idle partition after %s, then a checkpoint is written', async (_type, code) => {
    const { brokers } = kafka;
    const topic = uniqueTopic('commit-fail');
    const groupId = `${topic}-g`;
    await createTopic(brokers, topic, 2);
    await produce(brokers, topic, records('commit-fail', 0, 1_000), { partition: 0 });
    let failedAtS: number | undefined;
    const undo = failCommitOnce(groupId, topic, 1_000, code, () => void (failedAtS = Date.now() / 1000));
    try {
      const { scrape } = await kafka.run(config({ brokers, topics: [topic], groupId }));
      await waitFor(() => failedAtS !== undefined, { what: 'the commit of the last record to fail' });
      // Partition 0 gets no record from here on: only a retry can commit its last ones. New
      // records on partition 1 are committed, but do not make a checkpoint possible by themselves.
      await produce(brokers, topic, records('commit-fail', 1_000, 100), { partition: 1 });
      await waitFor(async () => (metric(await scrape(), 'klaxon_kafka_last_checkpoint_timestamp_seconds') ?? 0) >= failedAtS!, {
        timeoutMs: 30_000,
        what: 'a checkpoint after the failed commit',
      });
      await waitFor(async () => (await committed(brokers, groupId, topic)) === 1_100, { timeoutMs: 30_000, what: 'all 1100 offsets committed' });
      const text = await scrape();
      expect(metric(text, 'klaxon_records_total{stream="x"}')).toBe(1_100); // a redelivery is not counted again
      expect(metric(text, `klaxon_kafka_consumer_lag{topic="${topic}",partition="0"}`)).toBe(0);
    } finally {
      undo();
    }
  }, 120_000);
});
