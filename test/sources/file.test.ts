import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileSourceConfig } from '../../src/config/types.js';
import { csvRowToObject, splitCsvLine } from '../../src/sources/csv.js';
import { FileSource } from '../../src/sources/file.js';
import type { SourceRecord } from '../../src/sources/source.js';
import { ManualClock } from '../../src/stream/clock.js';

const dir = mkdtempSync(path.join(tmpdir(), 'klaxon-file-'));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}
const config = (p: string, extra: Partial<FileSourceConfig> = {}): FileSourceConfig => ({
  type: 'file',
  path: p,
  format: p.endsWith('.csv') ? 'csv' : 'jsonl',
  rate: 0,
  loop: false,
  topic: 'replay',
  timestampField: undefined,
  ...extra,
});

async function replay(cfg: FileSourceConfig, clock = new ManualClock(1234)): Promise<SourceRecord[]> {
  const src = new FileSource(cfg, clock);
  const got: SourceRecord[] = [];
  await src.start(async (batch) => void got.push(...batch));
  await src.finished;
  await src.stop();
  return got;
}

describe('CSV', () => {
  it('splits quoted fields', () => {
    expect(splitCsvLine('a,"b,c",""')).toEqual(['a', 'b,c', '']);
    expect(splitCsvLine('"say ""hi""",2,')).toEqual(['say "hi"', '2', '']);
    expect(splitCsvLine('x')).toEqual(['x']);
  });

  it('nests dotted headers, types numbers, leaves out empty cells', () => {
    expect(csvRowToObject([['payload', 'amount'], ['payload', 'cur'], ['n']], ['12.5', 'EUR', ''])).toEqual({
      payload: { amount: 12.5, cur: 'EUR' },
    });
  });
});

describe('FileSource', () => {
  it('stays connected (ready) after a replay reached the end of its file, not after a failed one, nor once stopped', async () => {
    const done = new FileSource(config(file('ready.jsonl', '{"x":1}\n')), new ManualClock(0));
    await done.start(async () => undefined);
    await done.finished;
    expect(done.isConnected()).toBe(true);
    await done.stop();
    expect(done.isConnected()).toBe(false);

    // A directory passes the start-up check but cannot be read: the replay fails.
    const failed = new FileSource(config(mkdtempSync(path.join(dir, 'not-a-file-'))), new ManualClock(0));
    await failed.start(async () => undefined);
    await failed.finished;
    expect(failed.isConnected()).toBe(false);
  });

  it('replays JSON lines as fast as possible, skipping blank lines, stamped by the clock', async () => {
    const p = file('a.jsonl', '{"x":1}\n\n{"x":2}\nnot json\n');
    const got = await replay(config(p));
    expect(got).toEqual([
      { topic: 'replay', value: '{"x":1}', timestampMs: 1234 },
      { topic: 'replay', value: '{"x":2}', timestampMs: 1234 },
      { topic: 'replay', value: 'not json', timestampMs: 1234 },
    ]);
  });

  it('replays CSV with a header as JSON objects', async () => {
    const p = file('b.csv', 'id,payload.amount\n1,3.5\r\n2,\n');
    const got = await replay(config(p));
    expect(got.map((r) => JSON.parse(String(r.value)))).toEqual([{ id: 1, payload: { amount: 3.5 } }, { id: 2 }]);
  });

  it('takes event time from timestampField (epoch ms or ISO 8601)', async () => {
    const p = file('c.jsonl', '{"t":5000,"x":1}\n{"t":"1970-01-01T00:00:10Z","x":2}\n{"x":3}\n');
    const got = await replay(config(p, { timestampField: 't' }));
    expect(got.map((r) => r.timestampMs)).toEqual([5000, 10_000, 1234]);
  });

  it('delivers large files in bounded batches, in order', async () => {
    const lines = Array.from({ length: 2500 }, (_, i) => JSON.stringify({ i })).join('\n');
    const src = new FileSource(config(file('d.jsonl', lines)), new ManualClock(0));
    const sizes: number[] = [];
    const ids: number[] = [];
    await src.start(async (b) => {
      sizes.push(b.length);
      for (const r of b) ids.push((JSON.parse(String(r.value)) as { i: number }).i);
    });
    await src.finished;
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1000);
    expect(ids).toEqual(Array.from({ length: 2500 }, (_, i) => i));
  });

  it('loops until stopped', async () => {
    const src = new FileSource(config(file('e.jsonl', '{"x":1}\n{"x":2}\n'), { loop: true }), new ManualClock(0));
    let n = 0;
    let enough!: () => void;
    const reached = new Promise<void>((r) => (enough = r));
    await src.start(async (b) => {
      n += b.length;
      if (n >= 10) enough();
    });
    await reached;
    await src.stop();
    expect(n).toBeGreaterThanOrEqual(10);
  });

  it('fails to start on a missing file, naming it', async () => {
    const src = new FileSource(config(path.join(dir, 'missing.jsonl')), new ManualClock(0));
    await expect(src.start(async () => undefined)).rejects.toThrow(/missing\.jsonl.*ENOENT/);
  });
});
