import { fitGmm, type FitResult } from '../gmm/fit.js';
import type { CovarianceType, Gmm } from '../gmm/model.js';
import { bic } from '../gmm/select.js';
import type { Seed } from '../math/rng.js';

export interface MixtureSettings {
  /** min === max for a fixed K; otherwise K is chosen by BIC in the range. */
  components: { min: number; max: number };
  covarianceType: CovarianceType;
  nInit: number;
  maxIter: number;
  tol: number;
  regCovar: number;
}

/** Hands the event loop back between fits; a no-op where nothing else needs to run. */
export type Yield = () => Promise<void>;
const noYield: Yield = () => Promise.resolve();

/**
 * EM iterations per event-loop slice, from a budget of work: one iteration costs about
 * n·k·(1 + d(d+1)/2) density terms. 500,000 of them are a few milliseconds.
 */
const WORK_PER_SLICE = 500_000;

function iterationsPerSlice(n: number, k: number, d: number): number {
  return Math.max(1, Math.floor(WORK_PER_SLICE / (n * k * (1 + (d * (d + 1)) / 2))));
}

type EmSettings = Pick<MixtureSettings, 'maxIter' | 'tol' | 'regCovar'>;

/**
 * EM from `start` (a warm start) or from k-means (`seed`), run a slice of iterations at a time
 * so that no slice stalls the event loop, until it converges or reaches maxIter. Continuing
 * from the last slice's model is the same EM; each slice costs one extra E-step.
 */
async function emSliced(
  X: Float64Array,
  n: number,
  d: number,
  k: number,
  s: EmSettings & { covarianceType?: CovarianceType },
  from: { start: Gmm } | { seed: Seed },
  yieldToLoop: Yield,
): Promise<FitResult> {
  const chunk = iterationsPerSlice(n, k, d);
  const common = { components: k, tol: s.tol, regCovar: s.regCovar };
  let r =
    'start' in from
      ? fitGmm(X, n, d, { ...common, warmStart: from.start, maxIter: Math.min(chunk, s.maxIter) })
      : fitGmm(X, n, d, { ...common, covarianceType: s.covarianceType, seed: from.seed, maxIter: Math.min(chunk, s.maxIter) });
  let iterations = r.iterations;
  while (!r.converged && iterations < s.maxIter) {
    await yieldToLoop();
    r = fitGmm(X, n, d, { ...common, warmStart: r.model, maxIter: Math.min(chunk, s.maxIter - iterations) });
    iterations += r.iterations;
  }
  return { ...r, iterations };
}

/** BIC of a fitted mixture (lower is better). */
function bicOf(r: FitResult, n: number): number {
  return bic(r.meanLogLik, n, r.model.k, r.model.d, r.model.covarianceType);
}

/**
 * A fresh fit: `nInit` k-means starts per K, and the K with the lowest BIC when a range is
 * given (what `selectComponents` does), sliced so that no slice of the event loop runs more
 * than a few EM iterations: a whole selection on a few thousand points can take a second.
 * Each start has its own seed, derived from `seed`, so the result is reproducible.
 */
export async function fitFresh(
  X: Float64Array,
  n: number,
  d: number,
  s: MixtureSettings,
  seed: Seed,
  yieldToLoop: Yield = noYield,
): Promise<FitResult> {
  // Never ask for more components than there are rows to support them.
  const kMax = Math.max(1, Math.min(s.components.max, Math.floor(n / (d + 1))));
  const kMin = Math.min(s.components.min, kMax);
  let best: { fit: FitResult; bic: number } | undefined;
  let firstError: unknown;
  let slices = 0;
  for (let k = kMin; k <= kMax; k++) {
    let bestK: FitResult | undefined;
    for (let start = 0; start < s.nInit; start++) {
      if (slices++ > 0) await yieldToLoop();
      try {
        const fit = await emSliced(X, n, d, k, s, { seed: `${seed}:k${k}:${start}` }, yieldToLoop);
        if (bestK === undefined || fit.meanLogLik > bestK.meanLogLik) bestK = fit;
      } catch (err) {
        firstError ??= err; // a start whose component collapses is never chosen
      }
    }
    if (bestK === undefined) continue;
    const score = bicOf(bestK, n);
    if (best === undefined || score < best.bic) best = { fit: bestK, bic: score };
  }
  if (best === undefined) throw firstError;
  return best.fit;
}

