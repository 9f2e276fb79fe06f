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
  /** Answers when Redis does (a PING), for `gateway_redis_up`; the gauge is absent without it. */
  ping?: () => Promise<unknown>;
}

/** Milliseconds a gauge may spend reading Redis at scrape time; past it the gauge keeps its last values. @defaultValue 500 */
export const COLLECT_TIMEOUT_MS = 500;

/** `read`'s answer, or undefined when it fails or takes longer than COLLECT_TIMEOUT_MS: a scrape never waits on a stalled Redis. */
async function fresh<T>(read: () => Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), COLLECT_TIMEOUT_MS)));
  try {
    return await Promise.race([read().catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
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
      const all = await fresh(() => Promise.all(sources.queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'))));
      sources.queues.forEach((queue, i) => {
        for (const [state, n] of Object.entries(all?.[i] ?? {})) this.set({ queue: queue.name, state }, n);
      });
    },
  });
  new Gauge({
    name: 'gateway_budget_usd',
    help: 'Budget of the current window in US dollars: spent (charged_without_answer is the part of it charged for runs that died without a known answer), reserved, limit and (month) forecast.',
    labelNames: ['window', 'kind'] as const,
    registers: [registry],
    async collect() {
      const snap = await fresh(() => sources.budget.snapshot());
      if (!snap) return;
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
      const providers = Object.keys(sources.config().providers.providers);
      const states = await fresh(() => Promise.all(providers.map((p) => sources.breaker.state(p))));
      providers.forEach((provider, i) => {
        const state = states?.[i]?.state;
        if (state) this.set({ provider }, BREAKER_STATES[state]);
      });
    },
  });
  const { ping } = sources;
  if (ping) {
    new Gauge({
      name: 'gateway_redis_up',
      help: `1 when Redis answered a PING within ${COLLECT_TIMEOUT_MS} ms at this scrape, else 0 (the gauges read from Redis then keep their last values).`,
      registers: [registry],
      async collect() {
        this.set((await fresh(async () => (await ping(), true))) ? 1 : 0);
      },
    });
  }
  return { registry, requests };
}
