import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/resolve.js';
import type { StreamConfig } from '../../src/config/types.js';
import { createRng } from '../../src/math/rng.js';
import { ManualClock } from '../../src/stream/clock.js';
import { Monitor, type MonitorOptions } from '../../src/stream/monitor.js';
import type { StreamView } from '../../src/stream/view.js';
import { normal, records, streamConfig } from './support.js';

const fast = { window: { size: 500 }, evaluationIntervalSeconds: 10, components: 1, fit: { nInit: 1 } };

function monitor(streams: StreamConfig[], extra: Partial<MonitorOptions> = {}): { m: Monitor; clock: ManualClock } {
  const clock = new ManualClock(1_000_000);
  return { m: new Monitor({ streams, clock, ...extra }), clock };
}

/** Ingests, advances the clock one interval, runs what is due; `rounds` times. */
async function rounds(
  m: Monitor,
  clock: ManualClock,
  n: number,
  batch: (i: number) => Parameters<Monitor['ingest']>[1],
): Promise<StreamView[]> {
  const views: StreamView[] = [];
  for (let i = 0; i < n; i++) {
    m.ingest('test', batch(i));
    await m.runDue();
    views.push(m.stream('s')!);
    clock.advance(10_000);
  }
  return views;
}

/** A clock that moves on by `stepMs` every time it is read: a slow machine, seen from the estimator. */
class TickingClock extends ManualClock {
  constructor(
    ms: number,
    private readonly stepMs: number,
  ) {
    super(ms);
  }

  override now(): number {
    const t = super.now();
    this.advance(this.stepMs);
    return t;
  }
}