export type RefitKind = 'initial' | 'warm' | 'reinit';

export interface Refit {
  kind: RefitKind;
  model: Gmm;
  meanLogLik: number;
  iterations: number;
  /** Why a warm start was not kept, when kind is 'reinit'. */
  reason?: 'failed' | 'collapsed' | 'degraded';
}

/**
 * The window's mixture, refitted as the window moves. Each refit warm-starts EM from the
 * last model, which takes a few iterations instead of a full fit with several k-means
 * starts. It falls back to a fresh fit (nInit starts, K by BIC when a range is set) only when
 * the warm start degrades:
 *
 * - EM fails or a component collapses (it keeps fewer rows than it has dimensions + 1), or
 * - the warm fit's mean log-likelihood falls more than `degradeNats` below the one the last
 *   fresh fit achieved: the data moved away from what the model's shape can describe (a new
 *   mode, say). Then the better of the two by BIC is kept.
 */
export class WindowFitter {
  readonly settings: MixtureSettings;
  /** Nats per sample the warm fit may lose against the last fresh fit before a reinit. */
  readonly degradeNats: number;
  private _model: Gmm | undefined;
  private baseline = -Infinity;

  constructor(settings: MixtureSettings, options: { degradeNats?: number } = {}) {
    this.settings = settings;
    this.degradeNats = options.degradeNats ?? 0.1;
  }

  get model(): Gmm | undefined {
    return this._model;
  }

  /**
   * Makes `model` (typically the reference) the starting point of the first refit, which is
   * then a warm start instead of a full fit; `meanLogLik` is what it achieved on its own data,
   * the level a warm fit must stay near.
   */
  startFrom(model: Gmm, meanLogLik: number): void {
    this._model = model;
    this.baseline = meanLogLik;
  }

  async refit(X: Float64Array, n: number, d: number, seed: Seed, yieldToLoop: Yield = noYield): Promise<Refit> {
    const prev = this._model;
    const fresh = (): Promise<FitResult> => fitFresh(X, n, d, this.settings, seed, yieldToLoop);
    if (prev === undefined) return this.adopt(await fresh(), 'initial', true);
    let warm: FitResult;
    try {
      warm = await emSliced(X, n, d, prev.k, this.settings, { start: prev }, yieldToLoop);
    } catch {
      await yieldToLoop();
      return this.adopt(await fresh(), 'reinit', true, 'failed');
    }
    const collapsed = warm.model.weights.some((w) => w * n < d + 1);
    const degraded = warm.meanLogLik < this.baseline - this.degradeNats;
    if (!collapsed && !degraded) return this.adopt(warm, 'warm', false);
    await yieldToLoop();
    const refit = await fresh();
    const reason = collapsed ? 'collapsed' : 'degraded';
    if (!collapsed && bicOf(warm, n) <= bicOf(refit, n)) {
      // The data moved but the warm model still explains it best: keep it, and its level.
      return this.adopt(warm, 'reinit', true, reason);
    }
    return this.adopt(refit, 'reinit', true, reason);
  }

  private adopt(r: FitResult, kind: RefitKind, newBaseline: boolean, reason?: Refit['reason']): Refit {
    this._model = r.model;
    if (newBaseline) this.baseline = r.meanLogLik;
    return { kind, model: r.model, meanLogLik: r.meanLogLik, iterations: r.iterations, ...(reason ? { reason } : {}) };
  }

  /** Forgets the model, so the next refit is a fresh one. */
  reset(): void {
    this._model = undefined;
    this.baseline = -Infinity;
  }
}
