import type { Gmm } from '../gmm/model.js';
import { Arena } from '../math/arena.js';
import { createRng, type Rng, type Seed } from '../math/rng.js';
import { ScrambledSobol, SOBOL_MAX_DIMENSION } from '../math/sobol.js';
import { symmetricEigen } from '../math/symmetric-eigen.js';
import { crossProducts } from '../math/wasm.js';
import { featureCount, StratumKernel, targets, type Integrand, type Targets } from './kernel.js';
import { CHUNK, scratchFor, type Scratch } from './scratch.js';
import { ControlWorkspace, solveControls } from './controls.js';
import { bridges } from './bridges.js';
import { componentKl } from './exact.js';
import { DivergenceError, type DivergenceResult } from './types.js';

/**
 * Variance-reduced sampling of KL and JS between mixtures.
 *
 * - Strata: KL(p‖q) = Σ_c w_c E_{N_c}[log p − log q], one stratum per component of p. JS is
 *   E_m[ln 2 + r log r + (1 − r) log(1 − r)], r = p/(p + q), one stratum per component of
 *   m = ½(p + q); that integrand is bounded, unlike the seed's log p − log m under p. After
 *   the pilot, each JS stratum takes only its share of every point (assembly/samplers.ts,
 *   jsStage), so that an overlap rare under one component is left to the component it is
 *   common under.
 * - KL's matched term: each component of p is paired with one of q, and the strata integrate
 *   log p − log q less Σ_k γ_k (log w_k N_k − log w_π(k) N_π(k)) (γ: p's posterior weights),
 *   whose mean under p is known in closed form and is added back. Where q's components
 *   mirror p's, what is left is nearly zero through the overlaps too; the pilot decides
 *   whether it helps (`chooseMatched`).
 * - Control variates: within a stratum every component's Mahalanobis term m_t is a quadratic
 *   in z with a known mean; the integrand is nearly a linear combination of them wherever one
 *   component dominates each mixture. Each randomisation's estimate uses β fitted on the
 *   other folds of randomisations (see FOLDS), so fitting β to noise cannot shorten the error
 *   bar.
 * - Directions: after a pilot, each stratum's coordinates are turned so that the directions in
 *   which the control-variate residual varies (eigenvectors of E[∇r ∇rᵀ]) come first, and the
 *   sampling density is widened along them (importance weights, with the weight itself as one
 *   more control): the rare points where the residual is large — transitions towards other
 *   components, a few sds out — are then seen often enough for the error bar to know them.
 * - Points: i.i.d. normals (`stratified`), or scrambled Sobol' points through Φ⁻¹ (`qmc`),
 *   R independent randomisations per stratum; the error bar is their spread, honest for QMC.
 * - Sizes: the pilot (set aside afterwards: sizes chosen from its own points would bias it)
 *   gives Neyman allocations n_s ∝ W_s σ_s, a fifth of the points going in proportion to the
 *   weights instead (see DEFENSIVE); a first round spends a fraction of what it
 *   predicts, later rounds are planned from the points so far to land under the target, so the
 *   run rarely stops on a standard error that merely dipped below it.
 */

export interface SamplerSettings {
  points: 'iid' | 'sobol';
  /** Independent randomisations per stratum (≥ 2). */
  replicates: number;
  /** Points per randomisation per stratum in the first round. */
  pilot: number;
  seed: Seed;
  /** Fixed total points (pilot, then one Neyman-allocated round); replaces the target. */
  samples?: number;
  /** Absolute standard error to reach; undefined: the default rule (see DivergenceOptions). */
  targetStderr?: number;
  budgetMs?: number;
  now?: () => number;
  /** Never evaluate more points than this in total. */
  maxSamples: number;
}

/** The seed answer's sample size, which the default accuracy target matches. */
export const SEED_SAMPLES = 100_000;
/**
 * Randomisations are dealt into this many folds (r mod FOLDS); each is corrected with β fitted
 * on the other folds. Leaving out one randomisation instead (16 folds) fitted β on 15/16 of
 * the points rather than 3/4, but paid 17 solves per stratum and round: at d = 8 ~12% of an
 * estimate's time, more than the slightly noisier β costs.
 */
const FOLDS = 4;
/** Fewer pooled points than this many per control and the regression is skipped. */
const POINTS_PER_CONTROL = 4;
/**
 * The same in the pilot, whose β (fitted on all its points, which are then set aside) only
 * turns the coordinates and sizes the first round. With the pilot at 2 points per
 * randomisation, 4 per control left β at 0 for 9 controls or more, and the first round sized
 * from the raw spread overshot: 4d-different-k KL took 1.7× the points.
 */
const PILOT_POINTS_PER_CONTROL = 2;
/**
 * The control-variate fit uses a stratum's first points up to this many per control (and at
 * least FIT_MIN): enough for β to be near its optimum, after which the O(t²) per-point
 * cross-products stop being accumulated.
 */
