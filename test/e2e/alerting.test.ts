/**
 * The whole alerting path, every part a real, separate process as in production:
 *
 *   klaxon run (demo source, drift after a few seconds)
 *     -> Prometheus (Debian's; scrapes job "klaxon", evaluates deploy/prometheus/rules)
 *     -> Alertmanager (Debian's; deploy/alertmanager routing tree and inhibition)
 *     -> this test's HTTP server, standing in for Slack, PagerDuty and a webhook.
 *
 * A second klaxon reads a real Kafka broker, fed by `klaxon produce-demo`, and is scraped by the
 * same Prometheus as another target of job "klaxon": the Kafka panels need its metrics.
 *
 * It proves that the drift alerts fire and arrive with the stream that drifted, that the stable
 * streams never alert, that every query of the Grafana dashboard returns data from the real
 * Prometheus, and that promtool accepts the real processes' /metrics.
 *
 * Only what a test must change differs from deploy/: addresses, seconds instead of minutes for
 * scrapes, evaluations and Alertmanager's group_wait, and the receivers' endpoints. The rules,
 * their `for: 1m` included, are the committed file, so an alert takes a little over a minute.
 * Missing binaries fail the test (scripts/deploy/install-prometheus.sh installs them).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardQueries, streamVariableSource } from '../deploy/dashboard-queries.js';
import { metricNamesIn } from '../deploy/metric-contract.js';
import { repoPath, requireTool } from '../deploy/tools.js';
import { createTopic, kafkaBrokers, uniqueTopic, waitFor } from '../support/kafka.js';
import { startChild, type Child } from './support/children.js';
import { CLI, exposedSeriesNames, startKlaxon, type Klaxon } from './support/klaxon.js';
import {
  alertmanagerAlerts,
  prometheusAlerts,
  query,
  startAlertmanager,
  startPrometheus,
  type Sample,
  type Server,
} from './support/monitoring.js';
import { startReceiver, type NotificationReceiver, type WebhookPayload } from './support/receiver.js';

/** What config/klaxon.yaml promises: which demo stream drifts to which alert, which never does. */
const DRIFTING = { payment_amount: 'KlaxonDriftWarning', sensor_xy: 'KlaxonDriftCritical' } as const;
const STABLE = 'payment_latency';
/** The Kafka-fed klaxon's one stream: the demo's latency, which never drifts, read from Kafka. */
const KAFKA_STREAM = 'kafka_payment_latency';
const STABLE_STREAMS = [STABLE, KAFKA_STREAM];
/** The route each drift alert takes in deploy/alertmanager/alertmanager.yml. */
const RECEIVER_OF = { KlaxonDriftWarning: 'chat', KlaxonDriftCritical: 'pager' } as const;

/** From klaxon's start to the webhook: drift at 8 s, raised ~2 s later, `for: 1m`, group_wait 1 s. */
const ALERT_DEADLINE_MS = 120_000;

/** klaxon's default config, sped up: 1,000 records/s, windows of 800, an evaluation a second. */
function demoConfig(): Record<string, unknown> {
  const base = parse(readFileSync(repoPath('config/klaxon.yaml'), 'utf8')) as {
    defaults?: Record<string, unknown>;
    streams: unknown[];
  };
  return {
    source: { type: 'demo', seed: 'e2e-alerting', rate: 1000, driftAfterSeconds: 8, malformedFraction: 0.01 },
    log: { level: 'info' },
    defaults: {
      ...base.defaults,
      window: { size: 800 },
      evaluationIntervalSeconds: 1,
      refitIntervalSeconds: 1,
      hysteresis: { raiseAfter: 2, clearAfter: 2 },
      fit: { nInit: 1 },
    },
    streams: base.streams,
  };
}

/** klaxon on a Kafka topic that `klaxon produce-demo` fills at 500 messages/s, without drift. */
function kafkaConfig(brokers: string[], topic: string): Record<string, unknown> {
  return {
    source: { type: 'kafka', brokers, groupId: `${topic}-klaxon`, topics: [topic], fromBeginning: true, checkpointTopic: null },
    log: { level: 'info' },
    defaults: { window: { size: 800 }, evaluationIntervalSeconds: 1, hysteresis: { raiseAfter: 2, clearAfter: 2 }, fit: { nInit: 1 } },
    streams: [{ name: KAFKA_STREAM, topic, fields: ['latency_ms'] }],
  };
}

