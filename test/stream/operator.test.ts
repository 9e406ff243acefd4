import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StreamConfig } from '../../src/config/types.js';
import { gmmFromJson, gmmToJson } from '../../src/gmm/json.js';
import { gaussian } from '../../src/gmm/model.js';
import { ManualClock } from '../../src/stream/clock.js';
import { ControlError, MAX_MUTE_MS } from '../../src/stream/control.js';
import { Monitor } from '../../src/stream/monitor.js';
import type { StreamView } from '../../src/stream/view.js';
import { normal, records, streamConfig } from './support.js';

const T0 = 1_700_000_000_000;
const fast = { window: { size: 500 }, evaluationIntervalSeconds: 10, components: 1, fit: { nInit: 1 } };

function setup(config: Partial<Record<string, unknown>> = {}, stateDir = mkdtempSync(path.join(tmpdir(), 'klaxon-op-'))) {
  const clock = new ManualClock(T0);
  const streams: StreamConfig[] = [streamConfig({ ...fast, ...config })];
  const m = new Monitor({ streams, clock, stateDir });
  return { m, clock, stateDir, streams };
}

/** One round: ingest 500 records of N(mean, 1), run what is due, advance one interval. */
async function round(m: Monitor, clock: ManualClock, mean: number, seed: number): Promise<StreamView> {
  m.ingest('test', records(500, normal(mean, 1), seed));
  await m.runDue();
  const v = m.stream('s')!;
  clock.advance(10_000);
  return v;
}

async function rejection(p: Promise<unknown>): Promise<ControlError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ControlError);
  return err as ControlError;
}

