// A clean stop in the middle of a batch: the chunk in progress finishes, what the monitor got
// is committed, nothing more is delivered, and the group is left, after the last checkpoint.
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CheckpointStore, type RestorableState } from '../../src/sources/kafka/checkpoint.js';
import { KafkaSource } from '../../src/sources/kafka/consumer.js';
import { systemClock } from '../../src/stream/clock.js';
import type { MuteChange } from '../../src/stream/mute-change.js';
import { createTopic, kafkaBrokers, uniqueTopic, waitFor } from '../support/kafka.js';
import { checkpointed, EMPTY_STATE } from './handover.js';
import { committed, config, kafkaClient, produce, records } from './helpers.js';

let brokers: string[];

beforeAll(async () => {
  brokers = await kafkaBrokers();
}, 300_000);

/**
 * Records, in order, each checkpoint written (the committed offsets it names, and whether it
 * carried a mute) and each consumer's disconnect (leaving the group), on the real classes.
 */
function recordCheckpointsAndLeave(options: { slowMuteWrites?: boolean } = {}): string[] {
  const events: string[] = [];
  const write = CheckpointStore.prototype.write;
  vi.spyOn(CheckpointStore.prototype, 'write').mockImplementation(async function (this: CheckpointStore, ...args) {
    const mutes = args[2] ?? [];
    if (options.slowMuteWrites && mutes.length > 0) await sleep(500);
    await write.apply(this, args);
    events.push(`checkpoint ${[...args[1].values()].map((o) => o.committed).join()}${mutes.length > 0 ? ' with the mute' : ''}`);
  });
  const consumer = Kafka.prototype.consumer;
  vi.spyOn(Kafka.prototype, 'consumer').mockImplementation(function (this: Kafka, ...args) {
    const c = consumer.apply(this, args);
    const disconnect = c.disconnect.bind(c);
    c.disconnect = () => {
      events.push('leave');
      return disconnect();
    };
    return c;
  });
  return events;
}

describe('kafka source: graceful stop', () => {
  it('finishes the chunk in progress, commits exactly what was delivered, and leaves the group', async () => {
    const topic = uniqueTopic('stop');
    const groupId = `${topic}-g`;
    await createTopic(brokers, topic, 1);
    await produce(brokers, topic, records('stop', 0, 2_000));
    const cfg = config({ brokers, topics: [topic], groupId, checkpointTopic: null });
    if (cfg.source.type !== 'kafka') throw new Error('kafka config expected');
    const source = new KafkaSource(cfg.source, { clock: systemClock, tuning: { chunk: 100 } });
    let delivered = 0;
    let inSink = false;
    await source.start(async (batch) => {
      inSink = true;
      await sleep(50);
      delivered += batch.length;
      inSink = false;
    });
    await waitFor(() => delivered >= 300 && inSink, { what: 'a chunk in progress' });
    await source.stop();
    const atStop = delivered;
    expect(inSink).toBe(false);
    expect(atStop % 100).toBe(0); // whole chunks only
    expect(atStop).toBeLessThan(2_000);
    expect(await committed(brokers, groupId, topic)).toBe(atStop);
    await sleep(300);
    expect(delivered).toBe(atStop);
    const admin = kafkaClient(brokers).admin();
    await admin.connect();
    const { groups } = await admin.describeGroups([groupId]);
    await admin.disconnect();
    expect(groups[0]?.members ?? []).toHaveLength(0);
  }, 60_000);

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('writes its last checkpoint before it leaves the group', async () => {
    // A member that takes the partitions over the moment this one leaves restores the checkpoint
    // topic: it must already hold what this member applied last (and any re-baseline or mute).
    const topic = uniqueTopic('stop-checkpoint');
    const groupId = `${topic}-g`;
    await createTopic(brokers, topic, 1);
    const events = recordCheckpointsAndLeave();
    const cfg = config({ brokers, topics: [topic], groupId, checkpointTopic: `${groupId}.checkpoint` });
    if (cfg.source.type !== 'kafka') throw new Error('kafka config expected');
    // Only the first batch and the stop write checkpoints: the periodic ones wait an hour.
    const source = new KafkaSource({ ...cfg.source, checkpointIntervalSeconds: 3_600 }, { clock: systemClock, state: EMPTY_STATE, tuning: { chunk: 100 } });
    let delivered = 0;
    await produce(brokers, topic, records('stop-checkpoint', 0, 200));
    await source.start(async (batch) => {
      delivered += batch.length;
    });
    await waitFor(() => delivered === 200 && events.length > 0, { what: 'the first batch checkpointed' });
    await produce(brokers, topic, records('stop-checkpoint', 200, 300));
    await waitFor(async () => delivered === 500 && (await committed(brokers, groupId, topic)) === 500, { what: 'all 500 committed' });
    expect(events).not.toContain('checkpoint 500');
    await source.stop();
    expect(events.slice(-2)).toEqual(['checkpoint 500', 'leave']);
    expect(await checkpointed(brokers, groupId, topic, [0])).toEqual([500]);
  }, 60_000);

  it('lets a decision checkpoint being written end, and does not skip its own, before it leaves', async () => {
    const topic = uniqueTopic('stop-decision');
    const groupId = `${topic}-g`;
    await createTopic(brokers, topic, 1);
    let decided: () => void = () => undefined;
    let mute: MuteChange | undefined;
    const state: RestorableState = {
      retention: () => [{ stream: 'x', reference: undefined, window: [], referenceFrom: [], mute }],
      restoreReference: () => false,
      restoreMute: () => false,
      onDecision: (listener) => {
        decided = listener;
      },
    };
    // The decision's write is slow: the stop comes while it is under way.
    const events = recordCheckpointsAndLeave({ slowMuteWrites: true });
    const cfg = config({ brokers, topics: [topic], groupId, checkpointTopic: `${groupId}.checkpoint` });
    if (cfg.source.type !== 'kafka') throw new Error('kafka config expected');
    const source = new KafkaSource({ ...cfg.source, checkpointIntervalSeconds: 3_600 }, { clock: systemClock, state, tuning: { chunk: 100 } });
    let delivered = 0;
    await produce(brokers, topic, records('stop-decision', 0, 100));
    await source.start(async (batch) => {
      delivered += batch.length;
    });
    await waitFor(() => delivered === 100 && events.length > 0, { what: 'the first batch checkpointed' });
    await produce(brokers, topic, records('stop-decision', 100, 50));
    await waitFor(async () => delivered === 150 && (await committed(brokers, groupId, topic)) === 150, { what: 'all 150 committed' });
    mute = { stream: 'x', untilMs: Date.now() + 3_600_000, changedAtMs: Date.now() };
    decided();
    await source.stop();
    // The first checkpoint is the first batch's, or one the source's idle loop wrote as the
    // session began, before any commit (then the hour-long interval holds the batch's back).
    expect(events[0]).toMatch(/^checkpoint (100)?$/);
    // The decision's checkpoint carried everything; the stop's own found nothing new to write.
    expect(events.slice(1)).toEqual(['checkpoint 150 with the mute', 'leave']);
    expect(await checkpointed(brokers, groupId, topic, [0])).toEqual([150]);
  }, 60_000);
});