const FIT_PER_CONTROL = 32;
const FIT_MIN = 384;
/**
 * Sizes grow in multiples of this (Sobol' prefixes need not be powers of two to be unbiased).
 * Every step is paid R times per stratum, so a coarse one overshoots small targets: 8 cost
 * 8–14% more points than 4 on the low-d JS bench pairs, and 4 cost 2% more than 1 over the
 * d ≥ 2 fixtures (60 seeds each; 1.5% on 4d-different-k JS), for no gain in error bar honesty
 * (the accuracy bench's 196 estimates: none beyond 4 standard errors either way).
 */
const STEP = 1;
/**
 * Smallest main-phase size per randomisation and stratum. Where the pilot predicts a loose
 * target is met at once, the estimate stops at this size, and with 4 points a randomisation
 * the error bar of a stratum with a rare transition in it was heavy-tailed: a 3-component
 * mixture against itself with one component moved 12 units away (d = 6) had 3 of 60 JS
 * estimates beyond 4 standard errors (z sd 1.41, mean +0.66); with 8, none (sd 1.01, mean
 * +0.21). On the bench pairs 8 costs 0.83–1.09× the points, except 2d-full-shift JS (1.67×,
 * 576 → 960 points): a larger first round often saves a second.
 */
const MIN_MAIN = 8;
/**
 * The same with KL's matched term, whose residual is small but skewed: a few points where
 * the pairing is imperfect carry it, and with 4 points per randomisation the error bar missed
 * some. Over 200 seeds on each synthetic pair (d = 2…16), estimates beyond 3 and 4 standard
 * errors of a tight reference: 13 and 2 of 800 with 4; 9 and 1 with 12 (a t with 15 degrees
 * of freedom expects ~7 and ~1), for up to 20% more points.
 */
const MIN_MAIN_MATCHED = 12;
/**
 * The same with bridges (JS between nearly disjoint mixtures). The strata's spreads there come
 * from rare points: with 4 points per randomisation a first round's error bar could be 10⁴
 * times too large, and the round planned from it took up to 2·10⁶ points. With 16, the three
 * such pairs tried (d = 12, 16) took ~4,600–4,900 points, and 0 of 280 estimates landed
 * beyond 3 standard errors of references importance-sampled through the saddles.
 */
const MIN_MAIN_BRIDGED = 16;
/** The first main round's share of the pilot's Monte Carlo-rate prediction. */
const FIRST_ROUND = 0.1;
/**
 * Later rounds aim this far below the target, so the last one lands under it with room. The
 * planned rate below already errs low at small d, so the room need not be large: 0.9 left
 * the bench pairs' final standard errors at 0.75–0.8 of the target on average.
 */
const PLAN_MARGIN = 0.95;
const MAX_ROUNDS = 6;
/**
 * The variance decay exponent later rounds are planned with: 1 is Monte Carlo's; scrambled
 * Sobol' points with control variates showed 1.5–1.9 on the fixture pairs between rounds
 * (about 2 at d = 2, 1.2–1.5 at d = 8 on the bench pairs). Too optimistic a guess costs one
 * more (small) round, never accuracy; too pessimistic a one overshoots the target.
 */
const PLANNED_RATE = 1.6;
/**
 * Widening: the sampling sd along direction j is λ_j = √(1 + WIDEN·share_j), share_j that
 * direction's part of the residual's gradient energy. The rare points where the residual is
 * large (transitions towards other components, a few sds out) then come often enough for the
 * error bar to see them, while Π λ_j — so the importance weights' spread — stays bounded in d.
 * Points needed for the default target (median of 25 seeds; KL and JS on four d = 4…8 pairs)
 * against WIDEN = 4: 0 needs 0.94–1.43×, 1 0.74–1.04×, 2 0.80–0.96×, 3 0.86–1.01×, 8 1.2–1.57×.
 */
const WIDEN = 2;
/**
 * The share of the points allocated in proportion to the strata's weights; the rest goes by
 * Neyman (weight × spread). Neyman alone trusts the spreads seen so far, and a stratum whose
 * pilot missed a rare region looks nearly constant and starves: on nearly disjoint pairs in
 * d = 12–16 such strata kept their estimates short, with error bars too small to show it.
 */
const DEFENSIVE = 0.2;
/** Pilot points whose gradients choose a stratum's directions. */
const GRADIENT_POINTS = 36;

/**
 * The arrays that live as long as one estimate, from one buffer reset as the next starts
 * (estimates run one at a time): see Arena.
 */
const arena = new Arena();

interface Sums {
  n: number;
  sf: number;
  sh: Float64Array;
  shh: Float64Array;
  shf: Float64Array;
}

const sums = (t: number): Sums => ({ n: 0, sf: 0, sh: arena.float64(t), shh: arena.float64(t * t), shf: arena.float64(t) });

/**
 * `summarise`'s scratch: every entry is written before it is read, and strata are summarised
 * one at a time, so one serves all of an estimate's strata (they share t and R).
 */
