import type { bootstrapNull, NullDistribution } from '../calibration/null.js';
import { StreamCalibration } from '../calibration/stream-calibration.js';
import { whatMoved, type Move } from '../calibration/what-moved.js';
import type { StreamConfig } from '../config/types.js';
import { gmmToJson, type GmmJson } from '../gmm/json.js';
import type { Gmm } from '../gmm/model.js';
import { BackgroundClosed, type Background } from './background.js';
import type { Clock } from './clock.js';
import { ControlError, muteEndMs, type MuteResult, type MuteUntil, type RebaselineResult } from './control.js';
import { estimate, isUsable, type EstimatorSettings } from './estimate.js';
import { EvaluationHistory } from './history.js';
import { HysteresisDetector } from './hysteresis.js';
import type { MonitorLogger } from './logger.js';
import type { MuteChange } from './mute-change.js';
import { StreamMute } from './mute-state.js';
import { WindowFitter, type MixtureSettings, type Yield } from './refit.js';
import { StreamReference, type RecordOrigin } from './reference.js';
import { saveSnapshot, type ReferenceSnapshot } from './snapshot.js';
import {
  MEASURES,
  SEVERITIES,
  type Estimate,
  type Evaluation,
  type MonitorObserver,
  type Measure,
  type Severity,
  type StreamPhase,
  type StreamView,
} from './view.js';
import {
  calibratedSpecs,
  calibrationContext,
  evaluationCadenceSeconds,
  thresholdProblems,
  thresholdsFor,
  windowRows,
  type ThresholdProblem,
} from './thresholds.js';
import { SlidingWindow } from './window.js';

/** Runs `work`, timing only the time it was running, not the time it spent yielded. */
async function busy<T>(yieldToLoop: Yield, work: (y: Yield) => Promise<T>): Promise<{ result: T; seconds: number }> {
  let paused = 0;
  const t0 = performance.now();
  const result = await work(async () => {
    const p0 = performance.now();
    await yieldToLoop();
    paused += performance.now() - p0;
  });
  return { result, seconds: (performance.now() - t0 - paused) / 1000 };
}

export type { RecordOrigin };

/**
 * Wall-clock budget of one live divergence estimate, unless the estimator sets its own. The
 * estimates run on the thread that answers /metrics and the probes, and an unbudgeted one on
 * a pathological pair (32 fields, a window of duplicated rows, KL in the thousands against a
 * 0.005-nat target) ran for ~2 s a measure: scrapes took 10–11 s. A budget that binds leaves
 * a larger, still honest, standard error. Read through the monitor's clock, so a test's manual
 * clock never binds it.
 */
const LIVE_ESTIMATE_BUDGET_MS = 250;

/** The longest wait between attempts to fit a reference that keeps failing. */
const REFERENCE_RETRY_MAX_SECONDS = 3600;

export interface StreamDeps {
  /** Where reference fits, re-baselines and null bootstraps run (a worker thread, where there is one). */
  background: Background;
  clock: Clock;
  logger: MonitorLogger;
  observer: MonitorObserver;
  estimator: EstimatorSettings;
  /** Where snapshot references live. */
  stateDir: string;
  /** Evaluations kept for the status page. */
  historyLength: number;
  /** Gives the event loop a turn: the monitor's shared turn-taking (see turns.ts). */
  yieldToLoop: Yield;
  /** Row-major scratch of at least `n` values, shared by streams (they are processed one at a time). */
  scratch(n: number): Float64Array;
  /** Bootstrap replicates of each reference's no-drift null, computed in the background; 0 turns calibration off. Default 200. */
  calibrationReplicates?: number;
}

/**
 * Everything klaxon knows about one stream: its window, its reference and window mixtures,
 * its latest divergences and its alert state. Ingestion calls `push`; the scheduler calls
 * `process` when `isDue`, which does at most one fit or one estimate between yields.
 */
