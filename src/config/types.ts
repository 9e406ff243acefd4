import type { CovarianceType } from '../gmm/model.js';
import type { Measure, Severity } from '../stream/view.js';

/** The validated configuration with every default filled in; what the rest of klaxon reads. */
export interface Config {
  source: SourceConfig;
  http: HttpConfig;
  log: LogConfig;
  /** Where `reference.policy: snapshot` keeps references across restarts. */
  stateDir: string;
  streams: StreamConfig[];
}

export type SourceConfig = DemoSourceConfig | FileSourceConfig | KafkaSourceConfig;

export interface DemoSourceConfig {
  type: 'demo';
  seed: string | number;
  /** Records per second on each demo topic. */
  rate: number;
  /** Seconds after start when the drifting demo features begin to drift. */
  driftAfterSeconds: number;
  /** Fraction of records deliberately malformed, so the reject counters have something to show. */
  malformedFraction: number;
}

export interface FileSourceConfig {
  type: 'file';
  path: string;
  format: 'jsonl' | 'csv';
  /** Records per second; 0 replays as fast as the monitor takes them. */
  rate: number;
  loop: boolean;
  /** The topic every replayed record is published on, for stream routing. */
  topic: string;
  /** A field holding the record's event time (epoch ms, or an ISO 8601 string); else the clock's now. */
  timestampField: string | undefined;
}

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaSourceConfig {
  type: 'kafka';
  brokers: string[];
  clientId: string;
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  ssl: boolean;
  /** The password is never in the config: `passwordEnv` names the environment variable holding it. */
  sasl: { mechanism: SaslMechanism; username: string; passwordEnv: string } | undefined;
  deadLetterTopic: string | undefined;
  /**
   * A compacted topic where the consumer keeps each stream's reference and, per partition, the
   * oldest offset any window still holds, so a restart rebuilds the windows by replay; undefined
   * when checkpoints are off.
   */
  checkpointTopic: string | undefined;
  /** Seconds between checkpoints (each after an offset commit). */
  checkpointIntervalSeconds: number;
  /**
   * The consumer group session timeout: how long the group waits for a silent member (a
   * crashed klaxon) before giving its partitions to another, or to its own restart.
   */
  sessionTimeoutSeconds: number;
  /**
   * Several instances in one group share the streams: a router stage re-keys every decoded
   * vector by stream name into `topic` (`partitions` partitions), and each instance owns the
   * streams of the partitions it is assigned. Undefined: one instance owns every stream.
   */
  scaleOut: { topic: string; partitions: number } | undefined;
}

export interface HttpConfig {
  host: string;
  port: number;
  /**
   * The environment variable holding the bearer token of the operator controls (re-baseline,
   * mute); when it is unset or empty they are switched off. Default KLAXON_API_TOKEN.
   */
  apiTokenEnv: string;
  /** Certificate chain and private key (PEM files, absolute paths) to serve HTTPS; undefined serves HTTP. */
  tls: { certFile: string; keyFile: string } | undefined;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogConfig {
  level: LogLevel;
}

export type ReferenceConfig =
  /** The first n vectors the stream sees become the reference. */
  | { policy: 'first_n'; n: number }
  /** A model JSON (scikit-learn field names) fitted elsewhere. */
  | { policy: 'file'; path: string }
  /** first_n on the first run, then kept in the state directory across restarts. */
  | { policy: 'snapshot'; n: number };

export interface FitConfig {
  nInit: number;
  maxIter: number;
  tol: number;
  regCovar: number;
  /**
   * Fits use at most this many vectors, evenly spread over the window (or the reference's
   * first n). A mixture of a few components is estimated well from a few thousand points;
   * larger windows buy time coverage, and fitting all of them would only cost CPU.
   */
  maxSamples: number;
}

export interface StreamConfig {
  name: string;
  /** Only records on this topic feed the stream; undefined means any topic. */
  topic: string | undefined;
  /** Dotted JSON paths; one field is a univariate stream, several a joint multivariate one. */
  fields: string[];
  /** Per field, in `fields` order; ±Infinity where unbounded. */
  bounds: { min: number; max: number }[];
  /** Number of mixture components: min === max for a fixed K, else chosen by BIC in the range. */
  components: { min: number; max: number };
  covarianceType: CovarianceType;
  window: { size: number; durationSeconds: number | undefined };
  minSamples: number;
  reference: ReferenceConfig;
  refitIntervalSeconds: number;
  evaluationIntervalSeconds: number;
  /** Nats, per measure and severity; a disabled one is absent. */
  thresholds: Partial<Record<Measure, Partial<Record<Severity, number>>>>;
  /**
   * Thresholds calibrated against the stream's bootstrap null, per measure and severity: a
   * per-evaluation p-value level or a false-alarm rate. Until the null is computed, the
   * measure falls back to `thresholds` (nats). Absent: none.
   */
  calibratedThresholds?: Partial<Record<Measure, Partial<Record<Severity, CalibratedThreshold>>>>;
  hysteresis: { raiseAfter: number; clearAfter: number };
  fit: FitConfig;
}

/** A threshold calibrated against the stream's no-drift null (see `calibration/rate.ts`). */
export type CalibratedThreshold = { pvalue: number } | { falseAlarmsPerDay: number } | { meanDaysBetweenFalseAlarms: number };