describe('Monitor: evaluation', () => {
  it('gives a live estimate a time budget: on a slow clock it stops early, with a wider but finite error bar', async () => {
    // Two clusters in 2-D, so that KL is sampled (not a closed form or a quadrature).
    const joint = (shift: number) => (rng: { normal(): number; uniform(): number }) => {
      const c = rng.uniform() < 0.5 ? -2 : 2;
      return [c + shift + rng.normal(), c + 0.5 * rng.normal()];
    };
    const run = async (clock: ManualClock): Promise<number> => {
      // A target tight enough to need several rounds, which is where a budget can bind.
      const estimator = { method: 'auto' as const, targetStderr: 2e-6 };
      const m = new Monitor({ streams: [streamConfig({ ...fast, components: 2, fields: ['x', 'y'] })], clock, calibrationReplicates: 0, estimator });
      await m.init();
      for (let i = 0; i < 3; i++) {
        m.ingest('test', records(500, joint(i === 0 ? 0 : 0.3), i));
        await m.runDue();
        clock.advance(10_000);
      }
      const e = m.stream('s')!.lastEvaluation!.divergences.kl_ref_win;
      await m.stop();
      expect(Number.isFinite(e.stderr)).toBe(true);
      return e.stderr;
    };
    // The same records and seeds: only the clock differs. 100 ms a reading exhausts 250 ms at once.
    const unhurried = await run(new ManualClock(1_000_000));
    const hurried = await run(new TickingClock(1_000_000, 100));
    expect(hurried).toBeGreaterThan(1.5 * unhurried);
  });

  it('reports divergence near 0 without drift and never alerts', async () => {
    const { m, clock } = monitor([streamConfig(fast)]);
    await m.init();
    const views = await rounds(m, clock, 8, (i) => records(500, normal(0, 1), i));
    const last = views.at(-1)!;
    expect(last.ready).toBe(true);
    for (const measure of ['kl_ref_win', 'kl_win_ref', 'js'] as const) {
      expect(last.lastEvaluation!.divergences[measure].value).toBeLessThan(0.02);
    }
    expect(views.some((v) => v.alert.warning || v.alert.critical)).toBe(false);
  });

  it('reports a large divergence under a mean shift and raises after exactly raiseAfter evaluations', async () => {
    const { m, clock } = monitor([streamConfig({ ...fast, hysteresis: { raiseAfter: 3, clearAfter: 2 } })]);
    await m.init();
    // Round 0: the reference and first evaluation; rounds 1..4 shifted by 1.5 sd; rounds 5..8 back.
    const shift = (i: number): number => (i >= 1 && i <= 4 ? 1.5 : 0);
    const views = await rounds(m, clock, 9, (i) => records(500, normal(shift(i), 1), i));
    const d = views[2]!.lastEvaluation!.divergences;
    // KL between N(0,1) and N(1.5,1) is 1.125 nats each way.
    expect(d.kl_ref_win.value).toBeCloseTo(1.125, 0);
    expect(d.kl_win_ref.value).toBeCloseTo(1.125, 0);
    expect(d.js.value).toBeGreaterThan(0.1);
    expect(views.map((v) => v.alert.critical)).toEqual([false, false, false, true, true, true, false, false, false]);
    expect(views.map((v) => v.alert.warning)).toEqual([false, false, false, true, true, true, false, false, false]);
    expect(views.at(-1)!.history).toHaveLength(9);
  });

  it('marks when the window last changed: after the last evaluation while records come, not once they stop', async () => {
    const { m, clock } = monitor([streamConfig(fast)]);
    await m.init();
    const views = await rounds(m, clock, 4, (i) => records(500, normal(0, 1), i));
    const busy = views.at(-1)!;
    // Each round's records are seen and evaluated in the same pass: the evaluation is current.
    expect(busy.windowChangedMs).toBe(1_000_000 + 30_000);
    expect(busy.lastEvaluation!.timestampMs).toBeGreaterThanOrEqual(busy.windowChangedMs!);
    // Records that nothing has evaluated yet (the interval has not passed): the window changed after.
    m.ingest('test', records(100, normal(0, 1), 98));
    await m.runDue(); // due: refitted and evaluated now
    m.ingest('test', records(100, normal(0, 1), 99));
    clock.advance(1_000);
    await m.runDue();
    const behind = m.stream('s')!;
    expect(behind.windowChangedMs).toBe(clock.now());
    expect(behind.windowChangedMs).toBeGreaterThan(behind.lastEvaluation!.timestampMs);
    // Then quiet: the next due pass evaluates them, and nothing changes after that however long.
    clock.advance(10_000);
    await m.runDue();
    const caughtUp = m.stream('s')!.lastEvaluation!.timestampMs;
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      await m.runDue();
    }
    const quiet = m.stream('s')!;
    expect(quiet.lastEvaluation!.timestampMs).toBe(caughtUp);
    expect(quiet.windowChangedMs).toBe(behind.windowChangedMs);
    expect(quiet.windowChangedMs).toBeLessThanOrEqual(caughtUp);
  });

  it('is reproducible: the same data gives bit-identical evaluations', async () => {
    const run = async (): Promise<unknown> => {
      const { m, clock } = monitor([streamConfig({ fields: ['x', 'y'], window: { size: 400 }, components: 2, fit: { nInit: 1 } })]);
      await m.init();
      const views = await rounds(m, clock, 3, (i) => records(400, (r) => [r.normal() + (i > 1 ? 2 : 0), r.normal()], i));
      return views.map((v) => v.lastEvaluation);
    };
    const a = await run();
    expect(a).toEqual(await run());
    expect(JSON.stringify(a)).toContain('"method":"qmc"');
  });

  it('is ready only with a reference and an evaluation, and reports its phase', async () => {
    const { m, clock } = monitor([streamConfig({ ...fast, minSamples: 300 })]);
    await m.init();
    expect(m.stream('s')).toMatchObject({ phase: 'collecting_reference', ready: false, referenceSamples: 0 });
    m.ingest('test', records(200, normal(), 1));
    expect(m.stream('s')).toMatchObject({ phase: 'collecting_reference', referenceSamples: 200, windowSamples: 200 });
    m.ingest('test', records(300, normal(), 2));
    expect(m.stream('s')!.ready).toBe(false);
    await m.runDue();
    expect(m.stream('s')).toMatchObject({ phase: 'ready', ready: true, referenceSamples: 500, recordsTotal: 500 });
    expect(m.stream('s')!.reference!.weights).toEqual([1]);
    expect(m.stream('s')!.window).toBeDefined();
    clock.advance(1);
    expect(await m.runDue()).toBe(0); // not due again before the interval
  });

  it('refits and evaluates on their own intervals, and evaluates only a fit it has not seen', async () => {
    const { m, clock } = monitor([streamConfig({ ...fast, refitIntervalSeconds: 5, evaluationIntervalSeconds: 10 })]);
    let refits = 0;
    m.observe({ refitSeconds: () => void refits++, evaluationSeconds: () => undefined });
    await m.init();
    for (let i = 0; i < 5; i++) {
      m.ingest('test', records(500, normal(), i));
      await m.runDue();
      clock.advance(5_000);
    }
    // The reference, then a window fit every 5 s; an evaluation every 10 s.
    expect(refits).toBe(1 + 5);
    expect(m.stream('s')!.history).toHaveLength(3);
    // No new data: nothing to refit, nothing new to evaluate.
    clock.advance(60_000);
    expect(await m.runDue()).toBe(0);
    expect(m.stream('s')!.history).toHaveLength(3);
  });

  it('reports the refit interval as the evaluation cadence when it is the longer: an evaluation waits for a new fit', async () => {
    const { m, clock } = monitor([streamConfig({ ...fast, refitIntervalSeconds: 30, evaluationIntervalSeconds: 10 })]);
    await m.init();
    for (let i = 0; i < 7; i++) {
      m.ingest('test', records(500, normal(), i));
      await m.runDue();
      clock.advance(10_000);
    }
    // Data every 10 s, evaluations only after the fits at 0, 30 and 60 s.
    const v = m.stream('s')!;
    expect(v.history.map((e) => (e.timestampMs - 1_000_000) / 1000)).toEqual([0, 30, 60]);
    expect(v.evaluationIntervalSeconds).toBe(30);
    const { m: m2 } = monitor([streamConfig({ ...fast, refitIntervalSeconds: 5, evaluationIntervalSeconds: 10 })]);
    expect(m2.stream('s')!.evaluationIntervalSeconds).toBe(10);
  });

  it('lets no NaN reach the view: a failing estimator leaves the stream not ready', async () => {
    // 'exact' has no JS: every JS estimate throws.
    const { m } = monitor([streamConfig(fast)], { estimator: { method: 'exact' } });
    await m.init();
    m.ingest('test', records(500, normal(), 1));
    await m.runDue();
    const v = m.stream('s')!;
    expect(v.ready).toBe(false);
    expect(v.lastEvaluation).toBeUndefined();
    expect(JSON.stringify(m.streams())).not.toContain('NaN');
  });

  it('slices work: the event loop turns between streams', async () => {
    const streams = ['a', 'b', 'c', 'd'].map((name) => ({ ...streamConfig(fast), name }));
    const { m } = monitor(streams);
    await m.init();
    m.ingest('test', records(500, normal(), 1));
    let turns = 0;
    let spinning = true;
    const spin = (): void => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    expect(await m.runDue()).toBe(4);
    spinning = false;
    expect(turns).toBeGreaterThanOrEqual(4 * 4); // reference, refit, 3 estimates per stream
  });
});

