import { z } from 'zod';
import { thresholdLevel } from '../calibration/config.js';
import { COVARIANCE_TYPES } from '../gmm/model.js';
import { MEASURES, SEVERITIES } from '../stream/view.js';
import { parseDuration } from './duration.js';
import { LOG_LEVELS, SASL_MECHANISMS } from './types.js';

/**
 * The configuration file as written: every setting optional except what only the user can
 * know. `resolve.ts` fills the defaults and checks what spans several keys.
 */

const positiveInt = z
  .number({ error: 'must be a positive integer' })
  .int({ error: 'must be a positive integer' })
  .positive({ error: 'must be a positive integer' });
const nonNegative = z
  .number({ error: 'must be a number ≥ 0' })
  .min(0, { error: 'must be a number ≥ 0' })
  .refine(Number.isFinite, { error: 'must be finite' });
const positive = z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' });
const finite = z.number({ error: 'must be a number' }).refine(Number.isFinite, { error: 'must be finite' });
const nonEmpty = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' });

/** Seconds, as a number or a string with a unit: 30, "30s", "10m", "1h". */
const duration = z.unknown().transform((v, ctx) => {
  const s = parseDuration(v);
  if (s === undefined || s <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a positive duration: seconds, or a string like "30s", "10m", "1h"' });
    return z.NEVER;
  }
  return s;
});

export const STREAM_NAME = /^[a-zA-Z_][a-zA-Z0-9_:.-]*$/;
const FIELD_PATH = /^[^.\s]+(\.[^.\s]+)*$/;

const fieldPath = nonEmpty.regex(FIELD_PATH, {
  error: 'must be a dotted JSON field path such as "payload.amount" (no spaces, no empty segments)',
});

/** Nats, or calibrated against the stream's own no-drift null: `{ falseAlarmsPerDay }`, `{ pvalue }`, … */
const thresholdPair = z
  .strictObject({
    warning: thresholdLevel.nullable().optional(),
    critical: thresholdLevel.nullable().optional(),
  })
  .nullable();

const thresholds = z.strictObject(
  Object.fromEntries(MEASURES.map((m) => [m, thresholdPair.optional()])) as Record<
    (typeof MEASURES)[number],
    z.ZodOptional<typeof thresholdPair>
  >,
);

const reference = z.discriminatedUnion(
  'policy',
  [
    z.strictObject({ policy: z.literal('first_n'), n: positiveInt.optional() }),
    z.strictObject({ policy: z.literal('file'), path: nonEmpty }),
    z.strictObject({ policy: z.literal('snapshot'), n: positiveInt.optional() }),
  ],
  { error: 'policy must be one of first_n, file, snapshot' },
);

const components = z.union(
  [
    z.literal('auto'),
    positiveInt,
    z.strictObject({ min: positiveInt, max: positiveInt }),
  ],
  { error: 'must be a positive integer, "auto" (BIC over 1..5), or {min, max} (BIC over that range)' },
);

/** Settings a stream may take from `defaults`. */
const streamSettings = {
  components: components.optional(),
  covarianceType: z.enum(COVARIANCE_TYPES, { error: `must be one of ${COVARIANCE_TYPES.join(', ')}` }).optional(),
  window: z.strictObject({ size: positiveInt.optional(), duration: duration.optional() }).optional(),
  minSamples: positiveInt.optional(),
  reference: reference.optional(),
  refitIntervalSeconds: duration.optional(),
  evaluationIntervalSeconds: duration.optional(),
  thresholds: thresholds.optional(),
  hysteresis: z.strictObject({ raiseAfter: positiveInt.optional(), clearAfter: positiveInt.optional() }).optional(),
  fit: z
    .strictObject({
      nInit: positiveInt.optional(),
      maxIter: positiveInt.optional(),
      tol: positive.optional(),
      regCovar: nonNegative.optional(),
      maxSamples: positiveInt.optional(),
    })
    .optional(),
};

export const streamDefaultsSchema = z.strictObject(streamSettings);

export const streamSchema = z.strictObject({
  name: nonEmpty.regex(STREAM_NAME, {
    error: 'must be label-safe: a letter or _ first, then letters, digits, _ : . or -',
  }),
  topic: nonEmpty.optional(),
  fields: z
    .array(fieldPath, { error: 'must be a list of JSON field paths' })
    .min(1, { error: 'must list at least one field' }),
  bounds: z
    .record(z.string(), z.strictObject({ min: finite.optional(), max: finite.optional() }), {
      error: 'must map field paths to {min, max}',
    })
    .optional(),
  ...streamSettings,
});

