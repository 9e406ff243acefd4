import { describe, expect, it } from 'vitest';
import { createTurns } from '../../src/stream/turns.js';

/**
 * Runs `tasks` tasks of `slices` slices each, every slice logged, with an event-loop probe
 * logging 'loop' once per turn of the loop (a chain of setImmediate callbacks) until all are done.
 */
async function run(tasks: number, slices: number): Promise<string[]> {
  const turns = createTurns();
  const log: string[] = [];
  let done = false;
  const probe = (): void => {
    log.push('loop');
    if (!done) setImmediate(probe);
  };
  setImmediate(probe);
  await Promise.all(
    Array.from({ length: tasks }, async (_, t) => {
      for (let s = 0; s < slices; s++) {
        await turns.yield();
        log.push(`t${t}`);
      }
    }),
  );
  done = true;
  return log;
}

/** The most task slices that ran between two turns of the loop. */
function longestRun(log: string[]): number {
  let run = 0;
  let longest = 0;
  for (const e of log) {
    run = e === 'loop' ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return longest;
}

describe('turns', () => {
  it('gives the loop a turn between any two slices, however many tasks wait', async () => {
    const log = await run(4, 5);
    expect(log.filter((e) => e !== 'loop')).toHaveLength(20);
    // setImmediate alone would run all four tasks' slices in each check phase.
    expect(longestRun(log)).toBe(1);
  });

  it('resumes tasks in the order they yielded', async () => {
    const log = await run(3, 3);
    expect(log.filter((e) => e !== 'loop')).toEqual(['t0', 't1', 't2', 't0', 't1', 't2', 't0', 't1', 't2']);
  });
});
