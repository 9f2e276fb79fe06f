import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { AlertsFile } from '../config/types.ts';
import { LATENCY_BUCKETS_S } from './histogram.ts';
import { evaluateConditions, sumWindow, type AlertInputs, type SignalBucket } from './conditions.ts';

const RULES = JSON.parse(readFileSync(new URL('../../config/alerts.json', import.meta.url), 'utf8')) as AlertsFile;
const NOW = 1_800_000_000_000;
const NOW_S = NOW / 1000;

const bucket = (ago: number, fields: Partial<SignalBucket>): SignalBucket => ({
  start: NOW_S - ago,
  jobs: 0,
  errors: 0,
  latency: new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0),
  deadLetters: 0,
  rateLimitWaits: {},
  ...fields,
});
const lat = (entries: Record<number, number>): number[] => Array.from({ length: LATENCY_BUCKETS_S.length + 1 }, (_, i) => entries[i] ?? 0);

const inputs = (over: Partial<AlertInputs> = {}): AlertInputs => ({
  now: NOW,
  budget: { month: { period: '2027-01', spent: 0, limit: 100_000_000 }, day: { period: '2027-01-15', spent: 0, limit: null }, minJobMicros: 1_000 },
  demand: { monthMicros: 0, todayDemandMicros: 0, yesterdayDemandMicros: 0 },
  breakers: { openai: 'closed', anthropic: 'closed' },
  oldestWaitingMs: 0,
  buckets: [],
  bucketSeconds: 10,
  rateLimitedProviders: ['openai'],
  ...over,
});
const byId = (list: ReturnType<typeof evaluateConditions>) => Object.fromEntries(list.map((c) => [c.id, c]));

