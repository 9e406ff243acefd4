// A stream's mute decision against one kept elsewhere (a checkpoint from another owner): the
// newer wins, an unmute included; an ended mute does not come back; the state directory follows
// what was taken on; and a decision made after taking one on is newer even on a slower clock.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/stream/clock.js';
import { Monitor } from '../../src/stream/monitor.js';
import { waitForValue } from '../support/wait.js';
import { streamConfig } from './support.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

async function monitor(stateDir = mkdtempSync(path.join(tmpdir(), 'klaxon-mute-')), nowMs = T0) {
  const clock = new ManualClock(nowMs);
  const m = new Monitor({ streams: [streamConfig({ components: 1 })], clock, stateDir });
  await m.init();
  const file = path.join(stateDir, 's.mute.json');
  return { m, clock, stateDir, file };
}

const decision = (m: Monitor) => m.retention()[0]!.mute;

/** Whether the mute file holds an unmute (written as a mute that ended when it was decided). */
const keptUnmute = (file: string): boolean => existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).unmuted === true;

describe('a checkpointed mute decision', () => {
  it('mutes a stream that knows of none, and is what the stream then holds', async () => {
    const { m, file } = await monitor();
    expect(decision(m)).toBeUndefined();
    expect(m.restoreMute({ stream: 's', untilMs: T0 + HOUR, changedAtMs: T0 - 1_000 })).toBe(true);
    expect(m.stream('s')).toMatchObject({ muted: true, mutedUntilMs: T0 + HOUR });
    expect(decision(m)).toEqual({ stream: 's', untilMs: T0 + HOUR, changedAtMs: T0 - 1_000 });
    // The state directory follows, so a restart without a checkpoint topic stays muted too.
    await waitForValue(() => existsSync(file) || undefined, 5_000, 'the mute file');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ untilMs: T0 + HOUR, setAtMs: T0 - 1_000 });
  });

  it('replaces an older local mute when it is a newer unmute, and the state directory then holds the unmute', async () => {
    const a = await monitor();
    await a.m.mute('s', { minutes: 60 }); // kept in a's state directory at T0
    const back = await monitor(a.stateDir); // the stream back on this instance later: its file comes back
    expect(back.m.stream('s')!.muted).toBe(true);
    expect(back.m.restoreMute({ stream: 's', untilMs: undefined, changedAtMs: T0 + 60_000 })).toBe(true);
    expect(back.m.stream('s')).toMatchObject({ muted: false, mutedUntilMs: undefined, alert: { warning: false, critical: false } });
    await waitForValue(() => keptUnmute(back.file) || undefined, 5_000, 'the unmute in the mute file');
  });

  it('keeps an unmute across a restart, so an older mute in the checkpoint topic does not come back over it', async () => {
    // Muted at T0 (and checkpointed), unmuted a minute later, the process killed before its
    // next checkpoint: restarted on the same state directory, the topic still holds the mute.
    const a = await monitor();
    await a.m.mute('s', { minutes: 60 });
    a.clock.set(T0 + 60_000);
    await a.m.unmute('s');
    expect(JSON.parse(readFileSync(a.file, 'utf8'))).toMatchObject({ untilMs: T0 + 60_000, setAtMs: T0 + 60_000, unmuted: true });
    const again = await monitor(a.stateDir, T0 + 120_000);
    expect(again.m.stream('s')!.muted).toBe(false);
    expect(again.m.restoreMute({ stream: 's', untilMs: T0 + HOUR, changedAtMs: T0 })).toBe(false);
    expect(again.m.stream('s')).toMatchObject({ muted: false, mutedUntilMs: undefined });
  });

  it('does not replace a decision as new or newer', async () => {
    const { m, clock } = await monitor();
    clock.set(T0 + 10_000);
    await m.unmute('s'); // an unmute here at T0 + 10 s
    expect(m.restoreMute({ stream: 's', untilMs: T0 + HOUR, changedAtMs: T0 })).toBe(false);
    expect(m.restoreMute({ stream: 's', untilMs: T0 + HOUR, changedAtMs: T0 + 10_000 })).toBe(false);
    expect(m.stream('s')!.muted).toBe(false);
    expect(m.restoreMute({ stream: 's', untilMs: T0 + HOUR, changedAtMs: T0 + 10_001 })).toBe(true);
    expect(m.stream('s')!.muted).toBe(true);
  });

  it('never brings an ended mute back: a newer mute that has ended outranks an older, longer local one', async () => {
    const a = await monitor();
    await a.m.mute('s', { minutes: 60 }); // until T0 + 1 h, here
    const b = await monitor(a.stateDir);
    b.clock.set(T0 + 20 * 60_000);
    // Muted again elsewhere at T0 + 5 min for 10 min: that mute ended at T0 + 15 min.
    expect(b.m.restoreMute({ stream: 's', untilMs: T0 + 15 * 60_000, changedAtMs: T0 + 5 * 60_000 })).toBe(true);
    expect(b.m.stream('s')).toMatchObject({ muted: false, mutedUntilMs: undefined });
  });

  it('never brings back an ended mute from the state directory, which still outranks an older checkpointed one', async () => {
    const a = await monitor();
    await a.m.mute('s', { minutes: 60 });
    const c = await monitor(a.stateDir, T0 + 2 * HOUR);
    expect(c.m.stream('s')!.muted).toBe(false);
    expect(c.m.restoreMute({ stream: 's', untilMs: T0 + 3 * HOUR, changedAtMs: T0 - 1 })).toBe(false);
    expect(c.m.stream('s')!.muted).toBe(false);
  });

  it('is outranked by a decision made after it here, even on a clock behind the one that made it', async () => {
    const { m } = await monitor();
    // Made on an instance whose clock is a minute ahead of this one.
    m.restoreMute({ stream: 's', untilMs: T0 + HOUR, changedAtMs: T0 + 60_000 });
    await m.unmute('s');
    const after = decision(m)!;
    expect(after.untilMs).toBeUndefined();
    expect(after.changedAtMs).toBeGreaterThan(T0 + 60_000);
  });

  it('records an unmute of a stream that was not muted, so that it outranks an older mute kept elsewhere', async () => {
    const { m } = await monitor();
    await m.unmute('s');
    expect(decision(m)).toEqual({ stream: 's', untilMs: undefined, changedAtMs: T0 });
    expect(m.restoreMute({ stream: 's', untilMs: T0 + HOUR, changedAtMs: T0 - 1 })).toBe(false);
  });

  it('is refused for a stream this instance does not own or does not have', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'klaxon-mute-'));
    const m = new Monitor({ streams: [streamConfig({ components: 1 })], clock: new ManualClock(T0), ownership: true, stateDir });
    await m.init();
    expect(m.restoreMute({ stream: 's', untilMs: T0 + HOUR, changedAtMs: T0 })).toBe(false);
    await m.acquire(['s']);
    expect(m.restoreMute({ stream: 'nope', untilMs: T0 + HOUR, changedAtMs: T0 })).toBe(false);
    expect(m.restoreMute({ stream: 's', untilMs: T0 + HOUR, changedAtMs: T0 })).toBe(true);
  });
});