export class StreamState {
  readonly config: StreamConfig;
  readonly window: SlidingWindow;
  private readonly deps: StreamDeps;
  private readonly mixture: MixtureSettings;
  private readonly fitter: WindowFitter;
  private readonly detectors: Record<Severity, HysteresisDetector>;
  private readonly history: EvaluationHistory;
  /** The reference's no-drift null and what follows from it: p-values, calibrated thresholds. */
  readonly calibration: StreamCalibration;

  /** The reference mixture, where it came from, and what a restart needs to get it back. */
  private readonly ref: StreamReference;
  /** An operator's mute, which holds the alerts at 0 while it lasts. */
  private readonly muting: StreamMute;
  /** Serialises `process` and the operator changes, so that neither sees the other half done. */
  private lock: Promise<unknown> = Promise.resolve();

  private windowJson: GmmJson | undefined;
  private last: Evaluation | undefined;
  private evaluations = 0;
  private refits = 0;
  private records = 0;
  /**
   * When the scheduler last found the window changed (records in, or aged out): the window
   * version it saw then. A stream is behind only when its window changed after its last
   * evaluation; a quiet one is current, however old that evaluation.
   */
  private seenVersion = -1;
  private windowChangedMs: number | undefined;
  private nextEvaluationMs = -Infinity;
  private lastRefitMs = -Infinity;
  /** After a failed reference fit, when to try again, and how many failed in a row. */
  private retryReferenceMs = -Infinity;
  private referenceFailures = 0;
  /** The window version the window mixture was fitted to; -1 before the first fit. */
  private fittedVersion = -1;
  /** Successful window fits, and how many of them the last evaluation had seen. */
  private fits = 0;
  private evaluatedFits = 0;
  /** The estimator of live evaluations: the monitor's, with a time budget (the null's has none). */
  private readonly liveEstimator: EstimatorSettings;
  /** What the current null says of the thresholds (`reportThresholdProblems`); empty without one. */
  private thresholdIssues: ThresholdProblem[] = [];

  constructor(config: StreamConfig, deps: StreamDeps) {
    this.config = config;
    this.deps = deps;
    const d = config.fields.length;
    this.window = new SlidingWindow({
      dimension: d,
      capacity: config.window.size,
      maxAgeMs: config.window.durationSeconds === undefined ? undefined : config.window.durationSeconds * 1000,
    });
    const { maxSamples: _, ...fit } = config.fit;
    this.mixture = { components: config.components, covarianceType: config.covarianceType, ...fit };
    this.fitter = new WindowFitter(this.mixture);
    this.liveEstimator =
      deps.estimator.budgetMs !== undefined ? deps.estimator : { ...deps.estimator, budgetMs: LIVE_ESTIMATE_BUDGET_MS, now: () => deps.clock.now() };
    const { raiseAfter, clearAfter } = config.hysteresis;
    this.detectors = {
      warning: new HysteresisDetector({ threshold: 1, raiseAfter, clearAfter }),
      critical: new HysteresisDetector({ threshold: 1, raiseAfter, clearAfter }),
    };
    this.history = new EvaluationHistory(deps.historyLength);
    this.calibration = new StreamCalibration({ replicates: Math.max(10, deps.calibrationReplicates ?? 200) });
    this.muting = new StreamMute(config.name, deps);
    this.ref = new StreamReference(config, deps, (kept) => this.calibrate(kept));
  }

  get name(): string {
    return this.config.name;
  }

  get dimension(): number {
    return this.window.dimension;
  }

  // ---------------------------------------------------------------- reference

  /**
   * Restores an operator's mute and re-baselined reference from the state directory; else
   * loads the reference from its file or snapshot, or starts collecting the first n vectors.
   */
  async init(): Promise<void> {
    await this.muting.restore();
    await this.ref.load();
  }

  // ---------------------------------------------------------------- calibration

