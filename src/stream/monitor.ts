import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StreamConfig } from '../config/types.js';
import type { Gmm } from '../gmm/model.js';
import { decimal } from '../math/decimal.js';
import { createBackground, type Background } from './background.js';
import { systemClock, type Clock } from './clock.js';
import { ControlError, type MonitorControl, type MuteResult, type MuteUntil, type RebaselineResult } from './control.js';
import { Decoder, type RejectReason } from './decode.js';
import { MAX_MESSAGES } from './json-batch.js';
import type { EstimatorSettings } from './estimate.js';
import { silentLogger, type MonitorLogger } from './logger.js';
import type { MuteChange } from './mute-change.js';
import type { IngestOptions, SourceRecord } from './record.js';
import type { ReferenceSnapshot } from './snapshot.js';
import { StreamState, type RecordOrigin, type StreamDeps } from './stream.js';
import { createTurns } from './turns.js';
import type { MonitorObserver, MonitorView, RejectCount, StreamView } from './view.js';

export interface MonitorOptions {
  streams: readonly StreamConfig[];
  clock?: Clock;
  logger?: MonitorLogger;
  /** Where snapshot references live; default `.klaxon-state`. */
  stateDir?: string;
  /** Passed to the divergence estimators. Default: their `auto` method, aiming at a 0.005-nat standard error. */
  estimator?: EstimatorSettings;
  /** Evaluations kept per stream for the status page. Default 60. */
  historyLength?: number;
  /** Bootstrap replicates of each reference's no-drift null (see `calibration/`); 0 turns calibration off. Default 200. */
  calibrationReplicates?: number;
  /** Whether the source is connected, for `isReady()`. */
  sourceConnected?: () => boolean;
  /**
   * Scale-out: streams start unowned and are taken on (`acquire`) and dropped (`release`) as
   * the consumer group moves them; only owned streams are fed, evaluated, checkpointed and shown.
   */
  ownership?: boolean;
  /**
   * The worker script for reference fits, re-baselines and null bootstraps (see
   * background.ts); default the compiled one where it exists (running from dist/), else the
   * main thread. false: always the main thread.
   */
  backgroundWorker?: URL | false;
}

/**
 * A standard error of 0.005 nats is a tenth of the smallest default threshold (JS warning
 * 0.05): plenty to tell drift from no drift, and far cheaper than the estimators' own
 * default (1% of the value), which chases precision nobody alerts on.
 */
export const DEFAULT_ESTIMATOR: EstimatorSettings = { method: 'auto', targetStderr: 0.005 };

/** A record's place in its source: what a restart replays from. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: number;
}

/** What a restart needs to rebuild one stream from its source (see `Monitor.retention`). */
export interface StreamRetention {
  stream: string;
  /** The reference to keep; undefined while it is being collected or when it comes from a file. */
  reference: ReferenceSnapshot | undefined;
  /** Per topic-partition, the oldest record in the window. */
  window: SourcePosition[];
  /** Per topic-partition, the first record of the reference's data; empty once it was restored. */
  referenceFrom: SourcePosition[];
  /** The operator's latest mute decision, in force or not; undefined when there never was one. */
  mute: MuteChange | undefined;
}

/**
 * The monitor: every stream's state, fed by `ingest` and worked on by `runDue`, readable
 * through MonitorView. Work is sliced: `runDue` processes one stream per macrotask and each
 * stream yields between its fits and estimates, so ingestion and scrapes are never stalled
 * for long, even with a thousand streams.
 */
export class Monitor implements MonitorView, MonitorControl {
  private readonly states: StreamState[];
  private readonly byName = new Map<string, StreamState>();
  private readonly decisionListeners: (() => void)[] = [];
  private readonly stateDeps: StreamDeps;
  /** Scale-out: the streams this instance owns; undefined when it owns every stream. */
  private readonly owned: Set<string> | undefined;
  private readonly decoder: Decoder;
  private readonly clock: Clock;
  private readonly logger: MonitorLogger;
  private readonly observers: MonitorObserver[] = [];
  private readonly rejectCounts = new Map<string, RejectCount>();
  private readonly sourceConnected: () => boolean;
  private scratchBuffer = new Float64Array(0);
  private initialised = false;

  /** Per batch: the source name and the timestamp for records without one. */
  private batchSource = '';
  private batchNowMs = 0;
  private batchReplay = false;
  private batchOnReject: IngestOptions['onReject'];

