/** The API's shared gauges, read from the real Redis at scrape time. */
import type { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { redisKit } from '../helpers/redisKit.ts';
import { loadConfig } from '../../libs/config/load.ts';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import { SharedBreaker } from '../../libs/resilience/sharedBreaker.ts';
import { LLM_QUEUE } from '../../libs/queue/jobs.ts';
import { createApiMetrics, type ApiMetricsSources } from '../../libs/telemetry/metrics/api.ts';

const kit = redisKit('api-metrics');
const cfg = loadConfig('config');
let redis: Redis;
const queues: Queue[] = [];

beforeAll(() => {
  redis = kit.connect();
});

afterAll(async () => {
  await Promise.all(queues.map((q) => q.close()));
  await kit.cleanup();
});

function sources(overrides: Partial<ApiMetricsSources> = {}): ApiMetricsSources {
  const prefix = kit.freshPrefix();
  const queue = new Queue(LLM_QUEUE, { connection: redis, prefix });
  queues.push(queue);
  return { queue, budget: new BudgetStore(redis, prefix), breaker: new SharedBreaker(redis, prefix), config: () => cfg, ping: () => redis.ping(), ...overrides };
}

describe('the API metrics', () => {
  test('queue depth and the oldest waiting job, budget, breakers, alerts and Redis', async () => {
    const s = sources({ alertStates: async () => ({ budget_exhausted: true, p95_latency: false }) });
    const now = Date.now();
    await s.queue.add('llm', {}, { timestamp: now - 42_000 });
    await s.queue.add('llm', {}, { timestamp: now - 1000 });
    const text = await createApiMetrics({ ...s, now: () => now }).registry.metrics();
    expect(text).toContain('gateway_queue_jobs{state="waiting"} 2');
    expect(text).toContain('gateway_queue_jobs{state="active"} 0');
    expect(text).toContain('gateway_queue_oldest_waiting_seconds 42');
    expect(text).toContain(`gateway_budget_limit_usd ${cfg.rateLimits.budget.monthly_usd}`);
    expect(text).toContain('gateway_budget_spent_usd 0');
    expect(text).toContain('gateway_budget_exhausted 0');
    expect(text).toContain('gateway_breaker_state{provider="openai"} 0');
    expect(text).toContain('gateway_alert_state{alert="budget_exhausted"} 1');
    expect(text).toContain('gateway_alert_state{alert="p95_latency"} 0');
    expect(text).toContain('gateway_redis_up 1');
  });

  test('a budget too small for one job is exhausted before any spend', async () => {
    const tiny = { ...cfg, rateLimits: { ...cfg.rateLimits, budget: { ...cfg.rateLimits.budget, monthly_usd: 0.0001 } } };
    const text = await createApiMetrics(sources({ config: () => tiny })).registry.metrics();
    expect(text).toContain('gateway_budget_exhausted 1');
  });

  test('a Redis that does not answer: the scrape still answers within a second, saying so', async () => {
    const never = () => new Promise<never>(() => {});
    const stalled = sources({ ping: never });
    const queue = { getJobCounts: never, getJobs: never } as unknown as Queue;
    const started = performance.now();
    const text = await createApiMetrics({ ...stalled, queue, budget: { snapshot: never } as unknown as BudgetStore, alertStates: never }).registry.metrics();
    expect(performance.now() - started).toBeLessThan(1500);
    expect(text).toContain('gateway_redis_up 0');
    expect(text).not.toContain('gateway_alert_state{');
  });

  test('without an alert reader, gateway_alert_state has no series', async () => {
    const text = await createApiMetrics(sources()).registry.metrics();
    expect(text).toContain('# TYPE gateway_alert_state gauge');
    expect(text).not.toContain('gateway_alert_state{');
  });
});
