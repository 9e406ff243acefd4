import { spawnSync } from 'node:child_process';
import { register as globalRegistry, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { FakeView, history, oneDimStream, twoDimStream, warmingStream } from '../server/fake-view.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: string;
}

/** Parses the text exposition format's sample lines (our label values hold no quotes or commas). */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').split(',').filter(Boolean)) {
      const [k, v] = pair.split('=');
      labels[k!] = JSON.parse(v!) as string;
    }
    out.push({ name: m[1]!, labels, value: m[3]! });
  }
  return out;
}

function find(all: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

async function scrape(view: FakeView): Promise<{ text: string; all: Sample[] }> {
  const registry = new Registry();
  createMetrics(registry, view);
  const text = await registry.metrics();
  return { text, all: samples(text) };
}

function promtool(): string {
  const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  const path = which.stdout.trim();
  if (which.status !== 0 || path === '') {
    throw new Error(
      'promtool not found on PATH: install it with `apt-get update && apt-get install -y prometheus` (Debian package)',
    );
  }
  return path;
}

const MEASURES = ['kl_ref_win', 'kl_win_ref', 'js'];

describe('createMetrics', () => {
  it('exports every series of a ready stream with its labels', async () => {
    const view = new FakeView([oneDimStream('a')]);
    const { all } = await scrape(view);
    const s = view.list[0]!;
    const last = s.lastEvaluation!;
    for (const measure of MEASURES) {
      const m = measure as keyof typeof last.divergences;
      expect(find(all, 'klaxon_divergence_nats', { stream: 'a', measure })).toEqual([
        { name: 'klaxon_divergence_nats', labels: { stream: 'a', measure }, value: String(last.divergences[m].value) },
      ]);
      expect(find(all, 'klaxon_divergence_stderr_nats', { stream: 'a', measure })[0]?.value).toBe(
        String(last.divergences[m].stderr),
      );
    }
    const thresholds = find(all, 'klaxon_divergence_threshold_nats', { stream: 'a' });
    expect(thresholds.map((t) => `${t.labels.measure}/${t.labels.severity}=${t.value}`).sort()).toEqual([
      'js/critical=0.12',
      'js/warning=0.05',
      'kl_ref_win/critical=0.5',
      'kl_ref_win/warning=0.2',
    ]);
    expect(find(all, 'klaxon_drift_alert', { stream: 'a', severity: 'warning' })[0]?.value).toBe('1');
    expect(find(all, 'klaxon_drift_alert', { stream: 'a', severity: 'critical' })[0]?.value).toBe('0');
    expect(find(all, 'klaxon_window_samples', { stream: 'a' })[0]?.value).toBe('5000');
    expect(find(all, 'klaxon_reference_samples', { stream: 'a' })[0]?.value).toBe('20000');
    expect(find(all, 'klaxon_stream_ready', { stream: 'a' })[0]?.value).toBe('1');
    expect(find(all, 'klaxon_records_total', { stream: 'a' })[0]?.value).toBe('123456');
    expect(find(all, 'klaxon_records_rejected_total')).toEqual([
      { name: 'klaxon_records_rejected_total', labels: { source: 'kafka', reason: 'invalid_json' }, value: '3' },
    ]);
    expect(find(all, 'klaxon_last_evaluation_timestamp_seconds', { stream: 'a' })[0]?.value).toBe(
      String(last.timestampMs / 1000),
    );
    expect(find(all, 'klaxon_evaluation_interval_seconds', { stream: 'a' })[0]?.value).toBe('30');
    // The default process metrics come along.
    expect(find(all, 'process_cpu_seconds_total').length).toBe(1);
    expect(find(all, 'nodejs_heap_size_total_bytes').length).toBe(1);
  });

  it('exports only readiness and bookkeeping for a stream that is not ready', async () => {
    const { all } = await scrape(new FakeView([warmingStream('w')]));
    const ofStream = all.filter((s) => s.labels.stream === 'w').map((s) => s.name);
    expect(ofStream.sort()).toEqual([
      'klaxon_evaluation_interval_seconds',
      'klaxon_records_total',
      'klaxon_reference_samples',
      // A mute may be set before the stream is ready, and shows at once.
      'klaxon_stream_muted',
      'klaxon_stream_ready',
      'klaxon_window_samples',
    ]);
    expect(find(all, 'klaxon_stream_ready', { stream: 'w' })[0]?.value).toBe('0');
    expect(find(all, 'klaxon_stream_muted', { stream: 'w' })[0]?.value).toBe('0');
  });

  it('keeps exporting an alert raised before the stream went unready (its window drained), and no divergence', async () => {
    const drained = { ...oneDimStream('d'), ready: false, phase: 'warming_window' as const, windowSamples: 0 };
    drained.alert = { warning: true, critical: false };
    const { all } = await scrape(new FakeView([drained, warmingStream('w')]));
    // Dropping the series would resolve the page although nothing was seen to recover.
    expect(find(all, 'klaxon_drift_alert', { stream: 'd' }).map((s) => [s.labels.severity, s.value])).toEqual([
      ['warning', '1'],
      ['critical', '0'],
    ]);
    expect(find(all, 'klaxon_divergence_nats', { stream: 'd' })).toEqual([]);
    expect(find(all, 'klaxon_stream_ready', { stream: 'd' })[0]?.value).toBe('0');
    expect(find(all, 'klaxon_drift_alert', { stream: 'w' })).toEqual([]);
  });

  it('exports the mute and the reference time, and holds the drift alert at 0 while muted', async () => {
    const muted = oneDimStream('m');
    muted.alert = { warning: true, critical: true };
    muted.muted = true;
    muted.mutedUntilMs = Date.now() + 3_600_000;
    muted.referenceTimestampMs = 1_700_000_000_500;
    const loud = oneDimStream('l');
    loud.alert = { warning: true, critical: false };
    const { all } = await scrape(new FakeView([muted, loud, warmingStream('w')]));
    expect(find(all, 'klaxon_stream_muted', { stream: 'm' })[0]?.value).toBe('1');
    expect(find(all, 'klaxon_stream_muted', { stream: 'l' })[0]?.value).toBe('0');
    // The divergences of a muted stream are still there; only the alert is held.
    expect(find(all, 'klaxon_divergence_nats', { stream: 'm' })).toHaveLength(3);
    expect(find(all, 'klaxon_drift_alert', { stream: 'm' }).map((s) => s.value)).toEqual(['0', '0']);
    expect(find(all, 'klaxon_drift_alert', { stream: 'l', severity: 'warning' })[0]?.value).toBe('1');
    expect(find(all, 'klaxon_reference_timestamp_seconds', { stream: 'm' })[0]?.value).toBe('1700000000.5');
    // No reference yet, no timestamp: never a made-up 0.
    expect(find(all, 'klaxon_reference_timestamp_seconds', { stream: 'l' })).toHaveLength(0);
    expect(find(all, 'klaxon_reference_timestamp_seconds', { stream: 'w' })).toHaveLength(0);
  });

  it('never exports NaN, and skips infinite estimates', async () => {
    const s = oneDimStream('bad');
    s.lastEvaluation = {
      timestampMs: Number.NaN,
      divergences: {
        kl_ref_win: { value: Number.POSITIVE_INFINITY, stderr: Number.NaN, method: 'monte_carlo' },
        kl_win_ref: { value: Number.NaN, stderr: Number.POSITIVE_INFINITY, method: 'monte_carlo' },
        js: { value: 0.3, stderr: Number.NaN, method: 'monte_carlo' },
      },
    };
    s.thresholds = { js: { warning: Number.NaN, critical: 0.12 } };
    s.windowSamples = Number.NaN;
    s.recordsTotal = Number.POSITIVE_INFINITY;
    s.evaluationIntervalSeconds = Number.NaN;
    const view = new FakeView([s], [{ source: 'kafka', reason: 'x', count: Number.NaN }]);
    const { text, all } = await scrape(view);
    expect(text).not.toMatch(/NaN/);
    expect(text).not.toMatch(/Inf\n/);
    expect(find(all, 'klaxon_divergence_nats', { stream: 'bad' }).map((x) => [x.labels.measure, x.value])).toEqual([
      ['js', '0.3'],
    ]);
    expect(find(all, 'klaxon_divergence_stderr_nats', { stream: 'bad' })).toEqual([]);
    expect(find(all, 'klaxon_divergence_threshold_nats', { stream: 'bad' }).map((x) => x.labels.severity)).toEqual([
      'critical',
    ]);
    for (const name of [
      'klaxon_window_samples',
      'klaxon_records_total',
      'klaxon_evaluation_interval_seconds',
      'klaxon_last_evaluation_timestamp_seconds',
      'klaxon_records_rejected_total',
    ]) {
      expect(find(all, name), name).toEqual([]);
    }
    expect(find(all, 'klaxon_stream_ready', { stream: 'bad' })[0]?.value).toBe('1');
  });

  it('drops the series of a stream that leaves the view, and follows running totals', async () => {
    const view = new FakeView([oneDimStream('a'), twoDimStream('b')]);
    const registry = new Registry();
    createMetrics(registry, view);
    let all = samples(await registry.metrics());
    expect(find(all, 'klaxon_divergence_nats', { stream: 'b' }).length).toBe(3);
    expect(find(all, 'klaxon_records_total', { stream: 'a' })[0]?.value).toBe('123456');

    view.list = [view.list[0]!];
    view.list[0]!.recordsTotal = 200000;
    view.list[0]!.lastEvaluation = history(1, 0.5, 0.5)[0];
    all = samples(await registry.metrics());
    expect(all.filter((s) => s.labels.stream === 'b')).toEqual([]);
    expect(find(all, 'klaxon_records_total', { stream: 'a' })[0]?.value).toBe('200000');
    expect(find(all, 'klaxon_divergence_nats', { stream: 'a', measure: 'js' })[0]?.value).toBe('0.5');
  });

  it('observes refit and evaluation durations in histograms without a stream label', async () => {
    const registry = new Registry();
    const observer = createMetrics(registry, new FakeView());
    observer.refitSeconds(0.003);
    observer.refitSeconds(0.2);
    observer.evaluationSeconds(0.00005);
    observer.evaluationSeconds(Number.NaN); // ignored, not thrown
    observer.evaluationSeconds(-1); // ignored
    const all = samples(await registry.metrics());
    expect(find(all, 'klaxon_refit_duration_seconds_count')[0]).toEqual({
      name: 'klaxon_refit_duration_seconds_count',
      labels: {},
      value: '2',
    });
    expect(find(all, 'klaxon_refit_duration_seconds_bucket', { le: '0.005' })[0]?.value).toBe('1');
    expect(find(all, 'klaxon_refit_duration_seconds_bucket', { le: '0.25' })[0]?.value).toBe('2');
    expect(find(all, 'klaxon_evaluation_duration_seconds_count')[0]?.value).toBe('1');
    expect(find(all, 'klaxon_evaluation_duration_seconds_bucket', { le: '0.0001' })[0]?.value).toBe('1');
    const les = find(all, 'klaxon_refit_duration_seconds_bucket').map((s) => s.labels.le);
    expect(les[0]).toBe('0.0001');
    expect(les.at(-2)).toBe('10');
    expect(les.at(-1)).toBe('+Inf');
  });

  it('registers on the injected registry only', async () => {
    const before = (await globalRegistry.getMetricsAsJSON()).map((m) => m.name);
    const registry = new Registry();
    createMetrics(registry, new FakeView());
    const after = (await globalRegistry.getMetricsAsJSON()).map((m) => m.name);
    expect(after).toEqual(before);
    expect(after.some((n) => n.startsWith('klaxon_'))).toBe(false);
    expect(registry.getSingleMetric('klaxon_divergence_nats')).toBeDefined();
    // prom-client refuses a second registration of the same names on one registry.
    expect(() => createMetrics(registry, new FakeView())).toThrow(/already been registered/);
  });

  it('passes promtool check metrics', async () => {
    const bin = promtool();
    const calibrated = oneDimStream('a');
    // Every optional family too: a label Prometheus reserves (e.g. `quantile` on a gauge) fails here.
    calibrated.calibration = {
      status: 'ready',
      replicates: 200,
      windowSamples: 500,
      pValues: { js: 0.01 },
      quantiles: { js: { '0.5': 0.001, '0.95': 0.002, '0.99': 0.003 } },
      thresholds: {},
    };
    const view = new FakeView([calibrated, twoDimStream('b'), warmingStream('c')]);
    const registry = new Registry();
    const observer = createMetrics(registry, view);
    observer.refitSeconds(0.01);
    observer.evaluationSeconds(0.02);
    const text = await registry.metrics();
    const run = spawnSync(bin, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
    expect(run.status).toBe(0);
  });
});
