/**
 * The pacing gate on the real Redis: it reads today's totals from the budget's windows at most
 * once a second, holds jobs back once today's allowance is spent, and counts the demand it held
 * back per day for the forecast.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { redisKit } from '../helpers/redisKit.ts';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import { PacingGate, readPacingTotals } from '../../libs/budget/pacingGate.ts';
import type { BudgetPacingSettings, BudgetSettings, GatewayConfig } from '../../libs/config/types.ts';
import { getBudget } from '../../apps/api/budgetHandler.ts';

const kit = redisKit('pacing');
let redis: Redis;
beforeAll(() => {
  redis = kit.connect();
});
afterAll(() => kit.cleanup());

// A month 2 months ahead, so the windows' expiry (35 days after their day) is never in the past.
const ahead = new Date();
const MONTH_START = Date.UTC(ahead.getUTCFullYear(), ahead.getUTCMonth() + 2, 1);
const DAY_MS = 86_400_000;
const DAY_10 = MONTH_START + 9 * DAY_MS;
const DAYS = new Date(Date.UTC(ahead.getUTCFullYear(), ahead.getUTCMonth() + 3, 0)).getUTCDate();
const LIMIT_USD = DAYS * 100; // $100 a day on the even curve
const JOB = 500_000; // $0.50

function settings(pacing?: BudgetPacingSettings): BudgetSettings {
  return { monthly_usd: LIMIT_USD, daily_usd: null, alert_thresholds: [0.8], on_exhausted: 'reject', reservation_ttl_ms: 600_000, ...(pacing ? { pacing } : {}) };
}
const DEFER: BudgetPacingSettings = { enabled: true, curve: 'even', action: 'defer' };

async function setup(pacing?: BudgetPacingSettings) {
  const prefix = kit.freshPrefix();
  let t = DAY_10 + 3_600_000;
  const clock = { now: () => t, set: (v: number) => (t = v) };
  const budget = new BudgetStore(redis, prefix, clock.now);
  const gate = new PacingGate(redis, prefix, { settings: () => settings(pacing), now: clock.now });
  const spend = async (id: string, micros: number) => {
    const held = await budget.reserve({ holdId: id, amountMicros: micros, limits: { monthlyMicros: LIMIT_USD * 1e6, dailyMicros: null }, ttlMs: 60_000 });
    expect(held.ok).toBe(true);
    await budget.settle(id, micros);
  };
  // Nine days at the even pace before today: today's allowance is $100.
  clock.set(DAY_10 - DAY_MS + 60_000);
  await spend('before', 900_000_000);
  clock.set(DAY_10 + 3_600_000);
  return { prefix, clock, budget, gate, spend };
}

describe('PacingGate', () => {
  test('off (absent or disabled): every job runs and Redis is not asked', async () => {
    for (const pacing of [undefined, { ...DEFER, enabled: false }]) {
      const { gate } = await setup(pacing);
      const multi = vi.spyOn(redis, 'multi');
      expect(await gate.decide({ id: 'a', worstCaseMicros: 10 ** 12 })).toEqual({ kind: 'none' });
      expect(multi).not.toHaveBeenCalled();
      multi.mockRestore();
    }
  });

  test("once today's allowance is spent, jobs are deferred to tomorrow and their demand is counted for today", async () => {
    const { prefix, clock, gate, spend } = await setup(DEFER);
    expect(await gate.allowanceMicros()).toBe(100_000_000);
    await spend('today', 99_600_000);
    clock.set(DAY_10 + 3_602_000);
    const decision = await gate.decide({ id: 'job-1', worstCaseMicros: JOB });
    expect(decision.kind).toBe('defer');
    if (decision.kind === 'defer') {
      expect(decision.untilMs).toBeGreaterThanOrEqual(DAY_10 + DAY_MS);
      expect(decision.untilMs).toBeLessThan(DAY_10 + DAY_MS + 15 * 60_000);
    }
    // A job that fits what is left still runs; one held back before is not counted again.
    expect(await gate.decide({ id: 'job-2', worstCaseMicros: 400_000 })).toEqual({ kind: 'none' });
    expect((await gate.decide({ id: 'job-3', worstCaseMicros: JOB, heldBefore: true })).kind).toBe('defer');
    const totals = await gate.flush();
    expect(totals).toMatchObject({ monthMicros: 999_600_000, todayMicros: 99_600_000, spentBeforeTodayMicros: 900_000_000, heldTodayMicros: JOB, heldTodayJobs: 1 });
    // Tomorrow, today's held-back demand counts in yesterday's.
    const tomorrow = await readPacingTotals(redis, prefix, DAY_10 + DAY_MS + 60_000);
    expect(tomorrow).toMatchObject({ heldTodayMicros: 0, yesterdayDemandMicros: 99_600_000 + JOB });
    expect(await redis.pttl(`${prefix}:budget:paced:${new Date(DAY_10).toISOString().slice(0, 10)}`)).toBeGreaterThan(30 * DAY_MS);
  });

  test('batch moves eligible jobs and defers the others; downgrade runs what fits on the cheapest model', async () => {
    const batch = await setup({ ...DEFER, action: 'batch' });
    await batch.spend('today', 100_000_000);
    expect(await batch.gate.decide({ id: 'b1', worstCaseMicros: JOB, batchEligible: true })).toEqual({ kind: 'batch' });
    expect((await batch.gate.decide({ id: 'b2', worstCaseMicros: JOB })).kind).toBe('defer');
    expect(await batch.gate.flush()).toMatchObject({ heldTodayMicros: 2 * JOB, heldTodayJobs: 2 });

    const down = await setup({ ...DEFER, action: 'downgrade' });
    await down.spend('today', 99_800_000);
    expect(await down.gate.decide({ id: 'd1', worstCaseMicros: JOB, cheapestWorstCaseMicros: 100_000 })).toEqual({ kind: 'downgrade', maxMicros: 200_000 });
    // The first downgrade's cheapest worst case is counted as admitted: 100,000 left, the next one fits exactly, the third does not.
    expect((await down.gate.decide({ id: 'd2', worstCaseMicros: JOB, cheapestWorstCaseMicros: 100_000 })).kind).toBe('downgrade');
    expect((await down.gate.decide({ id: 'd3', worstCaseMicros: JOB, cheapestWorstCaseMicros: 100_000 })).kind).toBe('defer');
    // Held back: what the downgrades saved (2 x 400,000) and the deferred job's worst case.
    expect(await down.gate.flush()).toMatchObject({ heldTodayMicros: 2 * 400_000 + JOB, heldTodayJobs: 3 });
  });

  test('reads Redis at most once per second however many jobs ask, and counts what it let through meanwhile', async () => {
    const { clock, gate } = await setup(DEFER);
    const multi = vi.spyOn(redis, 'multi');
    try {
      // $100 today, nothing spent today: 200 jobs of $0.50 fit, decided from one read.
      const decisions = await Promise.all(Array.from({ length: 1000 }, (_, i) => gate.decide({ id: `j${i}`, worstCaseMicros: JOB })));
      expect(multi).toHaveBeenCalledTimes(1);
      expect(decisions.filter((d) => d.kind === 'none')).toHaveLength(200);
      clock.set(clock.now() + 999);
      await gate.decide({ id: 'late', worstCaseMicros: JOB });
      expect(multi).toHaveBeenCalledTimes(1);
      // A second later it reads again (writing the 801 deferrals), and nothing was spent: 200 more run.
      clock.set(clock.now() + 1);
      expect(await gate.decide({ id: 'next', worstCaseMicros: JOB })).toEqual({ kind: 'none' });
      expect(multi).toHaveBeenCalledTimes(2);
    } finally {
      multi.mockRestore();
    }
    expect(await gate.flush()).toMatchObject({ heldTodayMicros: 801 * JOB, heldTodayJobs: 801 });
  });
});

describe('GET /v1/budget', () => {
  test("shows today's allowance, what pacing held back and the forecast at the last 24 hours' demand", async () => {
    // The real clock: the handler reads the current windows.
    const prefix = kit.freshPrefix();
    const budget = new BudgetStore(redis, prefix);
    const gate = new PacingGate(redis, prefix, { settings: () => settings(DEFER) });
    const allowance = await gate.allowanceMicros();
    const held = await budget.reserve({ holdId: 'today', amountMicros: allowance, limits: { monthlyMicros: LIMIT_USD * 1e6, dailyMicros: null }, ttlMs: 60_000 });
    expect(held.ok).toBe(true);
    await budget.settle('today', allowance);
    await gate.flush();
    expect((await gate.decide({ id: 'over', worstCaseMicros: 1_000_000 })).kind).toBe('defer');
    await gate.flush();
    const config = { rateLimits: { budget: settings(DEFER) } } as unknown as GatewayConfig;
    const month = (await getBudget(budget, () => config)).body as { month: Record<string, unknown> };
    expect(month.month).toMatchObject({
      spent_usd: allowance / 1e6,
      today_allowance_usd: allowance / 1e6,
      pacing: { enabled: true, curve: 'even', action: 'defer', engaged_today: true, held_today_usd: 1, held_today_jobs: 1 },
    });
    // Demand of the last 24 hours is today's spend plus the held-back dollar; the month ends above its spend.
    expect(month.month['demand_24h_usd']).toBeCloseTo(allowance / 1e6 + 1, 5);
    expect(month.month['demand_forecast_usd']).toBeGreaterThanOrEqual(allowance / 1e6 + 1);
    expect(month.month).toHaveProperty('forecast_exhausts_on');
    expect(month.month).toHaveProperty('exhausts_on');
  });
});
