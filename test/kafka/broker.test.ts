// Proves the test broker is a real Kafka that kafkajs 2.2.4 can use end to end, and that a
// broker restart loses neither records nor committed consumer-group offsets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, Partitioners, type Consumer, type Producer } from 'kafkajs';
import {
  createTopic,
  kafkaBrokers,
  startBroker,
  stopBroker,
  uniqueTopic,
  waitFor,
} from '../support/kafka.js';

interface Received {
  key: string;
  value: string;
}

let kafka: Kafka;
const clients: Array<Producer | Consumer> = [];

beforeAll(async () => {
  // Generous: on a fresh CI machine this may include the Maven fetch and a broker start.
  kafka = new Kafka({ clientId: 'klaxon-broker-test', brokers: await kafkaBrokers(), logLevel: logLevel.NOTHING });
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.disconnect()));
});

async function produce(topic: string, from: number, count: number): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  clients.push(producer);
  await producer.connect();
  const messages = Array.from({ length: count }, (_, j) => ({
    key: `k${from + j}`,
    value: JSON.stringify({ i: from + j, x: Math.sin(from + j) }),
  }));
  await producer.send({ topic, messages, acks: -1 });
  await producer.disconnect();
}

/** Consumes in a group, committing each message's offset as soon as it is handled. */
async function consume(topic: string, groupId: string, expected: number): Promise<Received[]> {
  // A short fetch wait: disconnect() waits out the in-flight fetch (5 s by default).
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
  clients.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: Received[] = [];
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      got.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
      const next = (BigInt(message.offset) + 1n).toString();
      await consumer.commitOffsets([{ topic, partition, offset: next }]);
    },
  });
  await waitFor(() => got.length >= expected, { timeoutMs: 60_000, what: `${expected} messages on ${topic}` });
  await consumer.disconnect();
  return got;
}

async function committedTotal(topic: string, groupId: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

function indices(received: Received[]): number[] {
  return received.map((r) => (JSON.parse(r.value) as { i: number }).i).sort((a, b) => a - b);
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, j) => from + j);

describe('test Kafka broker', () => {
  it('round-trips 100 messages through a consumer group with committed offsets', async () => {
    const topic = uniqueTopic('broker-rt');
    const group = `${topic}-g`;
    await createTopic(await kafkaBrokers(), topic, 3);
    await produce(topic, 0, 100);

    const got = await consume(topic, group, 100);

    expect(got).toHaveLength(100);
    expect(indices(got)).toEqual(range(0, 100));
    for (const r of got) expect(r.key).toBe(`k${(JSON.parse(r.value) as { i: number }).i}`);
    expect(await committedTotal(topic, group)).toBe(100);
  }, 180_000);

  it('keeps records and committed offsets across a broker restart', async () => {
    const topic = uniqueTopic('broker-restart');
    const group = `${topic}-g`;
    await createTopic(await kafkaBrokers(), topic, 2);
    await produce(topic, 0, 50);
    expect(indices(await consume(topic, group, 50))).toEqual(range(0, 50));

    await stopBroker();
    await startBroker();

    // The group's position survived: it resumes after the first 50, neither re-reading nor skipping.
    await waitFor(async () => (await committedTotal(topic, group)) === 50, {
      timeoutMs: 60_000,
      what: 'committed offsets to be readable after the restart',
    });
    await produce(topic, 50, 50);
    expect(indices(await consume(topic, group, 50))).toEqual(range(50, 50));
    // And every record is still on disk for a group that starts from the beginning.
    expect(indices(await consume(topic, `${topic}-fresh`, 100))).toEqual(range(0, 100));
  }, 300_000);
});
