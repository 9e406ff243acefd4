// The checkpoint topic's keys and values, without a broker: a topic written before mutes were
// checkpointed loads as before, mute decisions (unmutes included) come back per stream, the
// latest value of a key wins, and what one write produces reads back as written.
import { describe, expect, it } from 'vitest';
import { gaussian } from '../../src/gmm/model.js';
import { CheckpointReader, checkpointMessages, type ReplayOffset } from '../../src/sources/kafka/checkpoint-format.js';
import { partitionKey } from '../../src/sources/kafka/partitions.js';
import type { MuteChange } from '../../src/stream/mute-change.js';
import { snapshotToJson, type ReferenceSnapshot } from '../../src/stream/snapshot.js';

const T = 1_700_000_000_000;
const snap: ReferenceSnapshot = {
  stream: 'x',
  fields: ['x'],
  samples: 100,
  meanLogLik: -1.4,
  createdAtMs: T,
  model: gaussian([0], [1]),
};
const buf = (o: object): Buffer => Buffer.from(JSON.stringify(o));

function read(messages: [string | undefined, Buffer | null][]): ReturnType<CheckpointReader['checkpoint']> {
  const r = new CheckpointReader('c');
  for (const [k, v] of messages) r.read(k, v);
  return r.checkpoint();
}

describe('CheckpointReader', () => {
  it('loads a topic written before mutes were checkpointed: references and offsets, no mute decisions', () => {
    const c = read([
      ['reference/x', buf(snapshotToJson(snap))],
      ['offset/t/0', buf({ version: 1, topic: 't', partition: 0, offset: '42', committed: '50' })],
    ]);
    expect(c.references.map((r) => r.stream)).toEqual(['x']);
    expect(c.offsets).toEqual(new Map([[partitionKey('t', 0), 42]]));
    expect(c.mutes).toEqual([]);
  });

  it('keeps the latest decision per stream, an unmute included, and drops one on a tombstone', () => {
    const c = read([
      ['mute/x', buf({ version: 1, stream: 'x', untilMs: T + 60_000, changedAtMs: T })],
      ['mute/y', buf({ version: 1, stream: 'y', untilMs: T + 60_000, changedAtMs: T })],
      ['mute/x', buf({ version: 1, stream: 'x', untilMs: null, changedAtMs: T + 1_000 })],
      ['mute/z', buf({ version: 1, stream: 'z', untilMs: T, changedAtMs: T })],
      ['mute/z', null],
    ]);
    expect(c.mutes).toEqual([
      { stream: 'x', untilMs: undefined, changedAtMs: T + 1_000 },
      { stream: 'y', untilMs: T + 60_000, changedAtMs: T },
    ]);
  });

  it('throws on an unreadable value (the store skips it) and ignores keys it does not know', () => {
    const r = new CheckpointReader('c');
    expect(() => r.read('mute/x', Buffer.from('not json'))).toThrow();
    expect(() => r.read('mute/x', buf({ version: 1, untilMs: null }))).toThrow('checkpoint c key mute/x is not a klaxon mute decision');
    r.read('something-newer/x', buf({ any: 1 }));
    r.read(undefined, buf({}));
    expect(r.checkpoint()).toEqual({ references: [], mutes: [], offsets: new Map() });
  });
});

describe('checkpointMessages', () => {
  it('writes what the reader reads back', () => {
    const mutes: MuteChange[] = [
      { stream: 'x', untilMs: T + 60_000, changedAtMs: T },
      { stream: 'y', untilMs: undefined, changedAtMs: T + 5 },
    ];
    const offsets = new Map<string, ReplayOffset>([[partitionKey('t', 3), { topic: 't', partition: 3, offset: 7, committed: 9 }]]);
    const messages = checkpointMessages([snap], offsets, mutes);
    expect(messages.map((m) => m.key)).toEqual(['reference/x', 'mute/x', 'mute/y', 'offset/t/3']);
    const c = read(messages.map((m) => [m.key, Buffer.from(m.value)]));
    expect(c.mutes).toEqual(mutes);
    expect(c.offsets).toEqual(new Map([[partitionKey('t', 3), 7]]));
    expect(c.references[0]).toMatchObject({ stream: 'x', createdAtMs: T, samples: 100 });
  });
});
