/**
 * `promtool check metrics` on what the API and a worker really serve, after jobs of every kind
 * (provider-served, cache-served, failed) have filled their labelled series.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROMTOOL, noticeMissingPrometheus } from '../helpers/prometheus.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { workerMetricsUrls } from '../../libs/devkit/workerMetrics.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { contractViolations } from '../helpers/metricContract.ts';

noticeMissingPrometheus('metricsLint');

let gw: TestGateway;
// A webhook receiver that takes /ok and refuses everything else with a 500.
let receiver: Server;
let hooks = '';

beforeAll(async () => {
  if (!PROMTOOL) return;
  receiver = createServer((req, res) => void req.resume().on('end', () => res.writeHead(req.url === '/ok' ? 200 : 500).end()));
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  gw = await startTestGateway({
    simulatorKnobs: { openai: { error_rate: 0.3, error_statuses: [500, 400] } },
    env: { GATEWAY_CALLBACK_ALLOWLIST: '127.0.0.1', GATEWAY_WEBHOOK_SECRETS: `demo:whsec_${randomBytes(24).toString('base64')}`, GATEWAY_WEBHOOK_RETRY_DELAYS_MS: '50' },
  });
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  receiver?.close();
});

/** The value of one exact series line in a text exposition, or 0 when absent. */
const valueOf = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"()]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

/** promtool's complaints about an exposition, '' when none. */
function lint(text: string): string {
  try {
    return execFileSync(PROMTOOL!, ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || String(error);
  }
}

describe.skipIf(!PROMTOOL)('promtool check metrics', () => {
  test('the API and a worker serve metrics promtool accepts', { timeout: 60_000 }, async () => {
    // The same input twice: the second is served by the cache.
    const ids = await Promise.all([0, 1, 2, 3, 0, 0].map((i) => gw.client.submit(careerSubmission(i))));
    // One webhook delivered, one refused twice: dead-lettered after its one retry.
    ids.push(await gw.client.submit({ ...careerSubmission(4), callback_url: `${hooks}/ok` }), await gw.client.submit({ ...careerSubmission(5), callback_url: `${hooks}/fail` }));
    await gw.client.waitForAll(ids, { timeoutMs: 45_000 });
    const [workerUrl] = workerMetricsUrls(gw.system.processes);
    await eventually(async () => valueOf(await (await fetch(workerUrl!)).text(), 'gateway_webhook_dead_letters_total') === 1, 20_000, 'the dead letter counted');
    const api = await (await fetch(`${gw.system.apiUrl}/metrics`)).text();
    const worker = await (await fetch(workerUrl!)).text();
    expect(api).toContain('gateway_http_request_duration_seconds_bucket');
    expect(api).toContain('gateway_budget_exhausted');
    expect(worker).toContain('gateway_jobs_finished_total{');
    expect(worker).toContain('gateway_provider_requests_total{');
    expect(valueOf(worker, 'gateway_webhook_deliveries_total{outcome="delivered"}')).toBe(1);
    expect(valueOf(worker, 'gateway_webhook_deliveries_total{outcome="failed_attempt"}')).toBe(1);
    expect(valueOf(worker, 'gateway_webhook_deliveries_total{outcome="dead_letter"}')).toBe(1);
    // Every run of a job looked in the cache (a hit, a miss, or an identical request's answer); a job retried looks again.
    const lookups = ['{result="hit",kind="response"}', '{result="miss",kind="response"}', '{result="hit",kind="shared_flight"}'].map((l) => valueOf(worker, `gateway_cache_lookups_total${l}`));
    expect(lookups.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(ids.length);
    expect(lint(api)).toBe('');
    expect(lint(worker)).toBe('');
    // Names, types and labels are those the alert rules and the dashboard are written against.
    expect(contractViolations(api, 'api')).toEqual([]);
    expect(contractViolations(worker, 'worker')).toEqual([]);
  });
});
