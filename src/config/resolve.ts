import path from 'node:path';
import type { ThresholdLevel } from '../calibration/config.js';
import { MEASURES, SEVERITIES, type Measure, type Severity } from '../stream/view.js';
import {
  DEFAULT_DEMO,
  DEFAULT_HTTP,
  DEFAULT_STATE_DIR,
  DEFAULT_STREAM,
  DEFAULT_CALIBRATED_THRESHOLDS,
  DEFAULT_THRESHOLDS,
  JS_MAX,
  defaultMinSamples,
} from './defaults.js';
import { ConfigError, formatPath, type ConfigIssue } from './errors.js';
import { configSchema, type RawConfig, type RawStream, type RawStreamDefaults } from './schema.js';
import { closest, knownKeys } from './suggest.js';
import type { Config, ReferenceConfig, SourceConfig, StreamConfig } from './types.js';

export interface ParseOptions {
  /** Environment for secret references (`passwordEnv`); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Relative paths in the file resolve against this; defaults to the working directory. */
  baseDir?: string;
  /** Named in error messages. */
  file?: string;
}

const SECRET_KEY = /^(password|passwd|secret|token|api[_-]?token|api[_-]?key|private[_-]?key|sasl[_-]?password)$/i;

/** Secrets never live in the file: find inline ones, and drop them so zod does not also call them unknown. */
function stripSecrets(v: unknown, at: PropertyKey[], issues: ConfigIssue[]): unknown {
  if (Array.isArray(v)) return v.map((x, i) => stripSecrets(x, [...at, i], issues));
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (SECRET_KEY.test(k)) {
      issues.push({
        path: formatPath([...at, k]),
        message:
          'inline secrets are not allowed; put the secret in an environment variable and name it with ' +
          `${k === 'password' ? 'passwordEnv' : `${k}Env`} (e.g. passwordEnv: KLAXON_KAFKA_PASSWORD)`,
      });
    } else out[k] = stripSecrets(x, [...at, k], issues);
  }
  return out;
}

/**
 * Validates a parsed configuration object and fills in every default. Throws a ConfigError
 * listing every problem as `key.path: what is wrong`.
 */
export function parseConfig(raw: unknown, options: ParseOptions = {}): Config {
  const issues: ConfigIssue[] = [];
  const cleaned = stripSecrets(raw ?? {}, [], issues);
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const known = knownKeys(configSchema, issue.path);
        for (const key of issue.keys) {
          const hint = closest(key, known);
          issues.push({
            path: formatPath([...issue.path, key]),
            message: `unknown key${hint ? ` (did you mean "${hint}"?)` : known.length ? ` (expected one of ${known.join(', ')})` : ''}`,
          });
        }
      } else {
        const missing = issue.code === 'invalid_type' && valueAt(cleaned, issue.path) === undefined;
        issues.push({ path: formatPath(issue.path), message: missing ? `is required (${issue.message})` : issue.message });
      }
    }
  }
  if (!parsed.success || issues.length > 0) throw new ConfigError(issues, { file: options.file });
  const config = resolve(parsed.data, options, issues);
  if (issues.length > 0) throw new ConfigError(issues, { file: options.file });
  return config;
}

