/**
 * The done-when of budget pacing, a month simulated on the real Redis with an injected clock (the
 * budget's windows are keyed by the caller's clock, so nothing waits): every job passes the pacing
 * gate, runs as a reservation settled at its worst case, or is deferred and comes back after the
 * next midnight.
 *  1. Flat demand at 1.5x the even pace: month-to-date spend stays within 5% of the even line every
 *     day, never passes the cap, and pacing engages every day.
 *  2. Demand at 0.9x the pace that doubles on day 15: the budget_forecast alert turns active on day
 *     15, not before.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { redisKit } from '../helpers/redisKit.ts';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import { PacingGate, type PacingTotals } from '../../libs/budget/pacingGate.ts';
import { evaluateConditions, type AlertCondition } from '../../libs/alerts/conditions.ts';
import type { AlertsFile, BudgetSettings } from '../../libs/config/types.ts';

const kit = redisKit('pacing-month');
let redis: Redis;
beforeAll(() => {
  redis = kit.connect();
});
afterAll(() => kit.cleanup());

const RULES = JSON.parse(readFileSync(new URL('../../config/alerts.json', import.meta.url), 'utf8')) as AlertsFile;
/** The shipped alert rules with every rule but budget_forecast turned off. */
const FORECAST_ONLY = Object.fromEntries(
  Object.entries(RULES).map(([k, v]) => [k, typeof v === 'object' && v !== null && 'enabled' in v ? { ...v, enabled: k === 'budget_forecast' } : v]),
) as unknown as AlertsFile;
const DAY_MS = 86_400_000;
// The month after next, so that no window's expiry (35 days after its day) lies in the past.
const today = new Date();
const MONTH_START = Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 2, 1);
const DAYS = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 3, 0)).getUTCDate();
const PACE = 100_000_000; // $100 a day on the even line
const LIMIT = DAYS * PACE;
const JOB = 500_000; // each job's worst case (and its cost): $0.50
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);

interface Job {
  id: string;
  at: number;
  heldBefore: boolean;
}

interface DayResult {
  day: number;
  monthSpent: number;
  deferred: number;
  totals: PacingTotals;
  alerts: Array<{ at: number; condition: AlertCondition }>;
}

/**
 * Runs the month: `jobsOn(day)` jobs arrive spread evenly over day `day` (1-based); the forecast
 * alert is evaluated every hour from the gate's Redis totals.
 */
