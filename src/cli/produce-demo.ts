import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { Kafka, logLevel, Partitioners, type Message, type Producer } from 'kafkajs';
import { DEFAULT_DEMO } from '../config/defaults.js';
import { DemoGenerator } from '../sources/demo.js';
import { ensureTopic } from '../sources/kafka/admin.js';
import { backoffMs, Pacer } from '../sources/pacer.js';
import { positiveInt, positiveNumber, UsageError } from './errors.js';

interface ProduceDemoFlags {
  brokers: string;
  topic: string;
  rate: number;
  seed: string;
  driftAfter: number;
  count?: number;
  malformedFraction: number;
  json?: boolean;
}

export interface ProduceDemoOptions {
  brokers: string[];
  topic: string;
  /** Messages per second. */
  rate: number;
  seed: string;
  driftAfterSeconds: number;
  /** Stop after this many messages; undefined runs until the signal. */
  count: number | undefined;
  malformedFraction: number;
  signal?: AbortSignal;
  /** One line per notable event (topic created, send retried); stderr in the CLI. */
  say?: (line: string) => void;
}

export interface ProduceDemoSummary {
  topic: string;
  messages: number;
  /** Messages sent before the drift onset. */
  beforeDrift: number;
  seconds: number;
}

const TICK_MS = 50;

/**
 * The demo world in one topic, for a real Kafka: the demo generator's payment and sensor
 * records of one tick merged into one JSON message, so that one topic feeds every demo
 * stream (`amount`, `latency_ms`, `x`/`y`, `temperature`) and no record lacks a field its
 * streams need. A record the generator cut short (invalid JSON) is the message instead, alone:
 * sent beside it, its partner lacked half the fields and was rejected by the other streams,
 * and `--count` was exceeded.
 */
export function mergeDemoRecords(payment: string, sensor: string): string {
  const p = parsed(payment);
  if (p === undefined) return payment;
  const s = parsed(sensor);
  if (s === undefined) return sensor;
  const { id: _sensorId, ...sensorFields } = s;
  return JSON.stringify({ ...p, ...sensorFields });
}

function parsed(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Produces the drifting demo records into `topic` at `rate` messages per second. */
export async function produceDemo(o: ProduceDemoOptions): Promise<ProduceDemoSummary> {
  const kafka = new Kafka({ clientId: 'klaxon-produce-demo', brokers: o.brokers, logLevel: logLevel.NOTHING });
  await createTopicIfMissing(kafka, o.topic, o.say);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const startMs = Date.now();
  const driftAtMs = startMs + o.driftAfterSeconds * 1000;
  const gen = new DemoGenerator({ seed: o.seed, driftAtMs, malformedFraction: o.malformedFraction });
  const pacer = new Pacer(o.rate);
  let messages = 0;
  let beforeDrift = 0;
  try {
    while (!o.signal?.aborted && (o.count === undefined || messages < o.count)) {
      const due = Math.min(pacer.due(), o.count === undefined ? Infinity : o.count - messages);
      if (due === 0) {
        await pacer.wait(TICK_MS, o.signal);
        continue;
      }
      const now = Date.now();
      const records = gen.batch(due, now);
      const batch: Message[] = [];
      for (let i = 0; i + 1 < records.length; i += 2) {
        batch.push({ value: mergeDemoRecords(String(records[i]!.value), String(records[i + 1]!.value)), timestamp: String(now) });
      }
      await send(producer, o.topic, batch, o);
      pacer.sentItems(due);
      messages += due;
      if (now < driftAtMs) beforeDrift += due;
    }
  } finally {
    await producer.disconnect();
  }
  return { topic: o.topic, messages, beforeDrift, seconds: (Date.now() - startMs) / 1000 };
}

/** Keeps trying through a broker outage (the demo should outlive a Kafka restart), until stopped. */
async function send(producer: Producer, topic: string, messages: Message[], o: ProduceDemoOptions): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await producer.send({ topic, messages, acks: -1 });
      return;
    } catch (err) {
      if (o.signal?.aborted) throw err;
      const wait = backoffMs(attempt, 500, 15_000);
      o.say?.(`send to ${topic} failed (${(err as Error).message}); retrying in ${Math.round(wait)} ms`);
      await sleep(wait, undefined, { signal: o.signal }).catch(() => undefined);
    }
  }
}

async function createTopicIfMissing(kafka: Kafka, topic: string, say: ProduceDemoOptions['say']): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (await ensureTopic(admin, topic)) say?.(`created topic ${topic}`);
  } finally {
    await admin.disconnect();
  }
}

function brokerList(raw: string): string[] {
  const brokers = raw.split(',').map((b) => b.trim()).filter(Boolean);
  for (const b of brokers) if (!/^[^\s:]+:\d+$/.test(b)) throw new UsageError(`--brokers must be host:port[,host:port...], got "${b}"`);
  if (brokers.length === 0) throw new UsageError('--brokers must name at least one host:port');
  return brokers;
}

function nonNegative(flag: string): (raw: string) => number {
  return (raw) => {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`${flag} must be a number ≥ 0, got "${raw}"`);
    return v;
  };
}

/** `klaxon produce-demo`: the demo's drifting records into a Kafka topic. */
export function addProduceDemoCommand(program: Command): void {
  program
    .command('produce-demo')
    .description('produce the demo source’s drifting records into a Kafka topic (one JSON message per demo tick)')
    .requiredOption('--brokers <list>', 'bootstrap brokers, host:port[,host:port...]')
    .requiredOption('--topic <name>', 'topic to produce to (created if missing)')
    .option('--rate <n>', 'messages per second', positiveNumber('--rate'), DEFAULT_DEMO.rate)
    .option('--seed <seed>', 'same seed, same records', String(DEFAULT_DEMO.seed))
    .option('--drift-after <seconds>', 'when amount shifts and a new (x, y) cluster appears', nonNegative('--drift-after'), DEFAULT_DEMO.driftAfterSeconds)
    .option('--count <n>', 'stop after n messages (default: run until interrupted)', positiveInt('--count'))
    .option('--malformed-fraction <f>', 'fraction of deliberately malformed records', nonNegative('--malformed-fraction'), DEFAULT_DEMO.malformedFraction)
    .option('--json', 'print a JSON summary on exit')
    .action(async (flags: ProduceDemoFlags) => {
      if (flags.malformedFraction > 1) throw new UsageError(`--malformed-fraction must be at most 1, got ${flags.malformedFraction}`);
      const brokers = brokerList(flags.brokers);
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      process.once('SIGTERM', stop).once('SIGINT', stop);
      const say = (line: string): void => void process.stderr.write(`klaxon produce-demo: ${line}\n`);
      say(`producing to ${flags.topic} on ${brokers.join(',')} at ${flags.rate}/s; drift after ${flags.driftAfter} s`);
      try {
        const summary = await produceDemo({
          brokers,
          topic: flags.topic,
          rate: flags.rate,
          seed: flags.seed,
          driftAfterSeconds: flags.driftAfter,
          count: flags.count,
          malformedFraction: flags.malformedFraction,
          signal: abort.signal,
          say,
        });
        if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
        else say(`sent ${summary.messages} messages in ${summary.seconds.toFixed(1)} s`);
      } finally {
        process.off('SIGTERM', stop).off('SIGINT', stop);
      }
    });
}
