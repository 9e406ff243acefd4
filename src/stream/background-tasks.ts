import { bootstrapNull, type NullDistribution, type NullSettings } from '../calibration/null.js';
import type { FitResult } from '../gmm/fit.js';
import type { Gmm } from '../gmm/model.js';
import { fitFresh, type MixtureSettings, type Yield } from './refit.js';

/**
 * The monitor's one-off heavy work, as plain data (structured-cloneable), so that it runs the
 * same in a worker thread or on the main thread: a fresh fit (a reference, a re-baseline) and
 * a reference's no-drift null. Both are seeded, so where they run does not change a bit of
 * the result.
 */
export type BackgroundTask =
  | { kind: 'fit'; X: Float64Array; n: number; d: number; mixture: MixtureSettings; seed: string }
  | { kind: 'null'; reference: Gmm; referenceLogLik: number | undefined; settings: NullSettings };

/** What a task gives back, and the seconds it ran (not counting the turns it gave away). */
export type BackgroundResult<T extends BackgroundTask> = { value: T extends { kind: 'fit' } ? FitResult : NullDistribution; seconds: number };

/** Runs a task, yielding between its slices; the one place both sides run tasks through. */
export async function runTask<T extends BackgroundTask>(task: T, yieldToLoop: Yield): Promise<BackgroundResult<T>> {
  let paused = 0;
  const y: Yield = async () => {
    const p0 = performance.now();
    await yieldToLoop();
    paused += performance.now() - p0;
  };
  const t0 = performance.now();
  const value =
    task.kind === 'fit'
      ? await fitFresh(task.X, task.n, task.d, task.mixture, task.seed, y)
      : await bootstrapNull(task.reference, task.referenceLogLik, task.settings, y);
  return { value: value as BackgroundResult<T>['value'], seconds: (performance.now() - t0 - paused) / 1000 };
}
