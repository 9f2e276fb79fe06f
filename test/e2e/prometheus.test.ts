/**
 * A real Prometheus (Debian's 2.42) scrapes the API and two workers while jobs run against a
 * simulator that fails some OpenAI calls (500s, retried or failed over; 400s, which fail the job).
 * The answers Prometheus gives by PromQL — p95 total latency, error ratios, tokens and cost — must
 * equal what the store holds for the same jobs.
 */
import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROMETHEUS, noticeMissingPrometheus } from '../helpers/prometheus.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startPrometheus, type PromSample, type PrometheusServer } from '../helpers/prometheusServer.ts';
import { workerMetricsUrls } from '../../libs/devkit/workerMetrics.ts';
import { openJobStore } from '../../libs/store/open.ts';
import { bucketQuantile } from '../../libs/telemetry/metrics/buckets.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';

noticeMissingPrometheus('prometheus e2e');

const dbPath = join(tmpdir(), `prom-e2e-${randomUUID()}.sqlite`);
let gw: TestGateway;
let prometheus: PrometheusServer | undefined;

/** Starts Prometheus scraping `targets` (host:port) every second. */
async function scrape(targets: { job: string; hostPort: string }[]): Promise<PrometheusServer> {
  const jobs = [...new Set(targets.map((t) => t.job))];
  return startPrometheus({
    config: {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: jobs.map((job) => ({ job_name: job, static_configs: [{ targets: targets.filter((t) => t.job === job).map((t) => t.hostPort) }] })),
    },
  });
}

/** The instant vector `query` answers now. */
const query = (q: string): Promise<PromSample[]> => prometheus!.query(q);

/** The single number `query` answers; NaN when it answers nothing. */
async function scalar(q: string): Promise<number> {
  const [first] = await query(q);
  return first ? Number(first.value[1]) : NaN;
}

/** `sum by (label)` answers as a map from the label's value. */
async function byLabel(q: string, label: string): Promise<Record<string, number>> {
  return Object.fromEntries((await query(q)).map((s) => [s.metric[label] ?? '', Number(s.value[1])]));
}

const MODEL_SERVED = new Set(['provider', 'failover', 'downgrade']);
function sumBy<T>(items: readonly T[], key: (item: T) => string, value: (item: T) => number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + value(item);
  return out;
}
const micros = (usd: number) => Math.round(usd * 1e6);

beforeAll(async () => {
  if (!PROMETHEUS) return;
  gw = await startTestGateway({
    workers: 2,
    env: { DATABASE_URL: dbPath },
    // No generic category answers: every record is one of the jobs this test submits.
    editConfig: (config) => config.edit('features/career_path_navigator.json', (f) => void delete f.category_fallback),
    simulatorKnobs: {
      openai: { error_rate: 0.3, error_statuses: [500, 400], latency: { kind: 'lognormal', p50_ms: 150, p95_ms: 1200 } },
      anthropic: { latency: { kind: 'lognormal', p50_ms: 250, p95_ms: 2000 } },
    },
  });
  const api = new URL(gw.system.apiUrl).host;
  const workers = workerMetricsUrls(gw.system.processes).map((u) => new URL(u).host);
  prometheus = await scrape([{ job: 'gateway-api', hostPort: api }, ...workers.map((hostPort) => ({ job: 'gateway-worker', hostPort }))]);
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await gw?.stop();
  for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
});