  /** Topic-partitions seen, numbered: the lanes of record origins. */
  private readonly laneIds = new Map<string, number>();
  private readonly lanes: { topic: string; partition: number }[] = [];
  private lastLane = { topic: '', partition: -1, lane: -1 };
  /** The origin of the record being decoded (one record feeds several streams). */
  private readonly origin: RecordOrigin = { lane: -1, position: 0 };
  private originRecord: SourceRecord | undefined;
  private originValue: RecordOrigin | undefined;
  /**
   * The timestamps and origins of the records a `vectors` sink call covers, kept for the next
   * streams' calls over the same records (lane -1: none); `originsFor` says which, until the
   * batch ends.
   */
  private readonly origins = { times: new Float64Array(MAX_MESSAGES), lanes: new Int32Array(MAX_MESSAGES), positions: new Float64Array(MAX_MESSAGES) };
  private originsFor: { records: readonly SourceRecord[]; from: number; to: number } | undefined;

  private running: Promise<number> | undefined;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();
  /** Every slice of this monitor's work on this thread takes turns here: the scheduler's, and the background's when it has no worker. */
  private readonly turns = createTurns();
  /** Reference fits, re-baselines and null bootstraps: a worker thread where there is one. */
  private readonly background: Background;

  constructor(options: MonitorOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.sourceConnected = options.sourceConnected ?? (() => true);
    const observer: MonitorObserver = {
      refitSeconds: (s) => this.observers.forEach((o) => o.refitSeconds(s)),
      evaluationSeconds: (s) => this.observers.forEach((o) => o.evaluationSeconds(s)),
    };
    this.background = createBackground({ yieldToLoop: this.turns.yield, logger: this.logger, worker: options.backgroundWorker });
    const deps = {
      background: this.background,
      clock: this.clock,
      logger: this.logger,
      observer,
      estimator: options.estimator ?? DEFAULT_ESTIMATOR,
      stateDir: options.stateDir ?? path.resolve('.klaxon-state'),
      historyLength: options.historyLength ?? 60,
      yieldToLoop: this.turns.yield,
      ...(options.calibrationReplicates === undefined ? {} : { calibrationReplicates: options.calibrationReplicates }),
      scratch: (n: number): Float64Array => {
        if (this.scratchBuffer.length < n) this.scratchBuffer = new Float64Array(n);
        return this.scratchBuffer;
      },
    };
    this.stateDeps = deps;
    this.owned = options.ownership ? new Set() : undefined;
    this.states = options.streams.map((c) => new StreamState(c, deps));
    for (const s of this.states) {
      if (this.byName.has(s.name)) throw new Error(`duplicate stream name ${s.name}`);
      this.byName.set(s.name, s);
    }
    this.decoder = new Decoder(options.streams, {
      vector: (target, v, record) => {
        const state = this.states[target]!;
        if (this.owned !== undefined && !this.owned.has(state.name)) return;
        state.push(v, record.timestampMs ?? this.batchNowMs, this.originOf(record), this.batchReplay);
      },
      vectors: (target, rows, verdicts, at, records, from, to) => {
        const state = this.states[target]!;
        if (this.owned !== undefined && !this.owned.has(state.name)) return;
        const { times, lanes, positions } = this.originsOf(records, from, to);
        state.pushRows(rows, at, to - from, verdicts, times, lanes, positions, this.batchReplay);
      },
      reject: (reason, target, record) => {
        if (this.batchReplay) return;
        this.countReject(this.batchSource, reason);
        this.batchOnReject?.(reason, target < 0 ? undefined : this.states[target]!.name, record);
      },
    });
  }

  /** Loads file and snapshot references. Throws when a configured reference cannot be used. */
  async init(): Promise<void> {
    for (const s of this.states) await s.init();
    this.initialised = true;
    this.logger.info({ background: this.background.where }, this.background.where === 'worker' ? 'fits and calibrations run in a worker thread' : 'fits and calibrations run on the main thread');
  }

  /** Where reference fits, re-baselines and null bootstraps run now. */
  get backgroundThread(): 'worker' | 'main' {
    return this.background.where;
  }

  /** Receives the metrics' observer (refit and evaluation timings). */
  observe(observer: MonitorObserver): void {
    this.observers.push(observer);
  }

  // ---------------------------------------------------------------- ingestion

  /**
   * Decodes a batch into the streams' windows. Synchronous and never throws on bad records.
   * Records with a partition and an offset are remembered by position in the windows (see
   * `retention`).
   */
  ingest(source: string, batch: readonly SourceRecord[], options: IngestOptions = {}): void {
    this.batchSource = source;
    this.batchNowMs = this.clock.now();
    this.batchReplay = options.replay === true;
    this.batchOnReject = options.onReject;
    try {
      this.decoder.decodeAll(batch);
    } finally {
      this.batchOnReject = undefined;
      this.originRecord = undefined;
      this.originValue = undefined;
      this.originsFor = undefined;
    }
  }