describe('Monitor: ingestion', () => {
  it('counts rejects by source and reason, and routes one topic to several streams', async () => {
    const { m } = monitor([
      { ...streamConfig({ topic: 't', fields: ['x'] }), name: 'one' },
      { ...streamConfig({ topic: 't', fields: ['x', 'y'] }), name: 'two' },
    ]);
    await m.init();
    m.ingest('kafka', [
      { topic: 't', value: '{"x":1,"y":2}' },
      { topic: 't', value: '{"x":1}' },
      { topic: 't', value: '{' },
      { topic: 't', value: '{"x":"a","y":1}' },
    ]);
    expect(m.stream('one')!.recordsTotal).toBe(2);
    expect(m.stream('two')!.recordsTotal).toBe(1);
    expect(m.rejects().sort((a, b) => a.reason.localeCompare(b.reason))).toEqual([
      { source: 'kafka', reason: 'invalid_json', count: 1 },
      { source: 'kafka', reason: 'missing_field', count: 1 },
      { source: 'kafka', reason: 'not_numeric', count: 2 },
    ]);
  });

  it('ingests a chunk of Kafka messages through the batch scanner exactly as one by one: windows, origins, references, rejects', async () => {
    // Messages as a fetch holds them: one buffer, two partitions in runs, with bad ones between
    // (invalid JSON, a missing field, out of bounds, a numeric string the batch scanner leaves
    // to the per-message one).
    const rng = createRng('batch-ingest');
    const texts = Array.from({ length: 3000 }, (_, i) => {
      if (i % 97 === 5) return '{"a":1,"b":';
      if (i % 89 === 7) return `{"b":${rng.normal()}}`;
      if (i % 83 === 3) return `{"a":"${rng.normal()}","b":0.5}`;
      return JSON.stringify({ id: i, a: Math.round(rng.normal() * 1e4) / 1e4, b: Math.round(2 * rng.normal() * 1e4) / 1e4, tag: `t${i % 7}` });
    });
    const whole = Buffer.from(texts.join(''));
    let at = 0;
    const chunk = texts.map((t, i) => ({
      topic: 't',
      partition: Math.floor(i / 250) % 2,
      offset: String(1000 + i),
      timestampMs: 1_000_000 + i,
      value: whole.subarray(at, (at += t.length)),
    }));
    const config = (): StreamConfig[] => [
      { ...streamConfig({ ...fast, window: { size: 400 }, topic: 't', fields: ['a'], reference: { policy: 'snapshot', n: 600 } }), name: 'one' },
      { ...streamConfig({ ...fast, window: { size: 300 }, topic: 't', fields: ['a', 'b'], bounds: { b: { min: -3, max: 3 } }, reference: { policy: 'snapshot', n: 500 } }), name: 'two' },
    ];
    const run = async (batches: (typeof chunk)[]): Promise<unknown> => {
      const { m } = monitor(config(), { stateDir: mkdtempSync(path.join(tmpdir(), 'klaxon-batch-')) });
      await m.init();
      const rejected: string[] = [];
      for (const b of batches) m.ingest('kafka', b, { onReject: (reason, stream, record) => void rejected.push(`${(record as { offset: string }).offset} ${stream} ${reason}`) });
      await m.runDue();
      return { streams: ['one', 'two'].map((n) => m.stream(n)), retention: m.retention(), rejects: m.rejects(), rejected };
    };
    const together = await run([chunk]);
    expect(together).toEqual(await run(chunk.map((r) => [r])));
    expect((together as { rejected: string[] }).rejected.length).toBeGreaterThan(50);
  });

  it('evicts a time-bounded window by the clock and stops evaluating a stale window', async () => {
    const { m, clock } = monitor([streamConfig({ ...fast, window: { size: 500, duration: '30s' } })]);
    await m.init();
    m.ingest('test', records(500, normal(), 1, clock.now()));
    await m.runDue();
    expect(m.stream('s')!.ready).toBe(true);
    clock.advance(31_000);
    await m.runDue();
    expect(m.stream('s')).toMatchObject({ ready: false, phase: 'warming_window', windowSamples: 0 });
  });

  it('stamps records without a timestamp with the clock', async () => {
    const { m, clock } = monitor([streamConfig({ ...fast, window: { size: 500, duration: '10s' } })]);
    await m.init();
    m.ingest('test', records(100, normal(), 1));
    clock.advance(11_000);
    m.ingest('test', records(1, normal(), 2));
    expect(m.stream('s')!.windowSamples).toBe(1);
  });
});