interface Work {
  all: Sums;
  out: Sums;
  reps: Float64Array;
  beta: Float64Array;
  ws: ControlWorkspace;
}

class Stratum {
  /** Points per randomisation so far. */
  n = 0;
  readonly sumF: Float64Array;
  readonly sumH: Float64Array;
  /** f is accumulated relative to its first value, to keep the sums of squares exact. */
  f0 = NaN;
  sf = 0;
  /**
   * Control-variate fit sums, per fold (randomisation r is in fold r mod FOLDS): Σf, Σh, the
   * upper triangle of Σhhᵀ (t×t row-major) and Σhf over the first points of each randomisation
   * (`fitted` of them).
   */
  readonly folds: Sums[];
  readonly fitted: Int32Array;
  /** The pilot's β from every randomisation's fit points (for finding directions, not for the estimate). */
  readonly beta: Float64Array;
  /** Per randomisation, β fitted on the fit points of the other folds (R×t; see FOLDS). */
  readonly betaOut: Float64Array;
  /** Whether fit points came in since the β were last solved (they stop once `fitLimit` is reached). */
  fitChanged = true;
  /**
   * Until `restart`: the pilot's estimate is set aside and its error bar only plans sizes, so
   * one β from all its points serves every randomisation (R fewer solves).
   */
  inPilot = true;
  /** Scratch for `summarise`, shared by the estimate's strata (see Work). */
  readonly work: Work;
  /** Mean and the variance of that mean, after control variates. */
  mean = 0;
  variance = 0;
  /** The seed's integrand: running sums (relative to its first value), mean and per-point variance. */
  g0 = NaN;
  sg = 0;
  sgg = 0;
  /** Points behind sg and sgg: pilot included, as `restart` keeps them. */
  sgCount = 0;
  /**
   * With bridges: running sums of the point's shares of the seed's first moments (JS: of
   * E_p[log r] and E_q[log(1 − r)], about ln 2; KL: of E_p[f], and 0); its second moments are
   * what sg sums then.
   */
  sa = 0;
  sb = 0;
  rawMean = 0;
  rawVariance = 0;
  readonly streams: PointStream[];
  /** Pilot points kept to find the directions the integrand varies in (undefined once used). */
  pilot: Float64Array | undefined;
  pilotCount = 0;
  /** Fit points per randomisation. */
  readonly fitLimit: number;
  /** Pilot sums of the integrand f and of f less the matched term (KL): n, Σf, Σf², Σy, Σy². */
  readonly pilotSums = new Float64Array(5);
  /** The stratum's weight in the defensive share of the allocation (a bridge's: its saddle's mass). */
  allocationWeight: number;

  constructor(
    readonly weight: number,
    /** Which mixture's component the stratum is ('b': a JS bridge, outside the seed comparison). */
    readonly side: 'p' | 'q' | 'b',
    readonly kernel: StratumKernel,
    readonly t: number,
    replicates: number,
    makeStreams: (n: number) => PointStream[],
    work: Work,
  ) {
    this.sumF = arena.float64(replicates);
    this.sumH = arena.float64(replicates * t);
    this.allocationWeight = weight;
    this.fitted = new Int32Array(replicates);
    this.streams = makeStreams(replicates);
    this.fitLimit = Math.ceil(Math.max(FIT_MIN, FIT_PER_CONTROL * t) / replicates);
    this.beta = arena.float64(t);
    this.betaOut = arena.float64(replicates * t);
    this.folds = Array.from({ length: Math.min(FOLDS, replicates) }, () => sums(t));
    this.work = work;
  }

  /**
   * Forgets every point for the estimate (the seed-comparison sums stay) and starts fresh
   * randomisations: what the pilot taught (β, directions, sizes) must not weigh its own data.
   */
  restart(): void {
    this.n = 0;
    for (const a of [this.sumF, this.sumH, this.fitted]) a.fill(0);
    for (const fold of this.folds) clearSums(fold);
    for (const stream of this.streams) stream.rerandomise();
    this.fitChanged = true;
    this.inPilot = false;
  }
}

/**
 * Extends every randomisation of s to `to` points. Small extensions of several randomisations
 * share one kernel call (a round often adds only a few points to each of 16 of them, and a
 * call per randomisation paid its set-up every few points).
 */
