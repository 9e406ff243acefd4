import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { js, kl, type DivergenceResult } from '../src/divergence/index.js';
import { createGmm, type Gmm } from '../src/gmm/model.js';
import { createRng, type Rng } from '../src/math/rng.js';
import { klSaddleReference, saddleReference } from './saddle-reference.js';

/**
 * The default method's error bars on pairs built to be awkward, none of them tuned for:
 * fourteen families (drifted, unrelated, a tiny narrow far component on either side,
 * near-singular covariances, means at 1e6, K = 1 against 8 both ways, q narrower or broader
 * than p, far apart, identical, one mode moved far away, only the weights changed) at
 * d = 2, 3, 4, 6, 8, 12, 16, KL and JS, one seed each.
 * Each estimate is compared with the seed's plain Monte Carlo at 10^6 draws: |z| is the
 * distance in combined standard errors, and the issue asks for every one within 4. Also
 * checked: the standard error within max(1% of the value, 1e-3). KLAXON_BENCH_ACCURACY_SEED
 * picks another family of pairs.
 */

const REFERENCE_DRAWS = 1_000_000;
const DIMENSIONS = [2, 3, 4, 6, 8, 12, 16];

/** A random SPD matrix with eigenvalues log-uniform in [lo, hi] and random eigenvectors. */
function spd(rng: Rng, d: number, lo: number, hi: number): Float64Array {
  const Q = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const v = Array.from({ length: d }, () => rng.normal());
    for (let k = 0; k < j; k++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += v[i]! * Q[i * d + k]!;
      for (let i = 0; i < d; i++) v[i] = v[i]! - s * Q[i * d + k]!;
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < d; i++) Q[i * d + j] = v[i]! / norm;
  }
  const ev = Array.from({ length: d }, () => Math.exp(Math.log(lo) + rng.uniform() * (Math.log(hi) - Math.log(lo))));
  const C = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += Q[i * d + k]! * ev[k]! * Q[j * d + k]!;
      C[i * d + j] = s;
      C[j * d + i] = s;
    }
  }
  return C;
}

interface Shape {
  spread?: number;
  lo?: number;
  hi?: number;
  offset?: number;
  /** The last component: weight 1e-3, variance 1e-4, ~12 sds from the origin. */
  tiny?: boolean;
}

