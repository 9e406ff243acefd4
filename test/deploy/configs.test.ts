import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { parseConfig } from '../../src/config/resolve.js';
import { mergeDemoRecords } from '../../src/cli/produce-demo.js';
import { DemoGenerator } from '../../src/sources/demo.js';

/** Every klaxon configuration the deploy files ship must pass the same validation klaxon runs at start. */
describe('shipped klaxon configurations', () => {
  it('docker compose mounts a config that validates and reads Kafka', () => {
    const compose = parseYaml(readFileSync('docker-compose.yml', 'utf8')) as {
      services: Record<string, { volumes?: string[] }>;
    };
    const mount = compose.services.klaxon?.volumes?.find((v) => v.endsWith(':/etc/klaxon/klaxon.yaml:ro'));
    expect(mount).toBeDefined();
    const config = loadConfig(mount!.split(':')[0]!);
    expect(config.source.type).toBe('kafka');
    expect(config.streams.length).toBeGreaterThan(0);
    // The compose producer is `klaxon produce-demo`: each stream's fields must be in its messages.
    const gen = new DemoGenerator({ seed: 'compose', driftAtMs: 0, malformedFraction: 0 });
    const batch = gen.batch(1, 0);
    const message = JSON.parse(mergeDemoRecords(batch[0]!.value as string, batch[1]!.value as string)) as Record<string, unknown>;
    for (const stream of config.streams) for (const field of stream.fields) expect(message).toHaveProperty(field);
  });

  it('the Kubernetes ConfigMap embeds a config that validates', () => {
    const cm = parseYaml(readFileSync('deploy/k8s/configmap.yaml', 'utf8')) as { data: Record<string, string> };
    const config = parseConfig(parseYaml(cm.data['klaxon.yaml']!), { baseDir: '/etc/klaxon' });
    expect(config.source.type).toBe('kafka');
    expect(config.http.port).toBe(9464);
  });

  it.each(['config/klaxon.yaml', 'config/kafka.example.yaml'])('%s validates', (file) => {
    expect(() => loadConfig(file, { env: { KLAXON_KAFKA_PASSWORD: 'x' } })).not.toThrow();
  });
});
