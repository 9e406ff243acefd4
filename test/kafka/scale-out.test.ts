// Scale-out: several klaxon processes (the compiled CLI) in one consumer group share the
// streams. Each stream is owned by exactly one of them; when one is killed with SIGKILL its
// streams go on at another within the session timeout, with the same reference (restored from
// the checkpoint topic) and a full window (replayed from the repartition topic); an instance
// that joins later takes its share, and one stopped cleanly hands its streams back at once.
// Rejects are counted and dead-lettered once, by the routers.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { streamPartition } from '../../src/sources/kafka/router.js';
import { createTopic, uniqueTopic, waitFor } from '../support/kafka.js';
import { committed, killHard, loadCheckpoint, metric, produce, rawConfig, readAll, records, startKlaxon, streamsOf, useKlaxonProcesses, type Klaxon, type StreamJson } from './helpers.js';

let brokers: string[];
const dir = useKlaxonProcesses('klaxon-scale-', (b) => (brokers = b));

const PARTITIONS = 6;
// One stream per repartition partition (FNV-1a of the name mod 6: 3, 4, 5, 0, 1, 2).
const STREAMS = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5'];

function writeConfig(name: string, groupId: string, topic: string): string {
  const raw = rawConfig({ brokers, topics: [topic], groupId, deadLetterTopic: `${topic}.dlq` }, { window: 500, evaluation: 0.5 });
  raw.log = { level: 'info' };
  (raw.source as Record<string, unknown>).scaleOut = { partitions: PARTITIONS };
  raw.streams = STREAMS.map((s, i) => ({ name: s, topic, fields: i % 2 === 0 ? ['x'] : ['pair.a', 'pair.b'] }));
  raw.stateDir = join(dir, `${name}-state`);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(raw));
  return file;
}

/** Per live instance, the streams it reports; throws unless every stream is on exactly one. */
async function owners(ks: readonly Klaxon[]): Promise<Map<string, number>> {
  const owner = new Map<string, number>();
  for (const [i, k] of ks.entries()) {
    for (const name of Object.keys(await streamsOf(k))) {
      if (owner.has(name)) throw new Error(`${name} on instances ${owner.get(name)} and ${i}`);
      owner.set(name, i);
    }
  }
  return owner;
}

/** klaxon_records_rejected_total summed over its series with this reason. */
function rejected(text: string, reason: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith('klaxon_records_rejected_total{') && l.includes(`reason="${reason}"`))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function metricsHave(k: Klaxon, stream: string): Promise<boolean> {
  return (await (await fetch(`${k.base}/metrics`)).text()).includes(`klaxon_window_samples{stream="${stream}"}`);
}

async function checkpointedReferences(checkpointTopic: string, groupId: string): Promise<string[]> {
  return (await loadCheckpoint(brokers, checkpointTopic, groupId)).references.map((r) => r.stream).sort();
}

