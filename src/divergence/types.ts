import type { Seed } from '../math/rng.js';

/**
 * How a divergence is computed.
 * - `auto`: `exact` for two single Gaussians (KL), `quadrature` in one dimension, otherwise
 *   `qmc` sized to an accuracy target (and `budgetMs`, when a clock is given).
 * - `exact`: closed-form KL between two Gaussians (single-component mixtures only).
 * - `quadrature`: adaptive Gauss–Kronrod on intervals split at every component (1-D only).
 * - `monte-carlo`: the seed's estimator: i.i.d. draws of p (and of q for JS), mean of the
 *   log-ratio; kept as the reference baseline.
 * - `stratified`: by component, i.i.d. normals, control variates, Neyman allocation.
 * - `qmc`: the same strata and control variates on independently scrambled Sobol' points.
 * - `variational`: Hershey & Olsen's closed-form approximation, with cheap bounds.
 */
export type DivergenceMethod =
  | 'auto'
  | 'exact'
  | 'quadrature'
  | 'monte-carlo'
  | 'stratified'
  | 'qmc'
  | 'variational';

export const METHODS: readonly DivergenceMethod[] = [
  'auto',
  'exact',
  'quadrature',
  'monte-carlo',
  'stratified',
  'qmc',
  'variational',
];

export interface DivergenceOptions {
  method?: DivergenceMethod;
  /**
   * Sample points to use. `monte-carlo`: draws of p (and as many of q for JS), default 10^5.
   * `stratified`, `qmc`, `auto` in d ≥ 2: total points over all strata and randomisations;
   * given, it replaces the adaptive accuracy target.
   */
  samples?: number;
  /** Seed for every random draw; the same seed gives a bit-identical result. Default 0. */
  seed?: Seed;
  /**
   * Wall-clock budget for the adaptive samplers, read only through `now`. A budget that
   * binds makes the sample size (so the result) depend on timing; the error bar stays honest.
   */
  budgetMs?: number;
  /** Milliseconds from any origin; required with `budgetMs` (math never reads a clock itself). */
  now?: () => number;
  /**
   * Standard error the adaptive samplers aim for, in nats. Default: the smaller of
   * 0.95·max(1% of the value, 1e-3) and 0.92× the standard error the seed's 10^5-draw
   * Monte Carlo would have on the same pair (estimated along the way), so the default is
   * at least as precise as the seed answer, and within 1% (or 1e-3 nats) at worst.
   */
  targetStderr?: number;
}

export interface DivergenceResult {
  /** Nats. KL is clamped to ≥ 0 and JS to [0, ln 2]; `stderr` describes the unclamped estimate. */
  value: number;
  /**
   * Standard error of the estimate. Samplers: from independent randomisations (or i.i.d.
   * draws). `quadrature`: the integrator's error estimate. `exact`: 0. `variational`: not
   * statistical — the largest distance from the value to a bound that holds for the truth.
   */
  stderr: number;
  /** The method that produced the value (never `auto`). */
  method: Exclude<DivergenceMethod, 'auto'>;
  /** Points at which the integrand was evaluated (draws, quadrature nodes); 0 for closed forms. */
  samples: number;
  /**
   * Work: evaluations of one Gaussian component's log-density (a point against one
   * component counts one), or closed-form Gaussian–Gaussian terms for `exact` and `variational`.
   */
  evaluations: number;
  /** Guaranteed lower and upper bounds on the true value, where the method provides them. */
  bounds?: readonly [number, number];
}

/** A divergence that cannot be computed as asked; the message says what to change. */
export class DivergenceError extends Error {
  override readonly name = 'DivergenceError';
}