function grow(s: Stratum, to: number, d: number, scratch: Scratch): void {
  const R = s.streams.length;
  const need = to - s.n;
  if (need > 0) {
    const { Z } = scratch;
    const perCall = Math.max(1, Math.floor(CHUNK / need));
    for (let r0 = 0; r0 < R; r0 += perCall) {
      const r1 = Math.min(R, r0 + perCall);
      for (let done = 0; done < need; ) {
        const k = Math.min(CHUNK, need - done);
        for (let r = r0; r < r1; r++) s.streams[r]!.nextNormals(k, Z, (r - r0) * k);
        const n = (r1 - r0) * k;
        // The matched term per point is only read while the pilot weighs it (absorb).
        s.kernel.evaluate(n, scratch, s.inPilot);
        if (s.pilot && s.pilotCount < s.pilot.length / d) {
          const keep = Math.min(n, s.pilot.length / d - s.pilotCount);
          s.pilot.set(Z.subarray(0, keep * d), s.pilotCount * d);
          s.pilotCount += keep;
        }
        for (let r = r0; r < r1; r++) absorb(s, r, (r - r0) * k, k, scratch);
        done += k;
      }
    }
  }
  s.n = to;
  summarise(s);
}

/** Adds k evaluated points, from row `from` of the scratch, to randomisation r's sums. */
function absorb(s: Stratum, r: number, from: number, k: number, scratch: Scratch): void {
  const { t, sumH } = s;
  const { f, H, plain, weight } = scratch;
  if (Number.isNaN(s.f0)) {
    s.f0 = f[from]!;
    s.g0 = plain[from]!;
  }
  if (s.inPilot && s.kernel.matched !== null) {
    const ps = s.pilotSums;
    for (let i = from; i < from + k; i++) {
      const y = f[i]! - scratch.matched[i]!;
      ps[0] = ps[0]! + 1;
      ps[1] = ps[1]! + f[i]!;
      ps[2] = ps[2]! + f[i]! * f[i]!;
      ps[3] = ps[3]! + y;
      ps[4] = ps[4]! + y * y;
    }
  }
  const fit = Math.max(0, Math.min(k, s.fitLimit - s.fitted[r]!));
  s.fitted[r] = s.fitted[r]! + fit;
  if (fit > 0) s.fitChanged = true;
  const o1 = r * t;
  const fold = s.folds[r % s.folds.length]!;
  const { sh, shh, shf } = fold;
  fold.n += fit;
  // Running sums in locals, written back once.
  const { f0, g0 } = s;
  let fr = 0;
  let sg = s.sg;
  let sgg = s.sgg;
  for (let i = from; i < from + k; i++) {
    const gi = plain[i]! - g0;
    sg += weight[i]! * gi;
    sgg += weight[i]! * gi * gi;
    fr += f[i]! - f0;
  }
  // Column by column: each sum is loaded and stored once per call, not once per point.
  for (let a = 0; a < t; a++) {
    let v = 0;
    for (let i = from; i < from + k; i++) v += H[i * t + a]!;
    sumH[o1 + a] = sumH[o1 + a]! + v;
  }
  // The regression's cross-products (about 40% of a default JS estimate's points at d = 4 are
  // fit points, each adding t(t + 1)/2 products), in WebAssembly for this call's fit points,
  // then added to the fold's sums.
  if (fit > 0) {
    const acc = scratch.sums;
    fold.sf += crossProducts(H, f, from, fit, t, f0, acc);
    for (let a = 0; a < t; a++) {
      sh[a] = sh[a]! + acc[a]!;
      shf[a] = shf[a]! + acc[t + a]!;
      const row = a * t;
      const accRow = 2 * t + row;
      for (let b = a; b < t; b++) shh[row + b] = shh[row + b]! + acc[accRow + b]!;
    }
  }
  s.sg = sg;
  s.sgg = sgg;
  s.sgCount += k;
  if (s.kernel.bridged) {
    const { firsts } = scratch;
    for (let i = from; i < from + k; i++) {
      s.sa += weight[i]! * firsts[2 * i]!;
      s.sb += weight[i]! * firsts[2 * i + 1]!;
    }
  }
  s.sumF[r] = s.sumF[r]! + fr;
  s.sf += fr;
}

/**
 * Each randomisation's estimate uses β fitted on the other folds' randomisations only, so its
 * control-variate correction is independent of its own points: no optimism from fitting β
 * to the very noise it then removes, and the spread across randomisations stays honest.
 */
function summarise(s: Stratum): void {
  const R = s.streams.length;
  const t = s.t;
  if (s.fitChanged) solveBetas(s);
  const { reps } = s.work;
  const { betaOut } = s;
  let mean = 0;
  for (let r = 0; r < R; r++) {
    let v = s.sumF[r]!;
    for (let a = 0; a < t; a++) v -= betaOut[r * t + a]! * s.sumH[r * t + a]!;
    reps[r] = s.f0 + v / s.n;
    mean += reps[r]!;
  }
  mean /= R;
  let ss = 0;
  for (let r = 0; r < R; r++) ss += (reps[r]! - mean) ** 2;
  s.mean = mean;
  s.variance = ss / (R * (R - 1));
  const G = s.sgCount;
  s.rawMean = s.g0 + s.sg / G;
  s.rawVariance = G > 1 ? Math.max(0, s.sgg / G - (s.sg / G) ** 2) : 0;
}

function clearSums(x: Sums): void {
  x.n = 0;
  x.sf = 0;
  x.sh.fill(0);
  x.shh.fill(0);
  x.shf.fill(0);
}

