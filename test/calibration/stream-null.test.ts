import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StreamConfig } from '../../src/config/types.js';
import { ManualClock } from '../../src/stream/clock.js';
import { Monitor } from '../../src/stream/monitor.js';
import { normal, records, streamConfig } from '../stream/support.js';

const fast = { window: { size: 500 }, evaluationIntervalSeconds: 10, components: 1, fit: { nInit: 1 } };

/** Turns the event loop until `done`, as the background bootstrap needs; never sleeps. */
async function waitFor(done: () => boolean, turns = 100_000): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise((r) => setImmediate(r));
  expect(done()).toBe(true);
}

describe('the null in the live path', () => {
  it('is computed in the background, kept with the snapshot, and not redone after a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'klaxon-null-'));
    const cfg = streamConfig({ ...fast, reference: { policy: 'snapshot', n: 500 } });
    const clock = new ManualClock(1_000_000);
    const m = new Monitor({ streams: [cfg], clock, stateDir: dir, calibrationReplicates: 30 });
    await m.init();
    m.ingest('test', records(500, normal(3, 2), 1));
    await m.runDue();
    expect(m.stream('s')!.calibration!.status).toBe('running');
    await waitFor(() => m.stream('s')!.calibration!.status === 'ready');
    await waitFor(() => readFileSync(path.join(dir, 's.reference.json'), 'utf8').includes('"null"'));
    const kept = JSON.parse(readFileSync(path.join(dir, 's.reference.json'), 'utf8')) as { null: { replicates: number; windowSamples: number } };
    expect(kept.null).toMatchObject({ replicates: 30, windowSamples: 500 });

    const again = new Monitor({ streams: [cfg], clock, stateDir: dir, calibrationReplicates: 30 });
    await again.init();
    const v = again.stream('s')!.calibration!;
    expect(v.status).toBe('ready'); // at once: adopted, not recomputed
    expect(v.quantiles.js!['0.99']!).toBeGreaterThan(v.quantiles.js!['0.5']!);
  });

  it('turns a calibrated threshold into nats, gives p-values, and says what moved', async () => {
    const cfg = { ...streamConfig(fast), calibratedThresholds: { js: { warning: { pvalue: 0.01 } } } } as StreamConfig;
    const clock = new ManualClock(1_000_000);
    const m = new Monitor({ streams: [cfg], clock, calibrationReplicates: 40 });
    await m.init();
    m.ingest('test', records(500, normal(0, 1), 1));
    await m.runDue();
    await waitFor(() => m.stream('s')!.calibration!.status === 'ready');
    clock.advance(10_000);
    m.ingest('test', records(500, normal(2, 1), 2));
    await m.runDue();
    const v = m.stream('s')!;
    expect(v.lastEvaluation).toBeDefined();
    expect(v.calibration!.pValues.js).toBeCloseTo(1 / 41, 12); // far beyond every replicate
    const t = v.calibration!.thresholds.js!.warning!;
    expect(t.level).toBe(0.01);
    expect(t.nats).toBeLessThan(v.lastEvaluation!.divergences.js.value);
    expect(v.whatMoved![0]).toMatchObject({ kind: 'shifted' });
    expect(v.whatMoved![0]!.meanShiftSd!).toBeGreaterThan(1.5);
  });
});
