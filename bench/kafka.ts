import { execFile } from 'node:child_process';
import net from 'node:net';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { parseConfig } from '../src/config/resolve.js';
import { createRng } from '../src/math/rng.js';
import { createTopicServed } from '../src/sources/kafka/admin.js';
import { KafkaSource } from '../src/sources/kafka/consumer.js';
import { systemClock } from '../src/stream/clock.js';
import { Monitor } from '../src/stream/monitor.js';
import type { SourceRecord } from '../src/stream/record.js';

/**
 * End-to-end records/s through klaxon (Kafka source → decode → windows, committing after
 * every batch, checkpointing, the scheduler fitting and evaluating meanwhile at the default
 * 10 s interval) against bare kafkajs consumers reading the same topic on the same broker and
 * committing the same way: one that only counts the records, one that also JSON.parses each
 * (the least any consumer of JSON does). Target: klaxon at ≥ 0.8× the bare consumer.
 *
 * Wall time runs from the first record to the last; CPU time is this process's (user +
 * system, every thread: klaxon's worker thread included) over the same span, per record: the
 * cost, less blurred by other load on the machine.
 *
 * The broker: KAFKA_BROKERS if set; else whatever answers on 127.0.0.1:${KAFKA_PORT:-9092};
 * else this starts one with scripts/kafka/up.sh (Java 17 and Maven; `npm run kafka:down`
 * stops it). KLAXON_BENCH_KAFKA_RECORDS sets the record count (default 500,000).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RECORDS = Number(process.env.KLAXON_BENCH_KAFKA_RECORDS ?? 500_000);
const PARTITIONS = 3;
const ROUNDS = 5;

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, timeout: 1000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true)).once('error', () => done(false)).once('timeout', () => done(false));
  });
}

async function brokers(log: (line: string) => void): Promise<string[]> {
  const env = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
  if (env?.length) return env;
  const port = Number(process.env.KAFKA_PORT ?? 9092);
  if (!(await answers(port))) {
    log(`no broker on 127.0.0.1:${port}; starting one with scripts/kafka/up.sh (stop it with npm run kafka:down)`);
    await promisify(execFile)('bash', [`${ROOT}/scripts/kafka/up.sh`], { timeout: 300_000 });
  }
  return [`127.0.0.1:${port}`];
}

/** A demo-like JSON record of ~120 bytes. */
function values(n: number): string[] {
  const rng = createRng('bench-kafka');
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      id: i,
      ts: 1_700_000_000_000 + i,
      amount: Math.round((50 + 10 * rng.normal()) * 1e4) / 1e4,
      latency_ms: Math.round((rng.uniform() < 0.7 ? 20 + 3 * rng.normal() : 45 + 6 * rng.normal()) * 1e4) / 1e4,
      x: Math.round(rng.normal() * 1e4) / 1e4,
      y: Math.round(rng.normal() * 1e4) / 1e4,
      merchant: `m${i % 50}`,
    }),
  );
}

async function produce(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  // A broker that has just started can answer a new topic with UNKNOWN_TOPIC_OR_PARTITION, which
  // kafkajs's waitForLeaders does not retry: the benchmark died on a broker it had started itself.
  await createTopicServed(admin, { topic, numPartitions: PARTITIONS, replicationFactor: 1 });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const all = values(RECORDS);
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < all.length; i += 10_000) {
    sends.push(producer.send({ topic, acks: 1, messages: all.slice(i, i + 10_000).map((value) => ({ value })) }));
    if (sends.length >= 4) await sends.shift();
  }
  await Promise.all(sends);
  await producer.disconnect();
}

/** One consumer's run: the whole of it, and the part after the first WARMUP records. */
interface Run {
  all: Span;
  /** After the warm-up: JIT compiled (klaxon's references may or may not be fitted yet: `referencesFitted` says). */
  steady: Span;
  records: number;
  referencesFitted?: boolean;
  /** The monitor's background work done by the last record: references fitted, their no-drift nulls calibrated (of 3). */
  atEnd?: { fitted: number; calibrated: number };
  vectors?: number;
  /** Where the monitor ran its fits and calibrations. */
  background?: 'worker' | 'main';
  /**
   * klaxon: from the first chunk after every stream's reference was fitted and calibrated to
   * the last record, the state a long-running klaxon spends its life in; absent if that
   * came too late in the run (fewer than a tenth of its records left).
   */
  settled?: Span;
}

/** Wall and CPU (user + system) time of this process over a span of records. */
interface Span {
  seconds: number;
  cpuSeconds: number;
  records: number;
  /** The share of the span the main thread's event loop was busy (not waiting on the network). */
  busy: number;
  /** Main-thread GC pauses over the span (s). */
  gcSeconds: number;
}

