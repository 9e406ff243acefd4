import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { stringify } from 'yaml';
import { createRng } from '../src/math/rng.js';
import { createTopicServed } from '../src/sources/kafka/admin.js';

/**
 * Scale-out throughput: the same pre-produced topic read by klaxon processes (the compiled
 * CLI) in one run, on the same broker: one classic instance (no scaleOut), then one and two
 * instances in scale-out mode (router → repartition topic → owners). Wall time runs from
 * spawning the processes (so it includes Node's start and the group joins and rebalances,
 * ~1–2 s) to the moment the group has committed every record (classic) or every routed vector
 * (scale-out); RSS is each process's `process_resident_memory_bytes` at the end.
 *
 * The broker: KAFKA_BROKERS, else 127.0.0.1:${KAFKA_PORT:-9092}. KLAXON_BENCH_SCALE_RECORDS
 * sets the record count (default 200,000).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RECORDS = Number(process.env.KLAXON_BENCH_SCALE_RECORDS ?? 200_000);
const SOURCE_PARTITIONS = 6;
const REPARTITIONS = 12;
const STREAMS = [
  { name: 'amount', fields: ['amount'] },
  { name: 'latency', fields: ['latency_ms'] },
  { name: 'x', fields: ['x'] },
  { name: 'y', fields: ['y'] },
  { name: 'xy', fields: ['x', 'y'] },
  { name: 'amount_latency', fields: ['amount', 'latency_ms'] },
];

function brokers(): string[] {
  const env = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
  return env?.length ? env : [`127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`];
}

async function produce(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  // A broker that has just started can answer a new topic with UNKNOWN_TOPIC_OR_PARTITION, which
  // kafkajs's waitForLeaders does not retry: the benchmark died on a broker it had started itself.
  await createTopicServed(admin, { topic, numPartitions: SOURCE_PARTITIONS, replicationFactor: 1 });
  await admin.disconnect();
  const rng = createRng('bench-scale');
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < RECORDS; i += 10_000) {
    const messages = Array.from({ length: Math.min(10_000, RECORDS - i) }, (_, j) => ({
      value: JSON.stringify({
        id: i + j,
        amount: 50 + 10 * rng.normal(),
        latency_ms: 20 + 3 * rng.normal(),
        x: rng.normal(),
        y: rng.normal(),
      }),
    }));
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

async function committedSum(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (t?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

async function highSum(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
}

interface Instance {
  child: ChildProcess;
  base: Promise<string>;
}

function start(configFile: string, cwd: string): Instance {
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli.js'), 'run', '--config', configFile], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  const base = new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const e = JSON.parse(line) as { msg?: string; http?: string };
          if (e.msg === 'klaxon started') resolve(`http://${e.http}`);
        } catch {
          // not a log line
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`klaxon exited (${code}) before starting`)));
  });
  return { child, base };
}

async function rss(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('process_resident_memory_bytes '));
  return line ? Number(line.split(' ')[1]) : NaN;
}

interface Result {
  label: string;
  seconds: number;
  rssMiB: number[];
}

async function run(label: string, kafka: Kafka, topic: string, instances: number, scaleOut: boolean, dir: string): Promise<Result> {
  const groupId = `bench-scale-${Date.now().toString(36)}-${instances}${scaleOut ? 's' : 'c'}`;
  const raw = {
    source: {
      type: 'kafka',
      brokers: brokers(),
      groupId,
      topics: [topic],
      fromBeginning: true,
      sessionTimeoutSeconds: 10,
      ...(scaleOut ? { scaleOut: { partitions: REPARTITIONS } } : {}),
    },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'info' },
    stateDir: join(dir, `${groupId}-state`),
    defaults: { window: { size: 2000 }, components: 2, fit: { nInit: 1 } },
    streams: STREAMS.map((s) => ({ ...s, topic })),
  };
  const file = join(dir, `${groupId}.yaml`);
  writeFileSync(file, stringify(raw));
  const admin = kafka.admin();
  await admin.connect();
  const t0 = performance.now();
  const procs = Array.from({ length: instances }, () => start(file, dir));
  try {
    const bases = await Promise.all(procs.map((p) => p.base));
    const done = async (): Promise<boolean> => {
      if (!scaleOut) return (await committedSum(admin, groupId, topic)) >= RECORDS;
      if ((await committedSum(admin, `${groupId}.router`, topic)) < RECORDS) return false;
      const repartition = `${groupId}.repartition`;
      return (await committedSum(admin, groupId, repartition)) >= (await highSum(admin, repartition));
    };
    while (!(await done().catch(() => false))) await new Promise((r) => setTimeout(r, 100));
    const seconds = (performance.now() - t0) / 1000;
    const rssMiB = await Promise.all(bases.map(async (b) => (await rss(b)) / 2 ** 20));
    return { label, seconds, rssMiB };
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.child.exitCode === null ? new Promise((r) => p.child.once('exit', r)) : undefined)));
    await admin.disconnect();
  }
}

export async function benchScale(log: (line: string) => void): Promise<void> {
  const kafka = new Kafka({ clientId: 'klaxon-bench-scale', brokers: brokers(), logLevel: logLevel.NOTHING });
  const topic = `bench-scale-${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), 'klaxon-bench-scale-'));
  try {
    await produce(kafka, topic);
    log(`${RECORDS.toLocaleString('en')} records on ${SOURCE_PARTITIONS} partitions, ${STREAMS.length} streams (${STREAMS.length} vectors a record), repartition topic of ${REPARTITIONS}; load average before: ${loadavg()[0]!.toFixed(1)}`);
    log('');
    log('| setup | wall s | records/s | RSS per instance, MiB |');
    log('|---|---:|---:|---|');
    const results: Result[] = [];
    results.push(await run('1 instance, classic (no scaleOut)', kafka, topic, 1, false, dir));
    results.push(await run('1 instance, scaleOut', kafka, topic, 1, true, dir));
    results.push(await run('2 instances, scaleOut', kafka, topic, 2, true, dir));
    for (const r of results) {
      log(`| ${r.label} | ${r.seconds.toFixed(1)} | ${Math.round(RECORDS / r.seconds).toLocaleString('en')} | ${r.rssMiB.map((m) => m.toFixed(0)).join(', ')} |`);
    }
    log('');
    log(`2 instances vs 1 (scaleOut): ${(results[1]!.seconds / results[2]!.seconds).toFixed(2)}×; scaleOut vs classic on 1 instance: ${(results[0]!.seconds / results[1]!.seconds).toFixed(2)}×; load average after: ${loadavg()[0]!.toFixed(1)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