describe('re-baseline', () => {
  it('makes the current window the reference: alerts clear, the last evaluation goes, the next one is near 0', async () => {
    const { m, clock } = setup({ hysteresis: { raiseAfter: 2, clearAfter: 5 } });
    await m.init();
    await round(m, clock, 0, 0);
    await round(m, clock, 2, 1);
    const alerting = await round(m, clock, 2, 2);
    expect(alerting.alert).toEqual({ warning: true, critical: true });
    expect(alerting.lastEvaluation!.divergences.kl_ref_win.value).toBeGreaterThan(1);

    const r = await m.rebaseline('s');
    expect(r).toEqual({ stream: 's', source: 'window', referenceTimestampMs: clock.now(), referenceSamples: 500, components: 1 });
    const after = m.stream('s')!;
    expect(after.alert).toEqual({ warning: false, critical: false });
    expect(after).toMatchObject({ ready: false, phase: 'warming_window', lastEvaluation: undefined, window: undefined });
    expect(after.referenceTimestampMs).toBe(clock.now());
    expect(after.reference!.means[0]![0]).toBeCloseTo(2, 0);
    // The old evaluations stay in the history: the page shows the drop.
    expect(after.history).toHaveLength(3);

    // Due at once, without waiting for an interval: the window is fitted again and evaluated.
    await m.runDue();
    const next = m.stream('s')!;
    expect(next.ready).toBe(true);
    expect(next.lastEvaluation!.divergences.kl_ref_win.value).toBeLessThan(0.02);
    expect(next.alert).toEqual({ warning: false, critical: false });
  });

  it('restarts the hysteresis: an alert needs raiseAfter evaluations over threshold against the new reference', async () => {
    const { m, clock } = setup({ hysteresis: { raiseAfter: 2, clearAfter: 2 } });
    await m.init();
    const reference = gmmToJson(gmmFromJson((await round(m, clock, 0, 0)).reference));
    expect((await round(m, clock, 2, 1)).alert.critical).toBe(false); // one run over threshold
    // Re-baseline to the same reference, from a model: the divergence stays high, the run restarts.
    const r = await m.rebaseline('s', gmmFromJson(reference));
    expect(r).toMatchObject({ source: 'model', referenceSamples: 0, components: 1 });
    const views = [await round(m, clock, 2, 2), await round(m, clock, 2, 3)];
    expect(views.map((v) => v.lastEvaluation!.divergences.kl_ref_win.value > 1)).toEqual([true, true]);
    // Without the reset the first of these would have raised (2 in a row); with it, the second does.
    expect(views.map((v) => v.alert.critical)).toEqual([false, true]);
  });

  it('refuses a model of another dimension, a window too small and an unknown stream, changing nothing', async () => {
    const { m, clock } = setup({ minSamples: 300 });
    await m.init();
    const err = await rejection(m.rebaseline('s'));
    expect(err.code).toBe('conflict');
    expect(err.message).toBe('the window holds 0 samples; a re-baseline from it needs at least 300 (minSamples)');

    await round(m, clock, 0, 0);
    const before = m.stream('s')!;
    const wrong = await rejection(m.rebaseline('s', gaussian([0, 0], [1, 0, 0, 1])));
    expect(wrong.code).toBe('invalid');
    expect(wrong.message).toBe('the model has 2 dimension(s) but stream s has 1 field(s): x');
    expect((await rejection(m.rebaseline('nope'))).code).toBe('not_found');
    expect(m.stream('s')).toMatchObject({ reference: before.reference, referenceTimestampMs: before.referenceTimestampMs });
  });

  it('is kept in the state directory: a new monitor on it starts from the re-baselined reference', async () => {
    const a = setup();
    await a.m.init();
    await round(a.m, a.clock, 0, 0);
    await round(a.m, a.clock, 3, 1);
    await a.m.rebaseline('s');
    const kept = a.m.stream('s')!;
    const file = JSON.parse(readFileSync(path.join(a.stateDir, 's.reference.json'), 'utf8')) as Record<string, unknown>;
    expect(file).toMatchObject({ version: 1, stream: 's', setBy: 'operator', samples: 500, createdAtMs: kept.referenceTimestampMs });

    // first_n would collect a new reference; the operator's choice wins.
    const b = setup({}, a.stateDir);
    await b.m.init();
    const restored = b.m.stream('s')!;
    expect(restored.phase).toBe('warming_window');
    expect(restored.reference).toEqual(kept.reference);
    expect(restored.referenceTimestampMs).toBe(kept.referenceTimestampMs);
    expect(restored.referenceSamples).toBe(500);
  });

  it('wins over a reference file written before it, and yields to one written after', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'klaxon-op-'));
    const modelFile = path.join(stateDir, 'model.json');
    writeFileSync(modelFile, JSON.stringify(gmmToJson(gaussian([0], [1]))));
    utimesSync(modelFile, new Date(T0 - 60_000), new Date(T0 - 60_000));
    const ref = { reference: { policy: 'file', path: modelFile } };
    const a = setup(ref, stateDir);
    await a.m.init();
    expect(a.m.stream('s')!.referenceTimestampMs).toBe(T0 - 60_000); // the file's time, not the start's
    await a.m.rebaseline('s', gaussian([5], [2]));

    const b = setup(ref, stateDir);
    await b.m.init();
    expect(b.m.stream('s')!.reference!.means).toEqual([[5]]);

    utimesSync(modelFile, new Date(T0 + 60_000), new Date(T0 + 60_000));
    const c = setup(ref, stateDir);
    await c.m.init();
    expect(c.m.stream('s')!.reference!.means).toEqual([[0]]);
  });

  it('changes nothing when the state directory cannot be written', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'klaxon-op-'));
    const notADir = path.join(dir, 'file');
    writeFileSync(notADir, '');
    const { m, clock } = setup({}, notADir);
    await m.init();
    await round(m, clock, 0, 0);
    const before = m.stream('s')!;
    const err = await rejection(m.rebaseline('s', gaussian([5], [2])));
    expect(err.code).toBe('storage');
    expect(err.message).toMatch(/^cannot keep the new reference in the state directory, so nothing changed/);
    expect((await rejection(m.mute('s', { minutes: 5 }))).code).toBe('storage');
    expect(m.stream('s')).toMatchObject({ reference: before.reference, muted: false });
  });
});