describe('Monitor: thresholds against the null', () => {
  it('warns where a fixed threshold is inside the no-drift noise and where the warning is above the critical', async () => {
    const warned: [string, Record<string, unknown>][] = [];
    const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (o: object, msg?: string) => void warned.push([msg ?? '', o as Record<string, unknown>]) };
    let shown: unknown[] | undefined;
    const run = async (d: number): Promise<[string, Record<string, unknown>][]> => {
      warned.length = 0;
      const fields = Array.from({ length: d }, (_, i) => `f${i}`);
      const config = parseConfig({ streams: [{ name: 's', fields, window: { size: 200 }, components: 1, fit: { nInit: 1 } }] }).streams;
      const clock = new ManualClock(1_000_000);
      const m = new Monitor({ streams: config, clock, logger, calibrationReplicates: 40 });
      await m.init();
      const rng = createRng(`noise-${d}`);
      m.ingest('test', Array.from({ length: 200 }, () => ({ topic: 't', value: JSON.stringify(Object.fromEntries(fields.map((f) => [f, rng.normal()]))) })));
      for (let i = 0; i < 4000 && m.stream('s')!.calibration?.status !== 'ready'; i++) {
        await m.runDue();
        await new Promise((r) => setTimeout(r, 5)); // the null runs a slice a turn (up to ~20 s on a loaded machine)
        clock.advance(1000);
      }
      expect(m.stream('s')!.calibration?.status).toBe('ready');
      shown = m.stream('s')!.thresholdProblems;
      await m.stop();
      return [...warned];
    };
    // 8 fields and a window of 200: the default 0.2-nat KL warnings are reached by most windows
    // without drift, and the calibrated JS warning lands above the fixed 0.1-nat critical.
    const many = await run(8);
    expect(many.filter(([msg]) => msg.startsWith('a threshold inside the no-drift noise')).map(([, o]) => [o.measure, o.severity])).toEqual([
      ['kl_ref_win', 'warning'],
      ['kl_win_ref', 'warning'],
    ]);
    expect(many.filter(([msg]) => msg.startsWith('the warning threshold is above the critical')).map(([, o]) => o.measure)).toEqual(['js']);
    // The same, for the API and the page.
    expect(shown).toHaveLength(3);
    // One field: the defaults are far above the noise.
    expect(await run(1)).toEqual([]);
    expect(shown).toBeUndefined();
  });
});

