/**
 * The Grafana dashboard and provisioning, checked without a Grafana: every panel queries
 * something, every metric it names is one klaxon exports, every query parses as PromQL (by the
 * real promtool), the stream variable exists, and the committed JSON is what the generator makes.
 * Whether the queries return data is checked later, against a real Prometheus scraping klaxon.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  dashboardQueries,
  loadDashboard,
  queryPanels,
  streamVariableSource,
  substitute,
  variablesIn,
} from './dashboard-queries.js';
import { contractSeriesNames, KLAXON_METRICS, MEASURES, metricNamesIn, SEVERITIES } from './metric-contract.js';
import { readYaml, repoPath, requireTool, run } from './tools.js';

const dashboard = loadDashboard();
const panels = queryPanels(dashboard);

describe('the klaxon dashboard', () => {
  it('is what scripts/deploy/gen-dashboard.mjs generates (regenerate it rather than editing the JSON)', () => {
    const r = run(process.execPath, ['scripts/deploy/gen-dashboard.mjs', '--stdout']);
    expect(r.status, r.output).toBe(0);
    expect(readFileSync(repoPath('deploy/grafana/dashboards/klaxon.json'), 'utf8')).toBe(r.stdout);
  });

  it('has a stream variable listing label_values(klaxon_stream_ready, stream)', () => {
    const stream = dashboard.templating.list.find((v) => v.name === 'stream');
    expect(stream?.type).toBe('query');
    expect(streamVariableSource()).toEqual({ metric: 'klaxon_stream_ready', label: 'stream' });
    expect(stream?.datasource?.uid).toBe('${datasource}');
  });

  it('has a datasource variable of type prometheus, and every panel and query uses it', () => {
    const ds = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('gives every panel at least one query, each with a non-empty expr', () => {
    expect(panels.length).toBeGreaterThan(10);
    for (const panel of panels) {
      expect(panel.targets?.length ?? 0, `${panel.title}: no targets`).toBeGreaterThan(0);
      for (const t of panel.targets ?? []) {
        expect((t.expr ?? '').trim(), `${panel.title} ${t.refId}: empty expr`).not.toBe('');
      }
      const refIds = (panel.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, `${panel.title}: duplicate refIds`).toBe(refIds.length);
    }
  });

  it('uses only metric names from klaxon’s metric contract (a typo fails here)', async () => {
    const allowed = await contractSeriesNames();
    for (const q of dashboardQueries('payment_amount')) {
      const names = metricNamesIn(q.expr);
      expect(names.length, `${q.panel} ${q.refId} selects no metric: ${q.expr}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(allowed.has(name), `${q.panel} ${q.refId}: ${name} is not an exported metric`).toBe(true);
      }
    }
  });

  it('shows every klaxon metric somewhere', () => {
    const used = new Set(dashboardQueries('x').flatMap((q) => metricNamesIn(q.expr)));
    for (const metric of Object.keys(KLAXON_METRICS)) {
      const shown = [metric, `${metric}_bucket`].some((n) => used.has(n));
      expect(shown, `${metric} is on no panel`).toBe(true);
    }
  });

  it('uses no variable but $stream in its queries, and only in exact-match label matchers', () => {
    for (const panel of panels) {
      for (const t of panel.targets ?? []) {
        const expr = t.expr ?? '';
        for (const v of variablesIn(expr)) expect(v, `${panel.title}: ${expr}`).toBe('stream');
        // the variable is single-valued: a regex matcher would make "a.b" match "aXb"
        expect(expr, panel.title).not.toMatch(/=~\s*"[^"]*\$stream/);
      }
    }
  });

  it('has its queries parsed as valid PromQL by promtool', () => {
    requireTool('promtool');
    const rules = dashboardQueries('payment_amount').map((q, i) => ({
      record: `dashboard:query_${i}`,
      expr: q.expr,
    }));
    const dir = mkdtempSync(join(tmpdir(), 'klaxon-dashboard-'));
    try {
      const file = join(dir, 'queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
      const r = run('promtool', ['check', 'rules', file]);
      expect(r.status, r.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('draws each measure with a ± standard-error band and both threshold lines', () => {
    for (const measure of MEASURES) {
      const panel = panels.find((p) =>
        (p.targets ?? []).some((t) => t.expr?.includes(`klaxon_divergence_nats{stream="$stream", measure="${measure}"}`)),
      );
      expect(panel, `no divergence panel for ${measure}`).toBeDefined();
      const exprs = (panel?.targets ?? []).map((t) => t.expr ?? '');
      expect(exprs.some((e) => /\+\s*max\(klaxon_divergence_stderr_nats/.test(e)), `${measure}: value + stderr`).toBe(true);
      expect(exprs.some((e) => /-\s*max\(klaxon_divergence_stderr_nats/.test(e)), `${measure}: value - stderr`).toBe(true);
      for (const severity of SEVERITIES) {
        expect(
          exprs.some((e) => e.includes('klaxon_divergence_threshold_nats') && e.includes(`severity="${severity}"`)),
          `${measure}: ${severity} threshold`,
        ).toBe(true);
      }
      // the band is filled between the two series: fillBelowTo must name another series' legend
      const legends = new Set((panel?.targets ?? []).map((t) => t.legendFormat));
      const fills = (panel?.fieldConfig?.overrides ?? []).flatMap((o) =>
        o.properties.filter((p) => p.id === 'custom.fillBelowTo').map((p) => [o.matcher.options, p.value]),
      );
      expect(fills.length, `${measure}: no band fill`).toBe(1);
      for (const [from, to] of fills) {
        expect(legends.has(from as string), `${measure}: fill from ${String(from)}`).toBe(true);
        expect(legends.has(to as string), `${measure}: fill to ${String(to)}`).toBe(true);
      }
    }
  });

  it('lays panels inside 24 columns without overlaps, with unique ids', () => {
    const all = dashboard.panels;
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    for (const p of all) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    for (const [i, a] of all.entries()) {
      for (const b of all.slice(i + 1)) {
        const overlap =
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });
});

describe('dashboardQueries', () => {
  it('substitutes the stream in every syntax Grafana accepts, escaping quotes', () => {
    expect(substitute('x{stream="$stream"}', { stream: 'a' })).toBe('x{stream="a"}');
    expect(substitute('x{stream="${stream}"} [[stream]]', { stream: 'a' })).toBe('x{stream="a"} a');
    expect(substitute('x{stream="$stream"}', { stream: 'we"ird\\' })).toBe('x{stream="we\\"ird\\\\"}');
    expect(() => substitute('x{a="$nope"}', { stream: 'a' })).toThrow(/unknown dashboard variable \$nope/);
  });

  it('returns every query with no variable left', () => {
    const queries = dashboardQueries('session_shape');
    expect(queries.length).toBe(panels.reduce((n, p) => n + (p.targets?.length ?? 0), 0));
    for (const q of queries) expect(q.expr).not.toContain('$');
    expect(queries.some((q) => q.expr.includes('stream="session_shape"'))).toBe(true);
  });
});

describe('metricNamesIn', () => {
  it('finds metric names and skips functions, labels, strings, ranges and numbers', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le) (rate(klaxon_refit_duration_seconds_bucket{stream="a b"}[5m]))) > 1e3',
      ),
    ).toEqual(['klaxon_refit_duration_seconds_bucket']);
    expect(metricNamesIn('time() - max(a_b{x="y"} > 0) and on (stream) c offset 5m')).toEqual(['a_b', 'c']);
    expect(metricNamesIn('sum(rate(x_total[1m])) by (source, reason) / ignoring(z) group_left(w) up')).toEqual([
      'x_total',
      'up',
    ]);
  });
});

describe('Grafana provisioning', () => {
  it('provisions a default Prometheus datasource', () => {
    const file = readYaml('deploy/grafana/provisioning/datasources/prometheus.yml') as {
      apiVersion: number;
      datasources: { name: string; uid: string; type: string; url: string; access: string; isDefault: boolean }[];
    };
    expect(file.apiVersion).toBe(1);
    expect(file.datasources).toHaveLength(1);
    expect(file.datasources[0]).toMatchObject({ type: 'prometheus', access: 'proxy', isDefault: true });
    expect(file.datasources[0]?.url).toMatch(/^https?:\/\/[^/]+:\d+$/);
  });

  it('provisions dashboards from files', () => {
    const file = readYaml('deploy/grafana/provisioning/dashboards/klaxon.yml') as {
      apiVersion: number;
      providers: { name: string; type: string; options: { path: string } }[];
    };
    expect(file.apiVersion).toBe(1);
    expect(file.providers).toHaveLength(1);
    expect(file.providers[0]).toMatchObject({ type: 'file' });
    expect(file.providers[0]?.options.path).toMatch(/^\//);
  });
});
