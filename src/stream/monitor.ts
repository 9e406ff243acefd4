import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StreamConfig } from '../config/types.js';
import { systemClock, type Clock } from './clock.js';
import { Decoder, type RejectReason } from './decode.js';
import type { EstimatorSettings } from './estimate.js';
import { silentLogger, type MonitorLogger } from './logger.js';
import type { SourceRecord } from './record.js';
import { StreamState } from './stream.js';
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
  /** Whether the source is connected, for `isReady()`. */
  sourceConnected?: () => boolean;
}

/**
 * A standard error of 0.005 nats is a tenth of the smallest default threshold (JS warning
 * 0.05): plenty to tell drift from no drift, and far cheaper than the estimators' own
 * default (1% of the value), which chases precision nobody alerts on.
 */
export const DEFAULT_ESTIMATOR: EstimatorSettings = { method: 'auto', targetStderr: 0.005 };

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The monitor: every stream's state, fed by `ingest` and worked on by `runDue`, readable
 * through MonitorView. Work is sliced: `runDue` processes one stream per macrotask and each
 * stream yields between its fits and estimates, so ingestion and scrapes are never stalled
 * for long, even with a thousand streams.
 */
export class Monitor implements MonitorView {
  private readonly states: StreamState[];
  private readonly byName = new Map<string, StreamState>();
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

  private running: Promise<number> | undefined;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(options: MonitorOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.sourceConnected = options.sourceConnected ?? (() => true);
    const observer: MonitorObserver = {
      refitSeconds: (s) => this.observers.forEach((o) => o.refitSeconds(s)),
      evaluationSeconds: (s) => this.observers.forEach((o) => o.evaluationSeconds(s)),
    };
    const deps = {
      clock: this.clock,
      logger: this.logger,
      observer,
      estimator: options.estimator ?? DEFAULT_ESTIMATOR,
      stateDir: options.stateDir ?? path.resolve('.klaxon-state'),
      historyLength: options.historyLength ?? 60,
      scratch: (n: number): Float64Array => {
        if (this.scratchBuffer.length < n) this.scratchBuffer = new Float64Array(n);
        return this.scratchBuffer;
      },
    };
    this.states = options.streams.map((c) => new StreamState(c, deps));
    for (const s of this.states) {
      if (this.byName.has(s.name)) throw new Error(`duplicate stream name ${s.name}`);
      this.byName.set(s.name, s);
    }
    this.decoder = new Decoder(options.streams, {
      vector: (target, v, record) => this.states[target]!.push(v, record.timestampMs ?? this.batchNowMs),
      reject: (reason, _target, _record) => this.countReject(this.batchSource, reason),
    });
  }

  /** Loads file and snapshot references. Throws when a configured reference cannot be used. */
  async init(): Promise<void> {
    for (const s of this.states) await s.init();
    this.initialised = true;
  }

  /** Receives the metrics' observer (refit and evaluation timings). */
  observe(observer: MonitorObserver): void {
    this.observers.push(observer);
  }

  // ---------------------------------------------------------------- ingestion

  /** Decodes a batch into the streams' windows. Synchronous and never throws on bad records. */
  ingest(source: string, batch: readonly SourceRecord[]): void {
    this.batchSource = source;
    this.batchNowMs = this.clock.now();
    for (let i = 0; i < batch.length; i++) this.decoder.decode(batch[i]!);
  }

  private countReject(source: string, reason: RejectReason): void {
    const key = `${source}\0${reason}`;
    const c = this.rejectCounts.get(key);
    if (c) c.count++;
    else this.rejectCounts.set(key, { source, reason, count: 1 });
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
    for (const s of this.states) {
      if (this.abort.signal.aborted) break;
      if (!s.isDue(this.clock.now())) continue;
      try {
        await s.process(yieldToLoop);
      } catch (err) {
        this.logger.error({ stream: s.name, err }, 'stream processing failed');
      }
      processed++;
      await yieldToLoop();
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

  /** Stops the scheduler after the stream in progress. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await this.running;
  }

  // ---------------------------------------------------------------- MonitorView

  streams(): StreamView[] {
    return this.states.map((s) => s.view());
  }

  stream(name: string): StreamView | undefined {
    return this.byName.get(name)?.view();
  }

  rejects(): RejectCount[] {
    return [...this.rejectCounts.values()].map((c) => ({ ...c }));
  }

  isReady(): boolean {
    return this.initialised && this.sourceConnected();
  }
}
