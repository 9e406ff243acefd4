// Shared by the Kafka source tests: producing seeded records, configs, an in-process app, scrapes,
// and klaxon as a separate process (the compiled CLI).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { Kafka, logLevel, type IHeaders, type Message } from 'kafkajs';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/resolve.js';
import type { Config } from '../../src/config/types.js';
import { CheckpointStore, type Checkpoint } from '../../src/sources/kafka/checkpoint.js';
import { createRng } from '../../src/math/rng.js';
import { ROOT } from '../support/cli.js';
import { kafkaBrokers } from '../support/kafka.js';

export const kafkaClient = (brokers: string[]): Kafka =>
  new Kafka({ clientId: 'klaxon-kafka-test', brokers, logLevel: logLevel.NOTHING });

/** Seeded records: `x` ~ N(mean, 1) and a correlated pair (`a`, `b`), with an id. */
export function records(seed: string, from: number, count: number, mean = 0): string[] {
  const rng = createRng(`${seed}:${from}`);
  return Array.from({ length: count }, (_, j) => {
    const x = mean + rng.normal();
    const z = rng.normal();
    return JSON.stringify({ id: from + j, x, pair: { a: x + 0.5 * z, b: z } });
  });
}

export async function produce(
  brokers: string[],
  topic: string,
  values: readonly (string | Message)[],
  options: { partition?: number; chunk?: number } = {},
): Promise<void> {
  const producer = kafkaClient(brokers).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const chunk = options.chunk ?? 5_000;
    for (let i = 0; i < values.length; i += chunk) {
      const messages = values.slice(i, i + chunk).map((v) => {
        const m: Message = typeof v === 'string' ? { value: v } : v;
        return options.partition === undefined ? m : { ...m, partition: options.partition };
      });
      await producer.send({ topic, messages, acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Reads every message of a topic from the beginning, with a throwaway group, until `count` arrived. */
export async function readAll(
  brokers: string[],
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<{ key: string | undefined; value: string | null; headers: Record<string, string> }[]> {
  const consumer = kafkaClient(brokers).consumer({ groupId: `${topic}-reader-${Date.now()}`, maxWaitTimeInMs: 200 });
  const got: { key: string | undefined; value: string | null; headers: Record<string, string> }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({ key: message.key?.toString(), value: message.value === null ? null : message.value.toString(), headers: headerStrings(message.headers) });
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (got.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  } finally {
    await consumer.disconnect();
  }
  return got;
}

function headerStrings(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  return out;
}

/** Committed offsets of a group, summed over partitions (-1 counts as 0). */
export async function committed(brokers: string[], groupId: string, topic: string): Promise<number> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (t?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

export interface KafkaTestSource {
  brokers: string[];
  topics: string[];
  groupId: string;
  deadLetterTopic?: string;
  checkpointTopic?: string | null;
  fromBeginning?: boolean;
}

/** The raw YAML-shaped config: small windows, fast evaluations, two streams on `topic`. */
export function rawConfig(source: KafkaTestSource, extra: { window?: number; evaluation?: number } = {}): Record<string, unknown> {
  const topic = source.topics[0]!;
  return {
    source: {
      type: 'kafka',
      brokers: source.brokers,
      groupId: source.groupId,
      clientId: 'klaxon-test',
      topics: source.topics,
      fromBeginning: source.fromBeginning ?? true,
      sessionTimeoutSeconds: 6,
      checkpointIntervalSeconds: 1,
      ...(source.deadLetterTopic ? { deadLetterTopic: source.deadLetterTopic } : {}),
      ...(source.checkpointTopic !== undefined ? { checkpointTopic: source.checkpointTopic } : {}),
    },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    // Each config its own state directory: with the default (.klaxon-state in the repo) a
    // reference or a mute one test kept was loaded by the next test's app.
    stateDir: mkdtempSync(join(tmpdir(), 'klaxon-kafka-test-')),
    defaults: {
      window: { size: extra.window ?? 500 },
      minSamples: Math.min(200, extra.window ?? 500),
      evaluationIntervalSeconds: extra.evaluation ?? 0.25,
      // Records come in bursts: once read, a window stops moving and is evaluated once more.
      hysteresis: { raiseAfter: 1, clearAfter: 2 },
      components: 1,
      fit: { nInit: 1 },
    },
    streams: [
      { name: 'x', topic, fields: ['x'] },
      { name: 'pair', topic, fields: ['pair.a', 'pair.b'] },
    ],
  };
}

export function config(source: KafkaTestSource, extra?: { window?: number; evaluation?: number }): Config {
  return parseConfig(rawConfig(source, extra));
}

export interface RunningApp {
  app: App;
  registry: Registry;
  logs: { level: number; msg: string; [k: string]: unknown }[];
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

export async function runApp(cfg: Config, options: { logger?: Logger } = {}): Promise<RunningApp> {
  const logs: RunningApp['logs'] = [];
  const logger = options.logger ?? pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const registry = new Registry();
  const app = await startApp({ config: cfg, registry, logger });
  return {
    app,
    registry,
    logs,
    scrape: async () => (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text(),
    stop: () => app.stop(),
  };
}

/** The value of one series in a Prometheus text exposition, e.g. metric('klaxon_records_total{stream="x"}'). */
export function metric(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

export interface Klaxon {
  child: ChildProcess;
  /** http://host:port of its HTTP server. */
  base: string;
  /** Its stdout lines and stderr chunks. */
  output: string[];
}

/** What the tests read of a stream in a running klaxon's `/api/streams`. */
export interface StreamJson {
  name: string;
  reference: unknown;
  windowSamples: number;
  recordsTotal: number;
  phase: string;
  muted: boolean;
  mutedUntilMs: number | null;
}

/** A running klaxon's streams by name. */
export async function streamsOf(k: Klaxon): Promise<Record<string, StreamJson>> {
  const list = (await (await fetch(`${k.base}/api/streams`)).json()) as StreamJson[];
  return Object.fromEntries(list.map((s) => [s.name, s]));
}

const children: ChildProcess[] = [];

/** SIGKILLs every klaxon process still running (afterAll). */
export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/**
 * For a file of klaxon-process tests: hands the broker list to `setBrokers` before its tests,
 * and returns a scratch directory (named from `prefix`) that goes, with every process left
 * running, after them.
 */
export function useKlaxonProcesses(prefix: string, setBrokers: (brokers: string[]) => void): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  beforeAll(async () => setBrokers(await kafkaBrokers()), 300_000);
  afterAll(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** The checkpoint topic as a restarting klaxon reads it. */
export async function loadCheckpoint(brokers: string[], checkpointTopic: string, groupId: string): Promise<Checkpoint> {
  const kafka = kafkaClient(brokers);
  const admin = kafka.admin();
  await admin.connect();
  const store = new CheckpointStore(kafka, checkpointTopic, groupId);
  try {
    return await store.load(admin);
  } finally {
    await store.close().catch(() => undefined);
    await admin.disconnect();
  }
}

/** Starts `klaxon run` and resolves once it logged 'klaxon started' (its HTTP port inside). */
export function startKlaxon(configFile: string, options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Klaxon> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli.js'), 'run', '--config', configFile], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        output.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; http?: string };
          if (entry.msg === 'klaxon started') resolve({ child, base: `http://${entry.http}`, output });
        } catch {
          // not a log line
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.once('exit', (code, signal) => reject(new Error(`klaxon exited (${code ?? signal}) before starting:\n${output.join('\n')}`)));
  });
}

export async function killHard(k: Klaxon): Promise<void> {
  const exited = new Promise((r) => k.child.once('exit', r));
  process.kill(k.child.pid!, 'SIGKILL');
  await exited;
}


/**
 * For a test file whose tests each run one in-process klaxon against the shared broker: the
 * brokers (known once the file's beforeAll has found or started one) and `run`, whose app is
 * stopped after the test whatever its outcome.
 */
export function useKafkaApp(): { readonly brokers: string[]; run(cfg: Config): Promise<RunningApp> } {
  let brokers: string[] = [];
  let running: RunningApp | undefined;
  beforeAll(async () => {
    brokers = await kafkaBrokers();
  }, 300_000);
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });
  return {
    get brokers(): string[] {
      return brokers;
    },
    async run(cfg: Config): Promise<RunningApp> {
      running = await runApp(cfg);
      return running;
    },
  };
}
