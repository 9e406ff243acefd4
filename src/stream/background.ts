import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runTask, type BackgroundResult, type BackgroundTask } from './background-tasks.js';
import type { MonitorLogger } from './logger.js';
import type { Yield } from './refit.js';

/**
 * Where the monitor's heavy one-off work runs — reference fits, re-baselines, and the
 * no-drift null bootstraps (200 refits per reference): in a worker thread, so that the thread
 * that consumes records only ingests and a second core does the fitting; or, where there is
 * no compiled worker script (the sources run through a TypeScript transform, as under
 * vitest), on the main thread a slice per turn of the event loop. The tasks are seeded, so
 * the results are the same to the bit either way.
 */
export interface Background {
  /** Where tasks run now: 'main' without a worker, or after the worker thread died. */
  readonly where: 'worker' | 'main';
  readonly closed: boolean;
  /** Runs a task; rejects with BackgroundClosed once `close` was called. */
  run<T extends BackgroundTask>(task: T): Promise<BackgroundResult<T>>;
  /** Drops the work in progress (it rejects with BackgroundClosed) and ends the worker thread. */
  close(): Promise<void>;
}

/** The work was dropped because the monitor stopped. */
export class BackgroundClosed extends Error {
  constructor() {
    super('the monitor stopped; its background work was dropped');
    this.name = 'BackgroundClosed';
  }
}

/** The compiled worker script beside this module (dist/src/stream/background-worker.js). */
export const DEFAULT_WORKER = new URL('./background-worker.js', import.meta.url);

export interface BackgroundOptions {
  /** Turn-taking for work on the main thread: the monitor's (see turns.ts). */
  yieldToLoop: Yield;
  logger: MonitorLogger;
  /** The worker script; default DEFAULT_WORKER where that file exists, else the main thread. false: the main thread. */
  worker?: URL | false;
}

export function createBackground(options: BackgroundOptions): Background {
  const main = new MainThread(options.yieldToLoop);
  const url = options.worker ?? (existsSync(fileURLToPath(DEFAULT_WORKER)) ? DEFAULT_WORKER : false);
  return url === false ? main : new WorkerThread(url, main, options.logger);
}

/** Tasks on this thread, a slice per turn; after `close` the next slice throws instead. */
class MainThread implements Background {
  readonly where = 'main';
  closed = false;

  constructor(private readonly yieldToLoop: Yield) {}

  run<T extends BackgroundTask>(task: T): Promise<BackgroundResult<T>> {
    if (this.closed) return Promise.reject(new BackgroundClosed());
    return runTask(task, async () => {
      if (this.closed) throw new BackgroundClosed();
      await this.yieldToLoop();
      if (this.closed) throw new BackgroundClosed();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

interface Pending {
  task: BackgroundTask;
  resolve(result: BackgroundResult<BackgroundTask>): void;
  reject(err: unknown): void;
}

type Reply =
  | { id: number; ok: true; result: BackgroundResult<BackgroundTask> }
  | { id: number; ok: false; error: { name: string; message: string; stack?: string } };

/**
 * Tasks in one worker thread, started at the first task. It keeps the process up only while
 * it has work. Should it die (an uncaught error, say), its unfinished tasks and all later ones
 * run on the main thread instead: nothing is lost, and the results are the same.
 */
class WorkerThread implements Background {
  closed = false;
  private worker: Worker | undefined;
  private failed = false;
  private lastError: unknown;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly url: URL,
    private readonly fallback: MainThread,
    private readonly logger: MonitorLogger,
  ) {}

  get where(): 'worker' | 'main' {
    return this.failed ? 'main' : 'worker';
  }

  run<T extends BackgroundTask>(task: T): Promise<BackgroundResult<T>> {
    if (this.closed) return Promise.reject(new BackgroundClosed());
    if (this.failed) return this.fallback.run(task);
    // A row view would take its whole buffer along: send exactly the rows.
    const sent: BackgroundTask = task.kind === 'fit' ? { ...task, X: task.X.slice(0, task.n * task.d) } : task;
    return new Promise<BackgroundResult<T>>((resolve, reject) => {
      const id = this.nextId++;
      const worker = this.spawned();
      try {
        worker.postMessage({ id, task: sent });
      } catch {
        // Not cloneable (an estimator given a clock function, say): this one runs here.
        this.fallback.run(task).then(resolve, reject);
        return;
      }
      this.pending.set(id, { task, resolve: resolve as Pending['resolve'], reject });
      worker.ref();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new BackgroundClosed());
    await this.fallback.close();
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private spawned(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.url, { name: 'klaxon-background' });
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (err) => (this.lastError = err));
    worker.on('exit', (code) => this.exited(worker, code));
    this.worker = worker;
    return worker;
  }

  private settle(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (p === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.ok) p.resolve(reply.result);
    else p.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, stack: reply.error.stack }));
  }

  private exited(worker: Worker, code: number): void {
    if (this.worker !== worker) return; // terminated by close()
    this.worker = undefined;
    this.failed = true;
    this.logger.error(
      { err: this.lastError, exitCode: code, tasks: this.pending.size },
      'the background worker thread ended; fits and calibrations continue on the main thread',
    );
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) this.fallback.run(p.task).then(p.resolve, p.reject);
  }
}
