// Readers for the shipped monitoring files (ops/prometheus, ops/grafana), shared by the unit test
// that checks them against the metric contract and the integration test that runs promtool.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse } from 'yaml';

/** The repository's ops/ folder. */
export const OPS_DIR = fileURLToPath(new URL('../../ops/', import.meta.url));
/** ops/prometheus: alerts.yml, alerts.test.yml, prometheus.example.yml, targets/. */
export const PROMETHEUS_DIR = path.join(OPS_DIR, 'prometheus');
/** The Grafana dashboard's path. */
export const DASHBOARD_PATH = path.join(OPS_DIR, 'grafana', 'gateway-dashboard.json');

/** One alerting rule as written in alerts.yml. */
export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A YAML file of ops/prometheus, parsed. */
export function readPrometheusYaml(name: string): unknown {
  return parse(readFileSync(path.join(PROMETHEUS_DIR, name), 'utf8'));
}

/** Every alerting rule of alerts.yml, across its groups. */
export function alertRules(): AlertRule[] {
  const file = readPrometheusYaml('alerts.yml') as { groups: { name: string; rules: AlertRule[] }[] };
  return file.groups.flatMap((g) => g.rules);
}

/** A Grafana panel, as much of it as the tests read. */
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr: string; datasource?: { type?: string; uid?: string } }[];
  panels?: DashboardPanel[];
}

/** The Grafana dashboard JSON, parsed. */
export function readDashboard(): { title: string; uid: string; schemaVersion: number; templating: { list: { type: string; name: string; query: unknown }[] }; panels: DashboardPanel[] } {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8'));
}

/** Every panel of the dashboard, including those nested in collapsed rows. */
export function allPanels(panels: DashboardPanel[]): DashboardPanel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Grafana's built-in interval variables, replaced by plausible durations so promtool can parse a query. */
const GRAFANA_DURATIONS: Record<string, string> = { __rate_interval: '1m', __interval: '30s', __range: '3h' };

/** A dashboard query as plain PromQL: Grafana's `$__rate_interval`, `$__interval`, `$__range` replaced. */
export function grafanaToPromql(expr: string): string {
  return expr.replace(/\$\{?(__[a-z_]+)\}?/g, (whole, name: string) => {
    const value = GRAFANA_DURATIONS[name];
    if (!value) throw new Error(`unknown Grafana variable ${whole} in: ${expr}`);
    return value;
  });
}
