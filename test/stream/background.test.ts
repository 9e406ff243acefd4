import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nullToJson } from '../../src/calibration/null.js';
import { gmmToJson } from '../../src/gmm/json.js';
import { gaussian } from '../../src/gmm/model.js';
import { sample } from '../../src/gmm/sample.js';
import { createRng } from '../../src/math/rng.js';
import { BackgroundClosed, createBackground } from '../../src/stream/background.js';
import type { BackgroundTask } from '../../src/stream/background-tasks.js';
import { ManualClock } from '../../src/stream/clock.js';
import { DEFAULT_ESTIMATOR, Monitor } from '../../src/stream/monitor.js';
import { normal, records, streamConfig } from './support.js';
import { ROOT } from '../support/cli.js';

/**
 * The worker thread runs compiled JavaScript: these tests use the build in dist/ (the suite's
 * global setup makes it from these sources), the same script `klaxon run` uses.
 */
const WORKER = new URL(`file://${ROOT}/dist/src/stream/background-worker.js`);

const mixture = { components: { min: 1, max: 3 }, covarianceType: 'full' as const, nInit: 2, maxIter: 100, tol: 1e-3, regCovar: 1e-6 };

function fitTask(): BackgroundTask & { kind: 'fit' } {
  const X = sample(gaussian([0, 1], [1, 0.3, 0.3, 2]), 400, createRng('bg-fit')).X;
  // A view into a larger buffer, as the stream's collected rows may be: only the rows go.
  const padded = new Float64Array(X.length + 10);
  padded.set(X);
  return { kind: 'fit', X: padded.subarray(0, X.length), n: 400, d: 2, mixture, seed: 'bg:reference:0' };
}

