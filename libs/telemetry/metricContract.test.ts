import { describe, expect, test } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { GATEWAY_METRICS, GATEWAY_METRIC_NAMES, LLM_SECONDS_BUCKETS, labelsOf, metricSpecOf } from './metricNames.ts';
import { metricNamesOf, selectorsOf } from '../../test/helpers/promql.ts';
import { PROMETHEUS_DIR, alertRules, allPanels, readDashboard, readPrometheusYaml, type DashboardPanel } from '../../test/helpers/opsFiles.ts';

// Series that Prometheus itself makes, which rules and dashboards may read beside the contract.
const PROMETHEUS_SERIES: Record<string, readonly string[]> = {
  up: ['job', 'instance'],
  ALERTS: ['alertname', 'alertstate', 'severity'],
};

/** Every problem with the series `expr` selects: names outside the contract, labels the metric has not. */
function contractProblems(expr: string): string[] {
  const problems: string[] = [];
  for (const s of selectorsOf(expr)) {
    if (!s.name) {
      problems.push(`selector without a metric name: ${expr}`);
      continue;
    }
    const labels = PROMETHEUS_SERIES[s.name] ?? labelsOf(s.name);
    if (!labels) {
      problems.push(`${s.name} is not in the metric contract`);
      continue;
    }
    for (const m of s.matchers) if (!labels.includes(m.label)) problems.push(`${s.name} has no label ${m.label}`);
  }
  return problems;
}

describe('the PromQL scanner', () => {
  test.each([
    ['up', ['up']],
    ['gateway_redis_up == 0', ['gateway_redis_up']],
    ['sum by (le) (rate(a_bucket{phase="total"}[5m]))', ['a_bucket']],
    ['sum(rate(x[5m])) by (provider) / ignoring(code) group_left sum(y)', ['x', 'y']],
    ['max without (instance) (a) / on() b offset 5m', ['a', 'b']],
    ['label_replace(m{a=~"x|y"}, "dst", "$1", "src", "(.*)")', ['m']],
    ['rate(c[$__rate_interval]) * 3600 + 1e3 - 0.5', ['c']],
    ['count({__name__="n", job!="x"}) and bool inf', ['n']],
    ['sum(rate(c{status="a}b", x=\'q"r\'}[1h:1m]))', ['c']],
    ['histogram_quantile(0.95, sum by (le) (rate(d_bucket[5m]))) > 3 # a comment mentions z', ['d_bucket']],
  ])('%s selects %j', (expr, names) => {
    expect(metricNamesOf(expr)).toEqual(names);
  });

  test('reads label matchers with every operator, including escaped quotes', () => {
    expect(selectorsOf('x{a="1", b!="2", c=~"3|4", d!~"5\\"6"}')).toEqual([
      {
        name: 'x',
        matchers: [
          { label: 'a', op: '=', value: '1' },
          { label: 'b', op: '!=', value: '2' },
          { label: 'c', op: '=~', value: '3|4' },
          { label: 'd', op: '!~', value: '5"6' },
        ],
      },
    ]);
  });

  test.each(['x{a="1"', 'x{a 1}', 'rate(x[5m)', 'sum by (le', 'x{a="1}'])('refuses the malformed %s instead of looping', (expr) => {
    expect(() => selectorsOf(expr)).toThrow();
  });
});

describe('the metric contract', () => {
  test('LLM_SECONDS_BUCKETS span 50 ms to 120 s in increasing order, with a bound at the 3 s target', () => {
    expect(LLM_SECONDS_BUCKETS).toEqual([0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120]);
    expect([...LLM_SECONDS_BUCKETS].sort((a, b) => a - b)).toEqual(LLM_SECONDS_BUCKETS);
  });

  test.each(GATEWAY_METRIC_NAMES.map((name) => [name, GATEWAY_METRICS[name]!] as const))('%s follows Prometheus naming', (name, spec) => {
    expect(name).toMatch(/^gateway_[a-z0-9_]+$/);
    // promtool check metrics: counters and only counters end in _total; histograms are in base units.
    expect(name.endsWith('_total')).toBe(spec.type === 'counter');
    if (spec.type === 'histogram') expect(name).toMatch(/_seconds$/);
    for (const label of spec.labels) expect(label).toMatch(/^[a-z_][a-z0-9_]*$/);
    expect(spec.labels).not.toContain('le');
  });

  test('histogram series resolve to their base metric; other suffixes do not', () => {
    expect(metricSpecOf('gateway_job_duration_seconds_bucket')?.name).toBe('gateway_job_duration_seconds');
    expect(labelsOf('gateway_job_duration_seconds_bucket')).toContain('le');
    expect(labelsOf('gateway_job_duration_seconds_count')).not.toContain('le');
    expect(metricSpecOf('gateway_redis_up_count')).toBeUndefined();
    expect(metricSpecOf('gateway_nothing')).toBeUndefined();
  });
});