describe('evaluateConditions', () => {
  test('a quiet system has every alert inactive, or undecided when too few jobs finished', () => {
    const all = evaluateConditions(RULES, inputs({ buckets: [bucket(5, { jobs: 30, latency: lat({ 2: 30 }) })] }));
    expect(all.map((c) => c.id).sort()).toEqual(
      ['breaker_open/anthropic', 'breaker_open/openai', 'budget_80', 'budget_90', 'budget_95', 'budget_exhausted', 'budget_forecast', 'error_rate', 'latency_p95', 'queue_backlog', 'rate_limit_waits/openai', 'webhook_dead_letters'].sort(),
    );
    expect(all.every((c) => c.active === false)).toBe(true);
  });

  test('budget thresholds compare settled spend with the configured limit, per window', () => {
    const c = byId(evaluateConditions(RULES, inputs({ budget: { month: { period: '2027-01', spent: 91_000_000, limit: 100_000_000 }, day: { period: '2027-01-15', spent: 5, limit: 10 }, minJobMicros: 1_000 } })));
    expect([c['budget_80']?.active, c['budget_90']?.active, c['budget_95']?.active]).toEqual([true, true, false]);
    expect(c['budget_80']?.window).toBe('month:2027-01');
    expect(c['budget_day_80']).toMatchObject({ active: false, window: 'day:2027-01-15' });
  });

  test('exhaustion fires when one more job cannot fit, before 100%', () => {
    const c = byId(evaluateConditions(RULES, inputs({ budget: { month: { period: '2027-01', spent: 99_999_500, limit: 100_000_000 }, day: { period: '2027-01-15', spent: 0, limit: null }, minJobMicros: 1_000 } })));
    expect(c['budget_exhausted']).toMatchObject({ active: true, value: 500, window: 'month:2027-01' });
  });

  test('the daily window can be the exhausted one', () => {
    const c = byId(evaluateConditions(RULES, inputs({ budget: { month: { period: '2027-01', spent: 0, limit: 100_000_000 }, day: { period: '2027-01-15', spent: 9_999, limit: 10_000 }, minJobMicros: 1_000 } })));
    expect(c['budget_exhausted']).toMatchObject({ active: true, window: 'day:2027-01-15' });
  });

  test("budget_forecast fires when the last 24 hours' demand runs the month out before its end, naming the day", () => {
    // 2027-01-15 at 00:00: $1,400 of $3,100 spent (a 31-day month at $100 a day).
    const now = Date.parse('2027-01-15T00:00:00Z');
    const month = { period: '2027-01', spent: 1_400_000_000, limit: 3_100_000_000 };
    const at = (yesterday: number, today = 0) =>
      byId(evaluateConditions(RULES, inputs({ now, budget: { month, day: { period: '2027-01-15', spent: 0, limit: null }, minJobMicros: 1 }, demand: { monthMicros: month.spent, todayDemandMicros: today, yesterdayDemandMicros: yesterday } })))['budget_forecast']!;
    // Yesterday's demand at the even pace: the month ends at $3,100 exactly, not before.
    expect(at(100_000_000)).toMatchObject({ active: false, value: 1, threshold: 1 });
    // At $200 a day (the demand pacing held back included) it runs out after 8.5 days.
    const fast = at(200_000_000);
    expect(fast).toMatchObject({ active: true, value: (1_400 + 17 * 200) / 3_100 });
    expect(fast.summary).toMatch(/^on pace to run out on the 23rd: /);
    expect(fast.window).toBeUndefined();
  });

  test('budget_forecast is undecided when the demand could not be read, and absent when off', () => {
    expect(byId(evaluateConditions(RULES, inputs({ demand: null })))['budget_forecast']).toMatchObject({ active: null });
    expect(byId(evaluateConditions({ ...RULES, budget_forecast: { enabled: false } }, inputs()))['budget_forecast']).toBeUndefined();
    const { budget_forecast: _, ...without } = RULES;
    expect(byId(evaluateConditions(without, inputs()))['budget_forecast']).toBeUndefined();
  });

  test('p95 above the threshold with enough jobs fires; too few jobs leave it undecided', () => {
    const slow = [bucket(5, { jobs: 20, latency: lat({ 3: 18, 7: 2 }) })];
    expect(byId(evaluateConditions(RULES, inputs({ buckets: slow })))['latency_p95']?.active).toBe(true);
    const few = [bucket(5, { jobs: 5, latency: lat({ 7: 5 }) })];
    expect(byId(evaluateConditions(RULES, inputs({ buckets: few })))['latency_p95']?.active).toBeNull();
    expect(byId(evaluateConditions(RULES, inputs({ buckets: few })))['error_rate']?.active).toBeNull();
  });

  test('errors above 5% with the minimum count fire', () => {
    const c = byId(evaluateConditions(RULES, inputs({ buckets: [bucket(20, { jobs: 50, errors: 3 }), bucket(10, { jobs: 50, errors: 3 })] })));
    expect(c['error_rate']).toMatchObject({ active: true, value: 0.06 });
  });

  test('buckets older than the window are left out', () => {
    const c = byId(evaluateConditions(RULES, inputs({ buckets: [bucket(RULES.webhook_dead_letters.window_seconds + 20, { deadLetters: 4 })] })));
    expect(c['webhook_dead_letters']?.active).toBe(false);
    const d = byId(evaluateConditions(RULES, inputs({ buckets: [bucket(30, { deadLetters: 1 })] })));
    expect(d['webhook_dead_letters']?.active).toBe(true);
  });

  test('a breaker that is open or half-open is an outage; one alert per provider', () => {
    const c = byId(evaluateConditions(RULES, inputs({ breakers: { openai: 'open', anthropic: 'half_open' } })));
    expect([c['breaker_open/openai']?.active, c['breaker_open/anthropic']?.active]).toEqual([true, true]);
  });

  test('rate-limit waits above the threshold fire for their provider', () => {
    const c = byId(evaluateConditions(RULES, inputs({ buckets: [bucket(5, { rateLimitWaits: { openai: 11 } })] })));
    expect(c['rate_limit_waits/openai']).toMatchObject({ active: true, value: 11 });
  });

  test('an old waiting job fires the backlog alert', () => {
    expect(byId(evaluateConditions(RULES, inputs({ oldestWaitingMs: 121_000 })))['queue_backlog']?.active).toBe(true);
  });

  test('unreadable inputs give null conditions, never inactive ones', () => {
    const all = evaluateConditions(RULES, inputs({ budget: null, buckets: null, oldestWaitingMs: null, breakers: { openai: null } }));
    expect(all.filter((c) => c.active !== null)).toEqual([]);
  });

  test('disabled rules give no condition', () => {
    const off = { ...RULES, latency_p95: { ...RULES.latency_p95, enabled: false }, breaker_open: { enabled: false } };
    const ids = evaluateConditions(off, inputs()).map((c) => c.id);
    expect(ids).not.toContain('latency_p95');
    expect(ids.some((id) => id.startsWith('breaker_open'))).toBe(false);
  });
});

describe('sumWindow', () => {
  test('adds the buckets that overlap the window', () => {
    const s = sumWindow([bucket(5, { jobs: 1, rateLimitWaits: { a: 1 } }), bucket(15, { jobs: 2, rateLimitWaits: { a: 2 } }), bucket(40, { jobs: 4 })], NOW, 20, 10);
    expect(s).toMatchObject({ jobs: 3, rateLimitWaits: { a: 3 } });
  });
});
