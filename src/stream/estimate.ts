import { js, kl } from '../divergence/index.js';
import type { DivergenceOptions } from '../divergence/types.js';
import type { Gmm } from '../gmm/model.js';
import type { Estimate, Measure } from './view.js';

/** Estimator settings the monitor passes through to the divergence core. */
export type EstimatorSettings = Pick<DivergenceOptions, 'method' | 'samples' | 'targetStderr' | 'budgetMs' | 'now'>;

/**
 * One divergence between the reference and the window mixtures, by measure:
 * `kl_ref_win` = KL(reference‖window) grows when the window lacks mass the reference had
 * (a mode vanished); `kl_win_ref` = KL(window‖reference) grows when the window has mass
 * where the reference had none (a new mode); `js` is symmetric and bounded by ln 2.
 */
export function estimate(
  measure: Measure,
  reference: Gmm,
  window: Gmm,
  seed: string,
  settings: EstimatorSettings,
): Estimate {
  const opts: DivergenceOptions = { ...settings, seed };
  const r =
    measure === 'kl_ref_win' ? kl(reference, window, opts) : measure === 'kl_win_ref' ? kl(window, reference, opts) : js(reference, window, opts);
  return { value: r.value, stderr: r.stderr, method: r.method };
}

/** What may be shown: no NaN anywhere, nothing negative (KL may be +Inf, where the truth is). */
export function isUsable(e: Estimate): boolean {
  return e.value >= 0 && e.stderr >= 0; // false for NaN too
}