/**
 * The first fifth of the records warms up: JIT, connections. klaxon's one-time reference fits
 * come at the scheduler's first tick after the references' records are in, anywhere in the
 * run (`referencesFitted`, `atEnd`), so "steady" does not leave them out.
 */
const WARMUP = Math.floor(RECORDS / 5);

interface Mark {
  wall: number;
  cpu: number;
  elu: ReturnType<typeof performance.eventLoopUtilization>;
  /** Main-thread garbage-collection pauses so far (ms). */
  gc: number;
}

/**
 * Every GC pause of this process, summed as V8 reports them (asynchronously, so a span may
 * miss its last pause or two: a few ms against the ~1 s a run takes).
 */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

/** Marks taken as records are read: at the first, at the warm-up's end, at the last. */
class Meter {
  private first: Mark | undefined;
  private warm: (Mark & { seen: number }) | undefined;
  private last: Mark = { wall: 0, cpu: 0, elu: performance.eventLoopUtilization(), gc: 0 };
  private settledAt: (Mark & { seen: number }) | undefined;
  seen = 0;

  /** Marks the moment the consumer's one-time work is done (the first call counts). */
  settle(): void {
    this.settledAt ??= { ...this.now(), seen: this.seen };
  }

  get settled(): boolean {
    return this.settledAt !== undefined;
  }

  private now(): Mark {
    const cpu = process.cpuUsage();
    return { wall: performance.now(), cpu: cpu.user + cpu.system, elu: performance.eventLoopUtilization(), gc: gcMs };
  }

  /** Before handling `n` records. True when this call ended the warm-up. */
  before(): boolean {
    if (this.first === undefined) this.first = this.now();
    if (this.warm === undefined && this.seen >= WARMUP) {
      this.warm = { ...this.now(), seen: this.seen };
      return true;
    }
    return false;
  }

  after(n: number): void {
    this.seen += n;
    this.last = this.now();
  }

  run(extra: Partial<Run> = {}): Run {
    const span = (from: Mark, records: number): Span => ({
      seconds: (this.last.wall - from.wall) / 1000,
      cpuSeconds: (this.last.cpu - from.cpu) / 1e6,
      records,
      busy: performance.eventLoopUtilization(this.last.elu, from.elu).utilization,
      gcSeconds: (this.last.gc - from.gc) / 1000,
    });
    const after = this.settledAt && this.seen - this.settledAt.seen >= this.seen / 10 ? this.settledAt : undefined;
    return {
      all: span(this.first!, this.seen),
      steady: span(this.warm!, this.seen - this.warm!.seen),
      records: this.seen,
      ...(after && { settled: span(after, this.seen - after.seen) }),
      ...extra,
    };
  }
}

/** kafkajs alone: eachBatch, resolve, commit the batch's end; `parse` JSON.parses each value. */
async function bare(kafka: Kafka, topic: string, groupId: string, parse: boolean): Promise<Run> {
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const meter = new Meter();
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let sink = 0;
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
      meter.before();
      for (const m of batch.messages) {
        if (parse) sink += (JSON.parse(m.value!.toString('utf8')) as { x: number }).x;
        else sink += m.value?.length ?? 0;
      }
      const end = batch.lastOffset();
      resolveOffset(end);
      await commitOffsetsIfNecessary({
        topics: [{ topic, partitions: [{ partition: batch.partition, offset: (BigInt(end) + 1n).toString() }] }],
      });
      await heartbeat();
      meter.after(batch.messages.length);
      if (meter.seen >= RECORDS && Number.isFinite(sink)) done();
    },
  });
  await finished;
  await consumer.disconnect();
  return meter.run();
}

/** klaxon's configuration in this benchmark: three streams on the topic. */
function klaxonConfig(brokerList: string[], topic: string, groupId: string): ReturnType<typeof parseConfig> {
  return parseConfig({
    source: { type: 'kafka', brokers: brokerList, groupId, topics: [topic], fromBeginning: true, checkpointTopic: `${groupId}.checkpoint` },
    defaults: { window: { size: 2000 } },
    streams: [
      { name: 'amount', topic, fields: ['amount'] },
      { name: 'latency', topic, fields: ['latency_ms'] },
      { name: 'xy', topic, fields: ['x', 'y'] },
    ],
  });
}

/**
 * klaxon's own per-record work without a broker: `monitor.ingest` of the same records, kept
 * in one buffer as a fetch response keeps them, a chunk of 2,000 at a time as the source
 * hands them over. CPU-bound on one thread, so less blurred by other load than the runs.
 */