/**
 * In the pilot, one β from all fit points, for every randomisation and for the directions;
 * after it, per fold from the other folds' points (FOLDS small solves: the pooled β has no
 * reader then).
 */
function solveBetas(s: Stratum): void {
  const R = s.streams.length;
  const t = s.t;
  const { folds } = s;
  const { all, out, beta, ws } = s.work;
  const F = folds.length;
  clearSums(all);
  for (const fold of folds) {
    all.n += fold.n;
    all.sf += fold.sf;
    for (let a = 0; a < t; a++) {
      all.sh[a] = all.sh[a]! + fold.sh[a]!;
      all.shf[a] = all.shf[a]! + fold.shf[a]!;
    }
    for (let a = 0; a < t * t; a++) all.shh[a] = all.shh[a]! + fold.shh[a]!;
  }
  const enough = (n: number): boolean => n >= (s.inPilot ? PILOT_POINTS_PER_CONTROL : POINTS_PER_CONTROL) * t;
  s.fitChanged = false;
  if (s.inPilot) {
    if (enough(all.n)) solveControls(t, all.n, all.sh, all.shh, all.shf, all.sf, s.beta, ws);
    else s.beta.fill(0);
    for (let r = 0; r < R; r++) s.betaOut.set(s.beta, r * t);
    return;
  }
  for (let f = 0; f < F; f++) {
    const fold = folds[f]!;
    for (let a = 0; a < t; a++) {
      out.sh[a] = all.sh[a]! - fold.sh[a]!;
      out.shf[a] = all.shf[a]! - fold.shf[a]!;
    }
    for (let a = 0; a < t * t; a++) out.shh[a] = all.shh[a]! - fold.shh[a]!;
    const n = all.n - fold.n;
    if (enough(n)) solveControls(t, n, out.sh, out.shh, out.shf, all.sf - fold.sf, beta, ws);
    else beta.fill(0);
    for (let r = f; r < R; r += F) s.betaOut.set(beta, r * t);
  }
}

interface Totals {
  value: number;
  variance: number;
  /** Standard error of the seed's estimator (10^5 plain draws per side) on this pair. */
  seedStderr: number;
}

/** The estimate so far, and the seed's standard error on the pair. */
function totals(strata: Stratum[], measure: 'kl' | 'js', shift = 0): Totals {
  let value = shift;
  let variance = 0;
  for (const s of strata) {
    value += s.weight * s.mean;
    variance += s.weight * s.weight * s.variance;
  }
  // With bridges: each stratum's seed integrands are its shares of the seed's moments (JS: of
  // log r and log(1 − r), about ln 2; KL: of f), the strata unweighted as in the balance
  // heuristic (kernel.ts, evaluate). JS once took the second moments for variances: near
  // enough for nearly disjoint pairs (JS ≈ ln 2), not with twins: two modes whose weights
  // changed have JS ≈ 0.02, and E_p[(log r)²] came out ~12 times Var_p[log r].
  if (strata.some((s) => s.side === 'b')) {
    let moments = 0;
    let a = 0;
    let b = 0;
    for (const s of strata) {
      moments += s.rawMean;
      a += s.sa / s.sgCount;
      b += s.sb / s.sgCount;
    }
    // KL: the seed draws 10^5 from p, and b is 0. JS: each side carries half, 10^5 draws each.
    const seedVar = (measure === 'kl' ? 1 : 0.25) * (moments - a * a - b * b);
    return { value, variance, seedStderr: Math.sqrt(Math.max(0, seedVar) / SEED_SAMPLES) };
  }
  const plain = { p: { w: 0, m: 0, v: 0 }, q: { w: 0, m: 0, v: 0 } };
  for (const s of strata) {
    if (s.side === 'b') continue;
    const side = plain[s.side];
    side.w += s.weight;
    side.m += s.weight * s.rawMean;
  }
  for (const s of strata) {
    if (s.side === 'b') continue;
    const side = plain[s.side];
    const mu = side.m / side.w;
    side.v += (s.weight / side.w) * (s.rawVariance + (s.rawMean - mu) ** 2);
  }
  // KL: one side, weights sum to 1. JS: each side carries half, and the seed draws 10^5 from each.
  const seedVar = plain.q.w > 0 ? 0.25 * (plain.p.v + plain.q.v) : plain.p.v;
  return { value, variance, seedStderr: Math.sqrt(seedVar / SEED_SAMPLES) };
}

/**
 * Below this (nats) a standard error means nothing to anyone, and nearly disjoint pairs —
 * JS a hair under ln 2, where the seed's own estimator has almost no spread — would
 * otherwise chase it to the sample cap.
 */
const TARGET_FLOOR = 1e-7;
/**
 * The relative rounding error of an estimate: a sum over strata of sums over points, each
 * exact to a few ulps, whose order differs from any reference's.
 */
const ROUNDING = 16 * Number.EPSILON;

