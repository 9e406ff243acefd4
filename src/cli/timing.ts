import { median } from '../math/median.js';

/**
 * With `--repeat N` (N > 1), untimed runs come first, until at least WARM_UP_RUNS of them and
 * WARM_UP_MS have passed (at most WARM_UP_MAX_MS): V8 compiles a hot loop only after it has
 * run a while, and the first runs of a fresh process are 10–35× slower than the rest (a d = 8
 * KL estimate: 73, 39, 24, 21 ms, then ~2 ms; a 1-D one reaches its speed after ~50 runs).
 * The median of the timed runs is then the time per estimate of a process that has been up
 * a while — the long-running monitor's case. A single run (the default) is timed cold.
 */
const WARM_UP_RUNS = 20;
const WARM_UP_MS = 250;
const WARM_UP_MAX_MS = 3_000;

/** Runs `fn` `repeat` times and returns the last result with the median wall time per run. */
export function timed<T>(repeat: number, fn: () => T): { result: T; msMedian: number } {
  if (repeat > 1) {
    const start = performance.now();
    for (let i = 0; ; i++) {
      const elapsed = performance.now() - start;
      if ((i >= WARM_UP_RUNS && elapsed >= WARM_UP_MS) || elapsed >= WARM_UP_MAX_MS) break;
      fn();
    }
  }
  const times: number[] = [];
  let result!: T;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    result = fn();
    times.push(performance.now() - t0);
  }
  return { result, msMedian: median(times) };
}
