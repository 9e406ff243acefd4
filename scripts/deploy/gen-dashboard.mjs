#!/usr/bin/env node
// Writes deploy/grafana/dashboards/klaxon.json, klaxon's Grafana dashboard.
//
//   node scripts/deploy/gen-dashboard.mjs            write the file
//   node scripts/deploy/gen-dashboard.mjs --stdout   print it instead
//
// The dashboard is generated rather than hand-edited so that the three divergence panels (value,
// ± standard-error band, warning and critical thresholds) stay identical but for their measure.
// test/deploy/grafana.test.ts fails when the committed JSON differs from this script's output.
// To change the dashboard in Grafana's editor, export it and port the change here.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'grafana', 'dashboards', 'klaxon.json');

const DS = { type: 'prometheus', uid: '${datasource}' };
const S = 'stream="$stream"';

// --- panel builders ----------------------------------------------------------------------------

let nextId = 1;
let y = 0;
let rowX = 0;
let rowH = 0;

/** Lays panels out left to right, wrapping at Grafana's 24 columns. */
function place(w, h) {
  if (rowX + w > 24) {
    y += rowH;
    rowX = 0;
    rowH = 0;
  }
  const pos = { h, w, x: rowX, y };
  rowX += w;
  rowH = Math.max(rowH, h);
  return pos;
}

function row(title) {
  if (rowX > 0) y += rowH;
  rowX = 0;
  rowH = 0;
  const panel = { id: nextId++, type: 'row', title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] };
  y += 1;
  return panel;
}

function target(refId, expr, legendFormat) {
  return { refId, datasource: DS, expr, legendFormat, range: true, instant: false };
}

function targets(...defs) {
  return defs.map(([expr, legend], i) => target(String.fromCharCode(65 + i), expr, legend));
}

function fixedColor(name) {
  return { id: 'color', value: { mode: 'fixed', fixedColor: name } };
}

function byName(name, properties) {
  return { matcher: { id: 'byName', options: name }, properties };
}

function timeseries({ title, description, w = 12, h = 8, unit, min, log, defs, overrides = [], stack = false, bars = false }) {
  return {
    id: nextId++,
    type: 'timeseries',
    title,
    description,
    datasource: DS,
    gridPos: place(w, h),
    targets: targets(...defs),
    fieldConfig: {
      defaults: {
        unit,
        min,
        color: { mode: 'palette-classic' },
        custom: {
          drawStyle: bars ? 'bars' : 'line',
          lineWidth: 1,
          fillOpacity: bars ? 80 : 0,
          showPoints: 'never',
          spanNulls: false,
          stacking: { mode: stack ? 'normal' : 'none', group: 'A' },
          scaleDistribution: log ? { type: 'log', log: 10 } : { type: 'linear' },
        },
      },
      overrides,
    },
    options: {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'none' },
    },
  };
}

const ALERT_MAPPINGS = [
  {
    type: 'value',
    options: {
      0: { text: 'ok', color: 'green', index: 0 },
      1: { text: 'ALERT', color: 'red', index: 1 },
    },
  },
];

/** Value mappings for one series of a state timeline whose other series are alert states. */
function mapped(name, off, on) {
  return byName(name, [
    {
      id: 'mappings',
      value: [{ type: 'value', options: { 0: { index: 0, ...off }, 1: { index: 1, ...on } } }],
    },
  ]);
}

/** Records per second, not Grafana's "requests". */
const RECORD_RATE = 'suffix: records/s';

function stateTimeline({ title, description, w = 12, h = 8, defs, mappings, overrides = [] }) {
  return {
    id: nextId++,
    type: 'state-timeline',
    title,
    description,
    datasource: DS,
    gridPos: place(w, h),
    targets: targets(...defs),
    fieldConfig: {
      defaults: {
        color: { mode: 'thresholds' },
        thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 1 }] },
        mappings,
      },
      overrides,
    },
    options: {
      showValue: 'never',
      mergeValues: true,
      rowHeight: 0.8,
      legend: { displayMode: 'list', placement: 'bottom', showLegend: false },
      tooltip: { mode: 'single', sort: 'none' },
    },
  };
}

function stat({ title, description, w = 6, h = 4, unit, defs }) {
  return {
    id: nextId++,
    type: 'stat',
    title,
    description,
    datasource: DS,
    gridPos: place(w, h),
    targets: targets(...defs),
    fieldConfig: {
      defaults: {
        unit,
        color: { mode: 'fixed', fixedColor: 'text' },
      },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'value',
      graphMode: 'none',
      textMode: 'value_and_name',
      orientation: 'horizontal',
      justifyMode: 'auto',
    },
  };
}