  /**
   * Adopts the null kept with the reference, or bootstraps one in the background, yielding to
   * the event loop between fits and estimates; a reference kept in a snapshot is saved again
   * with its null, so a restart does not redo it.
   */
  private calibrate(kept: NullDistribution | undefined): void {
    this.calibration.reset();
    this.thresholdIssues = [];
    const ref = this.ref;
    if ((this.deps.calibrationReplicates ?? 200) <= 0 || ref.model === undefined) return;
    if (kept !== undefined && this.calibration.adopt(kept, windowRows(this.config))) {
      this.reportThresholdProblems();
      return;
    }
    const reference = ref.model;
    const settings = {
      windowSamples: windowRows(this.config),
      referenceSamples: Math.min(ref.samples, this.config.fit.maxSamples),
      mixture: this.mixture,
      estimator: this.deps.estimator,
      seed: `${this.name}:null:${ref.createdAtMs}`,
    };
    const background = this.deps.background;
    const bootstrap = async (...[r, logLik, s]: Parameters<typeof bootstrapNull>): Promise<NullDistribution> =>
      (await background.run({ kind: 'null', reference: r, referenceLogLik: logLik, settings: s })).value;
    void this.calibration.start(reference, ref.meanLogLik, settings, this.deps.yieldToLoop, bootstrap).then(async (n) => {
      if (n === undefined) {
        if (this.calibration.status === 'failed' && !background.closed) this.deps.logger.warn({ stream: this.name }, 'null bootstrap failed; thresholds stay in nats');
        return;
      }
      this.deps.logger.info({ stream: this.name, replicates: n.replicates, windowSamples: n.windowSamples }, 'no-drift null computed');
      this.reportThresholdProblems();
      // Under the stream's lock, checked again there: a re-baseline saving its own snapshot
      // meanwhile must not be overwritten by this older reference.
      await this.exclusive(async () => {
        const snap = this.referenceSnapshot();
        const keep = this.config.reference.policy === 'snapshot' || ref.setBy === 'operator';
        if (snap === undefined || !keep || ref.model !== reference) return;
        try {
          await saveSnapshot(this.deps.stateDir, snap);
        } catch (err) {
          this.deps.logger.warn({ stream: this.name, err }, 'cannot save the null with the reference snapshot; it will be recomputed after a restart');
        }
      });
    });
  }

  /**
   * Says, once per null, where the thresholds in force would page without drift: a fixed size
   * in nats inside the window fit's own noise, or a warning above the critical.
   */
  private reportThresholdProblems(): void {
    this.thresholdIssues = thresholdProblems(this.config, this.calibration);
    for (const p of this.thresholdIssues) {
      const fields = { stream: this.name, measure: p.measure, severity: p.severity, nats: p.nats };
      if (p.warningNats !== undefined) {
        this.deps.logger.warn({ ...fields, warningNats: p.warningNats }, 'the warning threshold is above the critical one: the critical alert comes first');
      } else {
        this.deps.logger.warn(
          { ...fields, noDriftShare: p.noDriftShare },
          'a threshold inside the no-drift noise: windows without drift reach it, so expect alerts without drift; raise it, calibrate it, or give the window more records',
        );
      }
    }
  }

  /**
   * The reference as a snapshot, to keep across restarts; undefined while it is being
   * collected, and for a reference from a file (the file keeps it).
   */
  referenceSnapshot(): ReferenceSnapshot | undefined {
    return this.ref.snapshot(this.calibration.null);
  }

  /**
   * Adopts a reference kept elsewhere (a checkpoint) instead of collecting one or of an older
   * one. Refused (false) when the stream's reference is as new, or the snapshot is for other
   * fields (StreamReference.restore).
   */
  restoreReference(snap: ReferenceSnapshot): boolean {
    return this.ref.restore(snap);
  }

  /**
   * Per lane, the position of the first record of the reference's data: a restart that finds
   * no kept reference replays from there to collect the same one. Empty once restored.
   */
  get referenceOrigins(): ReadonlyMap<number, number> {
    return this.ref.origins;
  }

