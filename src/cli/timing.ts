import { median } from '../math/median.js';

/** Runs `fn` `repeat` times and returns the last result with the median wall time per run. */
export function timed<T>(repeat: number, fn: () => T): { result: T; msMedian: number } {
  const times: number[] = [];
  let result!: T;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    result = fn();
    times.push(performance.now() - t0);
  }
  return { result, msMedian: median(times) };
}