  /**
   * Scale-out: records a router re-keyed by stream, each `{"s": stream, "v": [[numbers], ...],
   * "t": [timestamps]}` (see sources/kafka/router.ts), applied to the stream named if this
   * instance owns it. Rejects were counted by the router; a vector that does not fit is skipped.
   */
  ingestRouted(batch: readonly SourceRecord[], options: IngestOptions = {}): void {
    this.batchNowMs = this.clock.now();
    const replay = options.replay === true;
    try {
      for (const record of batch) {
        let parsed: { s?: unknown; v?: unknown; t?: unknown };
        try {
          parsed = JSON.parse(typeof record.value === 'string' ? record.value : record.value.toString('utf8')) as typeof parsed;
        } catch {
          continue;
        }
        const state = typeof parsed.s === 'string' ? this.byName.get(parsed.s) : undefined;
        if (state === undefined || (this.owned !== undefined && !this.owned.has(state.name)) || !Array.isArray(parsed.v)) continue;
        const times = Array.isArray(parsed.t) ? (parsed.t as unknown[]) : [];
        const origin = this.originOf(record);
        const d = state.dimension;
        for (let i = 0; i < parsed.v.length; i++) {
          const v: unknown = parsed.v[i];
          if (!Array.isArray(v) || v.length !== d || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) continue;
          const t = times[i];
          state.push(Float64Array.from(v as number[]), typeof t === 'number' ? t : (record.timestampMs ?? this.batchNowMs), origin, replay);
        }
      }
    } finally {
      this.originRecord = undefined;
      this.originValue = undefined;
    }
  }

  /** Counts a rejection made elsewhere (the scale-out router decodes before the monitor sees a record). */
  countRejected(source: string, reason: RejectReason): void {
    this.countReject(source, reason);
  }

  // ---------------------------------------------------------------- ownership (scale-out)

  /** Takes on streams: each starts fresh (init: operator state, file or snapshot reference), then fills from its source. */
  async acquire(names: readonly string[]): Promise<void> {
    if (this.owned === undefined) return;
    for (const name of names) {
      if (this.owned.has(name)) continue;
      const i = this.states.findIndex((s) => s.name === name);
      if (i < 0) continue;
      const state = new StreamState(this.states[i]!.config, this.stateDeps);
      await state.init();
      this.states[i] = state;
      this.byName.set(name, state);
      this.owned.add(name);
    }
  }

  /** Drops streams another instance now owns: their state goes, and with it their series and API entries. */
  release(names: readonly string[]): void {
    if (this.owned === undefined) return;
    for (const name of names) {
      if (!this.owned.delete(name)) continue;
      const i = this.states.findIndex((s) => s.name === name);
      const state = new StreamState(this.states[i]!.config, this.stateDeps);
      this.states[i] = state;
      this.byName.set(name, state);
    }
  }

  /** Scale-out: whether this instance owns the stream; always true otherwise. */
  owns(name: string): boolean {
    return this.owned === undefined || this.owned.has(name);
  }

  /** The streams fed, evaluated and shown: every stream, or in scale-out the owned ones. */
  private active(): StreamState[] {
    const owned = this.owned;
    return owned === undefined ? this.states : this.states.filter((s) => owned.has(s.name));
  }

  /** The timestamps and origins of records [from, to), computed once for all the streams they feed. */
  private originsOf(records: readonly SourceRecord[], from: number, to: number): { times: Float64Array; lanes: Int32Array; positions: Float64Array } {
    const o = this.originsFor;
    if (o !== undefined && o.records === records && o.from === from && o.to === to) return this.origins;
    const { times, lanes, positions } = this.origins;
    for (let i = from; i < to; i++) {
      const { partition, offset, timestampMs } = records[i]!;
      const none = partition === undefined || offset === undefined;
      times[i - from] = timestampMs ?? this.batchNowMs;
      lanes[i - from] = none ? -1 : this.laneOf(records[i]!.topic, partition);
      positions[i - from] = none ? 0 : decimal(offset);
    }
    this.originsFor = { records, from, to };
    return this.origins;
  }

  private originOf(record: SourceRecord): RecordOrigin | undefined {
    if (record === this.originRecord) return this.originValue;
    this.originRecord = record;
    const { partition, offset } = record;
    if (partition === undefined || offset === undefined) return (this.originValue = undefined);
    this.origin.lane = this.laneOf(record.topic, partition);
    this.origin.position = decimal(offset);
    return (this.originValue = this.origin);
  }

  private laneOf(topic: string, partition: number): number {
    const last = this.lastLane;
    if (last.partition === partition && last.topic === topic) return last.lane;
    const key = `${topic}\0${partition}`;
    let lane = this.laneIds.get(key);
    if (lane === undefined) {
      lane = this.lanes.length;
      this.laneIds.set(key, lane);
      this.lanes.push({ topic, partition });
    }
    this.lastLane = { topic, partition, lane };
    return lane;
  }

