/**
 * docker-compose.yml, checked without a Docker engine: the services and their published ports,
 * a Kafka that can actually form a single-node KRaft cluster, every bind-mounted host path
 * present in the repository, and the pieces pointing at each other (klaxon's config at the
 * image's --config path, Prometheus' targets, Grafana's datasource and dashboard folder).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readYaml, repoPath } from './tools.js';

interface Service {
  image?: string;
  build?: string | { context: string };
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = readYaml('docker-compose.yml') as Compose;
const services = compose.services;

function service(name: string): Service {
  const s = services[name];
  expect(s, `service ${name}`).toBeDefined();
  return s as Service;
}

/** "host:container[/proto]" or "ip:host:container" -> [host, container] ports. */
function published(s: Service): [number, number][] {
  return (s.ports ?? []).map((p) => {
    const parts = p.replace(/\/(tcp|udp)$/, '').split(':');
    return [Number(parts.at(-2)), Number(parts.at(-1))];
  });
}

interface Mount {
  source: string;
  target: string;
  bind: boolean;
}

function mounts(s: Service): Mount[] {
  return (s.volumes ?? []).map((v) => {
    const [source = '', target = ''] = v.split(':');
    return { source, target, bind: source.startsWith('.') || source.startsWith('/') };
  });
}

/** The host path (repo-relative) that a container path of a service comes from, if bind-mounted. */
function hostPathOf(s: Service, containerPath: string): string | undefined {
  for (const m of mounts(s).filter((m) => m.bind)) {
    if (containerPath === m.target) return posix.normalize(m.source);
    if (containerPath.startsWith(`${m.target}/`)) {
      return posix.join(m.source, containerPath.slice(m.target.length + 1));
    }
  }
  return undefined;
}

function flag(s: Service, name: string): string | undefined {
  const args = Array.isArray(s.command) ? s.command : [];
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

function env(s: Service, key: string): string {
  return String(s.environment?.[key] ?? '');
}

function dependsOn(s: Service, other: string): string | undefined {
  const d = s.depends_on;
  if (Array.isArray(d)) return d.includes(other) ? 'service_started' : undefined;
  return d?.[other]?.condition;
}

describe('docker-compose.yml', () => {
  it('has Kafka, its topic set-up, the demo producer, klaxon, Prometheus, Alertmanager and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['alertmanager', 'grafana', 'kafka', 'kafka-init', 'klaxon', 'producer', 'prometheus'].sort(),
    );
  });

  it('publishes klaxon 9464, Prometheus 9090, Alertmanager 9093 and Grafana 3000 on the same ports', () => {
    expect(published(service('klaxon'))).toContainEqual([9464, 9464]);
    expect(published(service('prometheus'))).toContainEqual([9090, 9090]);
    expect(published(service('alertmanager'))).toContainEqual([9093, 9093]);
    expect(published(service('grafana'))).toContainEqual([3000, 3000]);
    const hostPorts = Object.values(services).flatMap((s) => published(s).map(([h]) => h));
    expect(new Set(hostPorts).size, 'no host port published twice').toBe(hostPorts.length);
  });

  it('bind-mounts only paths that exist in the repository', () => {
    const binds = Object.entries(services).flatMap(([name, s]) =>
      mounts(s)
        .filter((m) => m.bind)
        .map((m) => ({ name, ...m })),
    );
    expect(binds.length).toBeGreaterThan(0);
    for (const b of binds) {
      expect(b.source.startsWith('./'), `${b.name}: ${b.source} is relative to the repo`).toBe(true);
      expect(existsSync(repoPath(b.source)), `${b.name}: ${b.source} exists`).toBe(true);
    }
    const named = Object.values(services).flatMap((s) => mounts(s).filter((m) => !m.bind).map((m) => m.source));
    for (const v of named) expect(Object.keys(compose.volumes ?? {}), `volume ${v} declared`).toContain(v);
  });

  it('builds klaxon and the producer from this repository’s Dockerfile, as one image', () => {
    for (const name of ['klaxon', 'producer']) {
      expect(service(name).build, name).toBe('.');
      expect(service(name).image, name).toBe('klaxon:dev');
    }
    expect(existsSync(repoPath('Dockerfile'))).toBe(true);
  });
});

