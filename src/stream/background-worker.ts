import { getPriority, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { runTask, type BackgroundTask } from './background-tasks.js';
import { createTurns } from './turns.js';

/**
 * The worker thread of `background.ts`: runs the tasks it is sent and posts back each result
 * or error under the task's id. A fit (a reference, a re-baseline) runs straight through, as
 * soon as its message is taken: a stream cannot be evaluated without its reference, so with a
 * thousand streams starting, every reference comes before the nulls. The nulls take turns a
 * slice at a time, between the fits.
 */
const port = parentPort;
if (port === null) throw new Error('background-worker.js runs as a worker thread (see background.ts)');
const turns = createTurns();
const straight = (): Promise<void> => Promise.resolve();

/**
 * Below the consumer: on Linux a nice value belongs to a thread, so this lowers this worker's
 * alone (elsewhere it would lower the whole process, so it is left alone). On an idle core the
 * work runs at full speed; where the cores are busy — the records' thread, a broker beside
 * it — it takes what they leave, as the main thread's slices did, and is not starved outright
 * (nice +10 still gets about a tenth of a busy core).
 */
export const NICE_INCREMENT = 10;
if (process.platform === 'linux') {
  try {
    setPriority(Math.min(19, getPriority() + NICE_INCREMENT));
  } catch {
    // not allowed here (a sandbox): the work runs at the consumer's priority
  }
}

port.on('message', (message: { id: number; task: BackgroundTask }) => {
  const { id, task } = message;
  runTask(task, task.kind === 'fit' ? straight : turns.yield).then(
    (result) => port.postMessage({ id, ok: true, result }),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ id, ok: false, error: { name: e.name, message: e.message, stack: e.stack } });
    },
  );
});
