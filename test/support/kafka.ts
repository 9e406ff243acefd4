// A real Kafka broker for integration tests, from wherever one can be had. Tests never skip
// for want of a broker: if none can be found or started, kafkaBrokers() throws.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Same defaults as scripts/kafka/common.sh, so the helper finds the broker up.sh started.
const PORT = Number(process.env.KAFKA_PORT ?? 9092);
const RUN_DIR = process.env.KAFKA_RUN_DIR ?? join(ROOT, '.cache', 'kafka', `broker-${PORT}`);

type Origin = 'env' | 'container' | 'existing' | 'script';
let found: Promise<{ brokers: string[]; origin: Origin }> | undefined;

export async function kafkaBrokers(): Promise<string[]> {
  found ??= locate();
  return (await found).brokers;
}

async function locate(): Promise<{ brokers: string[]; origin: Origin }> {
  const fromEnv = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
  if (fromEnv?.length) return { brokers: fromEnv, origin: 'env' };

  const container = await startContainer();
  if (container) return { brokers: [container], origin: 'container' };

  const local = [`127.0.0.1:${PORT}`];
  if (await listening(PORT)) return { brokers: local, origin: scriptPid() ? 'script' : 'existing' };
  try {
    await script('up.sh');
  } catch (err) {
    throw new Error(
      `No Kafka broker: KAFKA_BROKERS is unset, no Docker engine answered, nothing listens on ` +
        `127.0.0.1:${PORT}, and scripts/kafka/up.sh failed (needs Java 17 and Maven): ${String(err)}`,
    );
  }
  return { brokers: local, origin: 'script' };
}

async function startContainer(): Promise<string | undefined> {
  // Asking testcontainers is the only reliable test for a reachable engine (sockets, DOCKER_HOST,
  // colima, ...); with none it fails in under a second.
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return undefined;
  }
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const image = process.env.KAFKA_IMAGE ?? 'confluentinc/cp-kafka:8.0.0';
  const started = await new KafkaContainer(image).withKraft().start();
  // Ryuk removes the container when the test process exits.
  return `${started.getHost()}:${started.getMappedPort(9093)}`;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, timeout: 1000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function scriptPid(): number | undefined {
  try {
    const pid = Number(readFileSync(join(RUN_DIR, 'kafka.pid'), 'utf8').trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function script(name: 'up.sh' | 'down.sh'): Promise<void> {
  await run('bash', [join(ROOT, 'scripts', 'kafka', name)], {
    env: { ...process.env, KAFKA_PORT: String(PORT), KAFKA_RUN_DIR: RUN_DIR },
    timeout: 240_000,
  });
}

async function requireScriptBroker(action: string): Promise<void> {
  const origin = (await (found ??= locate())).origin;
  if (origin !== 'script') {
    throw new Error(`${action}: only a broker managed by scripts/kafka/up.sh can be restarted; this one came from ${origin}`);
  }
}

/** Stops the script-managed broker, keeping its data so startBroker() brings every record back. */
export async function stopBroker(): Promise<void> {
  await requireScriptBroker('stopBroker');
  await script('down.sh');
}

/** Starts (or restarts) the script-managed broker; resolves once it answers Kafka requests. */
export async function startBroker(): Promise<void> {
  if (found) await requireScriptBroker('startBroker');
  await script('up.sh');
}

export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function createTopic(brokers: string[], name: string, partitions = 1): Promise<void> {
  const admin = new Kafka({ clientId: 'klaxon-test-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }],
      // kafkajs's own wait retries only LEADER_NOT_AVAILABLE; a broker that has just started
      // can answer the new topic's metadata with UNKNOWN_TOPIC_OR_PARTITION for a moment, and
      // that failed the first test of a run. Wait here instead, until every partition answers
      // a ListOffsets request (its leader serves it).
      waitForLeaders: false,
    });
    if (!created) throw new Error(`topic ${name} already exists`);
    await waitFor(async () => (await admin.fetchTopicOffsets(name)).length === partitions, { what: `topic ${name} served` });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Polls until predicate() is true; tests wait on a condition this way, never on a fixed sleep.
 * A throwing predicate counts as "not yet" (a broker mid-restart), and its last error is reported.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs = 30_000, intervalMs = 100, what }: { timeoutMs?: number; intervalMs?: number; what: string },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await predicate()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