describe('Kafka in compose', () => {
  const kafka = service('kafka');

  it('is the official apache/kafka image in single-node KRaft mode', () => {
    expect(kafka.image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
    expect(env(kafka, 'KAFKA_PROCESS_ROLES').split(',').sort()).toEqual(['broker', 'controller']);
    expect(env(kafka, 'CLUSTER_ID')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const nodeId = env(kafka, 'KAFKA_NODE_ID');
    expect(env(kafka, 'KAFKA_CONTROLLER_QUORUM_VOTERS')).toMatch(new RegExp(`^${nodeId}@kafka:\\d+$`));
  });

  it('replicates its internal topics once, so that consumer groups work on one node', () => {
    for (const key of [
      'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR',
      'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR',
      'KAFKA_TRANSACTION_STATE_LOG_MIN_ISR',
      'KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR',
    ]) {
      expect(env(kafka, key), key).toBe('1');
    }
  });

  it('has a protocol for every listener and advertises kafka:9092 to the other containers', () => {
    const protocols = Object.fromEntries(
      env(kafka, 'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP')
        .split(',')
        .map((p) => p.split(':')),
    ) as Record<string, string>;
    const listenerNames = env(kafka, 'KAFKA_LISTENERS')
      .split(',')
      .map((l) => l.split('://')[0] ?? '');
    for (const l of listenerNames) expect(protocols[l], `protocol for ${l}`).toBeDefined();
    expect(listenerNames).toContain(env(kafka, 'KAFKA_CONTROLLER_LISTENER_NAMES'));
    expect(listenerNames).toContain(env(kafka, 'KAFKA_INTER_BROKER_LISTENER_NAME'));
    expect(env(kafka, 'KAFKA_ADVERTISED_LISTENERS').split(',')).toContain('PLAINTEXT://kafka:9092');
    const voterPort = env(kafka, 'KAFKA_CONTROLLER_QUORUM_VOTERS').split(':').at(-1);
    expect(env(kafka, 'KAFKA_LISTENERS')).toContain(`CONTROLLER://:${voterPort}`);
  });

  it('is healthy before the topic is made, and the topic before klaxon and the producer start', () => {
    expect(kafka.healthcheck?.test?.length).toBeGreaterThan(0);
    expect(dependsOn(service('kafka-init'), 'kafka')).toBe('service_healthy');
    expect(dependsOn(service('klaxon'), 'kafka-init')).toBe('service_completed_successfully');
    expect(dependsOn(service('producer'), 'kafka-init')).toBe('service_completed_successfully');
  });
});

describe('the producer, klaxon and Kafka agree', () => {
  const producer = service('producer');
  const args = producer.command as string[];
  const topic = args[args.indexOf('--topic') + 1];
  const klaxon = service('klaxon');

  it('runs produce-demo against kafka:9092', () => {
    expect(args).toEqual(['produce-demo', '--brokers', 'kafka:9092', '--topic', 'features']);
    expect(producer.healthcheck?.disable, 'the image HEALTHCHECK probes an HTTP port the producer lacks').toBe(true);
  });

  it('creates the producer’s topic in kafka-init', () => {
    const init = service('kafka-init').command as string[];
    expect(init).toContain('--create');
    expect(init[init.indexOf('--topic') + 1]).toBe(topic);
    expect(init[init.indexOf('--bootstrap-server') + 1]).toBe('kafka:9092');
  });

  it('mounts deploy/compose/klaxon.yaml where the image’s default command reads its config', () => {
    const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(readFileSync(repoPath('Dockerfile'), 'utf8'))?.[1] ?? '[]';
    const argv = JSON.parse(cmd) as string[];
    const configPath = argv[argv.indexOf('--config') + 1] ?? '';
    expect(klaxon.command, 'klaxon keeps the image default command').toBeUndefined();
    expect(hostPathOf(klaxon, configPath)).toBe('deploy/compose/klaxon.yaml');
  });

  it('points klaxon’s config at the same broker and topic, and at the published port', () => {
    const config = readYaml('deploy/compose/klaxon.yaml') as {
      source: { type: string; brokers: string[]; topics?: string[] };
      http: { port: number };
      stateDir?: string;
      streams: { name: string; topic?: string }[];
    };
    expect(config.source.type).toBe('kafka');
    expect(config.source.brokers).toEqual(['kafka:9092']);
    expect(config.source.topics ?? []).toContain(topic);
    expect(config.streams.length).toBeGreaterThan(0);
    for (const s of config.streams) expect(s.topic, s.name).toBe(topic);
    expect(published(klaxon).map(([, c]) => c)).toContain(config.http.port);
    // the root filesystem is read-only: the state dir must be a volume
    expect(mounts(klaxon).map((m) => m.target)).toContain(config.stateDir);
  });
});

describe('Prometheus, Alertmanager and Grafana in compose', () => {
  const prometheus = service('prometheus');
  const alertmanager = service('alertmanager');
  const grafana = service('grafana');

  it('gives Prometheus a config that scrapes klaxon and alerts to Alertmanager by service name', () => {
    const configFile = hostPathOf(prometheus, flag(prometheus, '--config.file') ?? '');
    expect(configFile, 'the --config.file is bind-mounted').toBeDefined();
    expect(existsSync(repoPath(configFile ?? ''))).toBe(true);
    const config = parse(readFileSync(repoPath(configFile ?? ''), 'utf8')) as {
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const klaxonJob = config.scrape_configs.find((j) => j.job_name === 'klaxon');
    expect(klaxonJob?.static_configs.flatMap((c) => c.targets)).toEqual(['klaxon:9464']);
    expect(config.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets))).toEqual([
      'alertmanager:9093',
    ]);
    // the rule files resolve beside the config, inside the same mounted folder
    for (const glob of config.rule_files) {
      const dir = posix.dirname(posix.join(posix.dirname(configFile ?? ''), glob));
      expect(existsSync(repoPath(dir)) && statSync(repoPath(dir)).isDirectory(), `${glob} under ${dir}`).toBe(true);
    }
  });

  it('gives Alertmanager the repository’s config', () => {
    expect(hostPathOf(alertmanager, flag(alertmanager, '--config.file') ?? '')).toBe('deploy/alertmanager/alertmanager.yml');
  });

  it('provisions Grafana’s datasource as the prometheus service', () => {
    const dir = hostPathOf(grafana, '/etc/grafana/provisioning/datasources');
    expect(dir).toBe('deploy/grafana/provisioning/datasources');
    const ds = readYaml(dir ?? '', 'prometheus.yml') as { datasources: { url: string }[] };
    const url = new URL(ds.datasources[0]?.url ?? '');
    expect(url.hostname).toBe('prometheus');
    expect(published(prometheus).map(([, c]) => c)).toContain(Number(url.port));
  });

  it('provisions Grafana’s dashboards from the folder where klaxon.json is mounted', () => {
    const dir = hostPathOf(grafana, '/etc/grafana/provisioning/dashboards');
    expect(dir).toBe('deploy/grafana/provisioning/dashboards');
    const providers = readYaml(dir ?? '', 'klaxon.yml') as { providers: { options: { path: string } }[] };
    const containerPath = providers.providers[0]?.options.path ?? '';
    const hostDir = hostPathOf(grafana, containerPath);
    expect(hostDir, `${containerPath} is bind-mounted`).toBe('deploy/grafana/dashboards');
    expect(existsSync(repoPath(join(hostDir ?? '', 'klaxon.json')))).toBe(true);
    const home = env(grafana, 'GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH');
    expect(existsSync(repoPath(hostPathOf(grafana, home) ?? '/nonexistent')), `home dashboard ${home}`).toBe(true);
  });

  it('lets anonymous visitors view Grafana, and no more', () => {
    expect(env(grafana, 'GF_AUTH_ANONYMOUS_ENABLED')).toBe('true');
    expect(env(grafana, 'GF_AUTH_ANONYMOUS_ORG_ROLE')).toBe('Viewer');
  });
});
