import { DEFAULT_EVALUATE, formatEvaluate, runEvaluate } from '../src/calibration/evaluate.js';
import { progressReporter } from '../src/cli/evaluate.js';

/** `klaxon evaluate` with its defaults: false alarms and detection delays beside the baselines. */
export async function benchEvaluate(log: (line: string) => void): Promise<void> {
  const t0 = performance.now();
  const progress = progressReporter();
  const result = await runEvaluate(DEFAULT_EVALUATE, progress);
  progress.end();
  log(formatEvaluate(result));
  log(`\nevaluate: ${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
}