describe('mute', () => {
  it('keeps evaluating and exporting divergences but holds the alerts off until it ends', async () => {
    const { m, clock } = setup({ hysteresis: { raiseAfter: 2, clearAfter: 2 } });
    await m.init();
    await round(m, clock, 0, 0);
    const r = await m.mute('s', { minutes: 1 });
    expect(r).toEqual({ stream: 's', muted: true, mutedUntilMs: T0 + 10_000 + 60_000 });
    const muted = [await round(m, clock, 2, 1), await round(m, clock, 2, 2), await round(m, clock, 2, 3)];
    for (const v of muted) {
      expect(v.muted).toBe(true);
      expect(v.mutedUntilMs).toBe(r.mutedUntilMs);
      expect(v.lastEvaluation!.divergences.kl_ref_win.value).toBeGreaterThan(1);
      expect(v.alert).toEqual({ warning: false, critical: false });
    }
    // The detectors ran on: when the mute ends, the alert that is due shows at once.
    clock.set(r.mutedUntilMs!);
    const after = m.stream('s')!;
    expect(after).toMatchObject({ muted: false, mutedUntilMs: undefined, alert: { warning: true, critical: true } });
  });

  it('ends on unmute, and refuses an end in the past or too far ahead', async () => {
    const { m, clock } = setup({ hysteresis: { raiseAfter: 1, clearAfter: 1 } });
    await m.init();
    await round(m, clock, 0, 0);
    await m.mute('s', { untilMs: clock.now() + 3_600_000 });
    expect((await round(m, clock, 2, 1)).alert.critical).toBe(false);
    expect(await m.unmute('s')).toEqual({ stream: 's', muted: false, mutedUntilMs: undefined });
    expect(m.stream('s')).toMatchObject({ muted: false, alert: { critical: true } });
    expect(await m.unmute('s')).toEqual({ stream: 's', muted: false, mutedUntilMs: undefined }); // idempotent

    const past = await rejection(m.mute('s', { untilMs: clock.now() - 1 }));
    expect(past.code).toBe('invalid');
    expect(past.message).toMatch(/^the mute must end in the future, got \d{4}-/);
    const long = await rejection(m.mute('s', { untilMs: clock.now() + MAX_MUTE_MS + 1 }));
    expect(long.message).toBe('a mute may last at most 30 days; for a lasting change re-baseline the stream instead');
    await m.mute('s', { untilMs: clock.now() + MAX_MUTE_MS }); // exactly 30 days is fine
    expect((await rejection(m.mute('nope', { minutes: 1 }))).code).toBe('not_found');
  });

  it('is kept in the state directory until it ends', async () => {
    const a = setup();
    await a.m.init();
    const { mutedUntilMs } = await a.m.mute('s', { minutes: 30 });
    const b = setup({}, a.stateDir);
    await b.m.init();
    expect(b.m.stream('s')).toMatchObject({ muted: true, mutedUntilMs });

    const c = setup({}, a.stateDir);
    c.clock.set(mutedUntilMs!);
    await c.m.init();
    expect(c.m.stream('s')).toMatchObject({ muted: false, mutedUntilMs: undefined });

    await b.m.unmute('s');
    const d = setup({}, a.stateDir);
    await d.m.init();
    expect(d.m.stream('s')!.muted).toBe(false);
  });
});

describe('decision listeners', () => {
  it('hear of every re-baseline, mute and unmute that took effect, and of none that was refused', async () => {
    const { m, clock } = setup();
    const heard: string[] = [];
    m.onDecision(() => heard.push(m.stream('s')!.muted ? 'muted' : `reference ${m.stream('s')!.referenceTimestampMs}`));
    await m.init();
    await round(m, clock, 0, 0);
    expect(heard).toEqual([]); // a reference fitted on its own is not an operator's decision
    await m.mute('s', { minutes: 5 });
    await m.unmute('s');
    await m.rebaseline('s', gaussian([1], [1]));
    // Each hears the state after the change: the unmute leaves the first reference, the re-baseline sets a new one.
    expect(heard).toEqual(['muted', `reference ${T0}`, `reference ${T0 + 10_000}`]);
    await rejection(m.mute('s', { minutes: -1 }));
    await rejection(m.rebaseline('nope'));
    expect(heard).toHaveLength(3);
  });
});
