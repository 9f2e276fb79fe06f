/**
 * `promtool check metrics` on what the API and a worker really serve, after jobs of every kind
 * (provider-served, cache-served, failed) have filled their labelled series.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROMTOOL, noticeMissingPrometheus } from '../helpers/prometheus.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { workerMetricsUrls } from '../../libs/devkit/workerMetrics.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';

noticeMissingPrometheus('metricsLint');

let gw: TestGateway;

beforeAll(async () => {
  if (!PROMTOOL) return;
  gw = await startTestGateway({ simulatorKnobs: { openai: { error_rate: 0.3, error_statuses: [500, 400] } } });
}, 60_000);

afterAll(async () => {
  await gw?.stop();
});

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
    await gw.client.waitForAll(ids, { timeoutMs: 45_000 });
    const [workerUrl] = workerMetricsUrls(gw.system.processes);
    const api = await (await fetch(`${gw.system.apiUrl}/metrics`)).text();
    const worker = await (await fetch(workerUrl!)).text();
    expect(api).toContain('gateway_http_request_duration_seconds_bucket');
    expect(api).toContain('gateway_budget_exhausted');
    expect(worker).toContain('gateway_jobs_finished_total{');
    expect(worker).toContain('gateway_provider_requests_total{');
    expect(lint(api)).toBe('');
    expect(lint(worker)).toBe('');
  });
});
