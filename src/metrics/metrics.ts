import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { MEASURES, SEVERITIES, type Measure, type MonitorObserver, type MonitorView, type StreamView } from '../stream/view.js';

/**
 * The Prometheus metrics of klaxon. Their names and labels are an API: dashboards and alert
 * rules depend on them. Every per-stream value is pulled from the view at scrape time, and
 * each series set is rebuilt on every scrape, so a stream that leaves the view leaves the
 * output with it.
 *
 * Until a stream is ready it exports no `klaxon_divergence_*` and no `klaxon_drift_alert`
 * series, only `klaxon_stream_ready 0` and its bookkeeping (sample counts, records, the
 * configured interval): no made-up numbers. One exception: an alert raised before the stream
 * went unready (a time window drained, the data stopped) stays exported until evaluations
 * clear it; dropping the series resolved the page although nothing had been seen to recover.
 * A non-finite value is never exported.
 */

/** Refit and evaluation durations: 100 µs to 10 s in 1–2.5–5 steps. */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

type StreamFn = (s: StreamView) => number | undefined;

function setIfFinite<L extends string>(gauge: Gauge<L>, labels: Partial<Record<L, string>>, value: number | undefined): void {
  if (value !== undefined && Number.isFinite(value)) gauge.set(labels, value);
}

/** A gauge with one `stream` label whose value is read from each stream at scrape time. */
function streamGauge(registry: Registry, view: MonitorView, name: string, help: string, value: StreamFn): Gauge<'stream'> {
  return new Gauge({
    name,
    help,
    labelNames: ['stream'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of view.streams()) setIfFinite(this, { stream: s.name }, value(s));
    },
  });
}

/** A gauge per stream and measure, for ready streams only, read at scrape time. */
function measureGauge(
  registry: Registry,
  view: MonitorView,
  name: string,
  help: string,
  value: (s: StreamView, measure: Measure) => number | undefined,
): Gauge<'stream' | 'measure'> {
  return new Gauge({
    name,
    help,
    labelNames: ['stream', 'measure'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of view.streams()) {
        if (!isReady(s)) continue;
        for (const measure of MEASURES) setIfFinite(this, { stream: s.name, measure }, value(s, measure));
      }
    },
  });
}

/** Ready: a reference and at least one evaluation; before that no divergence-derived series. */
function isReady(s: StreamView): boolean {
  return s.ready && s.lastEvaluation !== undefined;
}

/**
 * Registers klaxon's metrics and the default process metrics on `registry` and returns the
 * observer the monitor feeds its refit and evaluation timings to. Throws if any of these names
 * is already registered there (prom-client's rule), so call it once per registry.
 */
