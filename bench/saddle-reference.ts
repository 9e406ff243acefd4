import { bridges } from '../src/divergence/bridges.js';
import { logDensity } from '../src/gmm/logpdf.js';
import { gaussian, type Gmm } from '../src/gmm/model.js';
import { sampleComponent } from '../src/gmm/sample.js';
import { createRng } from '../src/math/rng.js';

/**
 * A reference for JS between mixtures that get bridges (nearly disjoint, twins aside), where
 * plain Monte Carlo cannot be one: what is missing sits in saddles between components that
 * 10^6 draws from p and q never reach (on the audit's near-singular pair at d = 4 it reads
 * ln 2 − 2e-11 ± 2e-11; the deficit is 1.59e-8). Plain importance sampling, i.i.d., from the
 * defensive mixture g = ½ m + ½ (the bridges, alike), m = ½(p + q), with none of the sampler's
 * machinery (strata, quasi-random points, controls, shares).
 *
 * f = ln 2 + r log r + (1 − r) log(1 − r) is nearly constant over each component of m there
 * (~ln 2 over one without a twin, the same small number all over a twin), so it is sampled
 * against h = Σ_j γ_j f(μ_j), γ_j = ½w_j N_j / m the components' shares of m, whose mean is
 * known: JS = Σ_j ½w_j f(μ_j) + E_g[(f − h)·m/g]. Unbiased whatever the bridges are (g ≥ m/2).
 * Undefined when the pair has no bridges.
 */
export function saddleReference(p: Gmm, q: Gmm, draws: number, seed: string): { value: number; stderr: number } | undefined {
  const spans = bridges(p, q).map((b) => b.gaussian);
  if (spans.length === 0) return undefined;
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
  // m's components: log(½w_j N_j) at every draw, and f at each one's mean.
  const parts: { log: Float64Array; f: number; weight: number }[] = [];
  for (const g of [p, q]) {
    for (let c = 0; c < g.k; c++) {
      if (!(g.weights[c]! > 0)) continue;
      const mean = g.means.subarray(c * d, (c + 1) * d);
      const one = gaussian(mean, g.covariances.subarray(c * d * d, (c + 1) * d * d));
      const half = Math.log(0.5 * g.weights[c]!);
      const f = integrand(logDensity(p, mean, 1)[0]! - logDensity(q, mean, 1)[0]!);
      parts.push({ log: logDensity(one, X, draws).map((l) => l + half), f, weight: 0.5 * g.weights[c]! });
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
    // h·m = Σ_j ½w_j N_j f(μ_j), at the same scale as m.
    let hm = 0;
    for (const part of parts) hm += Math.exp(part.log[i]! - top) * part.f;
    const v = g > 0 ? (integrand(lp[i]! - lq[i]!) * m - hm) / g : 0;
    s += v;
    s2 += v * v;
  }
  const mean = s / draws;
  const base = parts.reduce((sum, part) => sum + part.weight * part.f, 0);
  return { value: base + mean, stderr: Math.sqrt(Math.max(0, s2 / draws - mean * mean) / draws) };
}

/**
 * The same for KL where every component of p has a twin in q (the sampler's KL bridges):
 * f = log p − log q is nearly constant over each component of p, so it is sampled against
 * h = Σ_k γ_k f(μ_k), γ_k = w_k N_k / p, whose mean under p is Σ_k w_k f(μ_k):
 * KL = Σ_k w_k f(μ_k) + E_g[(f − h)·p/g], g = ½ p + ½ (the bridges, alike). None of the
 * sampler's machinery, and not its matched term. Undefined when KL gets no bridges.
 */
export function klSaddleReference(p: Gmm, q: Gmm, draws: number, seed: string): { value: number; stderr: number } | undefined {
  const spans = bridges(p, q, 'kl').map((b) => b.gaussian);
  if (spans.length === 0) return undefined;
  const d = p.d;
  const rng = createRng(seed);
  const X = new Float64Array(draws * d);
  for (let i = 0; i < draws; i++) {
    if (rng.uniform() < 0.5) {
      let u = rng.uniform();
      let c = 0;
      while (c < p.k - 1 && (u -= p.weights[c]!) > 0) c++;
      sampleComponent(p, c, 1, rng, X, i);
    } else sampleComponent(spans[Math.min(spans.length - 1, Math.floor(rng.uniform() * spans.length))]!, 0, 1, rng, X, i);
  }
  const lp = logDensity(p, X, draws);
  const lq = logDensity(q, X, draws);
  const lb = spans.map((b) => logDensity(b, X, draws));
  const parts: { log: Float64Array; f: number; weight: number }[] = [];
  for (let c = 0; c < p.k; c++) {
    if (!(p.weights[c]! > 0)) continue;
    const mean = p.means.subarray(c * d, (c + 1) * d);
    const one = gaussian(mean, p.covariances.subarray(c * d * d, (c + 1) * d * d));
    const logWeight = Math.log(p.weights[c]!);
    parts.push({ log: logDensity(one, X, draws).map((l) => l + logWeight), f: logDensity(p, mean, 1)[0]! - logDensity(q, mean, 1)[0]!, weight: p.weights[c]! });
  }
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < draws; i++) {
    const top = Math.max(lp[i]!, ...lb.map((l) => l[i]!));
    const pi = Math.exp(lp[i]! - top);
    let spanSum = 0;
    for (const l of lb) spanSum += Math.exp(l[i]! - top);
    const g = 0.5 * pi + (0.5 * spanSum) / spans.length;
    // h·p = Σ_k w_k N_k f(μ_k), at the same scale as p.
    let hp = 0;
    for (const part of parts) hp += Math.exp(part.log[i]! - top) * part.f;
    const v = g > 0 ? ((lp[i]! - lq[i]!) * pi - hp) / g : 0;
    s += v;
    s2 += v * v;
  }
  const mean = s / draws;
  const base = parts.reduce((sum, part) => sum + part.weight * part.f, 0);
  return { value: base + mean, stderr: Math.sqrt(Math.max(0, s2 / draws - mean * mean) / draws) };
}

/** f = ln 2 + r log r + (1 − r) log(1 − r) from u = log p − log q: log r = −softplus(−u), log(1 − r) = −softplus(u). */
function integrand(u: number): number {
  const e = Math.exp(-Math.abs(u));
  const l = Math.log1p(e);
  const logR = u >= 0 ? -l : u - l;
  const log1mR = u >= 0 ? -u - l : -l;
  const r = u >= 0 ? 1 / (1 + e) : e / (1 + e);
  return Math.LN2 + r * logR + (1 - r) * log1mR;
}
