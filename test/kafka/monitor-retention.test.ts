// The monitor hooks a replayable source builds its restarts on (no broker): windows remember
// where their records came from, replayed records refill windows without being counted, and a
// kept reference is restored instead of collected.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/resolve.js';
import { Monitor } from '../../src/stream/monitor.js';
import type { SourceRecord } from '../../src/stream/record.js';
import type { ReferenceSnapshot } from '../../src/stream/snapshot.js';
import { SlidingWindow } from '../../src/stream/window.js';

const cfg = parseConfig({
  streams: [
    { name: 'x', topic: 't', fields: ['x'], window: { size: 5 }, minSamples: 2, components: 1, reference: { policy: 'first_n', n: 3 } },
    { name: 'y', topic: 't', fields: ['y'], window: { size: 2 }, minSamples: 2, components: 1, reference: { policy: 'first_n', n: 2 } },
  ],
});

const rec = (partition: number, offset: number, body: object): SourceRecord => ({
  topic: 't',
  partition,
  offset: String(offset),
  timestampMs: 1_000 + offset,
  value: JSON.stringify(body),
});

describe('SlidingWindow origins', () => {
  it('tracks the oldest position per lane as vectors come and go', () => {
    const w = new SlidingWindow({ dimension: 1, capacity: 3 });
    const oldest = (): Map<number, number> => {
      const m = new Map<number, number>();
      w.oldestPositions(m);
      return m;
    };
    expect(oldest()).toEqual(new Map());
    w.push([1], 0);
    w.tagNewest(0, 10);
    w.push([2], 0);
    w.tagNewest(1, 7);
    w.push([3], 0);
    w.tagNewest(0, 11);
    expect(oldest()).toEqual(new Map([[0, 10], [1, 7]]));
    w.push([4], 0); // evicts lane 0 @ 10
    w.tagNewest(0, 12);
    w.push([5], 0); // evicts lane 1 @ 7
    w.tagNewest(0, 13);
    expect(oldest()).toEqual(new Map([[0, 11]]));
  });
});

describe('Monitor retention and replay', () => {
  it('reports per stream the oldest window record and the first reference record per partition', async () => {
    const m = new Monitor({ streams: cfg.streams, stateDir: '/nonexistent' });
    await m.init();
    m.ingest('kafka', [rec(0, 100, { x: 1, y: 1 }), rec(1, 50, { x: 2 }), rec(0, 101, { x: 3, y: 3 }), rec(0, 102, { y: 4 })]);
    const [x, y] = m.retention();
    expect(x!.window).toEqual([
      { topic: 't', partition: 0, offset: 100 },
      { topic: 't', partition: 1, offset: 50 },
    ]);
    expect(x!.referenceFrom).toEqual(x!.window);
    expect(x!.reference).toBeUndefined();
    // y's window holds 2: offsets 101 and 102; its reference began at 100.
    expect(y!.window).toEqual([{ topic: 't', partition: 0, offset: 101 }]);
    expect(y!.referenceFrom).toEqual([{ topic: 't', partition: 0, offset: 100 }]);
  });

  it('refills windows with a replay without counting records or rejects, and without reporting rejections', async () => {
    const m = new Monitor({ streams: cfg.streams, stateDir: '/nonexistent' });
    await m.init();
    const rejected: string[] = [];
    m.ingest('kafka', [rec(0, 0, { x: 1, y: 1 }), rec(0, 1, { x: 'bad', y: 2 })], {
      replay: true,
      onReject: (reason) => void rejected.push(reason),
    });
    expect(m.stream('x')!.windowSamples).toBe(1);
    expect(m.stream('y')!.windowSamples).toBe(2);
    expect(m.stream('x')!.recordsTotal).toBe(0);
    expect(m.stream('y')!.recordsTotal).toBe(0);
    expect(m.rejects()).toEqual([]);
    expect(rejected).toEqual([]);
    // A replay still feeds a reference being collected (no kept one was restored).
    expect(m.stream('y')!.referenceSamples).toBe(2);

    m.ingest('kafka', [rec(0, 2, { x: 'bad', y: 3 })], { onReject: (reason, stream) => void rejected.push(`${reason}:${stream}`) });
    expect(m.stream('y')!.recordsTotal).toBe(1);
    expect(m.rejects()).toEqual([{ source: 'kafka', reason: 'not_numeric', count: 1 }]);
    expect(rejected).toEqual(['not_numeric:x']);
  });

  /** Monitor a's reference of stream x as a checkpoint keeps it, and a fresh monitor b to restore it into. */
  async function keptAndFresh(): Promise<{ a: Monitor; kept: ReferenceSnapshot; b: Monitor }> {
    const a = new Monitor({ streams: cfg.streams, stateDir: '/nonexistent' });
    await a.init();
    a.ingest('kafka', [0, 1, 2, 3].map((i) => rec(0, i, { x: i * 0.7 - 1, y: i })));
    await a.runDue();
    const b = new Monitor({ streams: cfg.streams, stateDir: '/nonexistent' });
    await b.init();
    return { a, kept: a.retention()[0]!.reference!, b };
  }

  it('restores a kept reference instead of collecting one, and then keeps no reference origins', async () => {
    const { a, kept, b } = await keptAndFresh();
    expect(kept.stream).toBe('x');
    expect(kept.samples).toBe(3);
    expect(b.restoreReference(kept)).toBe(true);
    expect(b.restoreReference(kept)).toBe(false); // it has one now
    expect(b.restoreReference({ ...kept, stream: 'nope' })).toBe(false);
    expect(b.restoreReference({ ...kept, stream: 'y', fields: ['x'] })).toBe(false); // other fields
    expect(b.stream('x')!.reference).toEqual(a.stream('x')!.reference);
    expect(b.stream('x')!.phase).toBe('warming_window');
    b.ingest('kafka', [rec(0, 9, { x: 1, y: 1 })]);
    expect(b.retention()[0]!.referenceFrom).toEqual([]);
  });

  it('lets a newer checkpointed reference replace an older one it has (a stream back from another owner), never an older one', async () => {
    const { kept, b } = await keptAndFresh();
    expect(b.restoreReference(kept)).toBe(true);
    // Re-baselined elsewhere since: a newer reference, with other parameters.
    const newer = { ...kept, createdAtMs: kept.createdAtMs + 60_000, samples: 7, setBy: 'operator' as const };
    expect(b.restoreReference({ ...newer, createdAtMs: kept.createdAtMs - 1 })).toBe(false);
    expect(b.stream('x')!.referenceSamples).toBe(3);
    expect(b.restoreReference(newer)).toBe(true);
    expect(b.stream('x')!.referenceSamples).toBe(7);
    expect(b.restoreReference(newer)).toBe(false); // as new as what it has
  });
});