describe.skipIf(!PROMETHEUS)('Prometheus answers what the store holds', () => {
  test('p95 total latency, error ratios, tokens by model and cost by variant', { timeout: 180_000 }, async () => {
    // Three targets up: the API and both workers.
    await eventually(async () => (await scalar('sum(up)')) === 3, 20_000, 'three targets up');

    const first = await Promise.all(Array.from({ length: 40 }, (_, i) => gw.client.submit(careerSubmission(i))));
    await gw.client.waitForAll(first, { timeoutMs: 90_000 });
    // The same requests again: those answered before come from the cache.
    const again = await Promise.all(Array.from({ length: 10 }, (_, i) => gw.client.submit(careerSubmission(i))));
    await gw.client.waitForAll(again, { timeoutMs: 60_000 });
    const ids = [...first, ...again];

    const store = await openJobStore(dbPath);
    const records = await store.getMany(ids).finally(() => store.close());
    expect(records).toHaveLength(ids.length);
    const byStatus = sumBy(records, (r) => r.status, () => 1);
    // The faults did something: some jobs failed (400s), some were served by the cache.
    expect(byStatus.failed ?? 0).toBeGreaterThan(0);
    expect(records.some((r) => r.served_by === 'cache')).toBe(true);

    // Every job's metrics come in one step, so once the finished count is in, all of it is.
    await eventually(async () => (await scalar('sum(gateway_jobs_finished_total)')) === records.length, 30_000, 'Prometheus to scrape every finished job');

    // Finished jobs by status.
    expect(await byLabel('sum by (status) (gateway_jobs_finished_total)', 'status')).toEqual(byStatus);

    // p95 of the total latency: the same bucket interpolation over the stored durations.
    const p95 = await scalar('histogram_quantile(0.95, sum by (le) (gateway_job_duration_seconds_bucket{phase="total"}))');
    const storedP95 = bucketQuantile(0.95, records.map((r) => r.latency_ms!.total / 1000));
    expect(p95).toBeCloseTo(storedP95, 9);

    // Error ratios: of jobs, and of provider calls (every HTTP call is in its job's attempt list;
    // an open breaker's refusal is listed there too but was no call).
    const jobErrors = await scalar('sum(gateway_jobs_finished_total{status!="completed"}) / sum(gateway_jobs_finished_total)');
    expect(jobErrors).toBeCloseTo((records.length - (byStatus.completed ?? 0)) / records.length, 12);
    const calls = records.flatMap((r) => r.provider_attempts ?? []).filter((a) => a.errorCode !== 'provider_circuit_open');
    const callErrors = await scalar('sum(gateway_provider_requests_total{outcome="error"}) / sum(gateway_provider_requests_total)');
    expect(calls.length).toBeGreaterThan(0);
    expect(callErrors).toBeCloseTo(calls.filter((a) => a.errorCode).length / calls.length, 12);
    expect(await byLabel('sum by (code) (gateway_provider_requests_total)', 'code')).toEqual(sumBy(calls, (a) => a.errorCode ?? '', () => 1));

    // Tokens by variant, provider, model and direction: model-served answers only.
    const served = records.filter((r) => MODEL_SERVED.has(r.served_by ?? '') && r.usage);
    const tokens = await query('sum by (variant, provider, model, direction) (gateway_tokens_total)');
    const promTokens = Object.fromEntries(tokens.map((s) => [`${s.metric.variant ?? ''}/${s.metric.provider}/${s.metric.model}/${s.metric.direction}`, Number(s.value[1])]));
    const storedTokens = {
      ...sumBy(served, (r) => `${r.experiment?.variant ?? ''}/${r.provider}/${r.model}/input`, (r) => r.usage!.input_tokens),
      ...sumBy(served, (r) => `${r.experiment?.variant ?? ''}/${r.provider}/${r.model}/output`, (r) => r.usage!.output_tokens),
    };
    expect(promTokens).toEqual(storedTokens);

    // Cost by variant, to the micro-dollar.
    const promCost = await byLabel('sum by (variant) (gateway_cost_usd_total)', 'variant');
    const storedCost = sumBy(records.filter((r) => (r.cost_usd ?? 0) > 0), (r) => r.experiment?.variant ?? '', (r) => r.cost_usd!);
    expect(Object.keys(promCost).sort()).toEqual(Object.keys(storedCost).sort());
    for (const variant of Object.keys(storedCost)) expect(micros(promCost[variant]!), variant).toBe(micros(storedCost[variant]!));
    expect(Object.keys(storedCost).length).toBeGreaterThan(1);

    console.info(
      `[measured] prometheus e2e: ${records.length} jobs ${JSON.stringify(byStatus)}; p95 total ${p95.toFixed(4)} s (store ${storedP95.toFixed(4)} s); ` +
        `job error ratio ${jobErrors.toFixed(4)}; call error ratio ${callErrors.toFixed(4)} of ${calls.length} calls; cost by variant ${JSON.stringify(promCost)}`,
    );

    // The API's shared gauges are there too.
    expect(await scalar('gateway_queue_jobs{state="waiting"}')).toBe(0);
    expect(micros(await scalar('gateway_budget_spent_usd'))).toBeGreaterThan(0);
  });
});