  private countReject(source: string, reason: RejectReason): void {
    const key = `${source}\0${reason}`;
    const c = this.rejectCounts.get(key);
    if (c) c.count++;
    else this.rejectCounts.set(key, { source, reason, count: 1 });
  }

  // ---------------------------------------------------------------- restarts

  /**
   * What a restart needs to rebuild every stream from a replayable source (Kafka): the
   * references to keep, and per topic-partition the oldest record each stream still holds.
   * Costs a pass over every window: call it every few seconds, not per record.
   */
  retention(): StreamRetention[] {
    const positions = (m: ReadonlyMap<number, number>): SourcePosition[] =>
      [...m].map(([lane, offset]) => ({ ...this.lanes[lane]!, offset }));
    return this.active().map((s) => {
      const window = new Map<number, number>();
      s.window.oldestPositions(window);
      return {
        stream: s.name,
        reference: s.referenceSnapshot(),
        window: positions(window),
        referenceFrom: positions(s.referenceOrigins),
        mute: s.muteChange(),
      };
    });
  }

  /**
   * Adopts a kept reference for the stream it names, instead of collecting a new one. False
   * when there is no such stream, it has a reference already, or the snapshot is for other fields.
   */
  restoreReference(snapshot: ReferenceSnapshot): boolean {
    if (!this.owns(snapshot.stream)) return false;
    return this.byName.get(snapshot.stream)?.restoreReference(snapshot) ?? false;
  }

  /**
   * Adopts a kept mute decision (mute or unmute) for the stream it names when it is newer than
   * the stream's own (see `mute-change.ts`). False when there is no such stream here, or the
   * stream's decision is as new.
   */
  restoreMute(change: MuteChange): boolean {
    if (!this.owns(change.stream)) return false;
    return this.byName.get(change.stream)?.restoreMute(change) ?? false;
  }

  // ---------------------------------------------------------------- scheduling

  /**
   * Processes every stream with work due (reference fit, refit, evaluation), one stream per
   * macrotask. Concurrent calls share one pass. Resolves with the number of streams processed.
   */
  runDue(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<number> {
    let processed = 0;
    for (const s of this.active()) {
      if (this.abort.signal.aborted) break;
      if (!s.isDue(this.clock.now())) continue;
      try {
        await s.process(this.turns.yield);
      } catch (err) {
        this.logger.error({ stream: s.name, err }, 'stream processing failed');
      }
      processed++;
      await this.turns.yield();
    }
    return processed;
  }

  /** Runs `runDue` on a timer until `stop()`; the tick is a fraction of the shortest interval. */
  start(): void {
    if (this.loop) return;
    const shortest = Math.min(...this.states.map((s) => s.config.evaluationIntervalSeconds)) * 1000;
    const tickMs = Math.min(1000, Math.max(20, shortest / 5));
    this.loop = (async () => {
      while (!this.abort.signal.aborted) {
        await this.runDue();
        await sleep(tickMs, undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    })();
  }

  /**
   * Stops the scheduler after the stream in progress, and drops the background work: a
   * reference fit or null bootstrap in progress is abandoned (a restart does it again) and the
   * worker thread ends.
   */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.background.close();
    await this.loop;
    await this.running;
  }

  // ---------------------------------------------------------------- MonitorControl

  async rebaseline(stream: string, model?: Gmm): Promise<RebaselineResult> {
    return this.decided(await this.named(stream).rebaseline(model));
  }

  async mute(stream: string, until: MuteUntil): Promise<MuteResult> {
    return this.decided(await this.named(stream).mute(until));
  }

  async unmute(stream: string): Promise<MuteResult> {
    return this.decided(await this.named(stream).unmute());
  }

  /**
   * Calls `listener` after every operator decision that took effect (a re-baseline, a mute, an
   * unmute): a checkpointing source writes it at once, not at its next interval, so that an
   * instance killed right after it does not take the decision with it (see RestorableState).
   */
  onDecision(listener: () => void): void {
    this.decisionListeners.push(listener);
  }

  private decided<T>(result: T): T {
    for (const listener of this.decisionListeners) listener();
    return result;
  }

  private named(name: string): StreamState {
    const s = this.byName.get(name);
    if (s === undefined || !this.owns(name)) throw new ControlError('not_found', 'no such stream');
    return s;
  }

  // ---------------------------------------------------------------- MonitorView

  streams(): StreamView[] {
    return this.active().map((s) => s.view());
  }

  stream(name: string): StreamView | undefined {
    return this.owns(name) ? this.byName.get(name)?.view() : undefined;
  }

  rejects(): RejectCount[] {
    return [...this.rejectCounts.values()].map((c) => ({ ...c }));
  }

  isReady(): boolean {
    return this.initialised && this.sourceConnected();
  }
}