  private async fitReference(): Promise<void> {
    const data = this.ref.collectedData()!;
    try {
      const seed = `${this.name}:reference:${this.refits++}`;
      const task = { kind: 'fit', X: data.X, n: data.rows, d: this.dimension, mixture: this.mixture, seed } as const;
      const { value: r, seconds } = await this.deps.background.run(task);
      this.deps.observer.refitSeconds(seconds);
      this.ref.set(r.model, data.of, r.meanLogLik);
      this.referenceFailures = 0;
      this.deps.logger.info({ stream: this.name, samples: data.of, components: r.model.k }, 'reference fitted');
    } catch (err) {
      if (err instanceof BackgroundClosed) return; // stopping: a restart fits it again
      // Each retry draws another initialisation, so one may succeed; but data no fit can take
      // (values near 1e300) failed, and logged, every evaluation for good. Doubling the wait
      // up to an hour keeps trying, and keeps the log readable.
      const retryInSeconds = Math.min(REFERENCE_RETRY_MAX_SECONDS, this.config.evaluationIntervalSeconds * 2 ** this.referenceFailures++);
      this.deps.logger.warn({ stream: this.name, err, failures: this.referenceFailures, retryInSeconds }, 'reference fit failed; retrying later');
      this.retryReferenceMs = this.deps.clock.now() + retryInSeconds * 1000;
      return;
    }
    await this.ref.keepFitted();
  }

  // ---------------------------------------------------------------- operator controls

  /** Runs `work` after whatever holds the stream (a `process` pass, another change), never beside it. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Makes a new reference: `model`, or a fresh fit (nInit starts, K by BIC, as for the first
   * reference) of the current window. It is kept in the state directory (marked as set by an
   * operator, so a restart restores it whatever the policy) before it takes effect; if it
   * cannot be kept, nothing changes.
   */
  async rebaseline(model?: Gmm): Promise<RebaselineResult> {
    const d = this.dimension;
    let next: { model: Gmm; samples: number; meanLogLik: number | undefined; source: RebaselineResult['source'] };
    if (model !== undefined) {
      if (model.d !== d) {
        throw new ControlError(
          'invalid',
          `the model has ${model.d} dimension(s) but stream ${this.name} has ${d} field(s): ${this.config.fields.join(', ')}`,
        );
      }
      next = { model, samples: 0, meanLogLik: undefined, source: 'model' };
    } else {
      this.window.expire(this.deps.clock.now());
      const size = this.window.size;
      if (size < this.config.minSamples) {
        throw new ControlError(
          'conflict',
          `the window holds ${size} samples; a re-baseline from it needs at least ${this.config.minSamples} (minSamples)`,
        );
      }
      // An own buffer, copied before any yield: the shared scratch belongs to `process`.
      const rows = Math.min(size, this.config.fit.maxSamples);
      const X = new Float64Array(rows * d);
      const n = this.window.sample(rows, X);
      try {
        const seed = `${this.name}:rebaseline:${this.refits++}`;
        const { value: r, seconds } = await this.deps.background.run({ kind: 'fit', X, n, d, mixture: this.mixture, seed });
        this.deps.observer.refitSeconds(seconds);
        next = { model: r.model, samples: size, meanLogLik: r.meanLogLik, source: 'window' };
      } catch (err) {
        throw new ControlError('conflict', `the window could not be fitted: ${(err as Error).message}`, { cause: err });
      }
    }
    return this.exclusive(async () => {
      const at = this.deps.clock.now();
      try {
        await saveSnapshot(this.deps.stateDir, {
          stream: this.name,
          fields: [...this.config.fields],
          samples: next.samples,
          meanLogLik: next.meanLogLik,
          createdAtMs: at,
          model: next.model,
          setBy: 'operator',
        });
      } catch (err) {
        this.deps.logger.error({ stream: this.name, err }, 'cannot save the re-baselined reference; keeping the old one');
        throw new ControlError('storage', "cannot keep the new reference in the state directory, so nothing changed (see klaxon's log)", { cause: err });
      }
      this.ref.rebaselined(next.model, next.samples, next.meanLogLik, at);
      // A re-baseline declares the window the new normal, so nothing measured against the old
      // reference carries over. The window mixture forgets its warm start (`fitter.reset()`):
      // its next fit starts from the new reference when that one's log-likelihood is known (a
      // fit of this very window), afresh otherwise, never from a model shaped by the old
      // reference. The last evaluation is dropped, so no divergence against the old reference
      // is exported, and a new one comes at once (refit and evaluation are due now). Both
      // hysteresis detectors restart from "no alert, no run" (`reset()`): an alert needs
      // `raiseAfter` evaluations over threshold against the new reference.
      this.fitter.reset();
      this.fittedVersion = -1;
      this.windowJson = undefined;
      this.last = undefined;
      this.evaluatedFits = this.fits;
      this.lastRefitMs = -Infinity;
      this.nextEvaluationMs = -Infinity;
      for (const sev of SEVERITIES) this.detectors[sev].reset();
      this.deps.logger.info(
        { stream: this.name, source: next.source, samples: next.samples, components: next.model.k },
        'reference re-baselined',
      );
      return {
        stream: this.name,
        source: next.source,
        referenceTimestampMs: at,
        referenceSamples: next.samples,
        components: next.model.k,
      };
    });
  }