/** The default accuracy target: the seed's precision, and 1% (or 1e-3 nats) at worst. */
export function defaultTarget(value: number, seedStderr: number): number {
  return Math.max(TARGET_FLOOR, Math.min(0.95 * Math.max(0.01 * Math.abs(value), 1e-3), 0.92 * seedStderr));
}

/** A stratum's share of the points: Neyman's, mixed with DEFENSIVE of the proportional one. */
function allocation(spread: number, spreadSum: number, weight: number): number {
  return spreadSum > 0 ? (1 - DEFENSIVE) * (spread / spreadSum) + DEFENSIVE * weight : weight;
}

const roundUp = (x: number): number => STEP * Math.ceil(Math.max(1, x) / STEP);

/**
 * Standard-normal points for one randomisation of a stratum: a ScrambledSobol itself (these
 * are its methods, so pooled ones need no wrapper), or the i.i.d. stream below.
 */
interface PointStream {
  /** The next n points, n×d row-major, into out from row `outRow`. */
  nextNormals(n: number, out: Float64Array, outRow: number): void;
  /** Forgets the points so far and continues as a fresh, independent randomisation. */
  rerandomise(): void;
}

/**
 * Sobol' randomisations kept from one estimate to the next and reseeded, per dimension: a JS
 * estimate on 4d-different-k takes 128, and constructing them (with their storage and
 * wrappers) was ~2.5% of its time.
 */
const sobolPools = new Map<number, ScrambledSobol[]>();

/** A stratum's randomisations, n of them: scrambled Sobol' streams from the pool, or i.i.d. */
function makeStreams(d: number, points: 'iid' | 'sobol', rng: Rng): (n: number) => PointStream[] {
  if (points === 'sobol') {
    let pool = sobolPools.get(d);
    if (!pool) sobolPools.set(d, (pool = []));
    let taken = 0;
    return (n) => {
      const out: PointStream[] = [];
      for (let r = 0; r < n; r++, taken++) {
        if (taken < pool.length) pool[taken]!.reseed(rng);
        else pool.push(new ScrambledSobol(d, rng));
        out.push(pool[taken]!);
      }
      return out;
    };
  }
  const iid: PointStream = {
    nextNormals(n, out, outRow) {
      for (let i = outRow * d; i < (outRow + n) * d; i++) out[i] = rng.normal();
    },
    rerandomise() {},
  };
  return (n) => Array.from({ length: n }, () => iid);
}

/**
 * Turns a stratum's coordinates so that the directions in which the control-variate residual
 * varies most (top eigenvectors of E[∇r ∇rᵀ] over the pilot) come first, where Sobol' points
 * are best spread.
 */
function rotate(s: Stratum, d: number, turn: boolean, scratch: Scratch): void {
  const pilot = s.pilot;
  s.pilot = undefined;
  if (!pilot || s.pilotCount === 0) return;
  const G = new Float64Array(d * d);
  s.kernel.gradientOuter(pilot, s.pilotCount, s.beta, G, scratch);
  let trace = 0;
  for (let a = 0; a < d; a++) trace += G[a * d + a]!;
  if (!(trace > 0) || !Number.isFinite(trace)) return;
  let Q: Float64Array | null = null;
  let energy: Float64Array;
  if (turn) {
    const e = symmetricEigen(G, d);
    Q = e.vectors;
    energy = e.values;
  } else {
    energy = Float64Array.from({ length: d }, (_, a) => G[a * d + a]!);
  }
  const scale = Float64Array.from(energy, (v) => Math.sqrt(1 + (WIDEN * Math.max(0, v)) / trace));
  s.kernel.rotate(Q, scale);
}

/**
 * KL: pairs each component of p with one of q — by smallest Gaussian KL, greedily, each of
 * q's used once while any is free — for the matched term (assembly/samplers.ts, `klStage`).
 */
function matchComponents(strata: Stratum[], tg: Targets): void {
  const { tp, tq } = tg;
  const pairs: { k: number; j: number; cost: number }[] = [];
  const gaussianKl = (k: number, j: number): number => componentKl(tg.source[k]!.g, tg.source[k]!.c, tg.source[j]!.g, tg.source[j]!.c);
  for (const s of strata) for (let j = tp; j < tq; j++) pairs.push({ k: s.kernel.ownTarget, j, cost: gaussianKl(s.kernel.ownTarget, j) });
  pairs.sort((a, b) => a.cost - b.cost);
  const matched = new Int32Array(tp).fill(-1);
  const taken = new Uint8Array(tq);
  for (const { k, j } of pairs) {
    if (matched[k]! < 0 && !taken[j]) {
      matched[k] = j;
      taken[j] = 1;
    }
  }
  // More components in p than in q: the rest take their nearest (pairs are sorted by cost).
  for (const { k, j } of pairs) if (matched[k]! < 0) matched[k] = j;
  for (const s of strata) s.kernel.matched = matched;
}

