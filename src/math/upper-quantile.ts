/**
 * Quantiles in the upper tail of a continuous distribution on (0, ∞), given its survival
 * function: what the calibrated thresholds' tail models (gamma, F, the predictive gamma) share.
 *
 * @example
 * upperQuantile((x) => Math.exp(-x), 0.05) // ln 20 = 2.9957…
 */

/**
 * The x > 0 with survival(x) = tail for a decreasing survival function with survival(0⁺) ≈ 1:
 * doubling to bracket, then bisection to relative 1e-14.
 */
export function upperQuantile(survival: (x: number) => number, tail: number): number {
  if (!(tail > 0 && tail < 1)) throw new RangeError(`tail must lie in (0, 1), got ${tail}`);
  let lo = 0;
  let hi = 1;
  while (survival(hi) > tail) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-14 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (survival(mid) > tail) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
