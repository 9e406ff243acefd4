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

/** A fresh fit: k-means starts, and the BIC choice of K when a range is given. */
export function fitFresh(X: Float64Array, n: number, d: number, s: MixtureSettings, seed: Seed): FitResult {
  const { min, max } = s.components;
  // Never ask for more components than there are rows to support them.
  const kMax = Math.max(1, Math.min(max, Math.floor(n / (d + 1))));
  const kMin = Math.min(min, kMax);
  if (kMin === kMax) {
    return fitGmm(X, n, d, {
      components: kMax,
      covarianceType: s.covarianceType,
      nInit: s.nInit,
      maxIter: s.maxIter,
      tol: s.tol,
      regCovar: s.regCovar,
      seed,
    });
  }
  return selectComponents(X, n, d, {
    range: [kMin, kMax],
    covarianceType: s.covarianceType,
    nInit: s.nInit,
    maxIter: s.maxIter,
    tol: s.tol,
    regCovar: s.regCovar,
    seed,
  });
}

/** BIC of a fitted mixture (lower is better). */
function bicOf(r: FitResult, n: number): number {
  return bic(r.meanLogLik, n, r.model.k, r.model.d, r.model.covarianceType);
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

  refit(X: Float64Array, n: number, d: number, seed: Seed): Refit {
    const prev = this._model;
    if (prev === undefined) return this.adopt(fitFresh(X, n, d, this.settings, seed), 'initial', true);
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
      return this.adopt(fitFresh(X, n, d, this.settings, seed), 'reinit', true, 'failed');
    }
    const collapsed = warm.model.weights.some((w) => w * n < d + 1);
    const degraded = warm.meanLogLik < this.baseline - this.degradeNats;
    if (!collapsed && !degraded) return this.adopt(warm, 'warm', false);
    const fresh = fitFresh(X, n, d, this.settings, seed);
    const reason = collapsed ? 'collapsed' : 'degraded';
    if (!collapsed && bicOf(warm, n) <= bicOf(fresh, n)) {
      // The data moved but the warm model still explains it best: keep it, and its level.
      return this.adopt(warm, 'reinit', true, reason);
    }
    return this.adopt(fresh, 'reinit', true, reason);
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
