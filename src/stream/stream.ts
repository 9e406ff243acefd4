import { readFile } from 'node:fs/promises';
import type { StreamConfig } from '../config/types.js';
import { gmmFromJson, gmmToJson, type GmmJson } from '../gmm/json.js';
import type { Gmm } from '../gmm/model.js';
import type { Clock } from './clock.js';
import { estimate, isUsable, type EstimatorSettings } from './estimate.js';
import { EvaluationHistory } from './history.js';
import { HysteresisDetector } from './hysteresis.js';
import type { MonitorLogger } from './logger.js';
import { fitFresh, WindowFitter, type MixtureSettings, type Yield } from './refit.js';
import { loadSnapshot, saveSnapshot, type ReferenceSnapshot } from './snapshot.js';
import {
  MEASURES,
  SEVERITIES,
  type Estimate,
  type Evaluation,
  type MonitorObserver,
  type Severity,
  type StreamPhase,
  type StreamView,
} from './view.js';
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

/**
 * Where a vector's record sits in its source: a lane (one topic-partition, numbered by the
 * monitor) and its offset there. Windows remember it so a restart knows where to replay from.
 */
export interface RecordOrigin {
  lane: number;
  position: number;
}

export interface StreamDeps {
  clock: Clock;
  logger: MonitorLogger;
  observer: MonitorObserver;
  estimator: EstimatorSettings;
  /** Where snapshot references live. */
  stateDir: string;
  /** Evaluations kept for the status page. */
  historyLength: number;
  /** Row-major scratch of at least `n` values, shared by streams (they are processed one at a time). */
  scratch(n: number): Float64Array;
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

  private reference: Gmm | undefined;
  private referenceJson: GmmJson | undefined;
  private referenceSamples = 0;
  /** The reference's mean log-likelihood on its own data, when known: the window's first fit starts from it. */
  private referenceLogLik: number | undefined;
  private referenceCreatedAtMs = 0;
  /** Per lane, the position of the first record of the reference's data, while it may still be needed. */
  private readonly referenceFrom = new Map<number, number>();
  /**
   * While the reference is being collected: of the first n vectors, the m ≤ fit.maxSamples
   * evenly spread ones it will be fitted to (vector floor(i·n/m) is the i-th kept).
   */
  private collecting: { buffer: Float64Array; n: number; m: number; count: number; kept: number } | undefined;

