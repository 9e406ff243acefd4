/**
 * The alerting setup, checked by the real tools: promtool (rules, rule unit tests, Prometheus
 * configs), amtool (Alertmanager config and routes) and a real Alertmanager (inhibition).
 * The tools come from Debian's prometheus and prometheus-alertmanager packages
 * (scripts/deploy/install-prometheus.sh); without them these tests fail, they never skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contractSeriesNames, metricNamesIn } from './metric-contract.js';
import { filesIn, readYaml, repoPath, requireTool, run } from './tools.js';

const RULE_FILES = filesIn('deploy/prometheus/rules', '.yml');
const RULE_TESTS = filesIn('deploy/prometheus/tests', '.test.yml');
const PROMETHEUS_CONFIGS = ['deploy/prometheus/prometheus.yml', 'deploy/prometheus/prometheus.compose.yml'];
const ALERTMANAGER_CONFIG = 'deploy/alertmanager/alertmanager.yml';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface RuleTestFile {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

function alertingRules(): Rule[] {
  return RULE_FILES.flatMap((f) => (readYaml(f) as RuleFile).groups.flatMap((g) => g.rules)).filter(
    (r) => r.alert !== undefined,
  );
}

describe('promtool', () => {
  it('finds promtool on PATH', () => {
    expect(requireTool('promtool')).toMatch(/promtool$/);
  });

  it('accepts the rule files', () => {
    requireTool('promtool');
    expect(RULE_FILES.length).toBeGreaterThan(0);
    const r = run('promtool', ['check', 'rules', ...RULE_FILES]);
    expect(r.status, r.output).toBe(0);
  });

  it('passes the rule unit tests', () => {
    requireTool('promtool');
    expect(RULE_TESTS.length).toBeGreaterThan(0);
    const r = run('promtool', ['test', 'rules', ...RULE_TESTS]);
    expect(r.status, r.output).toBe(0);
    expect(r.stdout).not.toMatch(/FAILED/);
  });

  it.each(PROMETHEUS_CONFIGS)('accepts %s, with its rule files', (config) => {
    requireTool('promtool');
    const r = run('promtool', ['check', 'config', config]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS: [1-9]\d* rules? found/);
  });
});

describe('alert rules', () => {
  const rules = alertingRules();

  it('define the alerts the on-call people and Alertmanager routes expect', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual(
      ['KlaxonDown', 'KlaxonDriftCritical', 'KlaxonDriftWarning', 'KlaxonHighRejectRate', 'KlaxonKafkaDisconnected', 'KlaxonKafkaLagGrowing', 'KlaxonStreamStale'].sort(),
    );
  });

  it('each carry a severity, a summary, a description and a runbook section that exists', () => {
    const runbook = readFileSync(repoPath('deploy/runbook.md'), 'utf8');
    for (const rule of rules) {
      const severity = rule.labels?.severity ?? /severity="(warning|critical)"/.exec(rule.expr)?.[1];
      expect(['warning', 'critical'], `${rule.alert} severity`).toContain(severity);
      expect(rule.annotations?.summary, `${rule.alert} summary`).toBeTruthy();
      expect(rule.annotations?.description, `${rule.alert} description`).toBeTruthy();
      const anchor = /runbook\.md#([a-z0-9-]+)/.exec(rule.annotations?.runbook ?? '')?.[1];
      expect(anchor, `${rule.alert} runbook link`).toBe(rule.alert?.toLowerCase());
      expect(runbook, `runbook section for ${rule.alert}`).toContain(`## ${rule.alert}\n`);
    }
  });

  it('use only metric names from the metric contract', async () => {
    const allowed = await contractSeriesNames();
    for (const rule of rules) {
      const names = metricNamesIn(rule.expr);
      expect(names.length, `${rule.alert} selects no metric`).toBeGreaterThan(0);
      for (const name of names) expect(allowed.has(name), `${rule.alert}: unknown metric ${name}`).toBe(true);
    }
  });

  it('are each unit-tested both firing and not firing', () => {
    const cases = RULE_TESTS.flatMap((f) =>
      (readYaml(f) as RuleTestFile).tests.flatMap((t) => t.alert_rule_test ?? []),
    );
    for (const rule of rules) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${rule.alert} has no firing case`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${rule.alert} has no silent case`).toBe(true);
    }
  });
});

describe('amtool', () => {
  it('accepts the Alertmanager config', () => {
    requireTool('amtool');
    const r = run('amtool', ['check-config', ALERTMANAGER_CONFIG]);
    expect(r.status, r.output).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS/);
  });

  it.each([
    [['alertname=KlaxonDriftCritical', 'severity=critical', 'stream=payment_amount'], 'pager'],
    [['alertname=KlaxonDown', 'severity=critical', 'job=klaxon'], 'pager'],
    [['alertname=KlaxonDriftWarning', 'severity=warning', 'stream=payment_amount'], 'chat'],
    [['alertname=KlaxonStreamStale', 'severity=warning', 'stream=payment_amount'], 'chat'],
  ])('routes %j to %s', (labels, receiver) => {
    requireTool('amtool');
    const r = run('amtool', ['config', 'routes', 'test', `--config.file=${ALERTMANAGER_CONFIG}`, ...labels]);
    expect(r.status, r.output).toBe(0);
    expect(r.stdout.trim()).toBe(receiver);
  });
});

// --- a real Alertmanager, for what amtool cannot check: inhibition ---------------------------

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`, { cause: lastError });
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface AmAlert {
  labels: Record<string, string>;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[] };
}

describe('Alertmanager', () => {
  let child: ChildProcess | undefined;
  let log = '';
  const storage = mkdtempSync(join(tmpdir(), 'klaxon-am-'));

  afterAll(async () => {
    // Alertmanager writes its notification log and silences to the storage directory as it
    // stops: removing the directory before it has exited raced with that (ENOTEMPTY, seen
    // once on Node 22).
    const running = child;
    if (running && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref())]);
    }
    rmSync(storage, { recursive: true, force: true });
  });

  it('inhibits a stream’s drift warning while its critical alert fires, and only that stream’s', async () => {
    const binary = requireTool('prometheus-alertmanager');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = spawn(
      binary,
      [
        `--config.file=${repoPath(ALERTMANAGER_CONFIG)}`,
        `--storage.path=${storage}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=', // no gossip: a single, private instance
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));

    await waitFor('Alertmanager to be ready', async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined)).catch(
      (e: unknown) => {
        throw new Error(`Alertmanager did not start:\n${log}`, { cause: e });
      },
    );

    const alert = (alertname: string, severity: string, stream: string) => ({
      labels: { alertname, severity, stream },
      annotations: { summary: `${alertname} on ${stream}` },
    });
    const posted = await fetch(`${base}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        alert('KlaxonDriftCritical', 'critical', 'payment_amount'),
        alert('KlaxonDriftWarning', 'warning', 'payment_amount'),
        alert('KlaxonDriftWarning', 'warning', 'session_shape'),
      ]),
    });
    expect(posted.status).toBe(200);

    const states = await waitFor('the alerts to be processed', async () => {
      const alerts = (await (await fetch(`${base}/api/v2/alerts`)).json()) as AmAlert[];
      if (alerts.length < 3 || alerts.some((a) => a.status.state === 'unprocessed')) return undefined;
      const inhibited = alerts.find((a) => a.labels.stream === 'payment_amount' && a.labels.severity === 'warning');
      if (inhibited?.status.state !== 'suppressed') return undefined; // inhibition runs asynchronously
      return Object.fromEntries(alerts.map((a) => [`${a.labels.alertname}/${a.labels.stream}`, a.status.state]));
    }).catch((e: unknown) => {
      throw new Error(`Alertmanager did not inhibit the warning:\n${log}`, { cause: e });
    });

    expect(states).toEqual({
      'KlaxonDriftCritical/payment_amount': 'active',
      'KlaxonDriftWarning/payment_amount': 'suppressed',
      'KlaxonDriftWarning/session_shape': 'active',
    });
  });
});
