import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queue } from 'bullmq';
import type { BudgetStore } from '../budget/budgetStore.ts';
import type { SharedBreaker } from '../resilience/sharedBreaker.ts';
import type { GatewayConfig } from '../config/types.ts';
import { microsToUsd } from '../budget/cost.ts';

/** Where the shared gauges read from at scrape time. */
export interface MetricsSources {
  queues: Queue[];
  budget: BudgetStore;
  breaker: SharedBreaker;
  config: () => GatewayConfig;
}

const BREAKER_STATES = { closed: 0, half_open: 1, open: 2 } as const;

/**
 * The API's Prometheus registry. Shared state (queue depths, budget, breakers) is read from Redis
 * when scraped, so any API replica reports the same global figures; request counts are this
 * process's own.
 */
export function createApiMetrics(sources: MetricsSources): { registry: Registry; requests: Counter<'method' | 'route' | 'status'> } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gateway_api_' });
  const requests = new Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests answered by this API process, by route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'gateway_queue_jobs',
    help: 'Jobs in each BullMQ queue by state.',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      for (const queue of sources.queues) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
        for (const [state, n] of Object.entries(counts)) this.set({ queue: queue.name, state }, n);
      }
    },
  });
  new Gauge({
    name: 'gateway_budget_usd',
    help: 'Budget of the current window in US dollars: spent (charged_without_answer is the part of it charged for runs that died without a known answer), reserved, limit and (month) forecast.',
    labelNames: ['window', 'kind'] as const,
    registers: [registry],
    async collect() {
      const snap = await sources.budget.snapshot();
      const settings = sources.config().rateLimits.budget;
      this.set({ window: 'month', kind: 'spent' }, microsToUsd(snap.month.spent));
      this.set({ window: 'month', kind: 'reserved' }, microsToUsd(snap.month.reserved));
      this.set({ window: 'month', kind: 'charged_without_answer' }, microsToUsd(snap.month.charged));
      this.set({ window: 'month', kind: 'limit' }, settings.monthly_usd);
      this.set({ window: 'month', kind: 'forecast' }, microsToUsd(snap.month.forecastMicros));
      this.set({ window: 'day', kind: 'spent' }, microsToUsd(snap.day.spent));
      this.set({ window: 'day', kind: 'reserved' }, microsToUsd(snap.day.reserved));
      this.set({ window: 'day', kind: 'charged_without_answer' }, microsToUsd(snap.day.charged));
      if (settings.daily_usd !== null) this.set({ window: 'day', kind: 'limit' }, settings.daily_usd);
    },
  });
  new Gauge({
    name: 'gateway_breaker_state',
    help: 'Circuit breaker of each provider, shared by all workers: 0 closed, 1 half-open, 2 open.',
    labelNames: ['provider'] as const,
    registers: [registry],
    async collect() {
      for (const provider of Object.keys(sources.config().providers.providers)) {
        this.set({ provider }, BREAKER_STATES[(await sources.breaker.state(provider)).state]);
      }
    },
  });
  return { registry, requests };
}
