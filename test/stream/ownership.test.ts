// Scale-out ownership: a monitor that owns no stream until acquired, fed by routed vectors,
// dropping a stream's state and its view on release.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/stream/clock.js';
import { Monitor } from '../../src/stream/monitor.js';
import type { SourceRecord } from '../../src/stream/record.js';
import { streamConfig } from './support.js';

const fast = { window: { size: 100 }, evaluationIntervalSeconds: 10, components: 1, fit: { nInit: 1 } };

function routed(stream: string, values: number[][], partition = 0): SourceRecord[] {
  return [{ topic: 'r', partition, offset: '0', timestampMs: 1_000, value: JSON.stringify({ s: stream, v: values, t: values.map((_, i) => 1_000 + i) }) }];
}

describe('Monitor ownership (scale-out)', () => {
  const streams = [streamConfig({ name: 'a', ...fast }), streamConfig({ name: 'b', fields: ['x', 'y'], ...fast })];

  it('shows and feeds only acquired streams, and forgets a released one', async () => {
    const m = new Monitor({ streams, clock: new ManualClock(1_000_000), ownership: true });
    await m.init();
    expect(m.streams()).toEqual([]);
    await m.acquire(['a']);
    m.ingestRouted([...routed('a', [[1], [2], [3]]), ...routed('b', [[1, 2]])]);
    expect(m.streams().map((s) => s.name)).toEqual(['a']);
    expect(m.stream('a')!.windowSamples).toBe(3);
    expect(m.stream('b')).toBeUndefined();
    expect(m.retention().map((r) => r.stream)).toEqual(['a']);

    m.release(['a']);
    expect(m.streams()).toEqual([]);
    await m.acquire(['a', 'b']);
    expect(m.stream('a')!.windowSamples).toBe(0);
    m.ingestRouted(routed('b', [[1, 2], [3, 4]]));
    expect(m.stream('b')!.windowSamples).toBe(2);
  });

  it('skips routed vectors of the wrong dimension, non-finite or unreadable, and counts replays as no records', async () => {
    const m = new Monitor({ streams, clock: new ManualClock(1_000_000), ownership: true });
    await m.init();
    await m.acquire(['a']);
    m.ingestRouted([
      ...routed('a', [[1, 2]]),
      { topic: 'r', value: '{"s":"a","v":[[null]]}' },
      { topic: 'r', value: '{"s":"a","v":[[Infinity]]}' },
      { topic: 'r', value: 'not json' },
      ...routed('nope', [[1]]),
    ]);
    expect(m.stream('a')!.windowSamples).toBe(0);
    m.ingestRouted(routed('a', [[1], [2]]), { replay: true });
    expect(m.stream('a')!.windowSamples).toBe(2);
    expect(m.stream('a')!.recordsTotal).toBe(0);
  });

  it('owns every stream without ownership', async () => {
    const m = new Monitor({ streams, clock: new ManualClock(1_000_000) });
    await m.init();
    expect(m.streams().map((s) => s.name)).toEqual(['a', 'b']);
    expect(m.owns('b')).toBe(true);
  });
});
