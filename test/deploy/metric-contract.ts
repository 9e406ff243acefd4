/**
 * The metric names klaxon promises (DESIGN.md, "Metrics — names are an API"), and a small PromQL
 * scanner that lists the metric names an expression uses, so that a dashboard or a rule with a
 * misspelt name fails a test instead of drawing an empty panel or never alerting.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

/** klaxon's own metrics, with the labels each one carries. */
export const KLAXON_METRICS: Readonly<Record<string, readonly string[]>> = {
  klaxon_divergence_nats: ['stream', 'measure'],
  klaxon_divergence_stderr_nats: ['stream', 'measure'],
  klaxon_divergence_threshold_nats: ['stream', 'measure', 'severity'],
  klaxon_drift_alert: ['stream', 'severity'],
  klaxon_stream_muted: ['stream'],
  klaxon_reference_timestamp_seconds: ['stream'],
  klaxon_drift_pvalue: ['stream', 'measure'],
  klaxon_window_samples: ['stream'],
  klaxon_reference_samples: ['stream'],
  klaxon_stream_ready: ['stream'],
  klaxon_records_total: ['stream'],
  klaxon_records_rejected_total: ['source', 'reason'],
  klaxon_last_evaluation_timestamp_seconds: ['stream'],
  klaxon_window_changed_timestamp_seconds: ['stream'],
  klaxon_evaluation_interval_seconds: ['stream'],
  klaxon_refit_duration_seconds: [],
  klaxon_evaluation_duration_seconds: [],
  klaxon_divergence_null_quantile_nats: ['stream', 'measure', 'level'],
  klaxon_kafka_consumer_lag: ['topic', 'partition'],
  klaxon_kafka_connected: [],
  klaxon_kafka_dead_letters_total: ['reason'],
  klaxon_kafka_replayed_records_total: [],
  klaxon_kafka_consumer_restarts_total: [],
  klaxon_kafka_last_checkpoint_timestamp_seconds: [],
};

export const KLAXON_HISTOGRAMS: readonly string[] = ['klaxon_refit_duration_seconds', 'klaxon_evaluation_duration_seconds'];

export const MEASURES = ['kl_ref_win', 'kl_win_ref', 'js'] as const;
export const SEVERITIES = ['warning', 'critical'] as const;

const HISTOGRAM_SERIES_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/** The series names prom-client's default metrics expose (histograms with their suffixes). */
export async function defaultMetricSeriesNames(): Promise<Set<string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    // prom-client's typings declare a numeric enum, but at run time `type` is the string name.
    if (String(metric.type) === 'histogram') {
      for (const suffix of HISTOGRAM_SERIES_SUFFIXES) names.add(metric.name + suffix);
    } else {
      names.add(metric.name);
    }
  }
  return names;
}

/** Every series name a query may use: klaxon's, prom-client's defaults, and Prometheus' `up`. */
export async function contractSeriesNames(): Promise<Set<string>> {
  const names = await defaultMetricSeriesNames();
  names.add('up');
  for (const name of Object.keys(KLAXON_METRICS)) {
    if (KLAXON_HISTOGRAMS.includes(name)) {
      for (const suffix of HISTOGRAM_SERIES_SUFFIXES) names.add(name + suffix);
    } else {
      names.add(name);
    }
  }
  return names;
}

const KEYWORDS = new Set([
  'and', 'or', 'unless', 'bool', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
  'offset', 'inf', 'nan',
]);

/**
 * The metric names a PromQL expression selects, in order of appearance. Strings, label matchers,
 * ranges, grouping label lists, numbers and function names are not metric names and are skipped.
 * Grafana variables must be substituted first (inside `{...}` or `[...]` they are skipped anyway).
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ')
    .replace(/@\s*\S+/g, ' ');
  const names: string[] = [];
  const token = /(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)|([a-zA-Z_:][a-zA-Z0-9_:]*)/g;
  for (const m of stripped.matchAll(token)) {
    const ident = m[2];
    if (ident === undefined || KEYWORDS.has(ident.toLowerCase())) continue;
    const after = stripped.slice((m.index ?? 0) + ident.length);
    if (/^\s*\(/.test(after)) continue; // a function or an aggregation
    names.push(ident);
  }
  return names;
}
