import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { js, kl, type DivergenceMethod, type DivergenceResult } from '../src/divergence/index.js';
import { gmmFromJson } from '../src/gmm/json.js';
import { createGmm, type Gmm } from '../src/gmm/model.js';
import { createRng } from '../src/math/rng.js';

/**
 * KL and JS by every method, on seeded pairs shaped like the seed answer's measurements and
 * on the shared fixture pairs, with the seed's plain Monte Carlo (10^5 draws) timed side by
 * side in the same run. Speed ratios are against scikit-learn's figures for the seed
 * (measured elsewhere, same kind of machine) and against our own plain Monte Carlo here;
 * the stderr ratio is ours over the plain Monte Carlo's. Times are medians of REPS runs or more
 * after a warm-up; wall time is what a caller waits, CPU time is less hurt by a busy machine.
 */

const REPS = 7;
const MC_REPS = 5;

/** The seed answer with scikit-learn 1.9 (ms, median of 5): KL, and JS with 10^5 draws per side. */
const SKLEARN_MS: Record<number, { kl: number; js: number }> = {
  1: { kl: 48, js: 78 },
  2: { kl: 59, js: 122 },
  4: { kl: 76, js: 151 },
  8: { kl: 106, js: 214 },
  16: { kl: 163, js: 305 },
};

/** Dimensions and component counts of the seed answer's measurements. */
const SHAPES = [
  { d: 1, k: 3 },
  { d: 2, k: 3 },
  { d: 4, k: 4 },
  { d: 8, k: 5 },
  { d: 16, k: 5 },
];

const METHODS: Exclude<DivergenceMethod, 'monte-carlo'>[] = ['auto', 'exact', 'quadrature', 'stratified', 'qmc', 'variational'];

export interface Pair {
  name: string;
  p: Gmm;
  q: Gmm;
}

/**
 * p: K random components, covariances AAᵀ/d + ½I, means ~N(0, s²) with s = 2.5·√(2/d) so
 * that components sit ~5 apart whatever d (they overlap: the integrand is not trivially
 * quadratic); q: p drifted a little (weights, means, covariances ×1.1).
 */
function syntheticPair(d: number, k: number, seed: string): Pair {
  const rng = createRng(seed);
  const covariances = new Float64Array(k * d * d);
  for (let c = 0; c < k; c++) {
    const A = Float64Array.from({ length: d * d }, () => rng.normal());
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let v = i === j ? 0.5 : 0;
        for (let m = 0; m < d; m++) v += (A[i * d + m]! * A[j * d + m]!) / d;
        covariances[c * d * d + i * d + j] = v;
      }
    }
  }
  const spread = 2.5 * Math.sqrt(2 / Math.max(d, 2));
  const means = Float64Array.from({ length: k * d }, () => spread * rng.normal());
  const raw = Array.from({ length: k }, () => 0.2 + rng.uniform());
  const sum = raw.reduce((a, b) => a + b, 0);
  const p = createGmm({ k, d, weights: raw.map((w) => w / sum), means, covariances, covarianceType: 'full' });
  const drift = Array.from(p.weights, (w) => w * (0.7 + 0.6 * rng.uniform()));
  const dsum = drift.reduce((a, b) => a + b, 0);
  const q = createGmm({
    k,
    d,
    weights: drift.map((w) => w / dsum),
    means: Float64Array.from(means, (m) => m + 0.3 * rng.normal()),
    covariances: Float64Array.from(covariances, (v) => v * 1.1),
    covarianceType: 'full',
  });
  return { name: `synthetic d=${d} K=${k}`, p, q };
}

/** One synthetic pair per shape of the seed's measurements (also timed against scikit-learn: bench/sklearn). */
export function syntheticPairs(): Pair[] {
  return SHAPES.map(({ d, k }) => syntheticPair(d, k, `bench-${d}-${k}`));
}

function fixturePairs(): Pair[] {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [
    resolve(process.cwd(), '../shared/fixtures/gmm-pairs.json'),
    resolve(here, '../../shared/fixtures/gmm-pairs.json'),
    resolve(here, '../../../shared/fixtures/gmm-pairs.json'),
  ];
  const path = candidates.find((c) => existsSync(c));
  if (!path) return [];
  const json = JSON.parse(readFileSync(path, 'utf8')) as { cases: { name: string; p: unknown; q: unknown }[] };
  return json.cases.map((c) => ({ name: c.name, p: gmmFromJson(c.p), q: gmmFromJson(c.q) }));
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : 0.5 * (s[s.length / 2 - 1]! + s[s.length / 2]!);
};

interface Timing {
  result: DivergenceResult;
  wall: number;
  cpu: number;
  stderr: number;
}

/** Timed runs go on past `reps` until they add up to this much, up to MAX_REPS. */
const MIN_TIMED_MS = 20;
const MAX_REPS = 201;

/**
 * Warm-up (at least 3 runs and 30 ms, so the JIT has compiled the hot loops, as in a
 * long-running monitor), then at least `reps` timed runs with seeds 1, 2, …: more for
 * estimates of tens of µs, where seven timings on a shared machine make a wobbly median. The
 * stderr reported is their median. The wall clock is read inside the CPU clock's readings:
 * a process.cpuUsage() call costs a few µs, which is not the estimate's time.
 */
