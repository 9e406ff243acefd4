import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { parseConfig } from '../../src/config/resolve.js';

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
