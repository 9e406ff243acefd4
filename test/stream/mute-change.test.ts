// The rule that picks between two operator mute decisions (the stream's own and a checkpointed
// one): the newest wins, whatever it says; an unmute is a decision; an ended mute mutes nothing.
import { describe, expect, it } from 'vitest';
import { muteChangeFromJson, muteChangeToJson, mutedUntil, replacesMute, type MuteChange } from '../../src/stream/mute-change.js';

const T = 1_700_000_000_000;
const mute = (changedAtMs: number, untilMs: number): MuteChange => ({ stream: 's', untilMs, changedAtMs });
const unmute = (changedAtMs: number): MuteChange => ({ stream: 's', untilMs: undefined, changedAtMs });

describe('replacesMute', () => {
  it('takes a kept decision when the stream holds none', () => {
    expect(replacesMute(undefined, mute(T, T + 60_000))).toBe(true);
    expect(replacesMute(undefined, unmute(T))).toBe(true);
  });

  it('lets only a strictly newer decision replace the held one, mute or unmute alike', () => {
    expect(replacesMute(mute(T, T + 3_600_000), unmute(T + 1))).toBe(true); // an unmute made since
    expect(replacesMute(unmute(T + 1), mute(T, T + 3_600_000))).toBe(false); // a stale mute
    expect(replacesMute(mute(T, T + 60_000), mute(T + 5, T + 120_000))).toBe(true); // muted again since
    expect(replacesMute(mute(T + 5, T + 120_000), mute(T, T + 3_600_000))).toBe(false);
    expect(replacesMute(mute(T, T + 60_000), unmute(T))).toBe(false); // a tie keeps what is held
  });
});

describe('mutedUntil', () => {
  it('is the end while the mute holds, and nothing for an unmute, an ended mute or no decision', () => {
    expect(mutedUntil(mute(T, T + 60_000), T + 59_999)).toBe(T + 60_000);
    expect(mutedUntil(mute(T, T + 60_000), T + 60_000)).toBeUndefined();
    expect(mutedUntil(unmute(T), T)).toBeUndefined();
    expect(mutedUntil(undefined, T)).toBeUndefined();
  });

  it('keeps an ended mute from coming back: the newest decision ended, an older longer one loses to it', () => {
    const older = mute(T, T + 3_600_000); // muted for an hour here
    const newer = mute(T + 60_000, T + 120_000); // then for a minute elsewhere
    const now = T + 600_000;
    const held = replacesMute(older, newer) ? newer : older;
    expect(held).toBe(newer);
    expect(mutedUntil(held, now)).toBeUndefined();
  });
});

describe('mute decision JSON', () => {
  it('round-trips a mute and an unmute', () => {
    for (const c of [mute(T, T + 60_000), unmute(T)]) {
      const json = JSON.parse(JSON.stringify(muteChangeToJson(c))) as unknown;
      expect(muteChangeFromJson(json, 's', 'here')).toEqual(c);
    }
    expect(muteChangeToJson(unmute(T))).toEqual({ version: 1, stream: 's', untilMs: null, changedAtMs: T });
  });

  it('takes the stream from the key, not the body', () => {
    expect(muteChangeFromJson(muteChangeToJson(mute(T, T + 1)), 'other', 'here').stream).toBe('other');
  });

  it('refuses what is not a decision, naming where it came from', () => {
    for (const bad of [null, 'x', {}, { version: 2, untilMs: null, changedAtMs: T }, { version: 1, untilMs: 'soon', changedAtMs: T }, { version: 1, untilMs: null }]) {
      expect(() => muteChangeFromJson(bad, 's', 'checkpoint c key mute/s')).toThrow('checkpoint c key mute/s is not a klaxon mute decision');
    }
  });
});
