// config/kafka.example.yaml is valid, and says what the Kafka source does by default.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { parseConfig } from '../../src/config/resolve.js';

const EXAMPLE = fileURLToPath(new URL('../../config/kafka.example.yaml', import.meta.url));

describe('config/kafka.example.yaml', () => {
  it('loads, with its streams on the topic produce-demo writes', () => {
    const config = loadConfig(EXAMPLE);
    expect(config.source).toMatchObject({
      type: 'kafka',
      topics: ['features'],
      deadLetterTopic: 'features.klaxon-rejected',
      checkpointTopic: 'klaxon.checkpoint',
    });
    expect(config.streams.map((s) => s.fields)).toEqual([['amount'], ['latency_ms'], ['x', 'y']]);
  });

  it('defaults: checkpoints in <groupId>.checkpoint every 10 s, a 30 s session; null turns checkpoints off', () => {
    const base = { type: 'kafka', brokers: ['k:9092'], groupId: 'g' };
    const streams = [{ name: 's', topic: 't', fields: ['x'] }];
    expect(parseConfig({ source: base, streams }).source).toMatchObject({
      topics: ['t'],
      checkpointTopic: 'g.checkpoint',
      checkpointIntervalSeconds: 10,
      sessionTimeoutSeconds: 30,
      deadLetterTopic: undefined,
    });
    expect(parseConfig({ source: { ...base, checkpointTopic: null }, streams }).source).toMatchObject({ checkpointTopic: undefined });
  });
});
