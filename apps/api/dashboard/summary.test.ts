import { describe, expect, it } from 'vitest';
import type { Queue } from 'bullmq';
import type { BudgetStore } from '../../../libs/budget/budgetStore.ts';
import { loadConfig } from '../../../libs/config/load.ts';
import type { FinishedRow } from '../../../libs/store/types.ts';
import { buildSummary, sharedSummary } from './summary.ts';

const NOW = Date.parse('2026-12-16T12:00:00.000Z');
const cfg = loadConfig('config');

const row = (overrides: Partial<FinishedRow>): FinishedRow => ({
  client_id: 'c1',
  status: 'completed',
  provider: 'openai',
  experiment_id: 'career_model_ab',
  variant: 'gpt4',
  served_by: 'provider',
  cost_usd: 0.02,
  provider_latency_ms: 900,
  total_latency_ms: 950,
  error_code: null,
  completed_at: '2026-12-16T11:50:00.000Z',
  ...overrides,
});

const fakeQueue = (counts: Record<string, number>, oldestTimestamp?: number) =>
  ({
    getJobCounts: async (...states: string[]) => Object.fromEntries(states.map((s) => [s, counts[s] ?? 0])),
    getJobs: async (states: string[]) => (states[0] === 'waiting' && oldestTimestamp !== undefined ? [{ timestamp: oldestTimestamp }] : []),
  }) as unknown as Queue;

const window = { spent: 1_500_000, reserved: 250_000, charged: 0, endsAt: Date.parse('2027-01-01T00:00:00.000Z') };
const budget = {
  snapshot: async () => ({ month: { ...window, period: '2026-12', forecastMicros: 3_000_000 }, day: { ...window, period: '2026-12-16', endsAt: Date.parse('2026-12-17T00:00:00.000Z') }, holds: 2 }),
  pacingTotals: async () => ({ day: '2026-12-16', monthMicros: 1_750_000, todayMicros: 1_750_000, spentBeforeTodayMicros: 0, heldTodayMicros: 0, heldTodayJobs: 0, yesterdayDemandMicros: 0 }),
} as unknown as BudgetStore;

describe('buildSummary', () => {
  it('reads every source once and puts the window, budget, queues, breakers, alerts and experiments together', async () => {
    const asked: unknown[] = [];
    const summary = await buildSummary({
      store: { experimentRows: async () => [], finishedRows: async (...args) => (asked.push(args), [row({}), row({ provider: 'anthropic', variant: 'claude', status: 'failed', cost_usd: null, error_code: 'provider_unavailable' })]) },
      budget,
      config: () => cfg,
      breaker: { state: async (p) => (p === 'openai' ? { state: 'open', openUntil: NOW + 30_000, consecutiveFailures: 5 } : { state: 'closed', consecutiveFailures: 0 }) },
      queue: fakeQueue({ waiting: 3, active: 1, delayed: 2 }, NOW - 42_000),
      webhooks: fakeQueue({ waiting: 1, delayed: 4, failed: 2 }),
      alertStates: async () => ({ spend_burn: false, error_rate: true }),
      windowMinutes: 30,
      maxRows: 2,
      now: () => NOW,
    });
    expect(asked).toEqual([['2026-12-16T11:30:00.000Z', '2026-12-16T12:01:00.000Z', 2]]);
    expect(summary.window).toEqual({ from: '2026-12-16T11:30:00.000Z', to: '2026-12-16T12:00:00.000Z', minutes: 30, jobs: 2, truncated: true });
    expect(summary.budget).toMatchObject({ month: { period: '2026-12', spent_usd: 1.5, reserved_usd: 0.25, forecast_usd: 3 }, open_reservations: 2 });
    expect(summary.queue).toEqual({ waiting: 3, active: 1, delayed: 2, prioritized: 0, oldest_wait_seconds: 42 });
    expect(summary.webhooks).toEqual({ backlog: 5, dead_letters: 2 });
    expect(summary.breakers).toEqual([
      { provider: 'anthropic', state: 'closed', open_until: null, consecutive_failures: 0 },
      { provider: 'openai', state: 'open', open_until: '2026-12-16T12:00:30.000Z', consecutive_failures: 5 },
    ]);
    expect(summary.alerts).toEqual([
      { id: 'error_rate', firing: true },
      { id: 'spend_burn', firing: false },
    ]);
    expect(summary.errors).toMatchObject({ failed: 1, outcomes: 2, rate: 0.5 });
    const [experiment] = summary.experiments;
    expect(experiment).toMatchObject({
      id: 'career_model_ab',
      report_path: '/v1/experiments/career_model_ab/report',
      reports: [{ client_id: 'c1', path: '/admin/api/experiments/career_model_ab/report?client_id=c1' }],
    });
    expect(experiment!.variants.map((v) => [v.variant, v.jobs, v.failed, v.usd])).toEqual([
      ['gpt4', 1, 0, 0.02],
      ['claude', 1, 1, 0],
    ]);
  });

  it('answers zeros for an idle gateway, and null webhooks without a webhook queue', async () => {
    const summary = await buildSummary({
      store: { finishedRows: async () => [], experimentRows: async () => [] },
      budget,
      config: () => cfg,
      breaker: { state: async () => ({ state: 'closed', consecutiveFailures: 0 }) },
      queue: fakeQueue({}),
      alertStates: async () => ({}),
      now: () => NOW,
    });
    expect(summary.window).toMatchObject({ minutes: 60, jobs: 0, truncated: false });
    expect(summary.queue.oldest_wait_seconds).toBe(0);
    expect(summary.webhooks).toBeNull();
    expect(summary.experiments[0]!.variants.every((v) => v.jobs === 0 && v.latency_ms.p50 === null)).toBe(true);
  });
});

describe('sharedSummary', () => {
  it('builds once for callers within reuseMs, again after it, and forgets a failed build', async () => {
    let now = NOW;
    let reads = 0;
    let fail = false;
    const summary = sharedSummary({
      store: {
        experimentRows: async () => [],
        finishedRows: async () => {
          reads += 1;
          if (fail) throw new Error('store down');
          return [];
        },
      },
      budget,
      config: () => cfg,
      breaker: { state: async () => ({ state: 'closed', consecutiveFailures: 0 }) },
      queue: fakeQueue({}),
      alertStates: async () => ({}),
      reuseMs: 1000,
      now: () => now,
    });
    await Promise.all([summary(), summary()]);
    now += 999;
    await summary();
    expect(reads).toBe(1);
    now += 1;
    fail = true;
    await expect(summary()).rejects.toThrow('store down');
    fail = false;
    await summary();
    expect(reads).toBe(3);
  });
});
