// SASL from the configuration against a real broker that requires it: PLAIN, SCRAM-SHA-256
// and SCRAM-SHA-512 consume; a wrong password fails the start with a clear, final error; the
// password, read from the environment variable the config names, is never logged. And TLS:
// `klaxon run` with `ssl: true` over SASL_SSL, trusting a private CA via NODE_EXTRA_CA_CERTS.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/resolve.js';
import type { KafkaSourceConfig, SaslMechanism } from '../../src/config/types.js';
import { describeConnection } from '../../src/sources/kafka/client.js';
import { KafkaSource } from '../../src/sources/kafka/consumer.js';
import { KafkaSourceError } from '../../src/sources/kafka/errors.js';
import type { SourceLogger } from '../../src/sources/source.js';
import { systemClock } from '../../src/stream/clock.js';
import { uniqueTopic, waitFor } from '../support/kafka.js';
import { killAll, killHard, metric, records, startKlaxon } from './helpers.js';
import { SASL_USERS, startSaslBroker, type SaslBroker } from './sasl-broker.js';

const ENV = 'KLAXON_TEST_KAFKA_PASSWORD';
let broker: SaslBroker;

beforeAll(async () => {
  broker = await startSaslBroker();
}, 300_000);

afterAll(async () => {
  killAll();
  await broker?.stop();
});

function sourceConfig(mechanism: SaslMechanism, username: string, topic: string): KafkaSourceConfig {
  const cfg = parseConfig(
    {
      source: {
        type: 'kafka',
        brokers: broker.brokers,
        groupId: `${topic}-g`,
        topics: [topic],
        fromBeginning: true,
        checkpointTopic: null,
        sasl: { mechanism, username, passwordEnv: ENV },
      },
      streams: [{ name: 'x', topic, fields: ['x'] }],
    },
    { env: { [ENV]: 'only-checked-for-presence' } },
  );
  if (cfg.source.type !== 'kafka') throw new Error('kafka config expected');
  return cfg.source;
}

/** Every log call, as the JSON a logger would write. */
function capture(): { logger: SourceLogger & { debug(o: object, m?: string): void }; text(): string } {
  const lines: string[] = [];
  const log = (obj: object, msg?: string): void =>
    void lines.push(JSON.stringify({ ...obj, msg }, (_k, v: unknown) => (v instanceof Error ? { message: v.message, stack: v.stack, cause: String(v.cause) } : v)));
  return { logger: { info: log, warn: log, error: log, debug: log }, text: () => lines.join('\n') };
}

async function produceAs(topic: string, count: number): Promise<void> {
  const kafka = new Kafka({
    brokers: broker.brokers,
    clientId: 'sasl-test-producer',
    sasl: { mechanism: 'scram-sha-512', ...SASL_USERS.scram },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  // As createTopic in test/support: kafkajs's leader wait gives up on a fresh broker's
  // UNKNOWN_TOPIC_OR_PARTITION, so wait until the partition is served instead.
  await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: 1 }] });
  await waitFor(async () => (await admin.fetchTopicOffsets(topic)).length === 1, { what: `topic ${topic} served` });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: records('sasl', 0, count).map((value) => ({ value })), acks: -1 });
  await producer.disconnect();
}

describe('kafka source: SASL', () => {
  const cases: [SaslMechanism, { username: string; password: string }][] = [
    ['plain', SASL_USERS.plain],
    ['scram-sha-256', SASL_USERS.scram],
    ['scram-sha-512', SASL_USERS.scram],
  ];
  it.each(cases)('consumes with %s, the password only from the environment and never logged', async (mechanism, user) => {
    const topic = uniqueTopic(`sasl-${mechanism}`);
    await produceAs(topic, 200);
    const config = sourceConfig(mechanism, user.username, topic);
    const { logger, text } = capture();
    const source = new KafkaSource(config, { clock: systemClock, logger, env: { [ENV]: user.password } });
    let consumed = 0;
    try {
      await source.start(async (batch) => void (consumed += batch.length));
      await waitFor(() => consumed === 200, { what: `200 records over ${mechanism}` });
      expect(source.isConnected()).toBe(true);
    } finally {
      await source.stop();
    }
    expect(text()).toContain(ENV); // the variable is named...
    expect(text()).toContain(user.username);
    expect(text()).not.toContain(user.password); // ...its value never appears
    expect(JSON.stringify(describeConnection(config))).not.toContain(user.password);
  }, 60_000);

  it('fails the start on a wrong password, with a final error that names the problem and not the secret', async () => {
    const topic = uniqueTopic('sasl-wrong');
    await produceAs(topic, 1);
    const { logger, text } = capture();
    const wrong = 'not-the-password-4711';
    const source = new KafkaSource(sourceConfig('scram-sha-256', SASL_USERS.scram.username, topic), {
      clock: systemClock,
      logger,
      env: { [ENV]: wrong },
    });
    const err = await source.start(async () => undefined).then(
      () => undefined,
      (e: unknown) => e,
    );
    await source.stop();
    expect(err).toBeInstanceOf(KafkaSourceError);
    expect((err as KafkaSourceError).retriable).toBe(false);
    expect((err as Error).message).toMatch(/authentication/i);
    expect((err as Error).message).not.toContain(wrong);
    expect(text()).not.toContain(wrong);
  }, 60_000);

  it('fails the start when the named environment variable is unset', async () => {
    const source = new KafkaSource(sourceConfig('plain', SASL_USERS.plain.username, 'never-used'), { clock: systemClock, env: {} });
    await expect(source.start(async () => undefined)).rejects.toThrow(`environment variable ${ENV} is not set`);
  });

  it('runs over SASL_SSL with ssl: true, trusting a private CA through NODE_EXTRA_CA_CERTS', async () => {
    const topic = uniqueTopic('sasl-tls');
    await produceAs(topic, 300);
    const dir = mkdtempSync(join(tmpdir(), 'klaxon-tls-'));
    const file = join(dir, 'klaxon.yaml');
    writeFileSync(
      file,
      stringify({
        source: {
          type: 'kafka',
          brokers: broker.tlsBrokers,
          groupId: `${topic}-g`,
          topics: [topic],
          fromBeginning: true,
          ssl: true,
          sasl: { mechanism: 'scram-sha-512', username: SASL_USERS.scram.username, passwordEnv: ENV },
        },
        http: { host: '127.0.0.1', port: 0 },
        log: { level: 'debug' },
        streams: [{ name: 'x', topic, fields: ['x'] }],
      }),
    );
    const k = await startKlaxon(file, { cwd: dir, env: { NODE_EXTRA_CA_CERTS: broker.caFile, [ENV]: SASL_USERS.scram.password } });
    try {
      await waitFor(async () => metric(await (await fetch(`${k.base}/metrics`)).text(), 'klaxon_records_total{stream="x"}') === 300, {
        what: '300 records over TLS',
      });
      expect((await fetch(`${k.base}/readyz`)).status).toBe(200);
    } finally {
      await killHard(k);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(k.output.join('\n')).not.toContain(SASL_USERS.scram.password);
  }, 60_000);
});