function nullTask(replicates = 20): BackgroundTask & { kind: 'null' } {
  return {
    kind: 'null',
    reference: gaussian([0, 1], [1, 0.3, 0.3, 2]),
    referenceLogLik: undefined,
    settings: { replicates, windowSamples: 200, referenceSamples: 300, mixture: { ...mixture, components: { min: 1, max: 1 } }, estimator: DEFAULT_ESTIMATOR, seed: 'bg:null:1' },
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Logged {
  level: string;
  obj: object;
  msg: string | undefined;
}

function memoryLogger(): { logs: Logged[]; logger: Parameters<typeof createBackground>[0]['logger'] } {
  const logs: Logged[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void logs.push({ level, obj, msg });
  return { logs, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('background work in a worker thread', () => {
  it('gives the same fresh fit and the same null as the main thread, to the bit', async () => {
    const { logger } = memoryLogger();
    const worker = createBackground({ yieldToLoop: turn, logger, worker: WORKER });
    const main = createBackground({ yieldToLoop: turn, logger, worker: false });
    expect([worker.where, main.where]).toEqual(['worker', 'main']);
    try {
      const [wf, mf, wn, mn] = await Promise.all([worker.run(fitTask()), main.run(fitTask()), worker.run(nullTask()), main.run(nullTask())]);
      expect(worker.where).toBe('worker'); // it did not fall back
      expect(JSON.stringify(gmmToJson(wf.value.model))).toBe(JSON.stringify(gmmToJson(mf.value.model)));
      expect(wf.value.meanLogLik).toBe(mf.value.meanLogLik);
      expect(wf.value.model.k).toBeGreaterThanOrEqual(1);
      expect(nullToJson(wn.value)).toEqual(nullToJson(mn.value));
      expect(wn.value.replicates).toBeGreaterThanOrEqual(10);
      expect(wf.seconds).toBeGreaterThan(0);
    } finally {
      await worker.close();
      await main.close();
    }
  });

  it.runIf(process.platform === 'linux')('runs below the priority of the thread that consumes, on Linux', async () => {
    /** The nice value of each of this process's threads (field 19 of /proc/<tid>/stat). */
    const nices = (): number[] =>
      readdirSync('/proc/self/task').map((t) => {
        const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      });
    const base = getPriority();
    const target = Math.min(19, base + 10);
    const before = nices().filter((n) => n === target).length;
    const { logger } = memoryLogger();
    const worker = createBackground({ yieldToLoop: turn, logger, worker: WORKER });
    try {
      await worker.run(fitTask());
      expect(nices().filter((n) => n === target).length).toBe(before + 1);
      expect(getPriority()).toBe(base); // this thread's is untouched
    } finally {
      await worker.close();
    }
  });

  it('passes a failed fit back as an error, and goes on working', async () => {
    const { logger } = memoryLogger();
    const worker = createBackground({ yieldToLoop: turn, logger, worker: WORKER });
    try {
      // Every start collapses: three identical rows cannot hold a 2-D Gaussian.
      const bad: BackgroundTask = { kind: 'fit', X: Float64Array.of(1, 1, 1, 1, 1, 1), n: 3, d: 2, mixture: { ...mixture, components: { min: 1, max: 1 }, regCovar: 0 }, seed: 'bad' };
      const err = await worker.run(bad).then(() => undefined, (e: unknown) => e as Error);
      const local = await createBackground({ yieldToLoop: turn, logger, worker: false }).run(bad).then(() => undefined, (e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).toBe(local!.message);
      expect(worker.where).toBe('worker');
      expect((await worker.run(fitTask())).value.model.d).toBe(2);
    } finally {
      await worker.close();
    }
  });

  it('runs a task it cannot send to the worker (a function in its settings) on the main thread', async () => {
    const { logs, logger } = memoryLogger();
    const worker = createBackground({ yieldToLoop: turn, logger, worker: WORKER });
    const main = createBackground({ yieldToLoop: turn, logger, worker: false });
    try {
      const task = nullTask();
      const timed = { ...task, settings: { ...task.settings, estimator: { ...task.settings.estimator, now: () => 0 } } };
      const [a, b] = await Promise.all([worker.run(timed), main.run(timed)]);
      expect(nullToJson(a.value)).toEqual(nullToJson(b.value));
      expect(worker.where).toBe('worker'); // the worker itself is fine, and kept
      expect((await worker.run(fitTask())).value.model.d).toBe(2);
      expect(logs).toEqual([]);
    } finally {
      await worker.close();
    }
  });

  it('drops the work in progress on close, in the worker and on the main thread', async () => {
    const { logs, logger } = memoryLogger();
    for (const where of [WORKER, false] as const) {
      const bg = createBackground({ yieldToLoop: turn, logger, worker: where });
      const running = bg.run(nullTask(200)).then(() => 'finished', (e: unknown) => e);
      await turn();
      await bg.close();
      expect(await running).toBeInstanceOf(BackgroundClosed);
      await expect(bg.run(fitTask())).rejects.toBeInstanceOf(BackgroundClosed);
      expect(bg.closed).toBe(true);
    }
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('finishes on the main thread what a dying worker left, with the same results', async () => {
    const { logs, logger } = memoryLogger();
    const dies = new URL(`data:text/javascript,${encodeURIComponent("import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => process.exit(3));")}`);
    const bg = createBackground({ yieldToLoop: turn, logger, worker: dies });
    const main = createBackground({ yieldToLoop: turn, logger, worker: false });
    try {
      expect(bg.where).toBe('worker');
      const [a, b] = await Promise.all([bg.run(fitTask()), bg.run(nullTask())]);
      expect(bg.where).toBe('main');
      expect(JSON.stringify(gmmToJson(a.value.model))).toBe(JSON.stringify(gmmToJson((await main.run(fitTask())).value.model)));
      expect(nullToJson(b.value)).toEqual(nullToJson((await main.run(nullTask())).value));
      const errors = logs.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.obj).toMatchObject({ exitCode: 3, tasks: 2 });
      expect(errors[0]!.msg).toMatch(/worker thread ended/);
    } finally {
      await bg.close();
    }
  });
});

describe('a monitor whose fits and calibrations run in the worker thread', () => {
  /** Resolves when `done`, polling between turns of the event loop (the worker answers by message). */
  async function until(done: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 6000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!done()) throw new Error(`never: ${what}`);
  }

  it('keeps the same reference and null as one working on the main thread, to the bit', async () => {
    const cfg = streamConfig({ window: { size: 400 }, components: { min: 1, max: 3 }, fit: { nInit: 2 }, reference: { policy: 'snapshot', n: 400 } });
    const batch = records(400, (rng) => [rng.uniform() < 0.3 ? -2 + 0.5 * rng.normal() : 1 + rng.normal()], 'bg-monitor');
    const snapshots: string[] = [];
    for (const where of [WORKER, false] as const) {
      const dir = mkdtempSync(path.join(tmpdir(), 'klaxon-bg-'));
      const { logs, logger } = memoryLogger();
      const m = new Monitor({ streams: [cfg], clock: new ManualClock(1_000_000), stateDir: dir, calibrationReplicates: 30, backgroundWorker: where, logger });
      await m.init();
      expect(m.backgroundThread).toBe(where === false ? 'main' : 'worker');
      expect(logs.find((l) => 'background' in l.obj)?.obj).toEqual({ background: m.backgroundThread });
      m.ingest('test', batch);
      await m.runDue();
      expect(m.stream('s')!.phase).not.toBe('collecting_reference');
      const file = path.join(dir, 's.reference.json');
      await until(() => m.stream('s')!.calibration!.status === 'ready', 'calibrated');
      await until(() => readFileSync(file, 'utf8').includes('"null"'), 'the null kept');
      snapshots.push(readFileSync(file, 'utf8'));
      await m.stop();
      expect(logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    }
    expect(snapshots[0]).toBe(snapshots[1]);
  });

  it('stops its background work when stopped: a null in progress neither lands nor warns', async () => {
    const cfg = streamConfig({ window: { size: 400 }, components: 1, fit: { nInit: 1 } });
    for (const where of [WORKER, false] as const) {
      const { logs, logger } = memoryLogger();
      const m = new Monitor({ streams: [cfg], clock: new ManualClock(1_000_000), calibrationReplicates: 1000, backgroundWorker: where, logger });
      await m.init();
      m.ingest('test', records(500, normal(0, 1), 'bg-stop'));
      await m.runDue();
      expect(m.stream('s')!.calibration!.status).toBe('running');
      await m.stop();
      for (let i = 0; i < 100; i++) await turn();
      expect(m.stream('s')!.calibration!.status).toBe('failed');
      expect(logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    }
  });
});
