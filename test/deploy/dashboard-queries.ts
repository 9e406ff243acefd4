/**
 * The PromQL queries of klaxon's Grafana dashboard, ready to send to a Prometheus: the dashboard
 * variables substituted as Grafana would. Used by the dashboard's own checks, and by the
 * integration test that runs every panel's query against a real Prometheus scraping klaxon.
 */
import { readFileSync } from 'node:fs';
import { repoPath } from './tools.js';

export const DASHBOARD_FILE = repoPath('deploy/grafana/dashboards/klaxon.json');

export interface GrafanaTarget {
  refId: string;
  expr?: string;
  legendFormat?: string;
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
  fieldConfig?: {
    defaults?: Record<string, unknown>;
    overrides?: { matcher: { id: string; options: unknown }; properties: { id: string; value: unknown }[] }[];
  };
}

export interface GrafanaVariable {
  name: string;
  type: string;
  query?: unknown;
  datasource?: { type?: string; uid?: string };
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  panels: GrafanaPanel[];
  templating: { list: GrafanaVariable[] };
}

export function loadDashboard(file: string = DASHBOARD_FILE): GrafanaDashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as GrafanaDashboard;
}

/** Every panel, with the panels of collapsed rows, rows themselves excluded. */
export function queryPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  return dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

export interface DashboardQuery {
  panelId: number;
  panel: string;
  refId: string;
  /** the query as written in the dashboard */
  template: string;
  /** the query with the variables substituted */
  expr: string;
}

/** `$name`, `${name}`, `${name:format}` and `[[name]]`, Grafana's variable syntaxes. */
const VARIABLE = /\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]/g;

/** The names of the dashboard variables a query uses. */
export function variablesIn(expr: string): string[] {
  return [...expr.matchAll(VARIABLE)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/**
 * Substitutes dashboard variables. Values are inserted into PromQL double-quoted strings (the
 * dashboard uses `stream="$stream"`, never a regex match), so backslashes and quotes are escaped.
 * An unknown variable is an error: Grafana would send it verbatim, and Prometheus would reject it.
 */
export function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(VARIABLE, (whole, a?: string, b?: string, c?: string) => {
    const name = a ?? b ?? c ?? '';
    const value = values[name];
    if (value === undefined) throw new Error(`unknown dashboard variable ${whole} in: ${expr}`);
    return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  });
}

/** Every query of every panel, with `$stream` set to `stream`. */
export function dashboardQueries(stream: string, file: string = DASHBOARD_FILE): DashboardQuery[] {
  const dashboard = loadDashboard(file);
  return queryPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((t) => ({
      panelId: panel.id,
      panel: panel.title,
      refId: t.refId,
      template: t.expr ?? '',
      expr: substitute(t.expr ?? '', { stream }),
    })),
  );
}

/**
 * The metric and label behind the `stream` variable's `label_values(metric, label)`: Prometheus'
 * `/api/v1/label/<label>/values?match[]=<metric>` lists the same values.
 */
export function streamVariableSource(file: string = DASHBOARD_FILE): { metric: string; label: string } {
  const variable = loadDashboard(file).templating.list.find((v) => v.name === 'stream');
  const query = typeof variable?.query === 'string' ? variable.query : '';
  const m = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*(\w+)\s*\)$/.exec(query);
  if (!m?.[1] || !m[2]) throw new Error(`the stream variable's query is not label_values(metric, label): ${query}`);
  return { metric: m[1], label: m[2] };
}
