/**
 * GET /admin/api/summary: everything the operator dashboard shows, in one JSON document read from
 * the gateway's own sources (the budget as GET /v1/budget shows it, the store's recent finished
 * jobs, the shared breakers, the BullMQ queues, the built-in alerts' states). Read-only.
 */
import type { ReportRunner } from '../../../libs/experiments/reportRequest.ts';
import type { Queue } from 'bullmq';
import type { BudgetStore } from '../../../libs/budget/budgetStore.ts';
import type { GatewayConfig } from '../../../libs/config/types.ts';
import type { BreakerState, SharedBreaker } from '../../../libs/resilience/sharedBreaker.ts';
import type { JobStore } from '../../../libs/store/types.ts';
import { windowFigures, type Percentiles, type VariantLine, type WindowFigures } from '../../../libs/dashboard/aggregate.ts';
import { getBudget } from '../budgetHandler.ts';

/** Where the summary reads from. */
export interface DashboardSources {
  /** The finished jobs of the window, and each client's A/B report rows. */
  store: Pick<JobStore, 'finishedRows' | 'experimentRows'>;
  /** Builds the A/B reports the dashboard links to; @defaultValue built in process from `store` */
  reports?: ReportRunner;
  budget: BudgetStore;
  config: () => GatewayConfig;
  breaker: Pick<SharedBreaker, 'state'>;
  /** The LLM job queue: depth by state and the oldest waiting job. */
  queue: Queue;
  /** The webhook queue: backlog (waiting, delayed, active) and dead letters (failed). Absent: reported as null. */
  webhooks?: Queue;
  /** Whether each built-in alert fires, by alert id (readAlertStates). */
  alertStates: () => Promise<Record<string, boolean>>;
  /** Minutes of finished jobs the spend, latency and error figures cover. @defaultValue 60 */
  windowMinutes?: number;
  /** Most finished jobs read per summary (newest first); when that many are read the window is marked truncated (older ones may be left out). @defaultValue 5000 */
  maxRows?: number;
  /**
   * Milliseconds one summary is served to every caller: reading the window parses each job's
   * record, so open dashboards share one read instead of each paying for it. @defaultValue 2000
   */
  reuseMs?: number;
  /** Epoch milliseconds. @defaultValue Date.now */
  now?: () => number;
}

/** One experiment of the running config with its variants' figures over the window. */
export interface ExperimentSummary {
  id: string;
  feature: string;
  status: string;
  /** The A/B report as a client reads it (with that client's API key). */
  report_path: string;
  /** The same report of each client with jobs of the experiment in the window, under the operator credentials. */
  reports: Array<{ client_id: string; path: string }>;
  variants: Array<Omit<VariantLine, 'experiment' | 'clients'> & { provider: string; model: string; weight: number }>;
}

/** The summary document. */
export interface DashboardSummary {
  generated_at: string;
  window: { from: string; to: string; minutes: number; jobs: number; truncated: boolean };
  /** The body GET /v1/budget answers. */
  budget: unknown;
  spend: WindowFigures['spend'];
  latency_ms: WindowFigures['latency_ms'];
  errors: WindowFigures['errors'];
  breakers: Array<{ provider: string; state: BreakerState; open_until: string | null; consecutive_failures: number }>;
  queue: { waiting: number; active: number; delayed: number; prioritized: number; oldest_wait_seconds: number };
  webhooks: { backlog: number; dead_letters: number } | null;
  alerts: Array<{ id: string; firing: boolean }>;
  experiments: ExperimentSummary[];
}

const NO_LATENCY: Percentiles = { p50: null, p95: null, p99: null };