const tools = {
  prometheus: () => requireTool('prometheus'),
  alertmanager: () => requireTool('prometheus-alertmanager'),
  promtool: () => requireTool('promtool'),
  amtool: () => requireTool('amtool'),
};

describe('klaxon -> Prometheus -> Alertmanager -> receivers, all real processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'klaxon-e2e-'));
  let receiver: NotificationReceiver | undefined;
  let klaxon: Klaxon | undefined;
  let kafkaKlaxon: Klaxon | undefined;
  let producer: Child | undefined;
  let topic = '';
  let alertmanager: Server | undefined;
  let prometheus: Server | undefined;
  let startedAt = 0;

  /** The logs of every process, for a failure that needs them. */
  const logs = (): string =>
    [klaxon?.child, kafkaKlaxon?.child, producer, alertmanager?.child, prometheus?.child]
      .filter((c) => c !== undefined)
      .map((c) => `--- ${c.name} (last lines)\n${c.tail(15)}`)
      .join('\n');

  beforeAll(async () => {
    for (const find of Object.values(tools)) find(); // missing binaries fail here, with how to install them
    receiver = await startReceiver();
    const brokers = await kafkaBrokers(); // none to be had is a failure, with the reason
    topic = uniqueTopic('e2e-features');
    await createTopic(brokers, topic);
    startedAt = Date.now();
    [klaxon, kafkaKlaxon] = await Promise.all([
      startKlaxon('klaxon', join(dir, 'klaxon'), demoConfig()),
      startKlaxon('klaxon-kafka', join(dir, 'klaxon-kafka'), kafkaConfig(brokers, topic)),
    ]);
    producer = startChild('produce-demo', process.execPath, [
      CLI, 'produce-demo', '--brokers', brokers.join(','), '--topic', topic,
      '--rate', '500', '--drift-after', '3600', '--seed', 'e2e-kafka',
    ]);
    alertmanager = await startAlertmanager(join(dir, 'alertmanager'), receiver);
    prometheus = await startPrometheus(join(dir, 'prometheus'), {
      klaxon: [klaxon.address, kafkaKlaxon.address],
      alertmanager: alertmanager.address,
    });
  }, 150_000);

  afterAll(async () => {
    await Promise.allSettled([klaxon?.child, kafkaKlaxon?.child, producer, alertmanager?.child, prometheus?.child].map((c) => c?.stop()));
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const prom = (): Server => prometheus!;
  const am = (): Server => alertmanager!;

  it('Prometheus scrapes both klaxons as job "klaxon" and finds every stream for the dashboard’s selector', async () => {
    await waitFor(async () => (await query(prom(), 'up{job="klaxon"} == 1')).length === 2, {
      timeoutMs: 20_000,
      what: 'Prometheus to scrape both klaxons',
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${logs()}`);
    });
    const { metric, label } = streamVariableSource();
    const streams = [...Object.keys(DRIFTING), ...STABLE_STREAMS].sort();
    await waitFor(
      async () => {
        const url = `${prom().base}/api/v1/label/${label}/values?match[]=${encodeURIComponent(metric)}`;
        const values = ((await (await fetch(url)).json()) as { data: string[] }).data;
        return JSON.stringify([...values].sort()) === JSON.stringify(streams);
      },
      { timeoutMs: 30_000, what: `label_values(${metric}, ${label}) to list ${streams.join(', ')}` },
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${logs()}`);
    });
  });

  it(
    'fires the drift alerts in Prometheus, passes them to Alertmanager, and delivers them with the drifting stream',
    async () => {
      const firing = async (alertname: string, stream: string) =>
        (await prometheusAlerts(prom())).find(
          (a) => a.state === 'firing' && a.labels.alertname === alertname && a.labels.stream === stream,
        );
      const remaining = (): number => Math.max(1_000, ALERT_DEADLINE_MS - (Date.now() - startedAt));

      for (const [stream, alertname] of Object.entries(DRIFTING)) {
        // 1. Prometheus: the rule fired (after its `for: 1m`), and its annotations rendered real values.
        await waitFor(async () => (await firing(alertname, stream)) !== undefined, {
          timeoutMs: remaining(),
          intervalMs: 500,
          what: `${alertname}{stream="${stream}"} to fire in Prometheus`,
        }).catch((e: unknown) => {
          throw new Error(`${String(e)}\n${logs()}`);
        });
        const alert = (await firing(alertname, stream))!;
        expect(alert.labels.severity).toBe(alertname === 'KlaxonDriftCritical' ? 'critical' : 'warning');
        expect(alert.annotations.summary).toContain(stream);
        // The description's template queries Prometheus for each measure and its threshold.
        expect(alert.annotations.description).toMatch(/js = [\d.e+-]+ nats \(threshold [\d.e+-]+\)/);
        expect(alert.annotations.description).toMatch(/kl_ref_win = [\d.e+-]+ nats/);
        const series = await query(prom(), `ALERTS{alertname="${alertname}", alertstate="firing", stream="${stream}"}`);
        expect(series, 'the ALERTS series').toHaveLength(1);

        // 2. Alertmanager: received and routed to the receiver of its severity.
        await waitFor(
          async () =>
            (await alertmanagerAlerts(am())).some(
              (a) =>
                a.labels.alertname === alertname &&
                a.labels.stream === stream &&
                a.status.state === 'active' &&
                a.receivers.some((r) => r.name === RECEIVER_OF[alertname]),
            ),
          { timeoutMs: 20_000, what: `${alertname}{stream="${stream}"} active in Alertmanager, for ${RECEIVER_OF[alertname]}` },
        );

        // 3. The receiver's webhook: a notification naming the stream.
        await waitFor(
          () =>
            receiver!
              .webhooks()
              .some(
                (w) =>
                  w.receiver === RECEIVER_OF[alertname] &&
                  w.alerts.some((a) => a.status === 'firing' && a.labels.alertname === alertname && a.labels.stream === stream),
              ),
          { timeoutMs: 20_000, what: `a webhook notification of ${alertname}{stream="${stream}"}` },
        );
      }
      const elapsedMs = Date.now() - startedAt;
      expect(elapsedMs).toBeLessThan(ALERT_DEADLINE_MS);
      const notified = receiver!
        .webhooks()
        .flatMap((w) => w.alerts.map((a) => `${w.receiver}: ${a.labels.alertname}{stream="${a.labels.stream}"} ${a.status}`));
      console.info(
        `e2e: both drift alerts delivered ${(elapsedMs / 1000).toFixed(1)} s after klaxon started; webhook notifications:\n  ${[...new Set(notified)].join('\n  ')}`,
      );

      // A stream paged as critical does not also stay a warning in chat: the inhibition rule holds
      // its warning (klaxon raises both severities on sensor_xy), whichever reached Alertmanager first.
      await waitFor(
        async () =>
          (await alertmanagerAlerts(am())).some(
            (a) =>
              a.labels.alertname === 'KlaxonDriftWarning' &&
              a.labels.stream === 'sensor_xy' &&
              a.status.state === 'suppressed' &&
              a.status.inhibitedBy.length > 0,
          ),
        { timeoutMs: 20_000, what: 'KlaxonDriftWarning{stream="sensor_xy"} inhibited by its critical alert' },
      );

      // The receivers' own integrations got their rendered messages too, secrets read from files.
      const slack = receiver!.deliveries().filter((d) => d.integration === 'slack' && d.receiver === 'chat');
      expect(
        slack.some((d) => JSON.stringify(d.body).includes('Data drift warning on stream payment_amount')),
        `Slack messages: ${JSON.stringify(slack.map((d) => d.body))}`,
      ).toBe(true);
      const pager = receiver!.deliveries().filter((d) => d.integration === 'pagerduty' && d.receiver === 'pager');
      const paged = pager.map((d) => d.body as { routing_key?: string; event_action?: string; payload?: { summary?: string } });
      expect(
        paged.some(
          (p) => p.routing_key === 'e2e-pager' && p.event_action === 'trigger' && p.payload?.summary === 'Critical data drift on stream sensor_xy',
        ),
        `PagerDuty events: ${JSON.stringify(paged)}`,
      ).toBe(true);
    },
    ALERT_DEADLINE_MS + 30_000,
  );

  it.each(STABLE_STREAMS)('never alerts on the stable stream %s', async (stable) => {
    // The whole history, not just now: ALERTS keeps pending and firing alerts as series.
    expect(await query(prom(), `count_over_time(ALERTS{stream="${stable}"}[1h])`)).toEqual([]);
    const flags = await query(prom(), `max_over_time(klaxon_drift_alert{stream="${stable}"}[1h])`);
    expect(flags.map((s) => s.metric.severity).sort(), 'evaluated all along').toEqual(['critical', 'warning']);
    for (const s of flags) expect(s.value[1], `klaxon_drift_alert ${JSON.stringify(s.metric)}`).toBe('0');

    expect((await alertmanagerAlerts(am())).filter((a) => a.labels.stream === stable)).toEqual([]);
    const about = (w: WebhookPayload): string[] => w.alerts.map((a) => a.labels.stream ?? '');
    expect(receiver!.webhooks().flatMap(about)).not.toContain(stable);
    expect(JSON.stringify(receiver!.deliveries())).not.toContain(`stream ${stable}`);
  });

  it('raises no alert but the drift ones', async () => {
    const others = await query(prom(), 'ALERTS{alertstate="firing", alertname!~"KlaxonDrift(Warning|Critical)"}');
    expect(others.map((s) => s.metric)).toEqual([]);
  });

  it('answers every query of the Grafana dashboard with data, for drifting and stable streams alike', async () => {
    // The Kafka klaxon has committed offsets, so its lag gauge has samples.
    await waitFor(async () => (await kafkaKlaxon!.metrics()).includes(`klaxon_kafka_consumer_lag{topic="${topic}",partition="0"}`), {
      timeoutMs: 20_000,
      what: 'the Kafka klaxon to export its consumer lag',
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${logs()}`);
    });
    const exported = new Set([
      ...exposedSeriesNames(await klaxon!.metrics()),
      ...exposedSeriesNames(await kafkaKlaxon!.metrics()),
    ]);
    const failures: string[] = [];
    const seen = new Set<string>();
    for (const stream of [...Object.keys(DRIFTING), ...STABLE_STREAMS]) {
      for (const q of dashboardQueries(stream)) {
        if (seen.has(q.expr)) continue;
        seen.add(q.expr);
        const missing = metricNamesIn(q.expr).filter((n) => n !== 'up' && !exported.has(n));
        let result: Sample[];
        try {
          result = await query(prom(), q.expr);
        } catch (e) {
          failures.push(`${q.panel} ${q.refId}: ${String(e)}`);
          continue;
        }
        if (result.length === 0) {
          const why = missing.length > 0 ? `neither klaxon exports ${missing.join(', ')}` : 'no data';
          failures.push(`${q.panel} ${q.refId} (stream ${stream}): ${why} for ${q.expr}`);
        }
        for (const s of result) {
          if (!Number.isFinite(Number(s.value[1]))) {
            failures.push(`${q.panel} ${q.refId} (stream ${stream}): ${s.value[1]} for ${q.expr} ${JSON.stringify(s.metric)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);

    // The panels agree with the alerts: the drifting stream's JS is above its warning line, the stable one's below.
    const js = async (stream: string, refId: string): Promise<number> => {
      const q = dashboardQueries(stream).find((d) => d.panel === 'Jensen–Shannon divergence' && d.refId === refId)!;
      return Number((await query(prom(), q.expr))[0]!.value[1]);
    };
    expect(await js('payment_amount', 'A')).toBeGreaterThan(await js('payment_amount', 'D'));
    expect(await js(STABLE, 'A')).toBeLessThan(await js(STABLE, 'D'));

    // The Kafka panel shows the Kafka klaxon's partition.
    const lag = dashboardQueries(KAFKA_STREAM).find((d) => d.panel === 'Kafka consumer lag')!;
    expect((await query(prom(), lag.expr)).map((r) => r.metric)).toContainEqual({ topic, partition: '0' });
  });

  it('passes promtool check metrics on the real processes’ /metrics', async () => {
    const demo = await klaxon!.metrics();
    expect(demo).toMatch(/^klaxon_drift_alert\{stream="payment_amount",severity="warning"\} 1$/m);
    const kafka = await kafkaKlaxon!.metrics();
    expect(kafka).toMatch(/^klaxon_kafka_connected 1$/m);
    for (const [who, text] of [['demo klaxon', demo], ['Kafka klaxon', kafka]] as const) {
      const r = spawnSync(tools.promtool(), ['check', 'metrics'], { input: text, encoding: 'utf8' });
      // one line per offending series: say each problem once
      const problems = [...new Set(`${r.stdout}${r.stderr}`.trim().split('\n').filter(Boolean))];
      expect(problems, `promtool check metrics on the ${who}'s /metrics`).toEqual([]);
      expect(r.status, who).toBe(0);
    }
  });
});