/**
 * KL: whether the strata integrate log p − log q less its matched term, whose mean under p
 * is known in closed form and is added back (`shift`). The pilot, which integrated f alone,
 * also summed both integrands: the matched term stays when it leaves the smaller
 * weight-summed spread. The spreads returned (plain, before the controls) size the first
 * round; undefined: f it is, and the kernels stop computing the term.
 */
function chooseMatched(strata: Stratum[], tg: Targets): { shift: number; spreads: number[] } | undefined {
  let spreadF = 0;
  let spreadY = 0;
  const spreads: number[] = [];
  for (const s of strata) {
    const [n, sf, sff, sy, syy] = s.pilotSums as unknown as [number, number, number, number, number];
    const sd = (sum: number, squares: number): number => (n > 1 ? Math.sqrt(Math.max(0, squares / n - (sum / n) ** 2)) : 0);
    spreadF += s.weight * sd(sf, sff);
    spreadY += s.weight * sd(sy, syy);
    spreads.push(s.weight * sd(sy, syy));
  }
  if (!(spreadY < spreadF)) {
    for (const s of strata) s.kernel.matched = null;
    return undefined;
  }
  return { shift: matchedShift(strata, tg), spreads };
}

/**
 * Turns the matched term on in p's strata and returns its mean under p, which the estimate
 * adds back: E_p[term] = Σ_k w_k E_{N_k}[log w_k N_k − log w_j N_j]
 * = Σ_k w_k (log w_k − log w_j + KL(N_k ‖ N_j)), j = π(k).
 */
function matchedShift(strata: Stratum[], tg: Targets): number {
  let shift = 0;
  for (const s of strata) {
    s.kernel.matchedShare = 1;
    const k = s.kernel.ownTarget;
    const j = s.kernel.matched![k]!;
    const [a, b] = [tg.source[k]!, tg.source[j]!];
    shift += s.weight * (a.g.logWeights[a.c]! - b.g.logWeights[b.c]! + componentKl(a.g, a.c, b.g, b.c));
  }
  return shift;
}

