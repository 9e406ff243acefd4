import { fitGmm, type FitResult } from '../gmm/fit.js';
import type { CovarianceType, Gmm } from '../gmm/model.js';
import { bic, selectComponents } from '../gmm/select.js';
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

/** BIC of a fitted mixture (lower is better). */
function bicOf(r: FitResult, n: number): number {
  return bic(r.meanLogLik, n, r.model.k, r.model.d, r.model.covarianceType);
}

/**
 * A fresh fit: k-means starts, and the BIC choice of K when a range is given. Each K is
 * fitted in its own slice of the event loop (a full selection on a large window can take
 * longer than one slice should), with the same seed for every K, as `selectComponents` does.
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
  const fitOptions = { covarianceType: s.covarianceType, nInit: s.nInit, maxIter: s.maxIter, tol: s.tol, regCovar: s.regCovar, seed };
  if (kMin === kMax) return fitGmm(X, n, d, { ...fitOptions, components: kMax });
  let best: { fit: FitResult; bic: number } | undefined;
  let firstError: unknown;
  for (let k = kMin; k <= kMax; k++) {
    if (k > kMin) await yieldToLoop();
    try {
      const fit = selectComponents(X, n, d, { ...fitOptions, range: [k, k] });
      if (best === undefined || fit.bic < best.bic) best = { fit, bic: fit.bic };
    } catch (err) {
      firstError ??= err; // a K whose fit collapses is never chosen
    }
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
      warm = fitGmm(X, n, d, {
        components: prev.k,
        warmStart: prev,
        maxIter: this.settings.maxIter,
        tol: this.settings.tol,
        regCovar: this.settings.regCovar,
      });
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