async function ingestInMemory(): Promise<{ nsPerRecord: number; records: number }> {
  const n = Math.min(RECORDS, 50_000);
  const texts = values(n);
  const whole = Buffer.from(texts.join(''));
  let at = 0;
  const records: SourceRecord[] = texts.map((text, i) => {
    const value = whole.subarray(at, (at += Buffer.byteLength(text)));
    return { topic: 'bench', partition: 0, offset: String(i), value, timestampMs: 1_700_000_000_000 + i };
  });
  const chunks = Array.from({ length: Math.ceil(n / 2000) }, (_, i) => records.slice(i * 2000, (i + 1) * 2000));
  const config = klaxonConfig(['127.0.0.1:9092'], 'bench', 'bench-in-memory');
  const monitor = new Monitor({ streams: config.streams, stateDir: `${ROOT}/.cache/bench-kafka-state` });
  await monitor.init();
  const passes: number[] = [];
  for (let pass = 0; pass < 6; pass++) {
    const t0 = process.hrtime.bigint();
    for (const chunk of chunks) monitor.ingest('kafka', chunk);
    if (pass > 0) passes.push(Number(process.hrtime.bigint() - t0) / n); // the first warms up
  }
  await monitor.stop();
  return { nsPerRecord: passes.sort((a, b) => a - b)[Math.floor(passes.length / 2)]!, records: n };
}