const demoSource = z.strictObject({
  type: z.literal('demo'),
  seed: z.union([z.string(), z.number()], { error: 'must be a string or a number' }).optional(),
  rate: positive.optional(),
  driftAfterSeconds: z.unknown().transform((v, ctx) => {
    const s = parseDuration(v);
    if (s === undefined || s < 0) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration ≥ 0: seconds, or a string like "60s", "2m"' });
      return z.NEVER;
    }
    return s;
  }).optional(),
  malformedFraction: nonNegative.max(1, { error: 'must be between 0 and 1' }).optional(),
});

const fileSource = z.strictObject({
  type: z.literal('file'),
  path: nonEmpty,
  format: z.enum(['jsonl', 'csv'], { error: 'must be jsonl or csv' }).optional(),
  rate: nonNegative.optional(),
  loop: z.boolean({ error: 'must be true or false' }).optional(),
  topic: nonEmpty.optional(),
  timestampField: fieldPath.optional(),
});

const kafkaSource = z.strictObject({
  type: z.literal('kafka'),
  brokers: z
    .array(nonEmpty.regex(/^[^\s:]+:\d+$/, { error: 'must be host:port' }), { error: 'must be a list of host:port' })
    .min(1, { error: 'must list at least one broker' }),
  clientId: nonEmpty.optional(),
  groupId: nonEmpty.optional(),
  topics: z.array(nonEmpty, { error: 'must be a list of topic names' }).min(1, { error: 'must not be empty' }).optional(),
  fromBeginning: z.boolean({ error: 'must be true or false' }).optional(),
  ssl: z.boolean({ error: 'must be true or false' }).optional(),
  sasl: z
    .strictObject({
      mechanism: z.enum(SASL_MECHANISMS, { error: `must be one of ${SASL_MECHANISMS.join(', ')}` }),
      username: nonEmpty,
      passwordEnv: nonEmpty.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name' }),
    })
    .optional(),
  deadLetterTopic: nonEmpty.optional(),
  /** Compacted topic keeping references and replay offsets across restarts; null turns checkpoints off. */
  checkpointTopic: nonEmpty.nullable().optional(),
  checkpointIntervalSeconds: duration.optional(),
  sessionTimeoutSeconds: duration.optional(),
  /** Several instances share the streams (see docs/scaling.md); absent: one instance owns every stream. */
  scaleOut: z
    .strictObject({
      partitions: z
        .number({ error: 'must be a positive integer' })
        .int({ error: 'must be a positive integer' })
        .min(1, { error: 'must be a positive integer' })
        .optional(),
      repartitionTopic: nonEmpty.optional(),
    })
    .optional(),
});

export const sourceSchema = z.discriminatedUnion('type', [demoSource, fileSource, kafkaSource], {
  error: 'type must be one of demo, file, kafka',
});

export const configSchema = z.strictObject({
  source: sourceSchema.optional(),
  http: z
    .strictObject({
      host: nonEmpty.optional(),
      port: z
        .number({ error: 'must be a port number' })
        .int({ error: 'must be a port number' })
        .min(0, { error: 'must be a port number (0..65535)' })
        .max(65535, { error: 'must be a port number (0..65535)' })
        .optional(),
      /** The environment variable holding the operator API token (never the token itself). */
      apiTokenEnv: nonEmpty.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name' }).optional(),
      /** Serve HTTPS with this certificate chain and private key (PEM files). */
      tls: z.strictObject({ certFile: nonEmpty, keyFile: nonEmpty }).optional(),
    })
    .optional(),
  log: z.strictObject({ level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).optional() }).optional(),
  stateDir: nonEmpty.optional(),
  defaults: streamDefaultsSchema.optional(),
  streams: z.array(streamSchema, { error: 'must be a list of streams' }).min(1, { error: 'must define at least one stream' }),
});

export type RawConfig = z.output<typeof configSchema>;
export type RawStream = z.output<typeof streamSchema>;
export type RawStreamDefaults = z.output<typeof streamDefaultsSchema>;
