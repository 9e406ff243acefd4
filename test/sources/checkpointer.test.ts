// Mute decisions through the Checkpointer, with an in-memory checkpoint topic for a broker: the
// instance that decides writes its decision once, the stream's next owner takes it on, and an
// unmute made there wins over the stale mute file of the first owner when the stream comes back.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointReader, checkpointMessages, type Checkpoint } from '../../src/sources/kafka/checkpoint-format.js';
import { Checkpointer, type CheckpointStore } from '../../src/sources/kafka/checkpoint.js';
import { ManualClock } from '../../src/stream/clock.js';
import { Monitor } from '../../src/stream/monitor.js';
import { waitForValue } from '../support/wait.js';
import { streamConfig } from '../stream/support.js';

const T0 = 1_700_000_000_000;

/** The checkpoint topic as a list of messages, compacted by reading. */
function topic() {
  const messages: { key: string; value: string }[] = [];
  const store = {
    topic: 'c',
    write: async (...args: Parameters<typeof checkpointMessages>) => void messages.push(...checkpointMessages(...args)),
  } as unknown as CheckpointStore;
  const load = (): Checkpoint => {
    const r = new CheckpointReader('c');
    for (const m of messages) r.read(m.key, Buffer.from(m.value));
    return r.checkpoint();
  };
  return { store, messages, load, mutes: () => messages.filter((m) => m.key.startsWith('mute/')).map((m) => JSON.parse(m.value) as object) };
}

/** A scale-out instance with its own state directory and clock. */
async function instance(store: CheckpointStore, stateDir = mkdtempSync(path.join(tmpdir(), 'klaxon-cp-'))) {
  const clock = new ManualClock(T0);
  const m = new Monitor({ streams: [streamConfig({ components: 1 })], clock, stateDir, ownership: true });
  await m.init();
  return { m, clock, stateDir, checkpointer: new Checkpointer(store, m) };
}

const NOTHING = new Map<string, { topic: string; partition: number; offset: number }>();

describe('Checkpointer and mute decisions', () => {
  it('writes a decision once, carries it to the next owner, and lets an unmute there beat the first owner’s stale file', async () => {
    const t = topic();
    const a = await instance(t.store);
    await a.m.acquire(['s']);
    a.checkpointer.restore(t.load());
    await a.m.mute('s', { minutes: 60 });
    expect(await a.checkpointer.write(NOTHING)).toBe(true);
    expect(await a.checkpointer.write(NOTHING)).toBe(false); // nothing new to keep
    expect(t.mutes()).toEqual([{ version: 1, stream: 's', untilMs: T0 + 3_600_000, changedAtMs: T0 }]);

    // The stream moves to b, which takes the mute on and does not write it back.
    a.m.release(['s']);
    const b = await instance(t.store);
    b.clock.set(T0 + 60_000);
    await b.m.acquire(['s']);
    b.checkpointer.restore(t.load());
    expect(b.m.stream('s')).toMatchObject({ muted: true, mutedUntilMs: T0 + 3_600_000 });
    await b.checkpointer.write(NOTHING);
    expect(t.mutes()).toHaveLength(1);

    // Unmuted on b: the unmute is written, as a decision with its time.
    await b.m.unmute('s');
    expect(await b.checkpointer.write(NOTHING)).toBe(true);
    expect(t.mutes().at(-1)).toEqual({ version: 1, stream: 's', untilMs: null, changedAtMs: T0 + 60_000 });

    // Back on a, whose state directory still holds its mute: the newer unmute wins, and the file holds it.
    b.m.release(['s']);
    a.clock.set(T0 + 120_000);
    expect(existsSync(path.join(a.stateDir, 's.mute.json'))).toBe(true);
    await a.m.acquire(['s']);
    expect(a.m.stream('s')!.muted).toBe(true); // what the file alone says
    a.checkpointer.restore(t.load());
    expect(a.m.stream('s')).toMatchObject({ muted: false, mutedUntilMs: undefined });
    const file = path.join(a.stateDir, 's.mute.json');
    await waitForValue(() => JSON.parse(readFileSync(file, 'utf8')).unmuted === true || undefined, 5_000, 'the unmute in a’s mute file');
    await a.checkpointer.write(NOTHING);
    expect(t.mutes()).toHaveLength(2);
  });

  it('writes the stream’s own decision when the checkpointed one is older', async () => {
    const t = topic();
    const a = await instance(t.store);
    await a.m.acquire(['s']);
    a.checkpointer.restore(t.load());
    await a.m.mute('s', { minutes: 10 });
    await a.checkpointer.write(NOTHING);
    // b decided later but had not checkpointed when it lost the stream: its file is newer than the topic.
    const b = await instance(t.store);
    b.clock.set(T0 + 60_000);
    await b.m.acquire(['s']);
    await b.m.unmute('s');
    b.checkpointer.restore(t.load());
    expect(b.m.stream('s')!.muted).toBe(false);
    expect(await b.checkpointer.write(NOTHING)).toBe(true);
    expect(t.load().mutes).toEqual([{ stream: 's', untilMs: undefined, changedAtMs: T0 + 60_000 }]);
  });

  it('writes nothing for a stream no operator ever muted or unmuted', async () => {
    const t = topic();
    const a = await instance(t.store);
    await a.m.acquire(['s']);
    a.checkpointer.restore(t.load());
    await a.checkpointer.write(new Map([['k', { topic: 't', partition: 0, offset: 5 }]]));
    expect(t.mutes()).toEqual([]);
  });
});
