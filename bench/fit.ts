import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createPassWork, createStats, expectation } from '../src/gmm/estep.js';
import { fitGmm } from '../src/gmm/fit.js';
import { createGmm, type CovarianceType, type Gmm } from '../src/gmm/model.js';
import { createMStepWork, estimateGaussianParameters } from '../src/gmm/mstep.js';
import { sample } from '../src/gmm/sample.js';
import { createRng } from '../src/math/rng.js';

/**
 * EM fit against scikit-learn: our one-initialisation fit and one EM iteration, median of
 * RUNS after WARMUP, on every case of ../shared/fixtures/fit-cases.json, beside the fixture's
 * scikit-learn fit time (one initialisation, measured when the fixtures were made) and the
 * seed's per-iteration figures; and how close our best of 10 starts gets to scikit-learn's.
 */

const WARMUP = 2;
const RUNS = 7;

interface Case {
  name: string;
  components: number;
  covarianceType: CovarianceType;
  X: Float64Array;
  n: number;
  d: number;
  sklearnFitMs?: number;
  sklearnBestLogLik?: number;
}

/** The seed's scikit-learn time for one EM iteration, by shape (DESIGN.md). */
const SEED_ITERATION_MS: Record<string, number> = { '2:4:10000': 5, '6:4:20000': 13, '8:5:20000': 47 };

/** ../shared/fixtures/fit-cases.json from the repo root, whether this runs from bench/ or dist/bench/. */
function findFixture(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'shared', 'fixtures', 'fit-cases.json');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function fixtureCases(path: string): Case[] {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as {
    cases: Array<{
      name: string;
      components: number;
      covariance_type: CovarianceType;
      data: number[][];
      sklearn_fit_ms_n_init_1: number;
      sklearn_mean_loglik_train: number;
    }>;
  };
  return raw.cases.map((c) => ({
    name: c.name,
    components: c.components,
    covarianceType: c.covariance_type,
    X: Float64Array.from(c.data.flat()),
    n: c.data.length,
    d: c.data[0]!.length,
    sklearnFitMs: c.sklearn_fit_ms_n_init_1,
    sklearnBestLogLik: c.sklearn_mean_loglik_train,
  }));
}

/** Without the fixtures: seeded samples of random mixtures in the seed's three shapes. */
function syntheticCases(): Case[] {
  return [
    [2, 4, 10_000],
    [6, 4, 20_000],
    [8, 5, 20_000],
  ].map(([d, k, n]) => {
    const rng = createRng(`bench-fit-${d}-${k}`);
    const covariances = new Float64Array(k! * d! * d!);
    for (let c = 0; c < k!; c++) for (let a = 0; a < d!; a++) covariances[c * d! * d! + a * d! + a] = 0.5 + rng.uniform();
    const truth = createGmm({
      k: k!,
      d: d!,
      weights: Array.from({ length: k! }, () => 1 / k!),
      means: Array.from({ length: k! * d! }, () => 4 * rng.normal()),
      covariances,
      covarianceType: 'full',
    });
    return { name: `synthetic-${d}d-k${k}`, components: k!, covarianceType: 'full', X: sample(truth, n!, rng).X, n: n!, d: d! };
  });
}

/** Median wall and CPU milliseconds of RUNS calls after WARMUP. CPU time shows what a loaded machine hides. */
function median(f: () => void): { wall: number; cpu: number } {
  for (let i = 0; i < WARMUP; i++) f();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const mid = (v: number[]): number => v.sort((a, b) => a - b)[RUNS >> 1]!;
  return { wall: mid(wall), cpu: mid(cpu) };
}

/** One EM iteration from `g`: the fused E-step pass and the M-step, as the fit runs them. */
function iterationMs(g: Gmm, c: Case): number {
  const diagonal = c.covarianceType === 'diag' || c.covarianceType === 'spherical';
  const stats = createStats(g.k, c.d, diagonal);
  const pass = createPassWork(g.k, c.d, diagonal);
  const mstep = createMStepWork(g.k, c.d);
  return median(() => {
    expectation(g, c.X, c.n, stats, pass);
    createGmm(estimateGaussianParameters(stats, c.covarianceType, 1e-6, mstep));
  }).wall;
}

function fmt(v: number | undefined, digits: number): string {
  return v === undefined ? '—' : v.toFixed(digits);
}

export async function benchFit(log: (line: string) => void): Promise<void> {
  const fixture = findFixture();
  const cases = fixture ? fixtureCases(fixture) : syntheticCases();
  log(
    fixture
      ? `EM fit on ${fixture}; median of ${RUNS} runs after ${WARMUP} warm-up; scikit-learn times are the fixture's (another machine, another moment)`
      : 'EM fit on seeded synthetic data (../shared/fixtures not found): no scikit-learn figures to compare with',
  );
  const load = loadavg()[0]!;
  log(`load average ${load.toFixed(1)} on ${availableParallelism()} cores${load > 1 ? ': other work shares the CPU and inflates wall times (see CPU ms)' : ''}`);
  log('');
  log('| case | n | d | K | type | ours ms (n_init=1) | ours CPU ms | sklearn ms (n_init=1) | × faster | EM iters | ours ms/iteration | seed ms/iteration | × faster | loglik − sklearn best (n_init=10) |');
  log('|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of cases) {
    const opts = { components: c.components, covarianceType: c.covarianceType, seed: 0 };
    let fit = fitGmm(c.X, c.n, c.d, opts);
    const { wall: fitMs, cpu: fitCpuMs } = median(() => {
      fit = fitGmm(c.X, c.n, c.d, opts);
    });
    const iterMs = iterationMs(fit.model, c);
    const seedIterMs = SEED_ITERATION_MS[`${c.d}:${c.components}:${c.n}`];
    const best = fitGmm(c.X, c.n, c.d, { ...opts, nInit: 10 });
    const gap = c.sklearnBestLogLik === undefined ? undefined : best.meanLogLik - c.sklearnBestLogLik;
    log(
      `| ${c.name} | ${c.n} | ${c.d} | ${c.components} | ${c.covarianceType} | ${fmt(fitMs, 1)} | ${fmt(fitCpuMs, 1)} | ${fmt(c.sklearnFitMs, 1)} | ` +
        `${fmt(c.sklearnFitMs === undefined ? undefined : c.sklearnFitMs / fitMs, 1)} | ${fit.iterations} | ${fmt(iterMs, 2)} | ` +
        `${fmt(seedIterMs, 0)} | ${fmt(seedIterMs === undefined ? undefined : seedIterMs / iterMs, 1)} | ${gap === undefined ? '—' : (gap >= 0 ? '+' : '') + gap.toFixed(4)} |`,
    );
    // Yield between cases so a caller's event loop (and its logging) keeps up.
    await new Promise((resolve) => setImmediate(resolve));
  }
  log('');
  log('EM iters: M-steps in the returned model (the fit also runs k-means and EM on a subsample to start).');
}

// `node dist/bench/fit.js` runs this part alone.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchFit((line) => process.stdout.write(`${line}\n`));
}