// --- the divergence panels ---------------------------------------------------------------------

const BAND_UPPER = '+1 std. error';
const BAND_LOWER = '−1 std. error';
const NULL_95 = 'no drift, 95%';

function divergencePanel(measure, title, description) {
  const m = `${S}, measure="${measure}"`;
  const value = `max(klaxon_divergence_nats{${m}})`;
  const stderr = `max(klaxon_divergence_stderr_nats{${m}})`;
  return timeseries({
    title,
    description,
    w: 8,
    h: 9,
    unit: 'suffix: nats',
    min: 0,
    defs: [
      [value, 'divergence'],
      [`${value} + ${stderr}`, BAND_UPPER],
      // a divergence is never negative; nor is the band's lower edge drawn below 0
      [`clamp_min(${value} - ${stderr}, 0)`, BAND_LOWER],
      [`max(klaxon_divergence_threshold_nats{${m}, severity="warning"})`, 'warning threshold'],
      [`max(klaxon_divergence_threshold_nats{${m}, severity="critical"})`, 'critical threshold'],
      // the noise floor: what the window fit alone gives without drift (calibrated streams)
      [`max(klaxon_divergence_null_quantile_nats{${m}, level="0.95"})`, NULL_95],
    ],
    overrides: [
      byName('divergence', [fixedColor('blue'), { id: 'custom.lineWidth', value: 2 }]),
      byName(BAND_UPPER, [
        fixedColor('blue'),
        { id: 'custom.lineWidth', value: 0 },
        { id: 'custom.fillOpacity', value: 20 },
        { id: 'custom.fillBelowTo', value: BAND_LOWER },
        { id: 'custom.hideFrom', value: { legend: true, tooltip: false, viz: false } },
      ]),
      byName(BAND_LOWER, [
        fixedColor('blue'),
        { id: 'custom.lineWidth', value: 0 },
        { id: 'custom.hideFrom', value: { legend: true, tooltip: false, viz: false } },
      ]),
      byName('warning threshold', [fixedColor('orange'), { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]),
      byName('critical threshold', [fixedColor('red'), { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]),
      byName(NULL_95, [fixedColor('text'), { id: 'custom.lineStyle', value: { fill: 'dot', dash: [2, 6] } }]),
    ],
  });
}

// --- the dashboard ------------------------------------------------------------------------------

function percentile(q, histogram) {
  return [`histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket[5m])))`, `p${Math.round(q * 100)}`];
}

const panels = [
  row('All streams'),
  stateTimeline({
    title: 'Drift alerts, all streams',
    description: 'klaxon_drift_alert per stream and severity (hysteresis applied; 0 while muted).',
    w: 16,
    defs: [['max by (stream, severity) (klaxon_drift_alert)', '{{stream}} {{severity}}']],
    mappings: ALERT_MAPPINGS,
  }),
  stat({
    title: 'Streams',
    description: 'Configured streams, how many are ready (have a reference and have been evaluated) and how many are muted.',
    w: 4,
    h: 8,
    defs: [
      ['count(max by (stream) (klaxon_stream_ready))', 'streams'],
      ['sum(max by (stream) (klaxon_stream_ready))', 'ready'],
      ['sum(max by (stream) (klaxon_stream_muted))', 'muted'],
    ],
  }),
  stat({
    title: 'klaxon targets up',
    description: 'Scrape targets of job "klaxon" that answered the last scrape.',
    w: 4,
    h: 8,
    defs: [
      ['sum(up{job="klaxon"})', 'up'],
      ['count(up{job="klaxon"})', 'targets'],
    ],
  }),

  row('Stream $stream'),
  divergencePanel(
    'kl_ref_win',
    'KL(reference ‖ window)',
    'How badly the window explains the reference: grows when part of the reference\'s mass is missing from the window. Band: ±1 standard error of the estimate. Dashed: alert thresholds.',
  ),
  divergencePanel(
    'kl_win_ref',
    'KL(window ‖ reference)',
    'How badly the reference explains the window: grows when the window has mass where the reference had none (new values). Band: ±1 standard error. Dashed: alert thresholds.',
  ),
  divergencePanel(
    'js',
    'Jensen–Shannon divergence',
    'Symmetric and bounded by ln 2 ≈ 0.693 nats. Band: ±1 standard error. Dashed: alert thresholds.',
  ),
  stateTimeline({
    title: 'Alert state',
    description: 'klaxon_drift_alert by severity, and whether the stream is muted and ready.',
    defs: [
      [`max by (severity) (klaxon_drift_alert{${S}})`, '{{severity}}'],
      [`max(klaxon_stream_muted{${S}})`, 'muted'],
      [`max(klaxon_stream_ready{${S}})`, 'ready'],
    ],
    mappings: ALERT_MAPPINGS,
    // Their 1 is not an alarm: without these, a ready stream showed a red "ALERT" row.
    overrides: [
      mapped('muted', { text: 'not muted', color: 'transparent' }, { text: 'muted', color: 'blue' }),
      mapped('ready', { text: 'not ready', color: 'text' }, { text: 'ready', color: 'green' }),
    ],
  }),
  timeseries({
    title: 'p-value of "no drift"',
    description: 'Probability of a divergence at least this large if the window came from the reference (calibrated against the no-drift null). Small means drift.',
    unit: 'none',
    log: true,
    defs: [[`max by (measure) (klaxon_drift_pvalue{${S}})`, '{{measure}}']],
  }),
  timeseries({
    title: 'Window and reference sizes',
    description: 'Samples in the rolling window, and samples the reference was fitted on.',
    w: 8,
    unit: 'short',
    min: 0,
    defs: [
      [`max(klaxon_window_samples{${S}})`, 'window'],
      [`max(klaxon_reference_samples{${S}})`, 'reference'],
    ],
  }),
  timeseries({
    title: 'Time since last evaluation',
    description:
      'Ages as of the last scrape. KlaxonStreamStale fires when the time since the last evaluation stays above 3 evaluation intervals (dashed) while the window changed after that evaluation (time since the window changed below it) and the stream is ready. A quiet stream’s window stops changing: its evaluation stays current.',
    w: 8,
    unit: 's',
    min: 0,
    defs: [
      // As the rule measures them: at the scrape, so a slow scrape interval does not add its own age.
      [`min(timestamp(klaxon_last_evaluation_timestamp_seconds{${S}}) - klaxon_last_evaluation_timestamp_seconds{${S}} unless klaxon_last_evaluation_timestamp_seconds{${S}} == 0)`, 'since last evaluation'],
      [`3 * max(klaxon_evaluation_interval_seconds{${S}})`, 'stale after'],
      [`min(timestamp(klaxon_window_changed_timestamp_seconds{${S}}) - klaxon_window_changed_timestamp_seconds{${S}})`, 'since the window changed'],
    ],
    overrides: [byName('stale after', [fixedColor('orange'), { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }])],
  }),
  stat({
    title: 'Reference age',
    description: 'Time since the reference mixture was set.',
    w: 8,
    h: 8,
    unit: 's',
    defs: [[`time() - max(klaxon_reference_timestamp_seconds{${S}})`, 'reference age']],
  }),

  row('Input'),
  timeseries({
    title: 'Records/s into $stream',
    description: 'Records accepted into the stream, per klaxon instance.',
    w: 8,
    unit: RECORD_RATE,
    min: 0,
    defs: [[`sum by (instance) (rate(klaxon_records_total{${S}}[1m]))`, '{{instance}}']],
  }),
  timeseries({
    title: 'Rejected records/s by reason',
    description: 'Records that could not be decoded into a feature vector, all streams. KlaxonHighRejectRate fires above 5% of all records.',
    w: 8,
    unit: RECORD_RATE,
    min: 0,
    stack: true,
    bars: true,
    defs: [['sum by (source, reason) (rate(klaxon_records_rejected_total[1m]))', '{{source}} {{reason}}']],
  }),
  timeseries({
    title: 'Kafka consumer lag',
    description: 'Messages behind the end of each partition. A growing lag means the window is older than it looks; KlaxonKafkaLagGrowing fires when it has grown for 15 minutes.',
    w: 8,
    unit: 'short',
    min: 0,
    defs: [['max by (topic, partition) (klaxon_kafka_consumer_lag)', '{{topic}}/{{partition}}']],
  }),

  row('Kafka'),
  stateTimeline({
    title: 'Kafka connection',
    description: 'Whether each klaxon is in its consumer group and hearing from the brokers. KlaxonKafkaDisconnected fires after 5 minutes without.',
    w: 8,
    defs: [['max by (instance) (klaxon_kafka_connected)', '{{instance}}']],
    mappings: [{ type: 'value', options: { 0: { text: 'disconnected', color: 'red', index: 0 }, 1: { text: 'connected', color: 'green', index: 1 } } }],
  }),
  timeseries({
    title: 'Dead-lettered and replayed records/s',
    description: 'Rejected records written to the dead-letter topic, by reason; and records re-read after a restart to rebuild the windows.',
    w: 8,
    unit: RECORD_RATE,
    min: 0,
    defs: [
      ['sum by (reason) (rate(klaxon_kafka_dead_letters_total[1m]))', 'dead-lettered: {{reason}}'],
      ['sum(rate(klaxon_kafka_replayed_records_total[1m]))', 'replayed'],
    ],
  }),
  stat({
    title: 'Checkpoints and restarts',
    description: 'Time since the last checkpoint (references and replay offsets) was written to the checkpoint topic, and consumer restarts after a crash or a broker outage in the last hour.',
    w: 8,
    h: 8,
    defs: [
      ['time() - max(klaxon_kafka_last_checkpoint_timestamp_seconds)', 'since the last checkpoint (s)'],
      ['sum(increase(klaxon_kafka_consumer_restarts_total[1h]))', 'restarts, last hour'],
    ],
  }),

  row('klaxon process'),
  timeseries({
    title: 'Refit duration',
    description: 'Time to refit a window mixture (all streams), from klaxon_refit_duration_seconds.',
    w: 8,
    unit: 's',
    min: 0,
    defs: [0.5, 0.9, 0.99].map((q) => percentile(q, 'klaxon_refit_duration_seconds')),
  }),
  timeseries({
    title: 'Evaluation duration',
    description: 'Time to evaluate a stream\'s divergences (all streams), from klaxon_evaluation_duration_seconds.',
    w: 8,
    unit: 's',
    min: 0,
    defs: [0.5, 0.9, 0.99].map((q) => percentile(q, 'klaxon_evaluation_duration_seconds')),
  }),
  timeseries({
    title: 'Event-loop lag (p99)',
    description: 'A lag near the evaluation interval means refits and evaluations starve the process.',
    w: 8,
    unit: 's',
    min: 0,
    defs: [['max by (instance) (nodejs_eventloop_lag_p99_seconds{job="klaxon"})', '{{instance}}']],
  }),
  timeseries({
    title: 'CPU',
    description: 'CPU seconds per second used by each klaxon process.',
    unit: 'percentunit',
    min: 0,
    defs: [['sum by (instance) (rate(process_cpu_seconds_total{job="klaxon"}[1m]))', '{{instance}}']],
  }),
  timeseries({
    title: 'Resident memory',
    description: 'Resident set size of each klaxon process.',
    unit: 'bytes',
    min: 0,
    defs: [['max by (instance) (process_resident_memory_bytes{job="klaxon"})', '{{instance}}']],
  }),
];

const dashboard = {
  uid: 'klaxon',
  title: 'klaxon — data drift',
  description: 'Per-stream KL and Jensen–Shannon divergence between the reference and the rolling-window Gaussian mixtures, with error bands, thresholds and alert state.',
  tags: ['klaxon', 'drift'],
  editable: true,
  graphTooltip: 1,
  refresh: '30s',
  schemaVersion: 39,
  version: 1,
  time: { from: 'now-6h', to: 'now' },
  timepicker: {},
  timezone: 'browser',
  annotations: {
    list: [
      {
        builtIn: 1,
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
        name: 'Annotations & Alerts',
        type: 'dashboard',
      },
    ],
  },
  templating: {
    list: [
      {
        name: 'datasource',
        label: 'Prometheus',
        type: 'datasource',
        query: 'prometheus',
        current: {},
        hide: 0,
        refresh: 1,
        regex: '',
        skipUrlSync: false,
      },
      {
        name: 'stream',
        label: 'stream',
        type: 'query',
        datasource: DS,
        query: 'label_values(klaxon_stream_ready, stream)',
        definition: 'label_values(klaxon_stream_ready, stream)',
        current: {},
        hide: 0,
        includeAll: false,
        multi: false,
        refresh: 2,
        regex: '',
        skipUrlSync: false,
        sort: 1,
      },
    ],
  },
  links: [],
  panels,
};

const json = JSON.stringify(dashboard, null, 2) + '\n';
if (process.argv.includes('--stdout')) {
  process.stdout.write(json);
} else {
  writeFileSync(OUT, json);
  console.log(`wrote ${OUT}`);
}
