import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/resolve.js';
import { ManualClock } from '../../src/stream/clock.js';
import { Monitor } from '../../src/stream/monitor.js';
import { createRng } from '../../src/math/rng.js';
import { killAll, startKlaxon } from '../kafka/helpers.js';
import { waitForValue } from '../support/wait.js';

const readOr = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

afterAll(() => killAll());

describe('klaxon run: fits and calibrations in a worker thread', () => {
  it('runs them there, and keeps the reference and null the main thread computes, to the bit', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'klaxon-worker-'));
    const rng = createRng('worker-cli');
    const lines = Array.from({ length: 700 }, () => JSON.stringify({ x: rng.uniform() < 0.3 ? -2 + 0.5 * rng.normal() : 1 + rng.normal() }));
    writeFileSync(path.join(dir, 'records.jsonl'), `${lines.join('\n')}\n`);
    const raw = {
      source: { type: 'file', path: path.join(dir, 'records.jsonl'), rate: 0 },
      http: { host: '127.0.0.1', port: 0 },
      stateDir: path.join(dir, 'state'),
      streams: [{ name: 'x', fields: ['x'], window: { size: 400 }, fit: { nInit: 2 }, reference: { policy: 'snapshot', n: 500 } }],
    };
    writeFileSync(path.join(dir, 'klaxon.json'), JSON.stringify(raw)); // YAML is a superset of JSON
    const k = await startKlaxon(path.join(dir, 'klaxon.json'), { cwd: dir });
    const kept = await waitForValue(() => readOr(path.join(dir, 'state', 'x.reference.json'))?.match(/"null"/) ? readOr(path.join(dir, 'state', 'x.reference.json')) : undefined, 60_000, 'the reference and its null');
    const logs = k.output.flatMap((l) => {
      try {
        return [JSON.parse(l) as { msg?: string; background?: string; level?: number }];
      } catch {
        return [];
      }
    });
    expect(logs.find((l) => l.background !== undefined)).toMatchObject({ background: 'worker', msg: 'fits and calibrations run in a worker thread' });
    expect(logs.filter((l) => (l.level ?? 0) >= 40)).toEqual([]); // no warning, no error
    const exited = new Promise((r) => k.child.once('exit', r));
    k.child.kill('SIGTERM');
    await exited;

    // The same records on this thread (vitest runs the TypeScript sources: no worker script),
    // with the clock at the moment the CLI's reference was set: its null's seed comes from it.
    const snapshot = JSON.parse(kept) as { createdAtMs: number; null: { replicates: number } };
    expect(snapshot.null.replicates).toBeGreaterThanOrEqual(100);
    const config = parseConfig(raw);
    const here = path.join(dir, 'here');
    const m = new Monitor({ streams: config.streams, clock: new ManualClock(snapshot.createdAtMs), stateDir: here, backgroundWorker: false });
    await m.init();
    expect(m.backgroundThread).toBe('main');
    m.ingest('file', lines.map((value) => ({ topic: 'records', value })));
    await m.runDue();
    const mine = await waitForValue(() => readOr(path.join(here, 'x.reference.json'))?.match(/"null"/) ? readOr(path.join(here, 'x.reference.json')) : undefined, 60_000, 'the null here');
    await m.stop();
    expect(mine).toBe(kept);
  });
});