export function createMetrics(registry: Registry, view: MonitorView): MonitorObserver {
  measureGauge(
    registry,
    view,
    'klaxon_divergence_nats',
    'Latest divergence between the reference and window mixtures, in nats (kl_ref_win = KL(reference||window), kl_win_ref = KL(window||reference), js = Jensen-Shannon).',
    (s, m) => s.lastEvaluation?.divergences[m]?.value,
  );
  measureGauge(
    registry,
    view,
    'klaxon_divergence_stderr_nats',
    'Standard error of the latest divergence estimate, in nats.',
    (s, m) => s.lastEvaluation?.divergences[m]?.stderr,
  );

  new Gauge({
    name: 'klaxon_divergence_threshold_nats',
    help: 'Configured alert threshold on a divergence, in nats; absent where none is configured.',
    labelNames: ['stream', 'measure', 'severity'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of view.streams()) {
        if (!isReady(s)) continue;
        for (const measure of MEASURES) {
          for (const severity of SEVERITIES) {
            // A calibrated threshold (a false-alarm rate or p-value) shows as the nats it resolved to.
            const t = s.calibration?.thresholds[measure]?.[severity]?.nats ?? s.thresholds[measure]?.[severity];
            setIfFinite(this, { stream: s.name, measure, severity }, t);
          }
        }
      }
    },
  });

  measureGauge(
    registry,
    view,
    'klaxon_drift_pvalue',
    "Empirical p-value of the latest divergence against the stream's no-drift null, (1 + #{null >= observed}) / (B + 1); absent until the null is computed.",
    (s, m) => s.calibration?.pValues[m],
  );

  new Gauge({
    name: 'klaxon_divergence_null_quantile_nats',
    // `level`, not `quantile`: Prometheus reserves that label for summaries (promtool refuses it on a gauge).
    help: "Quantile (level 0.5, 0.95, 0.99) of a divergence under no drift, from the stream's bootstrap null, in nats: the noise floor of the window fit.",
    labelNames: ['stream', 'measure', 'level'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of view.streams()) {
        const q = s.calibration?.quantiles;
        if (!q) continue;
        for (const measure of MEASURES) {
          for (const [level, v] of Object.entries(q[measure] ?? {})) setIfFinite(this, { stream: s.name, measure, level }, v);
        }
      }
    },
  });

  new Gauge({
    name: 'klaxon_drift_alert',
    help: 'Whether the stream is in drift alert at this severity (1) or not (0), after hysteresis; held at 0 while the stream is muted.',
    labelNames: ['stream', 'severity'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of view.streams()) {
        if (!isReady(s) && !s.alert.warning && !s.alert.critical) continue;
        // Alert rules build on this gauge alone, so a mute must hold it at 0 whatever the view says.
        for (const severity of SEVERITIES) this.set({ stream: s.name, severity }, s.alert[severity] && s.muted !== true ? 1 : 0);
      }
    },
  });

  streamGauge(
    registry,
    view,
    'klaxon_stream_muted',
    'Whether an operator muted the stream (1) or not (0); a muted stream still exports its divergences, but its klaxon_drift_alert stays 0 until the mute ends.',
    (s) => (s.muted === true ? 1 : 0),
  );
  streamGauge(
    registry,
    view,
    'klaxon_reference_timestamp_seconds',
    'Unix time when the current reference was set (fitted, loaded or re-baselined); absent while it is being collected.',
    (s) => (s.referenceTimestampMs === undefined ? undefined : s.referenceTimestampMs / 1000),
  );

  streamGauge(registry, view, 'klaxon_window_samples', 'Samples in the rolling window.', (s) => s.windowSamples);
  streamGauge(registry, view, 'klaxon_reference_samples', 'Samples the reference mixture was fitted on.', (s) => s.referenceSamples);
  streamGauge(
    registry,
    view,
    'klaxon_stream_ready',
    'Whether the stream has a reference and an evaluation (1), so its divergences are exported, or not yet (0).',
    (s) => (isReady(s) ? 1 : 0),
  );
  streamGauge(
    registry,
    view,
    'klaxon_last_evaluation_timestamp_seconds',
    'Unix time of the latest divergence evaluation.',
    (s) => (s.lastEvaluation ? s.lastEvaluation.timestampMs / 1000 : undefined),
  );
  streamGauge(
    registry,
    view,
    'klaxon_window_changed_timestamp_seconds',
    'Unix time the stream\'s window was last seen to change (records in, or aged out): evaluations before it are behind; a quiet stream is not.',
    (s) => (s.windowChangedMs !== undefined ? s.windowChangedMs / 1000 : undefined),
  );
  streamGauge(
    registry,
    view,
    'klaxon_evaluation_interval_seconds',
    'Seconds between evaluations while data comes: the evaluation interval, or the refit interval if longer (an evaluation waits for a new fit). For stale-stream alert rules.',
    (s) => s.evaluationIntervalSeconds,
  );

  // Counters mirror the monitor's running totals: set, not incremented, on each scrape.
  new Counter({
    name: 'klaxon_records_total',
    help: 'Records that fed the stream.',
    labelNames: ['stream'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of view.streams()) {
        if (Number.isFinite(s.recordsTotal) && s.recordsTotal >= 0) this.inc({ stream: s.name }, s.recordsTotal);
      }
    },
  });

  new Counter({
    name: 'klaxon_records_rejected_total',
    help: 'Rejections by source and reason: a record that is not a JSON object counts once; one missing, non-numeric, non-finite or out-of-bounds field counts once per stream it should have fed.',
    labelNames: ['source', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of view.rejects()) {
        if (Number.isFinite(r.count) && r.count >= 0) this.inc({ source: r.source, reason: r.reason }, r.count);
      }
    },
  });

  const refit = new Histogram({
    name: 'klaxon_refit_duration_seconds',
    help: 'Time to refit a mixture (reference or window).',
    buckets: [...DURATION_BUCKETS_SECONDS],
    registers: [registry],
  });
  const evaluation = new Histogram({
    name: 'klaxon_evaluation_duration_seconds',
    help: 'Time to evaluate the divergences of one stream.',
    buckets: [...DURATION_BUCKETS_SECONDS],
    registers: [registry],
  });

  collectDefaultMetrics({ register: registry });
  // prom-client exports these totals as gauges named `_total`, which promtool rejects; the
  // per-type gauges it keeps (`nodejs_active_handles{type}` …) sum to the same numbers.
  for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(name);

  const observe = (h: Histogram, seconds: number): void => {
    if (Number.isFinite(seconds) && seconds >= 0) h.observe(seconds);
  };
  return {
    refitSeconds: (seconds) => observe(refit, seconds),
    evaluationSeconds: (seconds) => observe(evaluation, seconds),
  };
}
