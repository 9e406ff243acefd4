import type { Gmm } from '../gmm/model.js';
import { autoJs, autoKl, samplerSettings } from './auto.js';
import { exactKl } from './exact.js';
import { monteCarloJs, monteCarloKl, MONTE_CARLO_SAMPLES } from './monte-carlo.js';
import { quadratureJs, quadratureKl } from './quadrature.js';
import { stratifiedEstimate } from './stratified.js';
import {
  DivergenceError,
  METHODS,
  type DivergenceMethod,
  type DivergenceOptions,
  type DivergenceResult,
} from './types.js';
import { variationalJsResult, variationalKlResult } from './variational.js';

export { DivergenceError, METHODS, type DivergenceMethod, type DivergenceOptions, type DivergenceResult };

/**
 * Divergences between Gaussian mixtures, in nats, always with a standard error.
 *
 * @example
 * kl(gaussian([0], [1]), gaussian([1], [1])).value // 0.5
 */

function check(p: Gmm, q: Gmm, opts: DivergenceOptions): DivergenceMethod {
  if (p.d !== q.d) {
    throw new DivergenceError(`dimension mismatch: p has d=${p.d}, q has d=${q.d}; both mixtures must model the same features`);
  }
  const method = opts.method ?? 'auto';
  if (!METHODS.includes(method)) {
    throw new DivergenceError(`method must be one of ${METHODS.join(', ')}, got ${JSON.stringify(method)}`);
  }
  if (opts.samples !== undefined && !(Number.isInteger(opts.samples) && opts.samples > 0)) {
    throw new DivergenceError(`samples must be a positive integer, got ${opts.samples}`);
  }
  // One draw has no spread to give a standard error from (it came out as 0).
  if (method === 'monte-carlo' && opts.samples !== undefined && opts.samples < 2) {
    throw new DivergenceError(`monte-carlo needs at least 2 samples for a standard error, got ${opts.samples}`);
  }
  if (opts.targetStderr !== undefined && !(opts.targetStderr > 0)) {
    throw new DivergenceError(`targetStderr must be positive, got ${opts.targetStderr}`);
  }
  if (opts.budgetMs !== undefined && !(opts.budgetMs > 0)) {
    throw new DivergenceError(`budgetMs must be positive, got ${opts.budgetMs}`);
  }
  if (opts.budgetMs !== undefined && !opts.now) {
    throw new DivergenceError('budgetMs needs a clock: pass now (e.g. () => performance.now())');
  }
  return method;
}

/** KL(p‖q) = E_p[log p − log q]; finite between any two non-degenerate mixtures. */
export function kl(p: Gmm, q: Gmm, opts: DivergenceOptions = {}): DivergenceResult {
  switch (check(p, q, opts)) {
    case 'auto':
      return autoKl(p, q, opts);
    case 'exact':
      return exactKl(p, q);
    case 'quadrature':
      return quadratureKl(p, q);
    case 'monte-carlo':
      return monteCarloKl(p, q, opts.samples ?? MONTE_CARLO_SAMPLES, opts.seed ?? 0);
    case 'stratified':
      return stratifiedEstimate(p, q, 'kl', samplerSettings('iid', opts));
    case 'qmc':
      return stratifiedEstimate(p, q, 'kl', samplerSettings('sobol', opts));
    case 'variational':
      return variationalKlResult(p, q);
  }
}

/** Jensen–Shannon divergence ½KL(p‖m) + ½KL(q‖m), m = ½(p + q); reported within [0, ln 2]. */
export function js(p: Gmm, q: Gmm, opts: DivergenceOptions = {}): DivergenceResult {
  switch (check(p, q, opts)) {
    case 'auto':
      return autoJs(p, q, opts);
    case 'exact':
      throw new DivergenceError("JS has no closed form, even between two Gaussians; use 'auto'");
    case 'quadrature':
      return quadratureJs(p, q);
    case 'monte-carlo':
      return monteCarloJs(p, q, opts.samples ?? MONTE_CARLO_SAMPLES, opts.seed ?? 0);
    case 'stratified':
      return stratifiedEstimate(p, q, 'js', samplerSettings('iid', opts));
    case 'qmc':
      return stratifiedEstimate(p, q, 'js', samplerSettings('sobol', opts));
    case 'variational':
      return variationalJsResult(p, q);
  }
}
