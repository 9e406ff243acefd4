/**
 * A real Prometheus and a real Alertmanager (Debian's packages), started as child processes on
 * free loopback ports with temporary data directories. Their configs are the committed ones in
 * deploy/ — the same rule files, scrape jobs, routing tree and inhibition rules — with only what
 * a test must change: target addresses and ports, timings shortened to seconds, and the
 * receivers' endpoints pointed at the test's own HTTP server.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { repoPath, requireTool, run } from '../../deploy/tools.js';
import { waitFor } from '../../support/kafka.js';
import { freePort, startChild, type Child } from './children.js';
import type { NotificationReceiver } from './receiver.js';

export const PROMETHEUS_CONFIG = 'deploy/prometheus/prometheus.yml';
export const ALERTMANAGER_CONFIG = 'deploy/alertmanager/alertmanager.yml';

/** Scrapes and rule evaluations every second, so a test sees changes within seconds. */
const INTERVAL = '1s';

type Yaml = Record<string, unknown>;

function asRecord(v: unknown, what: string): Yaml {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} is not a mapping`);
  return v as Yaml;
}

function asList(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what} is not a list`);
  return v;
}

// --- Prometheus --------------------------------------------------------------------------------

export interface PrometheusTargets {
  /** host:port of every klaxon to scrape as job "klaxon" */
  klaxon: string[];
  prometheus: string;
  alertmanager: string;
}

/**
 * deploy/prometheus/prometheus.yml with the targets replaced and the intervals shortened. Rule
 * files stay the committed ones, resolved against the committed config's directory. A scrape job
 * this function does not know is an error: the test should learn about it, not drop it.
 */
export function prometheusConfig(targets: PrometheusTargets): string {
  const config = asRecord(parse(readFileSync(repoPath(PROMETHEUS_CONFIG), 'utf8')), PROMETHEUS_CONFIG);
  const global = asRecord(config.global ?? {}, 'global');
  global.scrape_interval = INTERVAL;
  global.evaluation_interval = INTERVAL;
  delete global.scrape_timeout;
  config.global = global;

  const ruleDir = dirname(repoPath(PROMETHEUS_CONFIG));
  config.rule_files = asList(config.rule_files, 'rule_files').map((f) => (isAbsolute(String(f)) ? f : resolve(ruleDir, String(f))));

  const alerting = asRecord(config.alerting, 'alerting');
  const managers = asList(alerting.alertmanagers, 'alerting.alertmanagers');
  if (managers.length !== 1) throw new Error(`${PROMETHEUS_CONFIG}: expected one alertmanagers entry, found ${managers.length}`);
  asRecord(managers[0], 'alertmanagers[0]').static_configs = [{ targets: [targets.alertmanager] }];

  const byJob: Record<string, string[]> = {
    klaxon: targets.klaxon,
    prometheus: [targets.prometheus],
    alertmanager: [targets.alertmanager],
  };
  for (const raw of asList(config.scrape_configs, 'scrape_configs')) {
    const job = asRecord(raw, 'scrape config');
    const name = String(job.job_name);
    const jobTargets = byJob[name];
    if (!jobTargets) throw new Error(`${PROMETHEUS_CONFIG}: scrape job "${name}" is new to test/e2e; give it a target there`);
    job.static_configs = [{ targets: jobTargets }];
    delete job.scrape_interval;
    delete job.scrape_timeout;
  }
  return stringify(config);
}

// --- Alertmanager ------------------------------------------------------------------------------

/** Shortens the waits of a route and its sub-routes; a first notification goes out within ~1 s. */
function shortenTimings(route: Yaml, root: boolean): void {
  if (root || route.group_wait !== undefined) route.group_wait = '1s';
  if (root || route.group_interval !== undefined) route.group_interval = '5s';
  for (const sub of (route.routes as unknown[] | undefined) ?? []) shortenTimings(asRecord(sub, 'route'), false);
}

/**
 * deploy/alertmanager/alertmanager.yml with every integration's endpoint pointed at `receiver`
 * (secrets from files written to `secretsDir`, as in production), and a generic webhook added
 * to every receiver: the integrations' payloads carry rendered text, the webhook the labels.
 */