/** klaxon: the Kafka source into a monitor with three streams, its scheduler running. */
async function klaxon(brokerList: string[], topic: string, groupId: string): Promise<Run> {
  const config = klaxonConfig(brokerList, topic, groupId);
  if (config.source.type !== 'kafka') throw new Error('kafka config expected');
  const monitor = new Monitor({ streams: config.streams, stateDir: `${ROOT}/.cache/bench-kafka-state` });
  await monitor.init();
  monitor.start();
  const source = new KafkaSource(config.source, { clock: systemClock, registry: new Registry(), state: monitor });
  const meter = new Meter();
  let referencesFitted = false;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await source.start(async (batch, options) => {
    if (meter.before()) referencesFitted = monitor.streams().every((s) => s.reference !== undefined);
    if (!meter.settled && monitor.streams().every((s) => s.calibration?.status === 'ready')) meter.settle();
    monitor.ingest(source.name, batch, options);
    meter.after(batch.length);
    if (meter.seen >= RECORDS) setImmediate(done); // after this chunk's commit
  });
  await finished;
  const streams = monitor.streams();
  const atEnd = { fitted: streams.filter((s) => s.reference !== undefined).length, calibrated: streams.filter((s) => s.calibration?.status === 'ready').length };
  await source.stop();
  await monitor.stop();
  const vectors = monitor.streams().reduce((sum, s) => sum + s.recordsTotal, 0);
  return meter.run({ referencesFitted, atEnd, vectors, background: monitor.backgroundThread });
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export async function benchKafka(log: (line: string) => void): Promise<void> {
  const brokerList = await brokers(log);
  const kafka = new Kafka({ clientId: 'klaxon-bench', brokers: brokerList, logLevel: logLevel.NOTHING });
  const topic = `bench-kafka-${Date.now().toString(36)}`;
  const t0 = performance.now();
  await produce(kafka, topic);
  log(`${fmt(RECORDS)} JSON records (~120 B) in ${PARTITIONS} partitions of ${topic} on ${brokerList.join(',')}, produced in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${ROUNDS} rounds, the three consumers in turn`);
  log('');

  const runs: Record<'bare' | 'parse' | 'klaxon', Run[]> = { bare: [], parse: [], klaxon: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.bare.push(await bare(kafka, topic, `${topic}-bare-${round}`, false));
    runs.parse.push(await bare(kafka, topic, `${topic}-parse-${round}`, true));
    runs.klaxon.push(await klaxon(brokerList, topic, `${topic}-klaxon-${round}`));
    const last = { bare: runs.bare.at(-1)!, parse: runs.parse.at(-1)!, klaxon: runs.klaxon.at(-1)! };
    for (const r of Object.values(last)) if (r.records !== RECORDS) throw new Error(`read ${r.records} of ${RECORDS} records`);
    const rate = (r: Run): string => fmt(r.records / r.all.seconds);
    const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
    const gc = (r: Run): string => ((r.all.gcSeconds / r.all.records) * 1e6).toFixed(2);
    const end = last.klaxon.atEnd!;
    log(
      `round ${round + 1}: bare ${rate(last.bare)}, bare+JSON.parse ${rate(last.parse)}, klaxon ${rate(last.klaxon)} records/s (whole run; ` +
        `${(last.klaxon.records / last.klaxon.all.seconds / (last.bare.records / last.bare.all.seconds)).toFixed(2)}× bare); ` +
        `by klaxon's last record ${end.fitted} of 3 references fitted, ${end.calibrated} calibrated; ` +
        `main thread busy ${pct(last.bare.all.busy)} (bare), ${pct(last.parse.all.busy)} (+parse), ${pct(last.klaxon.all.busy)} (klaxon); ` +
        `GC pauses ${gc(last.bare)}, ${gc(last.parse)}, ${gc(last.klaxon)} µs a record`,
    );
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  type Part = 'all' | 'steady';
  const rate = (k: keyof typeof runs, part: Part): number => median(runs[k].map((r) => r[part].records / r[part].seconds));
  const cost = (k: keyof typeof runs, part: Part): number => median(runs[k].map((r) => (r[part].cpuSeconds / r[part].records) * 1e6));
  // The target is judged on the rounds' own ratios, each round's consumers side by side: the
  // ratio of two medians taken apart could pair klaxon's good round with the bare consumer's bad one.
  const paired = (part: Part): number =>
    median(runs.klaxon.map((r, i) => r[part].records / r[part].seconds / (runs.bare[i]![part].records / runs.bare[i]![part].seconds)));
  const row = (name: string, k: keyof typeof runs, part: Part): string => {
    const vsBare = rate(k, part) / rate('bare', part);
    const perRound = k === 'klaxon' ? paired(part) : NaN;
    const target = k === 'klaxon' ? `${perRound >= 0.8 ? 'met' : 'missed'} (${perRound.toFixed(2)}×)` : '';
    return `| ${name} | ${fmt(rate(k, part))} | ${vsBare.toFixed(2)}× | ${(rate(k, part) / rate('parse', part)).toFixed(2)}× | ${fmt(cost(k, part), 2)} | ${target} |`;
  };
  log('');
  log(`medians of ${ROUNDS} rounds; "steady" leaves out each run's first ${fmt(WARMUP)} records (JIT warm-up; not klaxon's one-time fits, which land anywhere in the run)`);
  log(`median of the per-round ratios klaxon / bare (whole run, each round's consumers side by side): ${paired('all').toFixed(2)}×`);
  log('');
  log('| consumer | records/s | vs bare | vs bare+parse | CPU µs/record | ≥ 0.80× bare, per-round median |');
  log('|---|---:|---:|---:|---:|---|');
  for (const part of ['all', 'steady'] as const) {
    const when = part === 'all' ? 'whole run' : 'steady';
    log(row(`bare kafkajs (eachBatch, commit per batch), ${when}`, 'bare', part));
    log(row(`bare kafkajs + JSON.parse of each value, ${when}`, 'parse', part));
    log(row(`klaxon: 3 streams, decode, windows, commit, checkpoint, scheduler, ${when}`, 'klaxon', part));
  }
  log('');
  // Against the bare consumer's own steady rate in the same round: both after their warm-up.
  const settled = runs.klaxon.flatMap((r, i) => (r.settled ? [r.settled.records / r.settled.seconds / (runs.bare[i]!.steady.records / runs.bare[i]!.steady.seconds)] : []));
  log(
    settled.length === 0
      ? `klaxon's one-time work was not done with a tenth of the records left in any run: no rate after it (more records: KLAXON_BENCH_KAFKA_RECORDS).`
      : `klaxon after its one-time work (from every reference fitted and calibrated to the last record), against the bare consumer's steady rate in the same round: ` +
          `${settled.map((x) => `${x.toFixed(2)}×`).join(', ')} (${settled.length} of ${ROUNDS} runs; median ${median(settled).toFixed(2)}×).`,
  );
  const fitted = runs.klaxon.filter((r) => r.referencesFitted).length;
  const ends = runs.klaxon.map((r) => `${r.atEnd!.fitted}/${r.atEnd!.calibrated}`).join(', ');
  const where = [...new Set(runs.klaxon.map((r) => r.background))].join(' and ');
  const thread = where === 'worker' ? 'in its worker thread' : where === 'main' ? 'beside the consumer on its thread' : `here: ${where}`;
  log(`klaxon decoded ${fmt(runs.klaxon[0]!.vectors ?? 0)} vectors per run; its references were fitted by the end of the warm-up in ${fitted} of ${ROUNDS} runs.`);
  log(
    `The monitor's one-time work (3 reference fits, then 3 × 200 bootstrap refits for the calibrated thresholds, ~1.5 s of CPU) runs ${thread}, ` +
      `from the scheduler's 1 s tick: references fitted/calibrated by klaxon's last record, per run: ${ends}.`,
  );
  const memory = await ingestInMemory();
  log(`klaxon's ingest of ${fmt(memory.records)} of these records in memory (monitor.ingest, 3 streams, chunks of 2,000, no broker; median of 5 passes): ${fmt(memory.nsPerRecord)} ns a record`);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}