  /** Holds the alerts at 0 until `until` (kept in the state directory first). Divergences go on. */
  async mute(until: MuteUntil): Promise<MuteResult> {
    const end = muteEndMs(until, this.deps.clock.now());
    return this.exclusive(() => this.muting.set(end));
  }

  async unmute(): Promise<MuteResult> {
    return this.exclusive(() => this.muting.clear());
  }

  /** The operator's latest mute decision, in force or not, to keep in a checkpoint; undefined when there never was one. */
  muteChange(): MuteChange | undefined {
    return this.muting.change();
  }

  /**
   * Takes on a mute decision kept elsewhere (a checkpoint) when it is newer than the one held,
   * as `restoreReference` does with a reference; false when it is not. Synchronous, so the
   * decision holds before the stream's records flow; its state file follows under the lock.
   */
  restoreMute(change: MuteChange): boolean {
    if (!this.muting.adopt(change)) return false;
    void this.exclusive(() => this.muting.keep());
    return true;
  }

  // ---------------------------------------------------------------- ingestion

  /**
   * One decoded vector (`dimension` values from `offset`). A `replay`ed vector was counted by an
   * earlier run: it rebuilds the window (and a reference still being collected) but is not
   * counted again.
   */
  push(v: Float64Array, timestampMs: number, origin?: RecordOrigin, replay = false, offset = 0): void {
    if (!replay) this.records++;
    if (this.window.push(v, timestampMs, offset) && origin !== undefined) this.window.tagNewest(origin.lane, origin.position);
    this.ref.collect(v, origin, offset);
  }

  /**
   * `push` for many vectors (see SlidingWindow.pushRows): row first + i of `rows` where
   * verdicts[first + i] is 0, stamped times[i], from lanes[i], positions[i] (lane -1: none).
   * While the reference is still being collected, a vector at a time.
   */
  pushRows(rows: Float64Array, first: number, count: number, verdicts: Uint8Array, times: Float64Array, lanes: Int32Array, positions: Float64Array, replay: boolean): void {
    if (this.ref.collects) {
      const d = this.dimension;
      const origin = { lane: -1, position: 0 };
      for (let i = 0; i < count; i++) {
        if (verdicts[first + i] !== 0) continue;
        origin.lane = lanes[i]!;
        origin.position = positions[i]!;
        this.push(rows, times[i]!, origin.lane >= 0 ? origin : undefined, replay, (first + i) * d);
      }
      return;
    }
    const offered = this.window.pushRows(rows, first, count, verdicts, times, lanes, positions);
    if (!replay) this.records += offered;
  }

  // ---------------------------------------------------------------- scheduling

  /** Whether `process` has something to do now. Cheap: the scheduler asks every stream every tick. */
  isDue(nowMs: number): boolean {
    this.muting.expire(nowMs);
    if (this.ref.model === undefined) return this.ref.collectedData() !== undefined && nowMs >= this.retryReferenceMs;
    this.window.expire(nowMs);
    if (this.window.version !== this.seenVersion) {
      this.seenVersion = this.window.version;
      this.windowChangedMs = nowMs;
    }
    if (this.window.size < this.config.minSamples) return false;
    return this.refitDue(nowMs) || this.evaluationDue(nowMs);
  }