function valueAt(v: unknown, at: readonly PropertyKey[]): unknown {
  for (const key of at) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function resolve(raw: RawConfig, options: ParseOptions, issues: ConfigIssue[]): Config {
  const baseDir = options.baseDir ?? process.cwd();
  const abs = (p: string): string => path.resolve(baseDir, p);
  const streams = raw.streams.map((s, i) => resolveStream(s, raw.defaults ?? {}, `streams[${i}]`, abs, issues));
  checkUniqueNames(streams, issues);
  const source = resolveSource(raw, streams, options.env ?? process.env, abs, issues);
  return {
    source,
    http: {
      host: raw.http?.host ?? DEFAULT_HTTP.host,
      port: raw.http?.port ?? DEFAULT_HTTP.port,
      apiTokenEnv: raw.http?.apiTokenEnv ?? DEFAULT_HTTP.apiTokenEnv,
      tls: raw.http?.tls ? { certFile: abs(raw.http.tls.certFile), keyFile: abs(raw.http.tls.keyFile) } : undefined,
    },
    log: { level: raw.log?.level ?? 'info' },
    stateDir: raw.stateDir !== undefined ? abs(raw.stateDir) : path.resolve(DEFAULT_STATE_DIR),
    streams,
  };
}

function resolveSource(
  raw: RawConfig,
  streams: StreamConfig[],
  env: NodeJS.ProcessEnv,
  abs: (p: string) => string,
  issues: ConfigIssue[],
): SourceConfig {
  const s = raw.source ?? { type: 'demo' as const };
  switch (s.type) {
    case 'demo':
      return {
        type: 'demo',
        seed: s.seed ?? DEFAULT_DEMO.seed,
        rate: s.rate ?? DEFAULT_DEMO.rate,
        driftAfterSeconds: s.driftAfterSeconds ?? DEFAULT_DEMO.driftAfterSeconds,
        malformedFraction: s.malformedFraction ?? DEFAULT_DEMO.malformedFraction,
      };
    case 'file':
      return {
        type: 'file',
        path: abs(s.path),
        format: s.format ?? (s.path.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl'),
        rate: s.rate ?? 0,
        loop: s.loop ?? false,
        topic: s.topic ?? 'file',
        timestampField: s.timestampField,
      };
    case 'kafka': {
      let topics = s.topics;
      if (!topics) {
        streams.forEach((st, i) => {
          if (st.topic === undefined) {
            issues.push({
              path: `streams[${i}].topic`,
              message: 'is required with the kafka source, unless source.topics lists the topics to consume',
            });
          }
        });
        topics = [...new Set(streams.flatMap((st) => (st.topic ? [st.topic] : [])))];
      }
      if (s.sasl && env[s.sasl.passwordEnv] === undefined) {
        issues.push({
          path: 'source.sasl.passwordEnv',
          message: `environment variable ${s.sasl.passwordEnv} is not set; export it with the SASL password`,
        });
      }
      const groupId = s.groupId ?? 'klaxon';
      if (s.scaleOut && s.checkpointTopic === null) {
        issues.push({ path: 'source.checkpointTopic', message: 'is needed with scaleOut: a stream moving to another instance is restored from it' });
      }
      return {
        type: 'kafka',
        brokers: s.brokers,
        clientId: s.clientId ?? 'klaxon',
        groupId,
        topics,
        fromBeginning: s.fromBeginning ?? false,
        ssl: s.ssl ?? false,
        sasl: s.sasl,
        deadLetterTopic: s.deadLetterTopic,
        checkpointTopic: s.checkpointTopic === null ? undefined : (s.checkpointTopic ?? `${groupId}.checkpoint`),
        checkpointIntervalSeconds: s.checkpointIntervalSeconds ?? 10,
        sessionTimeoutSeconds: s.sessionTimeoutSeconds ?? 30,
        scaleOut: s.scaleOut
          ? { topic: s.scaleOut.repartitionTopic ?? `${groupId}.repartition`, partitions: s.scaleOut.partitions ?? 12 }
          : undefined,
      };
    }
  }
}

function checkUniqueNames(streams: StreamConfig[], issues: ConfigIssue[]): void {
  const seen = new Map<string, number>();
  streams.forEach((s, i) => {
    const first = seen.get(s.name);
    if (first !== undefined) {
      issues.push({ path: `streams[${i}].name`, message: `duplicate stream name "${s.name}" (also streams[${first}])` });
    } else seen.set(s.name, i);
  });
}

function resolveStream(
  s: RawStream,
  d: RawStreamDefaults,
  at: string,
  abs: (p: string) => string,
  issues: ConfigIssue[],
): StreamConfig {
  const issue = (key: string, message: string): void => void issues.push({ path: `${at}.${key}`, message });

  const fieldSet = new Set(s.fields);
  if (fieldSet.size !== s.fields.length) issue('fields', 'must not list a field twice');
  const bounds = s.fields.map(() => ({ min: -Infinity, max: Infinity }));
  for (const [field, b] of Object.entries(s.bounds ?? {})) {
    const idx = s.fields.indexOf(field);
    if (idx < 0) {
      issues.push({ path: `${at}.bounds["${field}"]`, message: `is not one of the stream's fields (${s.fields.join(', ')})` });
      continue;
    }
    const min = b.min ?? -Infinity;
    const max = b.max ?? Infinity;
    if (!(min < max)) issues.push({ path: `${at}.bounds["${field}"]`, message: `min (${min}) must be less than max (${max})` });
    bounds[idx] = { min, max };
  }

  const comp = s.components ?? d.components ?? 'auto';
  const components =
    comp === 'auto' ? { ...DEFAULT_STREAM.components } : typeof comp === 'number' ? { min: comp, max: comp } : comp;
  if (components.min > components.max) issue('components', `min (${components.min}) must not exceed max (${components.max})`);

  const size = s.window?.size ?? d.window?.size ?? DEFAULT_STREAM.windowSize;
  const durationSeconds = s.window?.duration ?? d.window?.duration;
  const minSamples = s.minSamples ?? d.minSamples ?? defaultMinSamples(size);
  if (minSamples > size) issue('minSamples', `must not exceed window.size (${size}), or the window never fills`);

  const ref = s.reference ?? d.reference ?? { policy: 'first_n' as const };
  let reference: ReferenceConfig;
  if (ref.policy === 'file') reference = { policy: 'file', path: abs(ref.path) };
  else {
    const n = ref.n ?? size;
    // Defaulted to window.size, n is below minSamples only if minSamples is, already said above.
    if (n < minSamples && ref.n !== undefined) issue('reference.n', `must be at least minSamples (${minSamples})`);
    reference = { policy: ref.policy, n };
  }

  const evaluationIntervalSeconds =
    s.evaluationIntervalSeconds ?? d.evaluationIntervalSeconds ?? DEFAULT_STREAM.evaluationIntervalSeconds;
  const refitIntervalSeconds = s.refitIntervalSeconds ?? d.refitIntervalSeconds ?? evaluationIntervalSeconds;

  return {
    name: s.name,
    topic: s.topic,
    fields: s.fields,
    bounds,
    components,
    covarianceType: s.covarianceType ?? d.covarianceType ?? DEFAULT_STREAM.covarianceType,
    window: { size, durationSeconds },
    minSamples,
    reference,
    refitIntervalSeconds,
    evaluationIntervalSeconds,
    thresholds: resolveThresholds(s.thresholds, d.thresholds, at, issues),
    calibratedThresholds: resolveCalibrated(s.thresholds, d.thresholds),
    hysteresis: {
      raiseAfter: s.hysteresis?.raiseAfter ?? d.hysteresis?.raiseAfter ?? DEFAULT_STREAM.hysteresis.raiseAfter,
      clearAfter: s.hysteresis?.clearAfter ?? d.hysteresis?.clearAfter ?? DEFAULT_STREAM.hysteresis.clearAfter,
    },
    fit: { ...DEFAULT_STREAM.fit, ...stripUndefined(d.fit), ...stripUndefined(s.fit) },
  };
}

type RawThresholds = RawStream['thresholds'];

/** Built-in ← defaults ← stream, per measure and severity; `null` switches one off. */
function resolveThresholds(
  own: RawThresholds,
  defaults: RawThresholds,
  at: string,
  issues: ConfigIssue[],
): StreamConfig['thresholds'] {
  const out: StreamConfig['thresholds'] = {};
  for (const m of MEASURES) {
    const pick = (sev: Severity): number | undefined => {
      const v = configured(own, defaults, m, sev);
      if (v === null) return undefined;
      if (v === undefined) return DEFAULT_THRESHOLDS[m][sev];
      // A calibrated threshold keeps the built-in nats as its fallback until the null is in.
      return typeof v === 'number' ? v : 'nats' in v ? v.nats : DEFAULT_THRESHOLDS[m][sev];
    };
    const levels: Partial<Record<Severity, number>> = {};
    for (const sev of SEVERITIES) {
      const v = pick(sev);
      if (v !== undefined) levels[sev] = v;
    }
    checkLevels(m, levels, at, issues);
    if (Object.keys(levels).length > 0) out[m] = levels;
  }
  return out;
}

/** The stream's setting, else the defaults' section's; null when switched off, undefined when neither says. */
function configured(own: RawThresholds, defaults: RawThresholds, m: Measure, sev: Severity): ThresholdLevel | null | undefined {
  for (const layer of [own, defaults]) {
    const pair = layer?.[m];
    if (pair === null) return null;
    const v = pair?.[sev];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Thresholds given as a p-value or a false-alarm rate; the JS warning defaults to calibrated where nothing is configured. */
function resolveCalibrated(own: RawThresholds, defaults: RawThresholds): NonNullable<StreamConfig['calibratedThresholds']> {
  const out: NonNullable<StreamConfig['calibratedThresholds']> = {};
  for (const m of MEASURES) {
    for (const sev of SEVERITIES) {
      const v = configured(own, defaults, m, sev);
      const spec = v === undefined ? DEFAULT_CALIBRATED_THRESHOLDS[m]?.[sev] : v === null || typeof v === 'number' || 'nats' in v ? undefined : v;
      if (spec !== undefined) (out[m] ??= {})[sev] = spec;
    }
  }
  return out;
}

function checkLevels(m: Measure, levels: Partial<Record<Severity, number>>, at: string, issues: ConfigIssue[]): void {
  const { warning, critical } = levels;
  if (warning !== undefined && critical !== undefined && !(critical > warning)) {
    issues.push({
      path: `${at}.thresholds.${m}`,
      message: `critical (${critical}) must be greater than warning (${warning})`,
    });
  }
  if (m === 'js') {
    for (const sev of SEVERITIES) {
      const v = levels[sev];
      if (v !== undefined && v >= JS_MAX) {
        issues.push({
          path: `${at}.thresholds.js.${sev}`,
          message: `must be below ln 2 ≈ 0.693 nats, the largest possible JS divergence (got ${v})`,
        });
      }
    }
  }
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