export function stratifiedEstimate(p: Gmm, q: Gmm, measure: 'kl' | 'js', o: SamplerSettings): DivergenceResult {
  if (o.replicates < 2) throw new DivergenceError('the samplers need at least 2 randomisations for an error bar');
  arena.reset();
  const d = p.d;
  const points = o.points === 'sobol' && d <= SOBOL_MAX_DIMENSION ? 'sobol' : 'iid';
  const turn = points === 'sobol' && d > 1 && !(p.diagonal && q.diagonal);
  const rng = createRng(o.seed);
  const spans = bridges(p, q, measure);
  const tg: Targets = targets(
    p,
    q,
    spans.map((b) => b.gaussian),
  );
  const streams = makeStreams(d, points, rng);
  const R = o.replicates;
  // Every kernel's controls: m_t − E[m_t] per target, and the importance weight.
  const controls = tg.t + 1;
  const work: Work = {
    all: sums(controls),
    out: sums(controls),
    reps: arena.float64(R),
    beta: arena.float64(controls),
    ws: new ControlWorkspace(controls),
  };
  const strata: Stratum[] = [];
  const add = (g: Gmm, side: 'p' | 'q' | 'b', scale: number, integrand: Integrand): void => {
    for (let c = 0; c < g.k; c++) {
      const w = g.weights[c]! * scale;
      if (!(w > 0)) continue;
      const kernel = new StratumKernel(tg, g, c, integrand, arena);
      const s = new Stratum(w, side, kernel, kernel.controls, R, streams, work);
      s.pilot = arena.float64(Math.min(GRADIENT_POINTS, o.pilot * R) * d);
      strata.push(s);
    }
  };
  // KL with bridges: the matched term's mean, added back (closed form).
  let bridgedShift = 0;
  if (measure === 'kl') {
    add(p, 'p', 1, 'kl');
    matchComponents(strata, tg);
    if (spans.length > 0) {
      // With bridges (twins and far modes, bridges.ts), KL's strata share points out as JS's
      // do, over p's components and the bridges: a bridge's stratum has weight 1 and
      // integrates (f − M)·p/Σ N, M the matched term, always on: with twins f − M is ~0 but
      // in the saddles, which the bridges sample.
      bridgedShift = matchedShift(strata, tg);
      const table = strata[0]!.kernel.matched;
      for (const b of spans) {
        add(b.gaussian, 'b', 1, 'kl');
        const s = strata.at(-1)!;
        s.allocationWeight = b.mass;
        s.kernel.matched = table;
        s.kernel.matchedShare = 1;
      }
      for (const s of strata) s.kernel.pivot = 0;
    }
  } else {
    add(p, 'p', 0.5, 'js-p');
    add(q, 'q', 0.5, 'js-q');
    // A bridge's stratum has weight 1 (its kernel integrates (f − pivot)·m/Σ N). With bridges
    // the pilot already shares points out, about ln 2 (JS is near it for the nearly disjoint
    // pairs that have bridges): its spreads then size the strata for what they will integrate.
    for (const b of spans) {
      add(b.gaussian, 'b', 1, 'js-p');
      strata.at(-1)!.allocationWeight = b.mass;
    }
    if (spans.length > 0) for (const s of strata) s.kernel.pivot = Math.LN2;
  }
  const scratch = scratchFor(d, controls, featureCount(d, false));
  const start = o.now?.() ?? 0;
  let evaluated = 0;
  const run = (want: number[]): void => {
    strata.forEach((s, i) => {
      if (want[i]! > s.n) {
        evaluated += (want[i]! - s.n) * R;
        grow(s, want[i]!, d, scratch);
      }
    });
  };

  // Pilot: every stratum the same size. It picks directions, sizes and the target, and is
  // then set aside: an estimate that kept it would weigh the pilot's points by sizes chosen
  // from those same points, a bias that skewed integrands (rare tail events) make visible.
  run(strata.map(() => o.pilot));
  for (const s of strata) rotate(s, d, turn, scratch);
  const pilot = totals(strata, measure, bridgedShift);
  if (measure === 'js') for (const s of strata) s.kernel.pivot = Math.min(Math.LN2, Math.max(0, pilot.value));
  const matched = measure === 'kl' && spans.length === 0 ? chooseMatched(strata, tg) : undefined;
  const shift = matched?.shift ?? bridgedShift;
  const spread = matched?.spreads ?? strata.map((s) => s.weight * Math.sqrt(s.variance * R * s.n));
  const spreadSum = spread.reduce((a, b) => a + b, 0);
  for (const s of strata) s.restart();
  const sizes = (perStream: number): number[] =>
    spread.map((w, i) => Math.max(matched ? MIN_MAIN_MATCHED : spans.length > 0 ? MIN_MAIN_BRIDGED : MIN_MAIN, Math.ceil(perStream * allocation(w, spreadSum, strata[i]!.allocationWeight))));
  let tot: Totals;

  if (o.samples !== undefined) {
    run(sizes(Math.max(0, o.samples - evaluated) / R));
    tot = totals(strata, measure, shift);
  } else {
    // Rounds are planned, not crept up on: stopping the first time a noisy standard error dips
    // under the target would pick the runs whose error bar is too short. The first round aims
    // at a fraction of what the pilot predicts at the Monte Carlo rate (QMC does better); each
    // later round is sized, from what the points so far show, to land below the target.
    const cap = (perStream: number): number => {
      let n = Math.min(perStream, (o.maxSamples - evaluated) / R);
      if (o.budgetMs !== undefined && o.now) {
        const elapsed = o.now() - start;
        n = Math.min(n, ((o.budgetMs - elapsed) * evaluated) / (Math.max(elapsed, 1e-3) * R));
      }
      return n;
    };
    const target0 = o.targetStderr ?? defaultTarget(pilot.value, pilot.seedStderr);
    run(sizes(cap((FIRST_ROUND * spreadSum * spreadSum) / (R * target0 * target0))).map(roundUp));
    tot = totals(strata, measure, shift);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const target = o.targetStderr ?? defaultTarget(tot.value, tot.seedStderr);
      if (Math.sqrt(tot.variance) <= target) break;
      const w = strata.map((s) => s.weight * Math.sqrt(s.variance * R * s.n));
      const sum = w.reduce((a, b) => a + b, 0);
      const aim = PLAN_MARGIN * target;
      // Monte Carlo-rate size, shrunk by the rate RQMC typically shows here (variance ∝ n^-γ).
      const now = strata.reduce((acc, x) => acc + x.n, 0);
      const mcRate = (sum * sum) / (R * aim * aim);
      const total = cap(mcRate > now ? now * (mcRate / now) ** (1 / PLANNED_RATE) : mcRate);
      const want = strata.map((s, i) => Math.max(s.n, roundUp(sum > 0 ? total * allocation(w[i]!, sum, s.allocationWeight) : s.n)));
      const extra = want.reduce((acc, n, i) => acc + (n - strata[i]!.n) * R, 0);
      if (extra <= 0) break;
      run(want);
      tot = totals(strata, measure, shift);
    }
  }
  const raw = tot.value;
  const value = measure === 'kl' ? Math.max(0, raw) : Math.min(Math.LN2, Math.max(0, raw));
  return {
    value,
    // Not below the rounding of the sums themselves: where KL's matched term leaves nothing
    // (16d-diag: the whole value is its closed form), the spread came out at 6.6e-18 on a
    // value of 0.17, whose own rounding, ~1e-16, then counted as 9 standard errors.
    stderr: Math.max(Math.sqrt(tot.variance), ROUNDING * Math.abs(raw)),
    method: points === 'sobol' ? 'qmc' : 'stratified',
    samples: evaluated,
    evaluations: evaluated * tg.t,
  };
}