  /** The window moved since the last fit, and the refit interval has passed (or there never was a fit). */
  private refitDue(nowMs: number): boolean {
    return this.window.version !== this.fittedVersion && nowMs - this.lastRefitMs >= this.config.refitIntervalSeconds * 1000;
  }

  /** The interval has passed and there is a window fit the last evaluation has not seen. */
  private evaluationDue(nowMs: number): boolean {
    return this.hasWindowModel() && nowMs >= this.nextEvaluationMs && this.fits !== this.evaluatedFits;
  }

  /** Fits the reference when its data is in; refits the window mixture and evaluates when due. */
  process(yieldToLoop: Yield): Promise<void> {
    return this.exclusive(() => this.processNow(yieldToLoop));
  }

  private async processNow(yieldToLoop: Yield): Promise<void> {
    if (this.ref.model === undefined) {
      if (this.ref.collectedData() === undefined) return;
      await this.fitReference();
      if (this.ref.model === undefined) return;
      await yieldToLoop();
    }
    const now = this.deps.clock.now();
    this.window.expire(now);
    if (this.window.size < this.config.minSamples) return;
    if (this.refitDue(now)) {
      await this.refitWindow(now, yieldToLoop);
      await yieldToLoop();
    }
    if (this.evaluationDue(now)) {
      // Set first: a failed evaluation waits for the next interval too.
      this.nextEvaluationMs = now + this.config.evaluationIntervalSeconds * 1000;
      const fits = this.fits;
      if (await this.evaluate(now, yieldToLoop)) this.evaluatedFits = fits;
    }
  }

  private async refitWindow(now: number, yieldToLoop: Yield): Promise<void> {
    const d = this.dimension;
    const rows = Math.min(this.window.size, this.config.fit.maxSamples);
    // Copied out before any yield: ingestion keeps moving the window meanwhile.
    const X = new Float64Array(this.deps.scratch(rows * d).buffer, 0, rows * d);
    const n = this.window.sample(rows, X);
    const version = this.window.version;
    this.lastRefitMs = now; // failed or not: the next attempt waits for the interval
    if (this.fitter.model === undefined && this.ref.meanLogLik !== undefined) {
      // The window starts out like the reference: warm-start from it rather than fit afresh.
      this.fitter.startFrom(this.ref.model!, this.ref.meanLogLik);
    }
    try {
      const seed = `${this.name}:window:${this.refits++}`;
      const { result: r, seconds } = await busy(yieldToLoop, (y) => this.fitter.refit(X, n, d, seed, y));
      this.deps.observer.refitSeconds(seconds);
      this.windowJson = undefined;
      this.fittedVersion = version;
      this.fits++;
      if (r.kind === 'reinit') {
        this.deps.logger.debug({ stream: this.name, reason: r.reason, components: r.model.k }, 'window mixture reinitialised');
      }
    } catch (err) {
      // The previous window mixture, if any, stays; the next evaluation tries again. A first
      // fit warm-started from the reference must not leave the reference posing as the window.
      if (!this.hasWindowModel()) this.fitter.reset();
      this.deps.logger.warn({ stream: this.name, err, samples: n }, 'window refit failed; keeping the previous mixture');
    }
  }

  /** A window mixture fitted to window data (not just the reference it may start from). */
  private hasWindowModel(): boolean {
    return this.fittedVersion >= 0;
  }

  /** Estimates every measure and updates the alerts; false when there is nothing honest to show yet. */
  private async evaluate(now: number, yieldToLoop: Yield): Promise<boolean> {
    const reference = this.ref.model!;
    const window = this.fitter.model!;
    let busy = 0;
    const divergences = {} as Evaluation['divergences'];
    for (const m of MEASURES) {
      const seed = `${this.name}:${this.evaluations}:${m}`;
      let e: Estimate | undefined;
      const s0 = performance.now();
      try {
        e = estimate(m, reference, window, seed, this.liveEstimator);
      } catch (err) {
        this.deps.logger.warn({ stream: this.name, measure: m, err }, 'divergence estimate failed');
      }
      busy += performance.now() - s0;
      if (e === undefined || !isUsable(e)) {
        if (e) this.deps.logger.warn({ stream: this.name, measure: m, estimate: e }, 'divergence estimate unusable');
        const previous = this.last?.divergences[m];
        if (previous === undefined) return false; // try again at the next evaluation
        e = previous;
      }
      divergences[m] = e;
      await yieldToLoop();
    }
    this.deps.observer.evaluationSeconds(busy / 1000);
    this.evaluations++;
    this.last = { timestampMs: now, divergences };
    this.history.push(this.last);
    this.updateAlerts(divergences);
    return true;
  }