export function alertmanagerConfig(receiver: NotificationReceiver, secretsDir: string): string {
  const config = asRecord(parse(readFileSync(repoPath(ALERTMANAGER_CONFIG), 'utf8')), ALERTMANAGER_CONFIG);
  shortenTimings(asRecord(config.route, 'route'), true);
  mkdirSync(secretsDir, { recursive: true });
  const secret = (name: string, value: string): string => {
    const file = join(secretsDir, name);
    writeFileSync(file, value);
    return file;
  };
  for (const raw of asList(config.receivers, 'receivers')) {
    const r = asRecord(raw, 'receiver');
    const name = String(r.name);
    for (const key of Object.keys(r)) {
      if (key === 'name') continue;
      const integrations = asList(r[key], `${name}.${key}`).map((c) => asRecord(c, `${name}.${key}[]`));
      for (const c of integrations) {
        if (key === 'slack_configs') {
          delete c.api_url;
          c.api_url_file = secret(`${name}-slack-url`, receiver.url('slack', name));
        } else if (key === 'pagerduty_configs') {
          delete c.routing_key;
          c.routing_key_file = secret(`${name}-pagerduty-key`, `e2e-${name}`);
          c.url = receiver.url('pagerduty', name);
        } else if (key === 'webhook_configs') {
          c.url = receiver.url('webhook', name);
        } else {
          throw new Error(`${ALERTMANAGER_CONFIG}: receiver ${name} uses ${key}, which test/e2e cannot point at its receiver yet`);
        }
      }
    }
    const webhooks = (r.webhook_configs as unknown[] | undefined) ?? [];
    r.webhook_configs = [...webhooks, { url: receiver.url('webhook', name), send_resolved: true }];
  }
  return stringify(config);
}

// --- the servers -------------------------------------------------------------------------------

export interface Server {
  readonly child: Child;
  /** http://127.0.0.1:PORT */
  readonly base: string;
  /** 127.0.0.1:PORT */
  readonly address: string;
  readonly configFile: string;
}

async function waitReady(server: Server, path: string, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      if (server.child.exited()) throw new Error('exited');
      return (await fetch(server.base + path)).ok;
    },
    { timeoutMs, intervalMs: 200, what: `${server.child.name} to answer ${path}` },
  ).catch((err: unknown) => {
    throw new Error(`${server.child.name} did not start: ${String(err)}\n${server.child.tail()}`);
  });
}

/** Checks a config with the packaged tool first: a bad config fails here with the tool's words. */
function check(tool: string, args: string[], what: string): void {
  const r = run(requireTool(tool), args);
  if (r.status !== 0) throw new Error(`${tool} rejects the generated ${what}:\n${r.output}`);
}

export async function startAlertmanager(dir: string, receiver: NotificationReceiver): Promise<Server> {
  const binary = requireTool('prometheus-alertmanager');
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(configFile, alertmanagerConfig(receiver, join(dir, 'secrets')));
  check('amtool', ['check-config', configFile], 'Alertmanager config');
  const port = await freePort();
  const child = startChild('alertmanager', binary, [
    `--config.file=${configFile}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=', // no gossip: a single, private instance (9094 may be taken)
  ]);
  const server = { child, base: `http://127.0.0.1:${port}`, address: `127.0.0.1:${port}`, configFile };
  await waitReady(server, '/-/ready', 30_000);
  return server;
}

export async function startPrometheus(
  dir: string,
  targets: Omit<PrometheusTargets, 'prometheus'>,
): Promise<Server> {
  const binary = requireTool('prometheus');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig({ ...targets, prometheus: address }));
  check('promtool', ['check', 'config', configFile], 'Prometheus config');
  const child = startChild('prometheus', binary, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=${address}`,
  ]);
  const server = { child, base: `http://${address}`, address, configFile };
  await waitReady(server, '/-/ready', 60_000);
  return server;
}

// --- Prometheus' HTTP API ----------------------------------------------------------------------

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query; throws on a PromQL or server error, with Prometheus' message. */
export async function query(prometheus: Server, expr: string): Promise<Sample[]> {
  const res = await fetch(`${prometheus.base}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }),
  });
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
  if (body.status !== 'success') throw new Error(`Prometheus rejected ${expr}: ${body.error ?? res.status}`);
  const data = body.data!;
  if (data.resultType === 'vector') return data.result as Sample[];
  if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
  throw new Error(`${expr}: unexpected result type ${data.resultType}`);
}

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

export async function prometheusAlerts(prometheus: Server): Promise<PrometheusAlert[]> {
  const body = (await (await fetch(`${prometheus.base}/api/v1/alerts`)).json()) as { data: { alerts: PrometheusAlert[] } };
  return body.data.alerts;
}

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  receivers: { name: string }[];
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[]; silencedBy: string[] };
}

export async function alertmanagerAlerts(alertmanager: Server): Promise<AlertmanagerAlert[]> {
  return (await (await fetch(`${alertmanager.base}/api/v2/alerts`)).json()) as AlertmanagerAlert[];
}