async function simulate(jobsOn: (day: number) => number): Promise<DayResult[]> {
  const prefix = kit.freshPrefix();
  let t = MONTH_START;
  const now = () => t;
  const settings: BudgetSettings = {
    monthly_usd: LIMIT / 1e6,
    daily_usd: null,
    alert_thresholds: [0.8],
    on_exhausted: 'reject',
    reservation_ttl_ms: 600_000,
    pacing: { enabled: true, curve: 'even', action: 'defer' },
  };
  const budget = new BudgetStore(redis, prefix, now);
  const gate = new PacingGate(redis, prefix, { settings: () => settings, now });
  const limits = { monthlyMicros: LIMIT, dailyMicros: null };
  const results: DayResult[] = [];
  let carried: Job[] = [];
  for (let day = 1; day <= DAYS; day++) {
    const start = MONTH_START + (day - 1) * DAY_MS;
    const n = jobsOn(day);
    const arrivals: Job[] = Array.from({ length: n }, (_, i) => ({ id: `d${day}-${i}`, at: start + Math.floor(((i + 0.5) * DAY_MS) / n), heldBefore: false }));
    const evaluations = Array.from({ length: 24 }, (_, h) => start + (h + 1) * 3_600_000 - 1);
    const jobs = [...carried, ...arrivals].sort((a, b) => a.at - b.at);
    carried = [];
    const alerts: DayResult['alerts'] = [];
    let deferred = 0;
    let next = 0;
    for (const evalAt of evaluations) {
      for (; next < jobs.length && jobs[next]!.at <= evalAt; next++) {
        const job = jobs[next]!;
        t = job.at;
        const decision = await gate.decide({ id: job.id, worstCaseMicros: JOB, heldBefore: job.heldBefore });
        if (decision.kind === 'defer') {
          expect(decision.untilMs).toBeGreaterThanOrEqual(start + DAY_MS);
          deferred++;
          carried.push({ id: job.id, at: decision.untilMs, heldBefore: true });
          continue;
        }
        expect(decision.kind).toBe('none');
        const held = await budget.reserve({ holdId: job.id, amountMicros: JOB, limits, ttlMs: 600_000 });
        expect(held.ok, `the hard cap refused ${job.id}`).toBe(true);
        await budget.settle(job.id, JOB);
      }
      t = evalAt;
      const totals = await gate.flush();
      const [condition] = evaluateConditions(FORECAST_ONLY, {
        now: t,
        budget: { month: { period: dayOf(t).slice(0, 7), spent: totals.monthMicros, limit: LIMIT }, day: { period: dayOf(t), spent: totals.todayMicros, limit: null }, minJobMicros: JOB },
        demand: { monthMicros: totals.monthMicros, todayDemandMicros: totals.todayMicros + totals.heldTodayMicros, yesterdayDemandMicros: totals.yesterdayDemandMicros },
        breakers: {},
        oldestWaitingMs: 0,
        buckets: [],
        bucketSeconds: 10,
        rateLimitedProviders: [],
      });
      expect(condition?.id).toBe('budget_forecast');
      alerts.push({ at: t, condition: condition! });
    }
    const totals = await gate.flush();
    results.push({ day, monthSpent: (await budget.snapshot()).month.spent, deferred, totals, alerts });
  }
  return results;
}

test('flat demand at 1.5x the pace: spend tracks the even line within 5% every day, never passes the cap, and pacing engages every day', async () => {
  const days = await simulate(() => Math.round((1.5 * PACE) / JOB));
  const story = days.map((d) => `day ${d.day}: spent ${(d.monthSpent / 1e6).toFixed(2)} of line ${((LIMIT * d.day) / DAYS / 1e6).toFixed(2)}, deferred ${d.deferred}`).join('\n');
  for (const d of days) {
    const line = (LIMIT * d.day) / DAYS;
    expect(Math.abs(d.monthSpent - line) / line, story).toBeLessThanOrEqual(0.05);
    expect(d.monthSpent, story).toBeLessThanOrEqual(LIMIT);
    // The allowance ran out every day (demand is above it): the action engaged, and the gate counted it.
    expect(d.deferred, story).toBeGreaterThan(0);
    expect(d.totals.heldTodayJobs, story).toBeGreaterThan(0);
  }
  // The month ends within one job of its whole budget.
  expect(LIMIT - days.at(-1)!.monthSpent).toBeLessThan(2 * JOB);
}, 120_000);

test('demand at 0.9x the pace doubling on day 15: the forecast alert turns active on day 15 itself, not before', async () => {
  const days = await simulate((day) => Math.round(((day < 15 ? 0.9 : 1.8) * PACE) / JOB));
  const evaluations = days.flatMap((d) => d.alerts);
  const first = evaluations.find((e) => e.condition.active);
  const story = evaluations.filter((_, i) => i % 6 === 5).map((e) => `${new Date(e.at).toISOString()} ${String(e.condition.active)} ${e.condition.summary}`).join('\n');
  expect(first, story).toBeDefined();
  expect(dayOf(first!.at), story).toBe(dayOf(MONTH_START + 14 * DAY_MS));
  expect(first!.condition.summary).toMatch(/^on pace to run out on the \d+(st|nd|rd|th): /);
  // Before day 15 no pacing either: the budget was not running short.
  expect(days.slice(0, 14).every((d) => d.deferred === 0)).toBe(true);
  // From day 15 to the month's end, the alert holds once the day's demand is in the 24 hours.
  expect(days.slice(15).every((d) => d.alerts.every((e) => e.condition.active === true)), story).toBe(true);
}, 120_000);