  private windowJson: GmmJson | undefined;
  private last: Evaluation | undefined;
  private evaluations = 0;
  private refits = 0;
  private records = 0;
  private nextEvaluationMs = -Infinity;
  private lastRefitMs = -Infinity;
  /** After a failed reference fit, when to try again. */
  private retryReferenceMs = -Infinity;
  /** The window version the window mixture was fitted to; -1 before the first fit. */
  private fittedVersion = -1;
  /** Successful window fits, and how many of them the last evaluation had seen. */
  private fits = 0;
  private evaluatedFits = 0;

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
    const { raiseAfter, clearAfter } = config.hysteresis;
    this.detectors = {
      warning: new HysteresisDetector({ threshold: 1, raiseAfter, clearAfter }),
      critical: new HysteresisDetector({ threshold: 1, raiseAfter, clearAfter }),
    };
    this.history = new EvaluationHistory(deps.historyLength);
  }

  get name(): string {
    return this.config.name;
  }

  get dimension(): number {
    return this.window.dimension;
  }

  // ---------------------------------------------------------------- reference

  /** Loads a reference from its file or snapshot, or starts collecting the first n vectors. */
  async init(): Promise<void> {
    const ref = this.config.reference;
    if (ref.policy === 'file') {
      let model: Gmm;
      try {
        model = gmmFromJson(JSON.parse(await readFile(ref.path, 'utf8')));
      } catch (err) {
        throw new Error(`stream ${this.name}: cannot load reference model ${ref.path}: ${(err as Error).message}`, { cause: err });
      }
      this.setReference(model, 0);
      return;
    }
    if (ref.policy === 'snapshot') {
      try {
        const snap = await loadSnapshot(this.deps.stateDir, this.name);
        if (snap && snap.fields.join('\0') === this.config.fields.join('\0') && snap.model.d === this.dimension) {
          this.setReference(snap.model, snap.samples, snap.meanLogLik, snap.createdAtMs);
          this.deps.logger.info({ stream: this.name, samples: snap.samples, createdAtMs: snap.createdAtMs }, 'reference restored from snapshot');
          return;
        }
        if (snap) this.deps.logger.warn({ stream: this.name, fields: snap.fields }, 'snapshot is for other fields; collecting a new reference');
      } catch (err) {
        this.deps.logger.warn({ stream: this.name, err }, 'cannot read the reference snapshot; collecting a new reference');
      }
    }
    const m = Math.min(ref.n, this.config.fit.maxSamples);
    this.collecting = { buffer: new Float64Array(m * this.dimension), n: ref.n, m, count: 0, kept: 0 };
  }

  private setReference(model: Gmm, samples: number, meanLogLik?: number, createdAtMs = this.deps.clock.now()): void {
    if (model.d !== this.dimension) {
      throw new Error(`stream ${this.name}: the reference model has d=${model.d} but the stream has ${this.dimension} fields`);
    }
    this.reference = model;
    this.referenceJson = gmmToJson(model);
    this.referenceSamples = samples;
    this.referenceLogLik = meanLogLik;
    this.referenceCreatedAtMs = createdAtMs;
    this.collecting = undefined;
  }

  /**
   * The reference as a snapshot, to keep across restarts; undefined while it is being
   * collected, and for a reference from a file (the file keeps it).
   */
  referenceSnapshot(): ReferenceSnapshot | undefined {
    if (this.reference === undefined || this.config.reference.policy === 'file') return undefined;
    return {
      stream: this.name,
      fields: [...this.config.fields],
      samples: this.referenceSamples,
      meanLogLik: this.referenceLogLik,
      createdAtMs: this.referenceCreatedAtMs,
      model: this.reference,
    };
  }

  /**
   * Adopts a reference kept elsewhere (a checkpoint) instead of collecting one. Refused (false)
   * when the stream already has a reference, or the snapshot is for other fields.
   */
  restoreReference(snap: ReferenceSnapshot): boolean {
    if (this.reference !== undefined) return false;
    if (snap.fields.join('\0') !== this.config.fields.join('\0') || snap.model.d !== this.dimension) return false;
    this.setReference(snap.model, snap.samples, snap.meanLogLik, snap.createdAtMs);
    this.referenceFrom.clear();
    this.deps.logger.info({ stream: this.name, samples: snap.samples, createdAtMs: snap.createdAtMs }, 'reference restored from checkpoint');
    return true;
  }

  /**
   * Per lane, the position of the first record of the reference's data: a restart that finds
   * no kept reference replays from there to collect the same one. Empty once restored.
   */
  get referenceOrigins(): ReadonlyMap<number, number> {
    return this.referenceFrom;
  }

  private referenceReady(): boolean {
    const c = this.collecting;
    return c !== undefined && c.count === c.n;
  }

  private async fitReference(yieldToLoop: Yield): Promise<void> {
    const c = this.collecting!;
    const d = this.dimension;
    const X = c.buffer;
    const n = c.m;
    try {
      const seed = `${this.name}:reference:${this.refits++}`;
      const { result: r, seconds } = await busy(yieldToLoop, (y) => fitFresh(X, n, d, this.mixture, seed, y));
      this.deps.observer.refitSeconds(seconds);
      this.setReference(r.model, c.n, r.meanLogLik);
      this.deps.logger.info({ stream: this.name, samples: c.n, components: r.model.k }, 'reference fitted');
    } catch (err) {
      this.deps.logger.warn({ stream: this.name, err }, 'reference fit failed; retrying at the next evaluation');
      this.retryReferenceMs = this.deps.clock.now() + this.config.evaluationIntervalSeconds * 1000;
      return;
    }
    if (this.config.reference.policy === 'snapshot') {
      try {
        await saveSnapshot(this.deps.stateDir, {
          stream: this.name,
          fields: this.config.fields,
          samples: this.referenceSamples,
          meanLogLik: this.referenceLogLik,
          createdAtMs: this.deps.clock.now(),
          model: this.reference!,
        });
      } catch (err) {
        this.deps.logger.warn({ stream: this.name, err }, 'cannot save the reference snapshot; it will be refitted after a restart');
      }
    }
  }

  // ---------------------------------------------------------------- ingestion

  /**
   * One decoded vector (its first `dimension` values). A `replay`ed vector was counted by an
   * earlier run: it rebuilds the window (and a reference still being collected) but is not
   * counted again.
   */
  push(v: Float64Array, timestampMs: number, origin?: RecordOrigin, replay = false): void {
    if (!replay) this.records++;
    if (this.window.push(v, timestampMs) && origin !== undefined) this.window.tagNewest(origin.lane, origin.position);
    const c = this.collecting;
    if (c !== undefined && c.count < c.n) {
      if (origin !== undefined && !this.referenceFrom.has(origin.lane)) this.referenceFrom.set(origin.lane, origin.position);
      if (c.count === Math.floor((c.kept * c.n) / c.m)) c.buffer.set(v.subarray(0, this.dimension), c.kept++ * this.dimension);
      c.count++;
    }
  }

  // ---------------------------------------------------------------- scheduling

  /** Whether `process` has something to do now. Cheap: the scheduler asks every stream every tick. */
  isDue(nowMs: number): boolean {
    if (this.reference === undefined) return this.referenceReady() && nowMs >= this.retryReferenceMs;
    this.window.expire(nowMs);
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
  async process(yieldToLoop: Yield): Promise<void> {
    if (this.reference === undefined) {
      if (!this.referenceReady()) return;
      await this.fitReference(yieldToLoop);
      if (this.reference === undefined) return;
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
    if (this.fitter.model === undefined && this.referenceLogLik !== undefined) {
      // The window starts out like the reference: warm-start from it rather than fit afresh.
      this.fitter.startFrom(this.reference!, this.referenceLogLik);
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
    const reference = this.reference!;
    const window = this.fitter.model!;
    let busy = 0;
    const divergences = {} as Evaluation['divergences'];
    for (const m of MEASURES) {
      const seed = `${this.name}:${this.evaluations}:${m}`;
      let e: Estimate | undefined;
      const s0 = performance.now();
      try {
        e = estimate(m, reference, window, seed, this.deps.estimator);
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
      for (const m of MEASURES) {
        const t = this.config.thresholds[m]?.[sev];
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
          { stream: this.name, severity: sev, divergences: values },
          det.driftDetected ? 'drift alert raised' : 'drift alert cleared',
        );
      }
    }
  }

  // ---------------------------------------------------------------- view

  phase(): StreamPhase {
    if (this.reference === undefined) return 'collecting_reference';
    if (this.last === undefined || this.window.size < this.config.minSamples) return 'warming_window';
    return 'ready';
  }

  view(): StreamView {
    const c = this.config;
    const phase = this.phase();
    const model = this.hasWindowModel() ? this.fitter.model : undefined;
    if (model && this.windowJson === undefined) this.windowJson = gmmToJson(model);
    const history = this.history;
    return {
      name: c.name,
      topic: c.topic,
      fields: [...c.fields],
      dimension: this.dimension,
      phase,
      ready: phase === 'ready',
      windowSamples: this.window.size,
      referenceSamples: this.reference ? this.referenceSamples : (this.collecting?.count ?? 0),
      recordsTotal: this.records,
      evaluationIntervalSeconds: c.evaluationIntervalSeconds,
      lastEvaluation: this.last,
      thresholds: c.thresholds,
      alert: { warning: this.detectors.warning.driftDetected, critical: this.detectors.critical.driftDetected },
      reference: this.referenceJson,
      window: model ? this.windowJson : undefined,
      // Built only when read: metrics scrape every stream's view several times per scrape.
      get history(): Evaluation[] {
        return history.toArray();
      },
    };
  }
}