function mixture(rng: Rng, k: number, d: number, o: Shape = {}): Gmm {
  const { spread = 3, lo = 0.3, hi = 2, offset = 0, tiny = false } = o;
  const means = Float64Array.from({ length: k * d }, () => offset + spread * rng.normal());
  const covariances = new Float64Array(k * d * d);
  for (let c = 0; c < k; c++) covariances.set(spd(rng, d, lo, hi), c * d * d);
  let weights = Array.from({ length: k }, () => 0.2 + rng.uniform());
  if (tiny && k > 1) {
    const rest = weights.slice(0, -1).reduce((a, b) => a + b, 0);
    weights = [...weights.slice(0, -1).map((w) => (w / rest) * 0.999), 0.001];
    for (let a = 0; a < d; a++) means[(k - 1) * d + a] = offset + 12 + rng.normal();
    covariances.set(spd(rng, d, 1e-4, 1.01e-4), (k - 1) * d * d);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  return createGmm({ k, d, weights: weights.map((w) => w / total), means, covariances, covarianceType: 'full' });
}

/** p with its means moved ~N(0, shift²), covariances × scale, weights perturbed. */
function drift(rng: Rng, p: Gmm, shift: number, scale = 1.1): Gmm {
  const means = Float64Array.from(p.means, (m) => m + shift * rng.normal());
  const weights = Array.from(p.weights, (w) => w * (0.7 + 0.6 * rng.uniform()));
  const total = weights.reduce((a, b) => a + b, 0);
  return createGmm({
    k: p.k,
    d: p.d,
    weights: weights.map((w) => w / total),
    means,
    covariances: Float64Array.from(p.covariances, (c) => c * scale),
    covarianceType: 'full',
  });
}

/** p with its last component moved `distance` units in a random direction: the rest kept (twins, bridges.ts). */
function moveLast(rng: Rng, p: Gmm, distance: number): Gmm {
  const d = p.d;
  const direction = Array.from({ length: d }, () => rng.normal());
  const norm = Math.hypot(...direction);
  const means = Float64Array.from(p.means);
  for (let a = 0; a < d; a++) means[(p.k - 1) * d + a] = means[(p.k - 1) * d + a]! + (distance * direction[a]!) / norm;
  return createGmm({ k: p.k, d, weights: p.weights, means, covariances: p.covariances, covarianceType: 'full' });
}

/** p with only its weights changed (×0.5–1.5, renormalised): every component kept. */
function reweight(rng: Rng, p: Gmm): Gmm {
  const weights = Array.from(p.weights, (w) => w * (0.5 + rng.uniform()));
  const total = weights.reduce((a, b) => a + b, 0);
  return createGmm({ k: p.k, d: p.d, weights: weights.map((w) => w / total), means: p.means, covariances: p.covariances, covarianceType: 'full' });
}

const k1to5 = (rng: Rng): number => 1 + Math.floor(rng.uniform() * 5);

const FAMILIES: [string, (rng: Rng, d: number) => [Gmm, Gmm]][] = [
  ['drifted', (rng, d) => { const p = mixture(rng, k1to5(rng), d); return [p, drift(rng, p, 0.3)]; }],
  ['unrelated', (rng, d) => [mixture(rng, k1to5(rng), d), mixture(rng, k1to5(rng), d)]],
  ['tiny in p', (rng, d) => { const p = mixture(rng, 3, d, { tiny: true }); return [p, drift(rng, p, 0.2)]; }],
  ['tiny in q', (rng, d) => { const q = mixture(rng, 3, d, { tiny: true }); return [drift(rng, q, 0.2), q]; }],
  ['near-singular', (rng, d) => { const p = mixture(rng, 3, d, { lo: 1e-6, hi: 1 }); return [p, drift(rng, p, 0.05, 1.05)]; }],
  ['means at 1e6', (rng, d) => { const p = mixture(rng, 3, d, { offset: 1e6 }); return [p, drift(rng, p, 0.3)]; }],
  ['K 1 vs 8', (rng, d) => [mixture(rng, 1, d, { spread: 0.5 }), mixture(rng, 8, d)]],
  ['K 8 vs 1', (rng, d) => [mixture(rng, 8, d), mixture(rng, 1, d, { spread: 0.5, lo: 2, hi: 6 })]],
  ['q narrower', (rng, d) => { const p = mixture(rng, 3, d); return [p, drift(rng, p, 0.1, 0.5)]; }],
  ['q broader', (rng, d) => { const p = mixture(rng, 3, d); return [p, drift(rng, p, 0.1, 3)]; }],
  ['far apart', (rng, d) => [mixture(rng, 2, d), mixture(rng, 2, d, { offset: 30 })]],
  ['identical', (rng, d) => { const p = mixture(rng, 3, d); return [p, p]; }],
  ['one mode moved', (rng, d) => { const p = mixture(rng, 3, d); return [p, moveLast(rng, p, 12)]; }],
  ['weights changed', (rng, d) => { const p = mixture(rng, 3, d, { spread: 6 }); return [p, reweight(rng, p)]; }],
];

const fmt = (x: number): string => (x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(6) : x.toExponential(3));

export async function benchAccuracy(log: (line: string) => void): Promise<void> {
  const seed = process.env.KLAXON_BENCH_ACCURACY_SEED ?? 'accuracy';
  log(`Default method against plain Monte Carlo (${REFERENCE_DRAWS.toExponential(0)} draws; bridged pairs: ${REFERENCE_DRAWS.toExponential(0)} importance-sampled through their saddles) on ${FAMILIES.length} families × d = ${DIMENSIONS.join(', ')}, KL and JS; pair seed "${seed}".`);
  log('|z|: distance in combined standard errors (the issue asks ≤ 4 for every estimate).');
  log('');
  log('| family | estimates | worst |z| | at | beyond 3 | beyond 4 | se over max(1%, 1e-3) |');
  log('|---|---:|---:|---|---:|---:|---:|');
  const histogram = [0, 0, 0, 0, 0];
  const beyond: string[] = [];
  let count = 0;
  let saddled = 0;
  for (const [family, make] of FAMILIES) {
    let worst = 0;
    let worstAt = '';
    let over3 = 0;
    let over4 = 0;
    let seOver = 0;
    for (const d of DIMENSIONS) {
      const [p, q] = make(createRng(`${seed}-${family}-${d}`), d);
      for (const [measure, f] of [['KL', kl], ['JS', js]] as const) {
        // Where the sampler gets bridges, plain Monte Carlo misses the saddles (saddle-reference.ts).
        const saddles = (measure === 'JS' ? saddleReference : klSaddleReference)(p, q, REFERENCE_DRAWS, `${seed}-ref`);
        if (saddles) saddled++;
        const ref = saddles ?? f(p, q, { method: 'monte-carlo', samples: REFERENCE_DRAWS, seed: `${seed}-ref` });
        const r: DivergenceResult = f(p, q, { seed: 1 });
        const combined = Math.hypot(r.stderr, ref.stderr);
        const z = combined > 0 ? Math.abs(r.value - ref.value) / combined : r.value === ref.value ? 0 : Infinity;
        histogram[Math.min(4, Math.floor(z))]!++;
        count++;
        if (z > 3) over3++;
        if (z > 4) {
          over4++;
          beyond.push(`${family}, d = ${d}, ${measure}: ${fmt(r.value)} ± ${r.stderr.toExponential(2)} against ${fmt(ref.value)} ± ${ref.stderr.toExponential(2)} (|z| ${z.toFixed(2)}, ${r.samples} points)`);
        }
        if (r.stderr > Math.max(0.01 * Math.abs(ref.value), 1e-3)) seOver++;
        if (z > worst) {
          worst = z;
          worstAt = `d = ${d} ${measure}`;
        }
      }
    }
    log(`| ${family} | ${2 * DIMENSIONS.length} | ${worst.toFixed(2)} | ${worstAt} | ${over3} | ${over4} | ${seOver} |`);
  }
  log('');
  log(`${count} estimates; |z| in [0,1), [1,2), [2,3), [3,4), ≥ 4: ${histogram.join(', ')}.`);
  log(`${saddled} estimates of bridged pairs (JS: nearly disjoint, twins aside; KL: every component of p a twin) against importance sampling through their saddles (bench/saddle-reference.ts) instead of plain Monte Carlo.`);
  log(beyond.length === 0 ? 'None beyond 4 combined standard errors.' : 'Beyond 4 combined standard errors:');
  for (const line of beyond) log(`  ${line}`);
}

// `node dist/bench/accuracy.js` runs this part alone.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  await benchAccuracy((line) => process.stdout.write(`${line}\n`));
}
