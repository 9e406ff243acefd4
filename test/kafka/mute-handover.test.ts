// Scale-out: an operator's mute follows its stream to another instance through the checkpoint
// topic, and so does an unmute. Two klaxon processes (the compiled CLI) with state directories
// of their own share one drifting stream: muted on its owner, the stream keeps its alert at 0
// on the instance it moves to after the owner is killed; unmuted there, it does not come back
// muted (from the first instance's stale mute file) when it moves back, and its alert shows.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { MuteChange } from '../../src/stream/mute-change.js';
import { createTopic, uniqueTopic, waitFor } from '../support/kafka.js';
import { killHard, loadCheckpoint, metric, produce, rawConfig, records, startKlaxon, streamsOf, useKlaxonProcesses, type Klaxon } from './helpers.js';

const TOKEN = 'mute-handover-token-0123456789';
const env = { KLAXON_API_TOKEN: TOKEN };

let brokers: string[];
const dir = useKlaxonProcesses('klaxon-mute-handover-', (b) => (brokers = b));

/** Instance `name`'s config: scale-out over two partitions, one stream x, its own state directory. */
function writeConfig(name: string, groupId: string, topic: string): string {
  const raw = rawConfig({ brokers, topics: [topic], groupId }, { window: 500, evaluation: 0.5 });
  raw.log = { level: 'info' }; // startKlaxon waits for the 'klaxon started' line
  (raw.source as Record<string, unknown>).scaleOut = { partitions: 2 };
  raw.streams = [{ name: 'x', topic, fields: ['x'] }];
  raw.stateDir = stateDir(name);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(raw));
  return file;
}

const stateDir = (name: string): string => join(dir, `${name}-state`);

interface Seen {
  owns: boolean;
  muted?: number;
  critical?: number;
  divergence?: number;
  apiMuted?: boolean;
  mutedUntilMs?: number | null;
}

/** What instance k shows of stream x: its metrics and its API entry. */
async function seen(k: Klaxon): Promise<Seen> {
  const api = await streamsOf(k);
  const text = await (await fetch(`${k.base}/metrics`)).text();
  return {
    owns: api.x !== undefined,
    muted: metric(text, 'klaxon_stream_muted{stream="x"}'),
    critical: metric(text, 'klaxon_drift_alert{stream="x",severity="critical"}'),
    divergence: metric(text, 'klaxon_divergence_nats{stream="x",measure="kl_ref_win"}'),
    apiMuted: api.x?.muted,
    mutedUntilMs: api.x?.mutedUntilMs,
  };
}

async function operator(k: Klaxon, method: 'POST' | 'DELETE', body?: object): Promise<{ muted: boolean; mutedUntilMs: number | null }> {
  const res = await fetch(`${k.base}/api/streams/x/mute`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}` },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { muted: boolean; mutedUntilMs: number | null };
}

/** The mute decision for x in the checkpoint topic; undefined while there is none. */
async function checkpointedMute(checkpointTopic: string, groupId: string): Promise<MuteChange | undefined> {
  return (await loadCheckpoint(brokers, checkpointTopic, groupId)).mutes.find((m) => m.stream === 'x');
}

/** Waits until k owns x, has evaluated it against the drifted window, and shows `expected`. */
async function owning(k: Klaxon, what: string, expected: (s: Seen) => boolean): Promise<Seen> {
  let last: Seen | undefined;
  await waitFor(
    async () => {
      last = await seen(k);
      return last.owns && (last.divergence ?? 0) > 1 && expected(last);
    },
    { timeoutMs: 60_000, what },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; last seen ${JSON.stringify(last)}`);
  });
  return last!;
}

describe('operator mutes under scale-out', () => {
  it('follow the stream to its next owner, and an unmute made there is not undone by the first owner’s stale mute', async () => {
    const topic = uniqueTopic('mute-handover');
    const groupId = uniqueTopic('mute-handover-group');
    const checkpointTopic = `${groupId}.checkpoint`;
    await createTopic(brokers, topic, 1);
    // The reference is the first 500 (N(0, 1)); the window, the last 500, has drifted by 3 sd: KL ≈ 4.5 nats.
    await produce(brokers, topic, [...records('mute-handover', 0, 500, 0), ...records('mute-handover', 500, 500, 3)]);

    // a alone owns x and alerts on it; muted there, the alert goes to 0.
    const a = await startKlaxon(writeConfig('a', groupId, topic), { cwd: dir, env });
    await owning(a, 'a alerting on x', (s) => s.critical === 1 && s.muted === 0);
    const { mutedUntilMs } = await operator(a, 'POST', { minutes: 60 });
    expect(await seen(a)).toMatchObject({ muted: 1, critical: 0, apiMuted: true, mutedUntilMs });
    await waitFor(async () => (await checkpointedMute(checkpointTopic, groupId))?.untilMs === mutedUntilMs, {
      timeoutMs: 30_000,
      what: 'the mute in the checkpoint topic',
    });

    // b joins; a is killed (SIGKILL: no last checkpoint): b owns x within the session timeout, muted, its alert at 0.
    const b = await startKlaxon(writeConfig('b', groupId, topic), { cwd: dir, env });
    await killHard(a);
    const onB = await owning(b, 'b owning x, evaluated, muted', (s) => s.muted === 1);
    expect(onB).toMatchObject({ muted: 1, critical: 0, apiMuted: true, mutedUntilMs });

    // Unmuted on b: its alert shows again, and the unmute reaches the checkpoint topic.
    await operator(b, 'DELETE');
    await owning(b, 'b alerting on x once unmuted', (s) => s.muted === 0 && s.critical === 1);
    const unmuted = async (): Promise<boolean> => {
      const kept = await checkpointedMute(checkpointTopic, groupId);
      return kept !== undefined && kept.untilMs === undefined;
    };
    await waitFor(unmuted, {
      timeoutMs: 30_000,
      what: 'the unmute in the checkpoint topic',
    });

    // a comes back on its state directory, which still holds its mute; b is killed: a owns x again, not muted.
    expect(existsSync(join(stateDir('a'), 'x.mute.json'))).toBe(true);
    const a2 = await startKlaxon(writeConfig('a', groupId, topic), { cwd: dir, env });
    await killHard(b);
    const back = await owning(a2, 'a owning x again and alerting on it', (s) => s.critical === 1);
    expect(back).toMatchObject({ muted: 0, critical: 1, apiMuted: false, mutedUntilMs: null });
    // a's mute file now holds the unmute, so a restart without the checkpoint topic would not bring the mute back.
    const file = join(stateDir('a'), 'x.mute.json');
    await waitFor(() => JSON.parse(readFileSync(file, 'utf8')).unmuted === true, { what: 'the unmute in a’s mute file' });
  }, 240_000);
});
