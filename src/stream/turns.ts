import type { Yield } from './refit.js';

/**
 * One turn-taking `Yield` for all of the monitor's sliced work (the scheduler's pass, the
 * background null bootstraps, operator re-baselines): waiting tasks resume one per turn of
 * the event loop, in the order they yielded, so between two slices of work the loop always
 * gets its turn (timers, sockets, scrapes), however many tasks are in flight.
 *
 * Why not `setImmediate` alone: every callback queued before the check phase runs in that
 * same phase, so N tasks in flight — a thousand streams bootstrapping their nulls at
 * start-up — stalled the loop for N slices at once.
 */
export interface Turns {
  /** Resolves at this task's next turn. */
  yield: Yield;
  /** Tasks waiting for a turn. */
  readonly waiting: number;
}

export function createTurns(): Turns {
  let queue: (() => void)[] = [];
  let head = 0;
  let scheduled = false;

  const turn = (): void => {
    scheduled = false;
    const next = queue[head++]!;
    // Drop the resumed prefix now and then, so the queue does not grow without bound.
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    if (head < queue.length) schedule();
    next();
  };

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(turn);
  };

  return {
    yield: () =>
      new Promise<void>((resolve) => {
        queue.push(resolve);
        schedule();
      }),
    get waiting(): number {
      return queue.length - head;
    },
  };
}
