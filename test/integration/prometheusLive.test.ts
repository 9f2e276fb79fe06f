// The shipped monitoring files in a real Prometheus (Debian's 2.42): the example configuration's
// scrape jobs and file_sd globs find an API and two workers (stand-ins serving the metric contract),
// every rule of alerts.yml evaluates without error, the ones whose condition holds fire or go
// pending, and every dashboard query answers with data. Skipped with a notice without Prometheus.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import { stringify } from 'yaml';
import { PROMETHEUS, noticeMissingPrometheus } from '../helpers/prometheus.ts';
import { pollFor, startPrometheus, type PrometheusServer } from '../helpers/prometheusServer.ts';
import { startContractExporter, type ContractExporter } from '../helpers/contractExporter.ts';
import { PROMETHEUS_DIR, alertRules, allPanels, grafanaToPromql, readDashboard, readPrometheusYaml } from '../helpers/opsFiles.ts';

noticeMissingPrometheus('the alert rules and dashboard queries in a real Prometheus');

interface ScrapeConfig {
  job_name: string;
  scrape_timeout?: string;
  file_sd_configs: { files: string[]; refresh_interval?: string }[];
}

describe.skipIf(!PROMETHEUS)('ops/prometheus in a real Prometheus', () => {
  let prometheus: PrometheusServer;
  const exporters: ContractExporter[] = [];

  beforeAll(async () => {
    const api = await startContractExporter('api', {
      gauges: {
        gateway_budget_spent_usd: 4600,
        gateway_budget_limit_usd: 5000,
        gateway_budget_reserved_usd: 20,
        gateway_budget_forecast_usd: 5600,
        gateway_redis_up: 1,
        gateway_queue_oldest_waiting_seconds: 12,
      },
    });
    // rate() over 5 minutes divides by the whole window even when the series is seconds old: a large
    // step lets the rate-limit rule see its condition within seconds.
    const worker = { steps: { gateway_rate_limit_wait_seconds_total: 300 } };
    exporters.push(api, await startContractExporter('worker', worker), await startContractExporter('worker', worker));
    const [, w1, w2] = exporters;
    // The example's own scrape jobs and file_sd globs, sped up: scrapes and evaluations every second.
    const example = readPrometheusYaml('prometheus.example.yml') as { scrape_configs: ScrapeConfig[] };
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [path.join(PROMETHEUS_DIR, 'alerts.yml')],
      scrape_configs: example.scrape_configs.map((job) => ({ ...job, scrape_timeout: '1s' })),
    };
    prometheus = await startPrometheus({
      config,
      files: {
        'targets/api.yml': stringify([{ targets: [`127.0.0.1:${api!.port}`] }]),
        'targets/workers.yml': stringify([{ targets: [`127.0.0.1:${w1!.port}`, `127.0.0.1:${w2!.port}`] }]),
      },
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(exporters.map((e) => e.close()));
  });

  test('the example configuration scrapes the API and both workers', async () => {
    const up = await pollFor(
      async () => {
        const samples = await prometheus.query('up == 1');
        return samples.length === 3 ? samples : undefined;
      },
      30_000,
      'three targets up',
    );
    expect(up.map((s) => s.metric.job).sort()).toEqual(['gateway-api', 'gateway-worker', 'gateway-worker']);
  }, 60_000);

  test('every rule evaluates without error', async () => {
    type Rule = { name: string; health: string; lastError?: string };
    const rules = await pollFor(
      async () => {
        const data = await prometheus.api<{ groups: { rules: Rule[] }[] }>('rules?type=alert');
        const all = data.groups.flatMap((g) => g.rules);
        return all.length > 0 && all.every((r) => r.health !== 'unknown') ? all : undefined;
      },
      30_000,
      'every rule evaluated',
    );
    expect(rules.map((r) => r.name).sort()).toEqual(alertRules().map((r) => r.alert).sort());
    expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);
  }, 60_000);

  test('alerts whose condition holds fire (or wait out their `for:`), the others stay silent', async () => {
    type Alert = { labels: { alertname: string }; state: string };
    // Budget at 92%: 80 and 90 fire at once; dead letters grow at every scrape; a third of the jobs
    // fail and another third are degraded; rate-limit waits hold jobs back (far above 1 on average).
    const expected = {
      GatewayBudgetAt80Percent: 'firing',
      GatewayBudgetAt90Percent: 'firing',
      GatewayWebhookDeadLetters: 'firing',
      GatewayJobErrorRateHigh: 'pending',
      GatewayRateLimitWaits: 'pending',
    };
    let seen: Record<string, string> = {};
    const alerts = await pollFor(
      async () => {
        const data = await prometheus.api<{ alerts: Alert[] }>('alerts');
        seen = Object.fromEntries(data.alerts.map((a) => [a.labels.alertname, a.state]));
        return Object.entries(expected).every(([name, state]) => seen[name] === state) ? seen : undefined;
      },
      30_000,
      'the expected alerts',
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}; alerts seen: ${JSON.stringify(seen)}`, { cause: e });
    });
    // Nothing else fires. (A scrape that times out on a busy machine may leave a `for:` alert
    // pending, such as GatewayTargetDown, which is why pending ones are not counted.)
    const firing = Object.keys(alerts).filter((name) => alerts[name] === 'firing');
    expect(firing.sort()).toEqual(Object.keys(expected).filter((name) => expected[name as keyof typeof expected] === 'firing').sort());
  }, 60_000);

  test('every dashboard query answers with data, and the headline figures are right', async () => {
    const targets = allPanels(readDashboard().panels).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: grafanaToPromql(t.expr) })));
    for (const { panel, expr } of targets) {
      await pollFor(async () => ((await prometheus.query(expr)).length > 0 ? true : undefined), 30_000, `data for "${panel}": ${expr}`);
    }
    const value = async (title: string): Promise<number> => {
      const target = targets.find((t) => t.panel === title)!;
      const [sample] = await prometheus.query(target.expr);
      return Number(sample!.value[1]);
    };
    expect(await value('Budget used')).toBeCloseTo(0.92, 6);
    // Per scrape each worker finishes one provider-served, one degraded and one failed job.
    expect(await value('Error ratio')).toBeCloseTo(2 / 3, 6);
  }, 90_000);
});