describe('ops/prometheus/alerts.yml', () => {
  const rules = alertRules();

  test('holds the alerts operators were promised', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'GatewayBudgetAt80Percent',
        'GatewayBudgetAt90Percent',
        'GatewayBudgetAt95Percent',
        'GatewayBudgetExhausted',
        'GatewayJobLatencyP95High',
        'GatewayJobErrorRateHigh',
        'GatewayBreakerOpen',
        'GatewayWebhookDeadLetters',
        'GatewayBacklogOld',
        'GatewayRateLimitWaits',
        'GatewayRedisDown',
        'GatewayTargetDown',
        'GatewayNoWorkers',
      ]),
    );
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  test.each(rules.map((r) => [r.alert, r] as const))('%s reads only contract metrics and labels, with a severity and annotations', (_name, rule) => {
    expect(contractProblems(rule.expr)).toEqual([]);
    expect(['info', 'warning', 'critical']).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary).toBeTruthy();
    expect(rule.annotations?.description).toBeTruthy();
  });

  test('alerts.test.yml has, for every rule, a case that fires it and one where it is silent', () => {
    const file = readPrometheusYaml('alerts.test.yml') as { tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] };
    const cases = file.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of rules) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${rule.alert} fires in a test`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${rule.alert} is silent in a test`).toBe(true);
    }
    expect(cases.every((c) => rules.some((r) => r.alert === c.alertname))).toBe(true);
  });
});

describe('ops/prometheus/prometheus.example.yml', () => {
  const config = readPrometheusYaml('prometheus.example.yml') as {
    rule_files: string[];
    scrape_configs: { job_name: string; file_sd_configs?: { files: string[] }[] }[];
  };

  test('loads alerts.yml and scrapes the two jobs the rules name', () => {
    expect(config.rule_files).toContain('alerts.yml');
    expect(config.scrape_configs.map((s) => s.job_name)).toEqual(expect.arrayContaining(['gateway-api', 'gateway-worker']));
    const targetDown = alertRules().find((r) => r.alert === 'GatewayTargetDown')!;
    for (const job of ['gateway-api', 'gateway-worker']) expect(job).toMatch(new RegExp(selectorsOf(targetDown.expr)[0]!.matchers[0]!.value));
  });

  test('every targets file is a file_sd list of host:port targets', () => {
    const files = readdirSync(path.join(PROMETHEUS_DIR, 'targets')).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const groups = readPrometheusYaml(path.join('targets', file)) as { targets: string[]; labels?: Record<string, string> }[];
      expect(groups.length).toBeGreaterThan(0);
      for (const g of groups) for (const t of g.targets) expect(t).toMatch(/^[\w.-]+:\d+$/);
    }
  });
});

describe('ops/grafana/gateway-dashboard.json', () => {
  const dashboard = readDashboard();
  const panels = allPanels(dashboard.panels);
  const charts = panels.filter((p) => p.type !== 'row');

  test('is a dashboard with a Prometheus datasource variable', () => {
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ type: 'datasource', name: 'datasource', query: 'prometheus' }));
  });

  test('panels have unique ids and sit in a 24-column grid without overlapping', () => {
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i += 1)
        for (let j = y; j < y + h; j += 1) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
    }
  });

  test.each(charts.map((p) => [p.title, p] as const))('%s queries contract metrics through the datasource variable', (_title, panel: DashboardPanel) => {
    expect(panel.datasource?.uid).toBe('${datasource}');
    expect(panel.targets?.length).toBeGreaterThan(0);
    expect(new Set(panel.targets!.map((t) => t.refId)).size).toBe(panel.targets!.length);
    for (const target of panel.targets!) {
      expect(target.datasource?.uid).toBe('${datasource}');
      expect(metricNamesOf(target.expr).length, target.expr).toBeGreaterThan(0);
      expect(contractProblems(target.expr)).toEqual([]);
    }
  });

  test('shows every metric of the contract', () => {
    const shown = new Set(charts.flatMap((p) => p.targets!.flatMap((t) => metricNamesOf(t.expr))).map((n) => metricSpecOf(n)?.name));
    expect(GATEWAY_METRIC_NAMES.filter((n) => !shown.has(n))).toEqual([]);
  });
});
