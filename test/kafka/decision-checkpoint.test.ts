// An operator's decision reaches the checkpoint topic at once, not with the next periodic
// checkpoint: an instance killed right after a mute or a re-baseline would otherwise take it
// along, and the stream's next owner (a restart, or another instance under scale-out) would go
// on without it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, uniqueTopic, waitFor } from '../support/kafka.js';
import { config, loadCheckpoint, produce, records, useKafkaApp } from './helpers.js';

const kafka = useKafkaApp();
const TOKEN = 'decision-checkpoint-token-0123456789';

// The operator API needs a token, read from the environment when the app starts.
beforeAll(() => {
  process.env.KLAXON_API_TOKEN = TOKEN;
});
afterAll(() => {
  delete process.env.KLAXON_API_TOKEN;
});

/** An operator action on stream x over the HTTP API; its JSON answer. */
async function operator(port: number, action: 'mute' | 'rebaseline', body: object | null): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}/api/streams/x/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** What the checkpoint topic holds for stream x: its mute decision and its reference's time. */
async function keptFor(checkpointTopic: string, groupId: string): Promise<{ mutedUntilMs: number | undefined; referenceMs: number | undefined }> {
  const cp = await loadCheckpoint(kafka.brokers, checkpointTopic, groupId);
  return {
    mutedUntilMs: cp.mutes.find((m) => m.stream === 'x')?.untilMs,
    referenceMs: cp.references.find((r) => r.stream === 'x')?.createdAtMs,
  };
}

describe('kafka source: operator decisions', () => {
  it('checkpoints a mute and a re-baseline as soon as they are made, whatever the interval', async () => {
    const { brokers } = kafka;
    const topic = uniqueTopic('decision');
    const groupId = `${topic}-g`;
    const checkpointTopic = `${groupId}.checkpoint`;
    await createTopic(brokers, topic, 1);
    await produce(brokers, topic, records('decision', 0, 1_000));
    const cfg = config({ brokers, topics: [topic], groupId, checkpointTopic }, { window: 500, evaluation: 0.5 });
    if (cfg.source.type !== 'kafka') throw new Error('kafka config expected');
    // Periodic checkpoints an hour apart: only the first one and the decisions write.
    const { app } = await kafka.run({ ...cfg, source: { ...cfg.source, checkpointIntervalSeconds: 3_600 } });
    await waitFor(() => app.monitor.stream('x')?.referenceTimestampMs !== undefined, { what: 'a reference for x' });
    // The first checkpoint went out at the start (with the reference or not, depending on when
    // its fit came in), and the next periodic one is an hour away.
    expect((await keptFor(checkpointTopic, groupId)).mutedUntilMs).toBeUndefined();

    const muted = await operator(app.httpPort, 'mute', { minutes: 60 });
    expect(muted.mutedUntilMs).toBeGreaterThan(Date.now());
    // The checkpoint topic holds the reference of x too, by then at the latest.
    await waitFor(async () => (await keptFor(checkpointTopic, groupId)).mutedUntilMs === muted.mutedUntilMs, { timeoutMs: 5_000, what: 'the mute in the checkpoint topic' });
    expect((await keptFor(checkpointTopic, groupId)).referenceMs).toBe(app.monitor.stream('x')!.referenceTimestampMs);

    const before = (await keptFor(checkpointTopic, groupId)).referenceMs!;
    const rebaselined = await operator(app.httpPort, 'rebaseline', null);
    expect(rebaselined.referenceTimestampMs).toBeGreaterThan(before);
    await waitFor(async () => (await keptFor(checkpointTopic, groupId)).referenceMs === rebaselined.referenceTimestampMs, {
      timeoutMs: 5_000,
      what: 'the new reference in the checkpoint topic',
    });
  }, 120_000);
});