function time(run: (seed: number) => DivergenceResult, reps: number): Timing {
  const warm = performance.now();
  for (let i = 0; i < 3 || (performance.now() - warm < 30 && i < 200); i++) run(-1 - i);
  const wall: number[] = [];
  const cpu: number[] = [];
  const se: number[] = [];
  let result: DivergenceResult | undefined;
  let spent = 0;
  for (let s = 1; s <= reps || (spent < MIN_TIMED_MS && s <= MAX_REPS); s++) {
    const c0 = cpuMs();
    const w0 = performance.now();
    result = run(s);
    const w1 = performance.now();
    cpu.push(cpuMs() - c0);
    wall.push(w1 - w0);
    spent += w1 - w0;
    se.push(result.stderr);
  }
  return { result: result!, wall: median(wall), cpu: median(cpu), stderr: median(se) };
}

const fmt = (x: number, digits = 3): string => {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e5 ? x.toPrecision(digits) : x.toExponential(digits - 1);
};

const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);

export async function benchDivergence(log: (line: string) => void): Promise<void> {
  const pairs = [...syntheticPairs(), ...fixturePairs()];
  log(`Divergences: median of ${REPS} runs (plain Monte Carlo: ${MC_REPS}; more, up to ${MAX_REPS}, until ${MIN_TIMED_MS} ms are timed) after a warm-up, seeds 1…n.`);
  log('×sklearn: the seed answer measured with scikit-learn (ms above); ×MC: our plain Monte Carlo, 10^5 draws,');
  log('timed here in the same run; se/MC: our standard error over the plain Monte Carlo one (≤ 1 is at least as accurate).');
  log('');
  const header =
    `${pad('pair', 24)} ${lpad('d', 2)} ${pad('K', 5)} ${pad('', 2)} ${pad('method', 11)} ${lpad('value', 11)} ${lpad('stderr', 9)} ` +
    `${lpad('wall ms', 9)} ${lpad('cpu ms', 9)} ${lpad('×sklearn', 9)} ${lpad('×MC', 8)} ${lpad('se/MC', 7)} ${lpad('samples', 8)}`;
  log(header);
  log('-'.repeat(header.length));
  const summary: string[] = [];
  for (const pair of pairs) {
    const { p, q } = pair;
    const d = p.d;
    const seedMs = SKLEARN_MS[d];
    for (const measure of ['kl', 'js'] as const) {
      const f = measure === 'kl' ? kl : js;
      const mc = time((seed) => f(p, q, { method: 'monte-carlo', seed }), MC_REPS);
      const rows: [string, Timing][] = [['monte-carlo', mc]];
      for (const method of METHODS) {
        if (method === 'quadrature' && d !== 1) continue;
        if (method === 'exact' && (measure === 'js' || p.k > 1 || q.k > 1)) continue;
        rows.push([method, time((seed) => f(p, q, { method, seed }), REPS)]);
      }
      for (const [method, t] of rows) {
        const vsSeed = seedMs ? seedMs[measure] / t.wall : NaN;
        const vsMc = mc.wall / t.wall;
        const seRatio = mc.stderr > 0 ? t.stderr / mc.stderr : NaN;
        log(
          `${pad(pair.name, 24)} ${lpad(String(d), 2)} ${pad(`${p.k}/${q.k}`, 5)} ${pad(measure.toUpperCase(), 2)} ${pad(method === 'auto' ? `auto:${t.result.method}` : method, 11).slice(0, 11)} ` +
            `${lpad(fmt(t.result.value, 6), 11)} ${lpad(fmt(t.stderr, 2), 9)} ${lpad(fmt(t.wall), 9)} ${lpad(fmt(t.cpu), 9)} ` +
            `${lpad(Number.isFinite(vsSeed) ? fmt(vsSeed) : '-', 9)} ${lpad(fmt(vsMc), 8)} ${lpad(Number.isFinite(seRatio) ? fmt(seRatio, 2) : '-', 7)} ${lpad(String(t.result.samples), 8)}`,
        );
        if (method === 'auto' && pair.name.startsWith('synthetic')) {
          summary.push(
            `d=${d} ${measure.toUpperCase()}: auto (${t.result.method}) ${fmt(t.wall)} ms wall / ${fmt(t.cpu)} ms cpu; ` +
              `×sklearn ${fmt(vsSeed)}, ×MC ${fmt(vsMc)} (cpu ×${fmt(mc.cpu / t.cpu)}), se/MC ${Number.isFinite(seRatio) ? fmt(seRatio, 2) : '-'}`,
          );
        }
      }
    }
  }
  log('');
  log('Summary (synthetic pairs shaped like the seed measurements, default method):');
  for (const line of summary) log(`  ${line}`);
}

// `node dist/bench/divergence.js` runs this part alone.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  await benchDivergence((line) => process.stdout.write(`${line}\n`));
}