  /** Per severity, the worst measure relative to its threshold: ≥ 1 is over. */
  private updateAlerts(divergences: Evaluation['divergences']): void {
    for (const sev of SEVERITIES) {
      let worst = NaN;
      const thresholds = thresholdsFor(sev, this.config, this.calibration, this.window.size);
      for (const m of MEASURES) {
        const t = thresholds[m];
        if (t === undefined) continue;
        const r = divergences[m].value / t;
        if (!(r <= worst)) worst = r;
      }
      if (Number.isNaN(worst)) continue;
      const det = this.detectors[sev];
      const was = det.driftDetected;
      det.update(worst);
      if (det.driftDetected !== was) {
        const values = Object.fromEntries(MEASURES.map((m) => [m, divergences[m].value]));
        this.deps.logger.info(
          { stream: this.name, severity: sev, divergences: values, ...(this.muting.isMuted(this.deps.clock.now()) ? { muted: true } : {}) },
          det.driftDetected ? 'drift alert raised' : 'drift alert cleared',
        );
      }
    }
  }

  // ---------------------------------------------------------------- view

  phase(): StreamPhase {
    if (this.ref.model === undefined) return 'collecting_reference';
    if (this.last === undefined || this.window.size < this.config.minSamples) return 'warming_window';
    return 'ready';
  }

  view(): StreamView {
    const c = this.config;
    const phase = this.phase();
    const model = this.hasWindowModel() ? this.fitter.model : undefined;
    if (model && this.windowJson === undefined) this.windowJson = gmmToJson(model);
    const history = this.history;
    const now = this.deps.clock.now();
    const muted = this.muting.isMuted(now);
    const reference = this.ref.model;
    const last = this.last;
    const calibration = this.calibration.view(
      last ? (Object.fromEntries(MEASURES.map((m) => [m, last.divergences[m].value])) as Record<Measure, number>) : undefined,
      calibratedSpecs(c),
      calibrationContext(c, this.window.size),
    );
    let moved: Move[] | undefined;
    return {
      name: c.name,
      topic: c.topic,
      fields: [...c.fields],
      dimension: this.dimension,
      phase,
      ready: phase === 'ready',
      windowSamples: this.window.size,
      referenceSamples: this.ref.collected,
      recordsTotal: this.records,
      evaluationIntervalSeconds: evaluationCadenceSeconds(c),
      lastEvaluation: this.last,
      windowChangedMs: this.windowChangedMs,
      thresholds: c.thresholds,
      // The detectors run on while muted, so an alert still due when the mute ends shows at once.
      alert: muted
        ? { warning: false, critical: false }
        : { warning: this.detectors.warning.driftDetected, critical: this.detectors.critical.driftDetected },
      muted,
      mutedUntilMs: this.muting.endsAt(now),
      referenceTimestampMs: reference ? this.ref.createdAtMs : undefined,
      reference: this.ref.json,
      window: model ? this.windowJson : undefined,
      // Built only when read: metrics scrape every stream's view several times per scrape.
      get history(): Evaluation[] {
        return history.toArray();
      },
      calibration,
      ...(this.thresholdIssues.length > 0 && { thresholdProblems: this.thresholdIssues }),
      // Built only when read, and once per view.
      get whatMoved(): Move[] | undefined {
        if (reference === undefined || model === undefined) return undefined;
        return (moved ??= whatMoved(reference, model));
      },
    };
  }
}
