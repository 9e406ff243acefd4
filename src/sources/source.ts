import type { IngestOptions, SourceRecord } from '../stream/record.js';

export type { IngestOptions, SourceRecord };

/**
 * Takes one batch and resolves once every record in it has been applied to stream state.
 * A source calls it with one batch at a time, never the next before the last has settled.
 * `options` mark a replay, or ask to hear of rejected records (see `IngestOptions`).
 */
export type BatchSink = (batch: SourceRecord[], options?: IngestOptions) => Promise<void>;

/**
 * Where records come from: the demo generator, file replay, and later Kafka.
 *
 * At-least-once: a source acknowledges (commits) a batch only after the sink's promise for
 * it resolves, so a crash can replay records but never loses any. If the sink rejects, the
 * batch is not acknowledged and is delivered again after a backoff.
 */
export interface Source {
  /** Names the source in reject counts and logs. */
  readonly name: string;
  /** Begins delivering batches to `sink`; resolves once consuming has started. */
  start(sink: BatchSink): Promise<void>;
  /** Stops fetching, waits for the in-flight batch to settle (and acknowledges it), then resolves. */
  stop(): Promise<void>;
  /** True while the source can deliver (connected to its broker, file open, generator running), and after a file replay delivered all it had. */
  isConnected(): boolean;
}

/** The logging a source needs; pino's Logger satisfies it. */
export interface SourceLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
