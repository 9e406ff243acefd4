/**
 * The two-sample Kolmogorov–Smirnov test, the classic per-feature drift baseline.
 *
 * D = sup_x |F_a(x) − F_b(x)| of the two empirical distribution functions; its p-value from
 * Kolmogorov's asymptotic distribution with Stephens' small-sample correction,
 * Q_KS((√n_e + 0.12 + 0.11/√n_e)·D), n_e = n_a·n_b/(n_a + n_b) (Numerical Recipes §14.3;
 * scipy's `ks_2samp(..., method='asymp')` before 1.5 computed the same).
 *
 * @example
 * ks2Samp(Float64Array.of(1, 2, 3, 4), Float64Array.of(3, 4, 5, 6)).statistic // 0.5
 */

/**
 * Kolmogorov's survival function Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}: the probability
 * that √n·sup|F_n − F| exceeds λ, as n → ∞. Q_KS(1) = 0.26999967…
 */
export function kolmogorovSurvival(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 0.2) return 1; // the series converges slowly there, and the value is 1 to 1e-9
  const a = -2 * lambda * lambda;
  let sum = 0;
  let sign = 1;
  let previous = 0;
  for (let k = 1; k <= 100; k++) {
    const term = sign * Math.exp(a * k * k);
    sum += term;
    if (Math.abs(term) <= 1e-12 * Math.abs(sum) || Math.abs(term) <= 1e-16 || Math.abs(term) === previous) break;
    previous = Math.abs(term);
    sign = -sign;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

export interface KsResult {
  statistic: number;
  pValue: number;
}

function sorted(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x).sort();
}

/** The two-sample KS statistic D between samples already sorted ascending. */
export function ksStatisticSorted(a: Float64Array, b: Float64Array): number {
  const na = a.length;
  const nb = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < na && j < nb) {
    const x = Math.min(a[i]!, b[j]!);
    while (i < na && a[i]! <= x) i++;
    while (j < nb && b[j]! <= x) j++;
    const gap = Math.abs(i / na - j / nb);
    if (gap > d) d = gap;
  }
  return d;
}

/** Asymptotic two-sided p-value of a KS statistic D for sample sizes na and nb. */
export function ksPValue(statistic: number, na: number, nb: number): number {
  const ne = Math.sqrt((na * nb) / (na + nb));
  return kolmogorovSurvival((ne + 0.12 + 0.11 / ne) * statistic);
}

/** Two-sample KS test of a and b (any order; NaNs are not allowed). */
export function ks2Samp(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  if (a.length === 0 || b.length === 0) throw new RangeError('ks2Samp needs two non-empty samples');
  const statistic = ksStatisticSorted(sorted(a), sorted(b));
  return { statistic, pValue: ksPValue(statistic, a.length, b.length) };
}

/**
 * Per-feature KS with Bonferroni correction, the multivariate baseline: the smallest of the d
 * p-values times d (capped at 1). `referenceSorted[f]` holds feature f of the reference sample,
 * sorted; `X` is the window, n×d row-major.
 */
export function ksBonferroni(referenceSorted: readonly Float64Array[], X: Float64Array, n: number, d: number): number {
  let minP = 1;
  const col = new Float64Array(n);
  for (let f = 0; f < d; f++) {
    for (let i = 0; i < n; i++) col[i] = X[i * d + f]!;
    col.sort();
    const ref = referenceSorted[f]!;
    const p = ksPValue(ksStatisticSorted(ref, col), ref.length, n);
    if (p < minP) minP = p;
  }
  return Math.min(1, minP * d);
}
