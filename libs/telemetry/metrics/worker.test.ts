import { describe, expect, test } from 'vitest';
import type { JobRecord } from '../../store/types.ts';
import type { ConfigReloadEvent } from '../../config/watch.ts';
import { countConfigReloads, createProcessRegistry, reportConfigVersion } from './registry.ts';
import { createWorkerMetrics } from './worker.ts';
import { startMetricsServer } from './server.ts';

const record = {
  feature: 'f',
  status: 'completed',
  experiment: { id: 'e', variant: 'v1' },
  provider: 'openai',
  model: 'm',
  usage: { input_tokens: 10, output_tokens: 20 },
  cost_usd: 0.000123,
  served_by: 'provider',
  cache: 'miss',
  latency_ms: { queue: 100, provider: 700, total: 900 },
} as unknown as JobRecord;

describe('worker metrics', () => {
  test('what the pipeline, breakers, webhooks and reloads report shows in the text format', async () => {
    const registry = createProcessRegistry('gateway_worker_');
    const metrics = createWorkerMetrics(registry);
    let observer: ((e: ConfigReloadEvent) => void) | undefined;
    countConfigReloads(registry, { onReload: (o) => (observer = o) });
    let running = { number: 3, hash: 'abc' };
    reportConfigVersion(registry, { version: () => running });
    expect(await registry.metrics()).toContain('gateway_config_version_info{version="3",hash="abc"} 1');
    running = { number: 4, hash: 'def' };
    metrics.jobFinished(record);
    metrics.providerCall({ provider: 'openai', model: 'm', outcome: 'error', code: 'provider_timeout', seconds: 2.5 });
    metrics.cacheLookup('miss', 'response');
    metrics.rateLimitWait('openai', 1500);
    metrics.breakerTransition('openai', 'closed', 'open');
    metrics.webhookAttempt('pending');
    metrics.webhookAttempt('dead_letter');
    observer!({ applied: false, error: new Error('bad') } as unknown as ConfigReloadEvent);
    const text = await registry.metrics();
    for (const line of [
      'gateway_jobs_finished_total{feature="f",status="completed",served_by="provider",provider="openai",model="m",variant="v1",lane="realtime"} 1',
      'gateway_job_duration_seconds_bucket{le="1",feature="f",phase="total"} 1',
      'gateway_job_duration_seconds_bucket{le="0.5",feature="f",phase="provider"} 0',
      'gateway_tokens_total{provider="openai",model="m",variant="v1",direction="output"} 20',
      'gateway_cost_usd_total{provider="openai",model="m",variant="v1",lane="realtime"} 0.000123',
      'gateway_provider_requests_total{provider="openai",model="m",outcome="error",code="provider_timeout"} 1',
      'gateway_provider_request_duration_seconds_count{provider="openai",model="m",outcome="error"} 1',
      'gateway_cache_lookups_total{result="miss",kind="response"} 1',
      'gateway_rate_limit_wait_seconds_total{provider="openai"} 1.5',
      'gateway_breaker_transitions_total{provider="openai",from="closed",to="open"} 1',
      'gateway_webhook_deliveries_total{outcome="failed_attempt"} 1',
      'gateway_webhook_dead_letters_total 1',
      'gateway_config_reloads_total{result="refused"} 1',
      'gateway_config_reloads_total{result="applied"} 0',
      'gateway_config_version_info{version="4",hash="def"} 1',
    ]) {
      expect(text).toContain(line);
    }
    // Only the running version: the one before is gone.
    expect(text).not.toContain('version="3"');
    // Gauges named like counters are left out (promtool refuses them).
    expect(text).not.toContain('nodejs_active_handles_total');
  });

  test('the server answers /metrics, /healthz, /readyz and 404 on a port the OS chose', async () => {
    const registry = createProcessRegistry('gateway_worker_');
    createWorkerMetrics(registry);
    let ready = true;
    const server = await startMetricsServer({ registry, port: 0, host: '127.0.0.1', ready: async () => ready });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      expect(server.port).toBeGreaterThan(0);
      const metrics = await fetch(`${url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('gateway_webhook_dead_letters_total 0');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      ready = false;
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
      expect((await fetch(`${url}/nope`)).status).toBe(404);
      // A second server on the same port fails with a code that names the setting.
      await expect(startMetricsServer({ registry, port: server.port, host: '127.0.0.1', ready: async () => true })).rejects.toMatchObject({ code: 'metrics_port_unavailable' });
    } finally {
      await server.close();
    }
  });
});
