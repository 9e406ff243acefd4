import { bridges, disjointParts } from '../src/divergence/bridges.js';
import { logDensity } from '../src/gmm/logpdf.js';
import { gaussian, type Gmm } from '../src/gmm/model.js';
import { sampleComponent } from '../src/gmm/sample.js';
import { createRng } from '../src/math/rng.js';

/**
 * A reference for JS between nearly disjoint mixtures, where plain Monte Carlo cannot be
 * one: what is missing from ln 2 sits in saddles between components that 10^6 draws from p
 * and q never reach (on the audit's near-singular pair at d = 4 it reads ln 2 − 2e-11 ± 2e-11;
 * the deficit is 1.59e-8). Plain importance sampling, i.i.d., from the defensive mixture
 * g = ½ m + ½ (the bridges, alike), m = ½(p + q), with none of the sampler's machinery
 * (strata, quasi-random points, controls, shares). f = ln 2 + r log r + (1 − r) log(1 − r)
 * is ~ln 2 over the lone components (those without a twin on the other side, bridges.ts)
 * and ~0 over twins, so it is sampled against h = ln 2 · (lone components' share of m), whose
 * mean is known: JS = ln 2 · Σ_lone ½w_k + E_g[(f − h)·m/g]. Unbiased whatever the bridges
 * are (g ≥ m/2); with no twins, h = ln 2 and this is ln 2 − E_g[(ln 2 − f)·m/g]. Undefined
 * when the pair has no bridges.
 */
export function saddleReference(p: Gmm, q: Gmm, draws: number, seed: string): { value: number; stderr: number } | undefined {
  const spans = bridges(p, q).map((b) => b.gaussian);
  if (spans.length === 0) return undefined;
  const { lone } = disjointParts(p, q)!;
  const d = p.d;
  const rng = createRng(seed);
  const X = new Float64Array(draws * d);
  const pick = (g: Gmm): number => {
    let u = rng.uniform();
    for (let c = 0; c < g.k - 1; c++) if ((u -= g.weights[c]!) <= 0) return c;
    return g.k - 1;
  };
  for (let i = 0; i < draws; i++) {
    const u = rng.uniform();
    if (u < 0.25) sampleComponent(p, pick(p), 1, rng, X, i);
    else if (u < 0.5) sampleComponent(q, pick(q), 1, rng, X, i);
    else sampleComponent(spans[Math.min(spans.length - 1, Math.floor(rng.uniform() * spans.length))]!, 0, 1, rng, X, i);
  }
  const lp = logDensity(p, X, draws);
  const lq = logDensity(q, X, draws);
  const lb = spans.map((b) => logDensity(b, X, draws));
  // The lone components, each as log(½w_k N_k) at every draw, and E_m[h]/ln 2 = Σ_lone ½w_k.
  const loneTerms: Float64Array[] = [];
  let loneMass = 0;
  let k = 0;
  for (const g of [p, q]) {
    for (let c = 0; c < g.k; c++) {
      if (!(g.weights[c]! > 0)) continue;
      if (lone[k++]) {
        const one = gaussian(g.means.subarray(c * d, (c + 1) * d), g.covariances.subarray(c * d * d, (c + 1) * d * d));
        loneTerms.push(logDensity(one, X, draws).map((l) => l + Math.log(0.5 * g.weights[c]!)));
        loneMass += 0.5 * g.weights[c]!;
      }
    }
  }
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < draws; i++) {
    const top = Math.max(lp[i]!, lq[i]!, ...lb.map((l) => l[i]!));
    const m = 0.5 * (Math.exp(lp[i]! - top) + Math.exp(lq[i]! - top));
    let spanSum = 0;
    for (const l of lb) spanSum += Math.exp(l[i]! - top);
    const g = 0.5 * m + (0.5 * spanSum) / spans.length;
    const u = lp[i]! - lq[i]!;
    // f from log r = −softplus(−u) and log(1 − r) = −softplus(u).
    const e = Math.exp(-Math.abs(u));
    const l = Math.log1p(e);
    const logR = u >= 0 ? -l : u - l;
    const log1mR = u >= 0 ? -u - l : -l;
    const r = u >= 0 ? 1 / (1 + e) : e / (1 + e);
    let loneShare = 0;
    for (const l of loneTerms) loneShare += Math.exp(l[i]! - top);
    // f − h, with f = ln 2 − deficit and h = ln 2 · loneShare / m.
    const deficit = -(r * logR + (1 - r) * log1mR);
    const v = g > 0 ? ((Math.LN2 - deficit) * m - Math.LN2 * loneShare) / g : 0;
    s += v;
    s2 += v * v;
  }
  const mean = s / draws;
  return { value: Math.LN2 * loneMass + mean, stderr: Math.sqrt(Math.max(0, s2 / draws - mean * mean) / draws) };
}