/** Builds the summary; every source is read once, concurrently. */
export async function buildSummary(sources: DashboardSources): Promise<DashboardSummary> {
  const now = sources.now?.() ?? Date.now();
  const cfg = sources.config();
  const minutes = sources.windowMinutes ?? 60;
  const maxRows = sources.maxRows ?? 5000;
  const from = new Date(now - minutes * 60_000).toISOString();
  // The upper bound lies a little ahead so a job completed this millisecond by a worker whose clock runs ahead is still counted.
  const to = new Date(now + 60_000).toISOString();
  const providers = Object.keys(cfg.providers.providers).sort();
  const [budget, rows, breakers, counts, oldest, webhooks, alerts] = await Promise.all([
    getBudget(sources.budget, () => cfg),
    sources.store.finishedRows(from, to, maxRows),
    Promise.all(providers.map((p) => sources.breaker.state(p))),
    sources.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
    oldestWaitingSeconds(sources.queue, now),
    sources.webhooks ? sources.webhooks.getJobCounts('waiting', 'delayed', 'active', 'failed') : undefined,
    sources.alertStates(),
  ]);
  const figures = windowFigures(rows);
  return {
    generated_at: new Date(now).toISOString(),
    window: { from, to: new Date(now).toISOString(), minutes, jobs: figures.jobs, truncated: rows.length >= maxRows },
    budget: budget.body,
    spend: figures.spend,
    latency_ms: figures.latency_ms,
    errors: figures.errors,
    breakers: breakers.map((b, i) => ({
      provider: providers[i]!,
      state: b.state,
      open_until: b.openUntil === undefined ? null : new Date(b.openUntil).toISOString(),
      consecutive_failures: b.consecutiveFailures,
    })),
    queue: {
      waiting: counts.waiting ?? 0,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      prioritized: counts.prioritized ?? 0,
      oldest_wait_seconds: oldest,
    },
    webhooks: webhooks ? { backlog: (webhooks.waiting ?? 0) + (webhooks.delayed ?? 0) + (webhooks.active ?? 0), dead_letters: webhooks.failed ?? 0 } : null,
    alerts: Object.entries(alerts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, firing]) => ({ id, firing })),
    experiments: experimentSummaries(cfg, figures.spend.by_variant),
  };
}

/**
 * buildSummary shared by concurrent and close callers: a summary younger than `sources.reuseMs`
 * (or still being built) is answered again; a failed build is not kept.
 */
export function sharedSummary(sources: DashboardSources): () => Promise<DashboardSummary> {
  const reuseMs = sources.reuseMs ?? 2000;
  const clock = sources.now ?? Date.now;
  let last: { at: number; summary: Promise<DashboardSummary> } | undefined;
  return () => {
    const at = clock();
    if (last && at - last.at < reuseMs) return last.summary;
    const current = { at, summary: buildSummary(sources) };
    last = current;
    current.summary.catch(() => {
      if (last === current) last = undefined;
    });
    return current.summary;
  };
}

/** The configured experiments with the window's figures of each variant (zeros for a variant without jobs). */
export function experimentSummaries(cfg: GatewayConfig, lines: readonly VariantLine[]): ExperimentSummary[] {
  return Object.entries(cfg.abTests.experiments)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, experiment]) => ({
      id,
      feature: experiment.feature,
      status: experiment.status,
      report_path: `/v1/experiments/${encodeURIComponent(id)}/report`,
      reports: [...new Set(lines.filter((l) => l.experiment === id).flatMap((l) => l.clients))]
        .sort()
        .map((client) => ({ client_id: client, path: `/admin/api/experiments/${encodeURIComponent(id)}/report?client_id=${encodeURIComponent(client)}` })),
      variants: experiment.variants.map((v) => {
        const line = lines.find((l) => l.experiment === id && l.variant === v.name);
        return {
          variant: v.name,
          provider: v.provider,
          model: v.model,
          weight: v.weight,
          usd: line?.usd ?? 0,
          jobs: line?.jobs ?? 0,
          failed: line?.failed ?? 0,
          latency_ms: line?.latency_ms ?? NO_LATENCY,
        };
      }),
    }));
}

/** Seconds the oldest job waiting for a worker (waiting or prioritized) has waited; 0 when none waits. */
async function oldestWaitingSeconds(queue: Queue, now: number): Promise<number> {
  // BullMQ's wait list is oldest-last: asking in ascending order reads one job from each end.
  const oldest = await Promise.all([queue.getJobs(['waiting'], 0, 0, true), queue.getJobs(['prioritized'], 0, 0, true)]);
  const stamps = oldest.flat().map((job) => job.timestamp).filter((t) => Number.isFinite(t));
  return stamps.length ? Math.max(0, Math.round((now - Math.min(...stamps)) / 1000)) : 0;
}