describe('Monitor: references', () => {
  it('waits twice as long after each failed reference fit, and says when it tries again', async () => {
    const warned: { failures?: number; retryInSeconds?: number }[] = [];
    const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (o: object) => void warned.push(o) };
    // No mixture can be fitted to values near 1e300: their squares overflow.
    const huge = (rng: { uniform(): number }): number[] => [1e300 * (1 + 0.1 * rng.uniform())];
    const clock = new ManualClock(1_000_000);
    const m = new Monitor({ streams: [streamConfig({ ...fast, window: { size: 300 } })], clock, logger, calibrationReplicates: 0 });
    await m.init();
    m.ingest('test', records(300, huge, 1));
    for (let t = 0; t <= 150; t += 10) {
      await m.runDue();
      clock.advance(10_000);
    }
    // Attempts at 0, 10, 30, 70 and 150 s; every 10 s (16 of them) before.
    expect(warned.map((w) => [w.failures, w.retryInSeconds])).toEqual([
      [1, 10],
      [2, 20],
      [3, 40],
      [4, 80],
      [5, 160],
    ]);
    expect(m.stream('s')!.ready).toBe(false);
    await m.stop();
  });

  const dir = mkdtempSync(path.join(tmpdir(), 'klaxon-ref-'));

  it('keeps a snapshot reference across restarts', async () => {
    const cfg = streamConfig({ ...fast, reference: { policy: 'snapshot', n: 500 } });
    const first = monitor([cfg], { stateDir: dir });
    await first.m.init();
    first.m.ingest('test', records(500, normal(3, 2), 1));
    await first.m.runDue();
    const ref = first.m.stream('s')!.reference;
    expect(ref).toBeDefined();

    const second = monitor([cfg], { stateDir: dir });
    await second.m.init();
    expect(second.m.stream('s')).toMatchObject({ phase: 'warming_window', referenceSamples: 500, reference: ref });

    // A snapshot for other fields is not used.
    const other = monitor([{ ...cfg, fields: ['y'] }], { stateDir: dir });
    await other.m.init();
    expect(other.m.stream('s')!.phase).toBe('collecting_reference');
  });

  it('fits the reference to at most fit.maxSamples vectors spread over all of the first n', async () => {
    const { m } = monitor([streamConfig({ window: { size: 500 }, components: { min: 1, max: 3 }, fit: { nInit: 1, maxSamples: 100 } })]);
    await m.init();
    m.ingest('test', [...records(250, normal(0, 1), 1), ...records(250, normal(10, 1), 2)]);
    await m.runDue();
    const ref = m.stream('s')!.reference!;
    expect(ref.weights).toHaveLength(2);
    expect(ref.weights[0]).toBeCloseTo(0.5, 1);
    expect(m.stream('s')!.referenceSamples).toBe(500);
  });

  it('loads a reference model from a file (scikit-learn JSON)', async () => {
    const file = path.join(dir, 'ref.json');
    writeFileSync(file, JSON.stringify({ weights: [1], means: [[0]], covariances: [[[1]]], covariance_type: 'full' }));
    const { m } = monitor([streamConfig({ ...fast, reference: { policy: 'file', path: file } })]);
    await m.init();
    m.ingest('test', records(500, normal(), 1));
    await m.runDue();
    expect(m.stream('s')!.ready).toBe(true);
    expect(m.stream('s')!.lastEvaluation!.divergences.kl_ref_win.value).toBeLessThan(0.02);
  });

  it('refuses a reference file of the wrong dimension, naming the stream', async () => {
    const file = path.join(dir, 'ref2.json');
    writeFileSync(file, JSON.stringify({ weights: [1], means: [[0, 0]], covariances: [[[1, 0], [0, 1]]] }));
    const { m } = monitor([streamConfig({ ...fast, reference: { policy: 'file', path: file } })]);
    await expect(m.init()).rejects.toThrow(/stream s.*d=2.*1 fields/);
  });
});
