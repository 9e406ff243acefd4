// kill -9 and restart: a real klaxon process (the compiled CLI) is killed twice, once while
// its reference is still being collected and once mid-stream. After each restart it restores
// what it had from the checkpoint topic and replays the input topic; in the end every
// stream's reference is identical to an uninterrupted run's, and its window holds the same
// records (same oldest offset, same count, at the same committed offset), while no record
// is counted twice.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createTopic, uniqueTopic, waitFor } from '../support/kafka.js';
import { committed, kafkaClient, killHard, loadCheckpoint, metric, produce, rawConfig, records, startKlaxon, streamsOf, useKlaxonProcesses, type Klaxon } from './helpers.js';

let brokers: string[];
const dir = useKlaxonProcesses('klaxon-restart-', (b) => (brokers = b));

function writeConfig(name: string, groupId: string, topic: string, checkpointTopic: string): string {
  const raw = rawConfig({ brokers, topics: [topic], groupId, checkpointTopic }, { window: 500, evaluation: 0.5 });
  raw.log = { level: 'info' };
  // Two components: weights that are not trivially 1, so "identical" means every bit of them.
  (raw.defaults as Record<string, unknown>).components = 2;
  raw.stateDir = join(dir, `${name}-state`);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(raw));
  return file;
}

/** The checkpoint topic's offset entry for partition 0 of `topic`, as the store reads it back. */
async function checkpointOf(checkpointTopic: string, groupId: string, topic: string) {
  const cp = await loadCheckpoint(brokers, checkpointTopic, groupId);
  return { references: cp.references.map((r) => r.stream).sort(), replayFrom: cp.offsets.get(`${topic}\0${0}`) };
}

/** Reads the raw offset entry (with its `committed`) straight from the topic. */
async function checkpointCommitted(checkpointTopic: string, topic: string): Promise<{ offset: number; committed: number } | undefined> {
  const kafka = kafkaClient(brokers);
  const consumer = kafka.consumer({ groupId: `${checkpointTopic}-peek-${Date.now()}`, maxWaitTimeInMs: 100 });
  const admin = kafka.admin();
  await admin.connect();
  const [p] = await admin.fetchTopicOffsets(checkpointTopic);
  await admin.disconnect();
  const end = BigInt(p?.high ?? '0');
  if (end === 0n) return undefined;
  let latest: { offset: number; committed: number } | undefined;
  let done = false;
  await consumer.connect();
  await consumer.subscribe({ topic: checkpointTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.key?.toString() === `offset/${topic}/0` && message.value) {
        const v = JSON.parse(message.value.toString()) as { offset: string; committed: string };
        latest = { offset: Number(v.offset), committed: Number(v.committed) };
      }
      if (BigInt(message.offset) + 1n >= end) done = true;
    },
  });
  await waitFor(() => done, { what: `the end of ${checkpointTopic}` });
  await consumer.disconnect();
  return latest;
}

describe('kafka source: kill -9 and restart', () => {
  it('restores references and windows exactly, replaying without counting twice', async () => {
    const topic = uniqueTopic('restart');
    const group = `${topic}-g`;
    const checkpoint = `${topic}-ckpt`;
    await createTopic(brokers, topic, 1);
    const cfg = writeConfig('main', group, topic, checkpoint);

    // 1. Killed while collecting its reference (n = 500; 300 records in).
    await produce(brokers, topic, records('restart', 0, 300));
    let k = await startKlaxon(cfg, { cwd: dir });
    await waitFor(async () => (await checkpointCommitted(checkpoint, topic))?.committed === 300, {
      timeoutMs: 30_000,
      what: 'a checkpoint at committed offset 300',
    });
    expect((await streamsOf(k)).x!.phase).toBe('collecting_reference');
    await killHard(k);

    // 2. Restarted: the 300 are replayed into the reference being collected; 700 more arrive.
    await produce(brokers, topic, records('restart', 300, 700));
    k = await startKlaxon(cfg, { cwd: dir });
    await waitFor(async () => (await committed(brokers, group, topic)) === 1_000, { timeoutMs: 60_000, what: '1000 committed' });
    await waitFor(async () => (await checkpointOf(checkpoint, group, topic)).references.join() === 'pair,x', {
      timeoutMs: 30_000,
      what: 'both references checkpointed',
    });
    let s = await streamsOf(k);
    expect(s.x!.recordsTotal).toBe(700); // the 300 replayed records are not counted again

    // 3. Killed mid-stream, with records still arriving.
    const producing = produce(brokers, topic, records('restart', 1_000, 1_000), { chunk: 100 });
    await waitFor(async () => (await committed(brokers, group, topic)) > 1_200, { what: 'consumption under way' });
    await killHard(k);
    await producing;
    const committedAtKill = await committed(brokers, group, topic);
    const replayFrom = (await checkpointOf(checkpoint, group, topic)).replayFrom!;
    expect(replayFrom).toBeLessThan(committedAtKill);

    k = await startKlaxon(cfg, { cwd: dir });
    await waitFor(async () => (await committed(brokers, group, topic)) === 2_000, { timeoutMs: 60_000, what: '2000 committed' });
    await waitFor(async () => (await checkpointCommitted(checkpoint, topic))?.committed === 2_000, {
      timeoutMs: 30_000,
      what: 'a checkpoint at committed offset 2000',
    }).catch((err: unknown) => {
      console.log(k.output.slice(-40).join('\n'));
      throw err;
    });
    const restarted = await streamsOf(k);
    const metrics = await (await fetch(`${k.base}/metrics`)).text();
    expect(restarted.x!.recordsTotal).toBe(2_000 - committedAtKill);
    expect(metric(metrics, 'klaxon_kafka_replayed_records_total')).toBe(committedAtKill - replayFrom);

    // The uninterrupted run over the same records.
    const uninterrupted = await startKlaxon(writeConfig('clean', `${group}-clean`, topic, `${checkpoint}-clean`), { cwd: dir });
    await waitFor(async () => (await committed(brokers, `${group}-clean`, topic)) === 2_000, { timeoutMs: 60_000, what: 'clean run at 2000' });
    await waitFor(async () => (await checkpointCommitted(`${checkpoint}-clean`, topic))?.committed === 2_000, {
      timeoutMs: 30_000,
      what: 'the clean run checkpointed at 2000',
    });
    // Its references are fitted a moment after their data is in; until they are checkpointed
    // too, its checkpoint holds the reference data's first offset (0) for a replay.
    await waitFor(async () => (await checkpointOf(`${checkpoint}-clean`, `${group}-clean`, topic)).references.join() === 'pair,x', {
      timeoutMs: 30_000,
      what: 'the clean run references checkpointed',
    });
    await waitFor(async () => (await checkpointCommitted(`${checkpoint}-clean`, topic))?.offset === 1_500, {
      timeoutMs: 30_000,
      what: 'the clean run to checkpoint its window start',
    });
    s = await streamsOf(uninterrupted);

    for (const name of ['x', 'pair']) {
      expect(restarted[name]!.reference, name).toEqual(s[name]!.reference);
      expect(restarted[name]!.reference, name).not.toBeNull();
      expect(restarted[name]!.windowSamples, name).toBe(s[name]!.windowSamples);
    }
    // Same committed offset, same oldest record in the windows, same count: the same records.
    expect(await checkpointCommitted(checkpoint, topic)).toEqual(await checkpointCommitted(`${checkpoint}-clean`, topic));
    expect((await checkpointCommitted(checkpoint, topic))!.offset).toBe(1_500);
    await killHard(k);
    await killHard(uninterrupted);
  }, 180_000);
});