describe('scale-out over a consumer group', () => {
  it('routes one partition per stream', () => {
    expect(STREAMS.map((s) => streamPartition(s, PARTITIONS)).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('splits the streams, hands a killed instance’s streams over with their references, and gives a joiner its share', async () => {
    const topic = uniqueTopic('scale');
    const groupId = uniqueTopic('scale-group');
    await createTopic(brokers, topic, 3);
    await produce(brokers, topic, records('scale', 0, 3_000));
    await produce(brokers, topic, Array.from({ length: 10 }, (_, i) => `not json ${i}`));

    const a = await startKlaxon(writeConfig('a', groupId, topic), { cwd: dir });
    const b = await startKlaxon(writeConfig('b', groupId, topic), { cwd: dir });

    // Split: every stream on exactly one instance, each instance with some, every reference fitted and checkpointed.
    let split = new Map<string, number>();
    await waitFor(
      async () => {
        split = await owners([a, b]);
        if (split.size !== STREAMS.length || new Set(split.values()).size !== 2) return false;
        const all = { ...(await streamsOf(a)), ...(await streamsOf(b)) };
        return STREAMS.every((s) => all[s]!.reference !== null && all[s]!.windowSamples === 500);
      },
      { timeoutMs: 60_000, what: 'the streams split between two instances, references fitted, windows full' },
    );
    await waitFor(async () => (await checkpointedReferences(`${groupId}.checkpoint`, groupId)).length === STREAMS.length, {
      timeoutMs: 30_000,
      what: 'every reference in the checkpoint topic',
    });
    const before = { ...(await streamsOf(a)), ...(await streamsOf(b)) };
    // Rejects are counted (and dead-lettered) by the routers, each record once across the instances.
    const invalid = async (k: Klaxon): Promise<number> => rejected(await (await fetch(`${k.base}/metrics`)).text(), 'invalid_json');
    await waitFor(async () => (await invalid(a)) + (await invalid(b)) === 10, { what: 'ten rejects counted across the routers' });
    expect((await readAll(brokers, `${topic}.dlq`, 10)).length).toBe(10);
    const onA = STREAMS.filter((s) => split.get(s) === 0);
    for (const s of onA) expect(await metricsHave(a, s)).toBe(true);
    for (const s of onA) expect(await metricsHave(b, s)).toBe(false);

    // SIGKILL a: within the session timeout (6 s) b owns every stream, with a's references.
    await killHard(a);
    const killedAt = Date.now();
    await waitFor(
      async () => {
        const now = await streamsOf(b);
        return STREAMS.every((s) => now[s] !== undefined && now[s]!.windowSamples === 500);
      },
      { timeoutMs: 40_000, what: 'b taking over every stream with full windows' },
    );
    const takeoverMs = Date.now() - killedAt;
    const after = await streamsOf(b);
    for (const s of STREAMS) expect(JSON.stringify(after[s]!.reference)).toBe(JSON.stringify(before[s]!.reference));
    for (const s of onA) expect(await metricsHave(b, s)).toBe(true);
    console.log(`scale-out: b took over ${onA.join(', ')} ${takeoverMs} ms after a was killed (session timeout 6 s)`);

    // The moved streams carry on: new records reach them, counted once each on b.
    const counted = (x: Record<string, StreamJson>): number => onA.reduce((n, s) => n + x[s]!.recordsTotal, 0);
    const base = counted(after);
    await produce(brokers, topic, records('scale', 3_000, 1_000));
    await waitFor(async () => (await committed(brokers, `${groupId}.router`, topic)) === 4_010, { timeoutMs: 30_000, what: 'the router committing every record' });
    // The routers' lag on the source topic is exported beside the owners' (a router falling
    // behind would otherwise go unseen): every partition's series, at 0 once they caught up.
    const sourceLag = async (k: Klaxon): Promise<number[]> => {
      const text = await (await fetch(`${k.base}/metrics`)).text();
      return [0, 1, 2].map((p) => metric(text, `klaxon_kafka_consumer_lag{topic="${topic}",partition="${p}"}`) ?? NaN);
    };
    await waitFor(async () => (await sourceLag(b)).every((lag) => lag === 0), { timeoutMs: 30_000, what: 'the routers’ lag on the source topic exported, at 0' });
    await waitFor(async () => counted(await streamsOf(b)) === base + 1_000 * onA.length, {
      timeoutMs: 30_000,
      what: 'the moved streams counting the new records on b',
    });

    // c joins: it takes a share, and every stream stays on exactly one instance with its reference.
    const c = await startKlaxon(writeConfig('c', groupId, topic), { cwd: dir });
    await waitFor(
      async () => {
        const o = await owners([b, c]);
        if (o.size !== STREAMS.length || ![...o.values()].includes(1)) return false;
        const all = { ...(await streamsOf(b)), ...(await streamsOf(c)) };
        return STREAMS.every((s) => all[s]!.windowSamples === 500);
      },
      { timeoutMs: 40_000, what: 'c taking a share of the streams' },
    );
    const joined = { ...(await streamsOf(b)), ...(await streamsOf(c)) };
    for (const s of STREAMS) expect(JSON.stringify(joined[s]!.reference)).toBe(JSON.stringify(before[s]!.reference));
    const onC = Object.keys(await streamsOf(c));
    for (const s of onC) expect(await metricsHave(b, s)).toBe(false);

    // A clean stop (SIGTERM) leaves the group at once: b takes c's streams back well within the session timeout.
    const stoppedAt = Date.now();
    const exited = new Promise((r) => c.child.once('exit', r));
    c.child.kill('SIGTERM');
    await exited;
    await waitFor(
      async () => {
        const now = await streamsOf(b);
        return STREAMS.every((s) => now[s] !== undefined && now[s]!.windowSamples === 500);
      },
      { timeoutMs: 30_000, what: 'b taking back c’s streams after a clean stop' },
    );
    const back = await streamsOf(b);
    for (const s of STREAMS) expect(JSON.stringify(back[s]!.reference)).toBe(JSON.stringify(before[s]!.reference));
    console.log(`scale-out: b took back ${onC.join(', ')} ${Date.now() - stoppedAt} ms after c was stopped cleanly`);
  }, 240_000);
});
