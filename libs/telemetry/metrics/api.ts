import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import type { BudgetStore } from '../../budget/budgetStore.ts';
import type { SharedBreaker } from '../../resilience/sharedBreaker.ts';
import type { GatewayConfig } from '../../config/types.ts';
import { COLLECT_TIMEOUT_MS, countConfigReloads, createProcessRegistry, fresh, reportConfigVersion, type ConfigVersionSource, type ReloadSource } from './registry.ts';
import { HTTP_SECONDS_BUCKETS } from './buckets.ts';
import { budgetFigures } from './budget.ts';

/** Where the API's shared gauges read from at scrape time. */
export interface ApiMetricsSources {
  /** The LLM job queue, whose depth and oldest waiting job are reported. */
  queue: Queue;
  budget: BudgetStore;
  breaker: SharedBreaker;
  config: () => GatewayConfig;
  /** Answers when Redis does (a PING), for `gateway_redis_up`; the gauge is absent without it. */
  ping?: () => Promise<unknown>;
  /** Config reloads to count in `gateway_config_reloads_total`; absent, that counter is not registered. */
  reloads?: ReloadSource;
  /** The running config's version for `gateway_config_version_info`; absent, that gauge is not registered. */
  configVersion?: ConfigVersionSource;
  /**
   * The built-in alerts' states (alert name to firing), for `gateway_alert_state`. @defaultValue
   * none: the gauge reports no series
   */
  alertStates?: () => Promise<Record<string, boolean>>;
  /** Epoch milliseconds, for the oldest waiting job's age. @defaultValue Date.now */
  now?: () => number;
}

/** The API's metrics: the registry /metrics serves, and the request histogram the app observes. */
export interface ApiMetrics {
  registry: Registry;
  /** Seconds per HTTP request by method, matched route pattern and status. */
  http: Histogram<'method' | 'route' | 'status'>;
}

const BREAKER_STATES = { closed: 0, half_open: 1, open: 2 } as const;
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized'] as const;

/**
 * The API's Prometheus registry. Shared state (queue, budget, breakers, alerts) is read from Redis
 * when scraped, so every API replica reports the same cluster-wide figures (aggregate them with
 * max, not sum); request timings are this process's own.
 */
export function createApiMetrics(sources: ApiMetricsSources): ApiMetrics {
  const registry = createProcessRegistry('gateway_api_');
  const registers = [registry];
  const now = sources.now ?? Date.now;
  const http = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'Seconds this API process took to answer HTTP requests, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [...HTTP_SECONDS_BUCKETS],
    registers,
  });
  const { queue } = sources;
  new Gauge({
    name: 'gateway_queue_jobs',
    help: 'LLM jobs in the queue by state (waiting, active, delayed, prioritized), cluster-wide.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const counts = await fresh(() => queue.getJobCounts(...QUEUE_STATES));
      if (counts) for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
  new Gauge({
    name: 'gateway_queue_oldest_waiting_seconds',
    help: 'Age in seconds of the oldest LLM job waiting for a worker (waiting or prioritized); 0 when none waits.',
    registers,
    async collect() {
      // BullMQ's wait list is oldest-last: asking in ascending order reads one job from each end.
      const oldest = await fresh(() => Promise.all([queue.getJobs(['waiting'], 0, 0, true), queue.getJobs(['prioritized'], 0, 0, true)]));
      if (!oldest) return;
      const stamps = oldest.flat().map((job) => job.timestamp).filter((t) => Number.isFinite(t));
      this.set(stamps.length ? Math.max(0, (now() - Math.min(...stamps)) / 1000) : 0);
    },
  });
  budgetGauges(registry, sources, now);
  new Gauge({
    name: 'gateway_breaker_state',
    help: 'Circuit breaker of each provider, shared by all workers: 0 closed, 1 half-open, 2 open.',
    labelNames: ['provider'] as const,
    registers,
    async collect() {
      const providers = Object.keys(sources.config().providers.providers);
      const states = await fresh(() => Promise.all(providers.map((p) => sources.breaker.state(p))));
      providers.forEach((provider, i) => {
        const state = states?.[i]?.state;
        if (state) this.set({ provider }, BREAKER_STATES[state]);
      });
    },
  });
  const { alertStates } = sources;
  new Gauge({
    name: 'gateway_alert_state',
    help: 'Built-in alerts: 1 firing, 0 not.',
    labelNames: ['alert'] as const,
    registers,
    async collect() {
      const states = alertStates && (await fresh(alertStates));
      if (!states) return;
      this.reset();
      for (const [alert, firing] of Object.entries(states)) this.set({ alert }, firing ? 1 : 0);
    },
  });
  const { ping } = sources;
  if (ping) {
    new Gauge({
      name: 'gateway_redis_up',
      help: `1 when Redis answered a PING within ${COLLECT_TIMEOUT_MS} ms at this scrape, else 0 (the gauges read from Redis then keep their last values).`,
      registers,
      async collect() {
        this.set((await fresh(async () => (await ping(), true))) ? 1 : 0);
      },
    });
  }
  if (sources.reloads) countConfigReloads(registry, sources.reloads);
  if (sources.configVersion) reportConfigVersion(registry, sources.configVersion);
  return { registry, http };
}

function budgetGauges(registry: Registry, sources: ApiMetricsSources, now: () => number): void {
  // One snapshot per scrape feeds all five gauges; the first gauge collected reads it.
  let pending: { at: number; figures: Promise<ReturnType<typeof budgetFigures> | undefined> } | undefined;
  const figures = () => {
    const at = now();
    if (!pending || at - pending.at > COLLECT_TIMEOUT_MS) {
      pending = { at, figures: fresh(() => sources.budget.snapshot()).then((snap) => snap && budgetFigures(snap, sources.config(), new Date(at))) };
    }
    return pending.figures;
  };
  const gauge = (name: string, help: string, pick: (f: ReturnType<typeof budgetFigures>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const f = await figures();
        if (f) this.set(pick(f));
      },
    });
  gauge('gateway_budget_spent_usd', 'US dollars spent in the current month (settled, plus holds charged for runs that died).', (f) => f.spentUsd);
  gauge('gateway_budget_reserved_usd', 'US dollars reserved by calls in flight this month.', (f) => f.reservedUsd);
  gauge('gateway_budget_limit_usd', 'The monthly budget in US dollars.', (f) => f.limitUsd);
  gauge('gateway_budget_forecast_usd', "Month-end spend in US dollars if this month's pace so far continues (linear).", (f) => f.forecastUsd);
  gauge('gateway_budget_exhausted', "1 when what is left of the month's or the day's budget cannot admit one more job's worst case, else 0.", (f) => (f.exhausted ? 1 : 0));
}
